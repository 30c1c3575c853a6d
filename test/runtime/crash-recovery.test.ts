/**
 * kill -9 at random moments: an app keeps running while input arrives, is killed with SIGKILL
 * and restarted over and over, then a bounded run finishes it. Read committed, the output must
 * hold every window exactly once with the value a batch computation gives, and every running
 * average update exactly once (at-least-once: nothing lost, every value right).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from '../log/helpers.ts';

const APP = new URL('./fixtures/crash-app.ts', import.meta.url).pathname;
const KEYS = 8;
const EVENTS = 2400;
const KILLS = 20;

interface Event {
  k: string;
  v: number;
  ts: number;
}

const events: Event[] = Array.from({ length: EVENTS }, (_, i) => ({ k: `k${i % KEYS}`, v: (i * 7) % 13, ts: i * 10 }));

function start(dataDir: string, mode: 'bounded' | 'unbounded', guarantee: string): ChildProcess {
  return spawn(process.execPath, [APP, dataDir, mode, guarantee], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function committedValues(log: Log, topic: string): unknown[] {
  const out: unknown[] = [];
  for (let p = 0; p < log.topic(topic).partitions; p++) {
    for (const record of readAll(log, topic, p, 'read_committed')) out.push(JSON.parse(fromUtf8(record.value as Uint8Array)));
  }
  return out;
}

for (const guarantee of ['exactly-once', 'at-least-once'] as const) {
  test(`SIGKILL at random moments, ${KILLS} times, while input arrives (${guarantee})`, { timeout: 240_000 }, () =>
    withDir(async (dataDir) => {
      const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
      log.createTopic('input', { partitions: 3 });
      // Input keeps arriving while the app is killed and restarted.
      let produced = 0;
      const feeding = (async () => {
        while (produced < EVENTS) {
          const chunk = events.slice(produced, produced + 20);
          await log.produce('input', chunk.map((e) => ({ key: utf8(e.k), value: utf8(JSON.stringify(e)), timestamp: e.ts })));
          produced += chunk.length;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      for (let kill = 0; kill < KILLS; kill++) {
        const child = start(dataDir, 'unbounded', guarantee);
        const before = committedCount(log);
        // Let it get going (start-up time varies with load), then kill it at a random moment.
        const deadline = Date.now() + 30_000;
        while (produced < EVENTS && committedCount(log) <= before && Date.now() < deadline && child.exitCode === null) await sleep(20);
        await sleep(Math.random() * 300);
        child.kill('SIGKILL');
        await exited(child);
      }
      await feeding;
      const final = start(dataDir, 'bounded', guarantee);
      assert.equal(await exited(final), 0, 'the final bounded run completes');

      // The batch answer: every window of every key, and every running average.
      const windows = new Map<string, { c: number; s: number }>();
      const averages = new Map<string, number[]>();
      const runs = new Map<string, { n: number; sum: number }>();
      for (const e of events) {
        const id = `${e.k}@${Math.floor(e.ts / 1000) * 1000}`;
        const w = windows.get(id) ?? { c: 0, s: 0 };
        windows.set(id, { c: w.c + 1, s: w.s + e.v });
        const run = runs.get(e.k) ?? { n: 0, sum: 0 };
        const next = { n: run.n + 1, sum: run.sum + e.v };
        runs.set(e.k, next);
        averages.set(e.k, [...(averages.get(e.k) ?? []), next.sum / next.n]);
      }

      const seenWindows = new Map<string, number>();
      for (const r of committedValues(log, 'windows') as Array<{ key: string; start: number; value: { c: number; s: number } }>) {
        const id = `${r.key}@${r.start}`;
        assert.deepEqual(r.value, windows.get(id), `window ${id} has the batch value`);
        seenWindows.set(id, (seenWindows.get(id) ?? 0) + 1);
      }
      for (const id of windows.keys()) {
        const times = seenWindows.get(id) ?? 0;
        if (guarantee === 'exactly-once') assert.equal(times, 1, `window ${id} exactly once`);
        else assert.ok(times >= 1, `window ${id} not lost`);
      }

      const updates = new Map<string, Map<number, number>>();
      for (const u of committedValues(log, 'averages') as Array<{ k: string; n: number; avg: number }>) {
        const expected = averages.get(u.k)?.[u.n - 1];
        assert.equal(u.avg, expected, `average ${u.n} of ${u.k}`);
        const perKey = updates.get(u.k) ?? new Map<number, number>();
        perKey.set(u.n, (perKey.get(u.n) ?? 0) + 1);
        updates.set(u.k, perKey);
      }
      for (const [key, list] of averages) {
        for (let n = 1; n <= list.length; n++) {
          const times = updates.get(key)?.get(n) ?? 0;
          if (guarantee === 'exactly-once') assert.equal(times, 1, `update ${n} of ${key} exactly once`);
          else assert.ok(times >= 1, `update ${n} of ${key} not lost`);
        }
      }
      await log.close();
    }),
  );
}

/** Committed output records so far (progress of the killed app). */
function committedCount(log: Log): number {
  let total = 0;
  for (const topic of ['averages', 'windows']) {
    try {
      for (let p = 0; p < log.topic(topic).partitions; p++) total += log.endOffset(topic, p, 'read_committed');
    } catch {
      // not created yet: the app has not started
    }
  }
  return total;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
