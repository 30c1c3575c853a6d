// The kill loop of the crash tests: start the app, let it make progress, kill it with SIGKILL at
// a random moment, and again, while the test feeds input. What "progress" means (output
// committed, rows applied, lines written) is the test's.
import type { ChildProcess } from 'node:child_process';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to the child's exit code (null when a signal ended it), at once if it already exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export interface KillLoopOptions {
  /** How many runs to start and kill. */
  kills: number;
  /** Starts one run of the app. */
  start: () => ChildProcess;
  /** A count that grows as a run makes progress (committed output, applied checkpoints, ...). */
  progress: () => number | Promise<number>;
  /** True once all input is in: a run is then killed without waiting for progress. */
  inputDone: () => boolean;
  /** The kill lands up to this long after the run made progress. */
  jitterMs: number;
}

/**
 * Starts and kills the app `kills` times. Each run is first let get going (start-up time varies
 * with load): until it made progress, all input is in, it exited, or 30 s passed; then it is
 * killed at a random moment up to `jitterMs` later.
 */
export async function killRepeatedly(options: KillLoopOptions): Promise<void> {
  for (let kill = 0; kill < options.kills; kill++) {
    const child = options.start();
    const before = await options.progress();
    const deadline = Date.now() + 30_000;
    while (!options.inputDone() && (await options.progress()) <= before && Date.now() < deadline && child.exitCode === null) await sleep(20);
    await sleep(Math.random() * options.jitterMs);
    child.kill('SIGKILL');
    await exited(child);
  }
}
