// Waiting on a condition in tests: re-check until it holds, or fail with what was awaited and
// what was last seen once a generous bound has passed. The bound only stops a test that would
// otherwise hang; nothing asserts how long anything took.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Fail after this long (default 60 s: generous, for a loaded machine). */
  boundMs?: number;
  /** Pause between checks (default 20 ms). */
  intervalMs?: number;
}

/**
 * Resolves to the first truthy result of `check`; rejects naming `what` and the last result
 * when the bound passes first.
 * @example
 * const rows = await waitUntil(async () => { const r = await readAll(); return r.length >= 3 && r; }, 'three output rows');
 */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, options: WaitOptions = {}): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const boundMs = options.boundMs ?? 60_000;
  const deadline = Date.now() + boundMs;
  let last: T;
  for (;;) {
    last = await check();
    if (last) return last as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() >= deadline) throw new Error(`waited ${boundMs} ms for ${what}; it never came (last check gave ${JSON.stringify(last)})`);
    await delay(options.intervalMs ?? 20);
  }
}
