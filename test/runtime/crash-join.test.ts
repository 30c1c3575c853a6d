// kill -9 at random moments of a stream-table join (a versioned users table, clicks joined at
// their event time), exactly-once, on memory and lmdb state: while clicks and user updates keep
// arriving, the app is killed and restarted, then a bounded run finishes it. Read committed, the
// output holds each click exactly once, joined with the user's row at the click's time.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from '../log/helpers.ts';
import { exited, killRepeatedly } from '../support/kill-loop.ts';

const APP = new URL('./fixtures/crash-join-app.ts', import.meta.url).pathname;
const USERS = 8;
const CLICKS = 1400;
const KILLS = 10;

interface Click {
  id: number;
  user: string;
  ts: number;
}
interface User {
  id: string;
  tier: number;
  ts: number;
}

// Every 10 ms a click; every 70 ms a user's tier changes (so clicks of a user see several versions).
const clicks: Click[] = Array.from({ length: CLICKS }, (_, i) => ({ id: i, user: `u${(i * 3) % USERS}`, ts: i * 10 }));
const updates: User[] = Array.from({ length: CLICKS / 7 }, (_, j) => ({ id: `u${j % USERS}`, tier: j, ts: j * 70 + 5 }));

/** The tier of `user` at `time`: its last update at or before it (null: none yet). */
function tierAt(user: string, time: number): number | null {
  let tier: number | null = null;
  for (const u of updates) if (u.id === user && u.ts <= time) tier = u.tier;
  return tier;
}

function start(dataDir: string, mode: 'bounded' | 'unbounded', state: string): ChildProcess {
  return spawn(process.execPath, [APP, dataDir, mode, state], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function committedCount(log: Log): number {
  try {
    let total = 0;
    for (let p = 0; p < log.topic('enriched').partitions; p++) total += log.endOffset('enriched', p, 'read_committed');
    return total;
  } catch {
    return 0; // not created yet: the app has not started
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function scenario(state: 'memory' | 'lmdb'): Promise<void> {
  return withDir(async (dataDir) => {
    const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    log.createTopic('clicks', { partitions: 3 });
    log.createTopic('users', { partitions: 2, compact: true });
    // Both inputs advance together in event time: 70 ms of clicks and the user update of that time.
    let fed = 0;
    const feeding = (async () => {
      for (let j = 0; j < updates.length; j++) {
        const u = updates[j];
        await log.produce('users', [{ key: utf8(u.id), value: utf8(JSON.stringify(u)), timestamp: u.ts }]);
        const chunk = clicks.slice(j * 7, j * 7 + 7);
        await log.produce('clicks', chunk.map((c) => ({ key: utf8(c.user), value: utf8(JSON.stringify(c)), timestamp: c.ts })));
        fed = j + 1;
        await sleep(40);
      }
    })();
    await killRepeatedly({ kills: KILLS, start: () => start(dataDir, 'unbounded', state), progress: () => committedCount(log), inputDone: () => fed >= updates.length, jitterMs: 300 });
    await feeding;
    assert.equal(await exited(start(dataDir, 'bounded', state)), 0, 'the final bounded run completes');

    const seen = new Map<number, number>();
    for (let p = 0; p < log.topic('enriched').partitions; p++) {
      for (const record of readAll(log, 'enriched', p, 'read_committed')) {
        const out = JSON.parse(fromUtf8(record.value as Uint8Array)) as { id: number; user: string; tier: number | null };
        const click = clicks[out.id];
        assert.equal(out.user, click.user);
        assert.equal(out.tier, tierAt(click.user, click.ts), `click ${out.id} joined with its user's row at its time`);
        seen.set(out.id, (seen.get(out.id) ?? 0) + 1);
      }
    }
    for (const c of clicks) assert.equal(seen.get(c.id), 1, `click ${c.id} exactly once`);
    await log.close();
  });
}

for (const state of ['memory', 'lmdb'] as const) {
  void test(`SIGKILL at random moments of a stream-table join, exactly-once (${state} state)`, { timeout: 240_000 }, () => scenario(state));
}
