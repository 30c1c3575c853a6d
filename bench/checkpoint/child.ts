/**
 * Worker processes of the checkpoint benchmark: each case runs in a process of its own (its
 * peak RSS is its own, and a kill -9 kills only it). Workers print one JSON object per line on
 * stdout; the parent waits for them by their `event` field.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface Worker {
  readonly child: ChildProcess;
  /** Wall clock (epoch ms) just before the process was spawned. */
  readonly spawnedAt: number;
  /** The next line whose `event` is `event` (lines before it are skipped); rejects if the worker exits first. */
  next<T = Record<string, unknown>>(event: string, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code (or signal name) once the worker is gone. */
  readonly exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();

/** Kills the workers still running (after a failure), so none outlives the benchmark. */
export function stopWorkers(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** Room for the 10-million-key cases (about 4 GB of heap); the machine must have the memory. */
const NODE_ARGS = ['--max-old-space-size=16384'];

export function startWorker(file: string, options: unknown): Worker {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...NODE_ARGS, path, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  const lines: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  let gone = false;
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      process.stderr.write(`${line}\n`); // not ours: pass it on
    }
    wake();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      gone = true;
      live.delete(child);
      wake();
      resolve(code ?? signal ?? -1);
    });
  });
  const next = async <T>(event: string, timeoutMs = 30 * 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = lines.findIndex((l) => l.event === event);
      if (i >= 0) {
        const { event: _, ...fields } = lines.splice(0, i + 1)[i];
        return fields as T;
      }
      if (gone) throw new Error(`${file} exited before reporting '${event}'`);
      if (Date.now() > deadline) throw new Error(`${file} did not report '${event}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { child, spawnedAt, next, exited };
}

/** Prints one event line for the parent (workers only). */
export function report(event: string, fields: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}
