/**
 * kill -9 at random moments while input arrives on both sides of an interval join (left join,
 * heap and lmdb state, exactly-once): the app is killed and restarted over and over, then a
 * bounded run finishes it. Read committed, the output holds every pair and every unmatched
 * impression exactly once, as a brute-force join of the whole input gives them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from '../log/helpers.ts';
import { exited, killRepeatedly } from '../support/kill-loop.ts';

const APP = new URL('./fixtures/join-crash-app.ts', import.meta.url).pathname;
const ADS = 8;
const EVENTS = 1500;
const KILLS = 12;

type Event = { id: number; ad: string; ts: number };
const impressions: Event[] = Array.from({ length: EVENTS }, (_, i) => ({ id: i, ad: `ad${i % ADS}`, ts: i * 10 }));
// Clicks of every third impression's ad, some within 50 ms of an impression of it, some not.
const clicks: Event[] = Array.from({ length: EVENTS / 3 }, (_, j) => ({ id: 100_000 + j, ad: `ad${(j * 5) % ADS}`, ts: j * 30 + ((j * 37) % 90) }))
  .sort((a, b) => a.ts - b.ts);

function start(dataDir: string, mode: 'bounded' | 'unbounded', state: string): ChildProcess {
  return spawn(process.execPath, [APP, dataDir, mode, state], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function committed(log: Log, topic: string): string[] {
  const out: string[] = [];
  try {
    for (let p = 0; p < log.topic(topic).partitions; p++) for (const r of readAll(log, topic, p, 'read_committed')) out.push(fromUtf8(r.value as Uint8Array));
  } catch {
    // not created yet
  }
  return out;
}

function expected(): string[] {
  const out: string[] = [];
  for (const i of impressions) {
    const matched = clicks.filter((c) => c.ad === i.ad && i.ts - 50 <= c.ts && c.ts <= i.ts + 50);
    if (matched.length === 0) out.push(JSON.stringify({ i: i.id, c: null }));
    for (const c of matched) out.push(JSON.stringify({ i: i.id, c: c.id }));
  }
  return out.sort();
}

for (const state of ['memory', 'lmdb'] as const) {
  void test(`interval join: SIGKILL at random moments, ${KILLS} times, while both inputs arrive (${state} state, exactly-once)`, { timeout: 240_000 }, () =>
    withDir(async (dataDir) => {
      const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
      log.createTopic('impressions', { partitions: 3 });
      log.createTopic('clicks', { partitions: 2 });
      let produced = 0;
      const feeding = (async () => {
        // Both sides advance together in event time, so the join's watermark (their minimum) moves.
        while (produced < EVENTS) {
          const chunk = impressions.slice(produced, produced + 30);
          const until = chunk[chunk.length - 1].ts;
          await log.produce('impressions', chunk.map((e) => ({ key: utf8(e.ad), value: utf8(JSON.stringify(e)), timestamp: e.ts })));
          const due = clicks.filter((c) => c.ts > (produced === 0 ? Number.NEGATIVE_INFINITY : impressions[produced - 1].ts) && c.ts <= until);
          if (due.length > 0) await log.produce('clicks', due.map((e) => ({ key: utf8(e.ad), value: utf8(JSON.stringify(e)), timestamp: e.ts })));
          produced += chunk.length;
          await sleep(100);
        }
        const rest = clicks.filter((c) => c.ts > impressions[EVENTS - 1].ts);
        if (rest.length > 0) await log.produce('clicks', rest.map((e) => ({ key: utf8(e.ad), value: utf8(JSON.stringify(e)), timestamp: e.ts })));
      })();
      await killRepeatedly({ kills: KILLS, start: () => start(dataDir, 'unbounded', state), progress: () => committed(log, 'joined').length, inputDone: () => produced >= EVENTS, jitterMs: 300 });
      await feeding;
      const beforeFinal = committed(log, 'joined').length;
      assert.ok(beforeFinal > 0, 'the killed runs committed output, so the final run restored their state');
      assert.equal(await exited(start(dataDir, 'bounded', state)), 0, 'the final bounded run completes');
      const got = committed(log, 'joined').sort();
      const want = expected();
      assert.ok(want.some((r) => r.endsWith('null}')) && want.some((r) => !r.endsWith('null}')), 'the input has pairs and unmatched impressions');
      assert.deepEqual(got, want, 'every pair and every unmatched impression exactly once');
      assert.ok(beforeFinal < got.length, 'the final run had work left');
      await log.close();
    }),
  );
}
