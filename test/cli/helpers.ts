/** Runs the real `sluice` command in child processes against temporary data directories. */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const BIN = new URL('../../bin/sluice.mjs', import.meta.url).pathname;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh data directory, removed when the test file ends. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.FORCE_COLOR;
  if (!('SLUICE_DATA_DIR' in extra)) delete env.SLUICE_DATA_DIR;
  return env;
}

const closed = new WeakMap<ChildProcessWithoutNullStreams, Promise<number | null>>();

/** Starts `sluice ...args` with `--data-dir dataDir` (when given). */
export function start(dataDir: string | undefined, args: readonly string[], env: Record<string, string | undefined> = {}, cwd?: string): ChildProcessWithoutNullStreams {
  const full = dataDir === undefined ? [...args] : [...args, '--data-dir', dataDir];
  const child = spawn(process.execPath, [BIN, ...full], { env: childEnv(env), ...(cwd === undefined ? {} : { cwd }) });
  // Listen from the start: a quick child may be gone before the test gets round to waiting.
  closed.set(
    child,
    once(child, 'close').then(([code]) => code as number | null),
  );
  return child;
}

/** Resolves to the exit code of a child from `start` once it has exited and its output is read. */
export function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return closed.get(child)!;
}

/** Runs `sluice ...args` to completion, feeding `input` on stdin. */
export async function sluice(
  dataDir: string | undefined,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<Result> {
  const child = start(dataDir, args, options.env, options.cwd);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  return { code: await exitCode(child), stdout, stderr };
}

/** Runs a command that must succeed, returning its stdout. */
export async function ok(dataDir: string | undefined, args: readonly string[], input?: string): Promise<string> {
  const result = await sluice(dataDir, args, { input });
  assert.equal(result.code, 0, `sluice ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: unknown;
  value: unknown;
  headers: Record<string, string>;
}

export function jsonLines(text: string): ConsumedRecord[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ConsumedRecord);
}

/** Records in (partition, offset) order. */
export function sorted(records: ConsumedRecord[]): ConsumedRecord[] {
  return [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export function lines(records: ReadonlyArray<Record<string, unknown>>): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/** Collects a running child's stdout lines; `waitFor(n)` resolves once `n` have arrived, and fails if the child ends first. */
export function lineCollector(child: ChildProcessWithoutNullStreams): { records: ConsumedRecord[]; waitFor: (n: number) => Promise<void> } {
  const records: ConsumedRecord[] = [];
  const waiting = new Set<{ n: number; resolve: () => void; reject: (error: Error) => void }>();
  let ended: number | null | undefined;
  let buffer = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) if (part !== '') records.push(JSON.parse(part) as ConsumedRecord);
    for (const waiter of waiting) {
      if (records.length < waiter.n) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  });
  const failure = (n: number) => new Error(`sluice exited (${ended}) after ${records.length} of ${n} records: ${stderr}`);
  void exitCode(child).then((code) => {
    ended = code;
    for (const waiter of waiting) waiter.reject(failure(waiter.n));
    waiting.clear();
  });
  const waitFor = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (records.length >= n) return resolve();
      if (ended !== undefined) return reject(failure(n));
      waiting.add({ n, resolve, reject });
    });
  return { records, waitFor };
}
