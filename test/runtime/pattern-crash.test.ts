// kill -9 at random moments while input arrives, for a pattern (memory and lmdb state): read
// committed, every match and every timed-out partial match comes out exactly once, and nothing
// else does (fixtures/pattern-crash-app.ts).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { fromUtf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from '../log/helpers.ts';
import { exited, killRepeatedly } from '../support/kill-loop.ts';
import { feedInChunks } from '../support/feed.ts';

const APP = new URL('./fixtures/pattern-crash-app.ts', import.meta.url).pathname;
const KEYS = 8;
const EVENTS = 1600;
const KILLS = 10;
const WITHIN = 200;

interface Event {
  k: string;
  t: 'a' | 'b' | 'c';
  ts: number;
}

const kinds = ['a', 'b', 'c', 'c'] as const;
const events: Event[] = Array.from({ length: EVENTS }, (_, i) => ({ k: `k${i % KEYS}`, t: kinds[(Math.imul(i, 2654435761) >>> 13) % 4], ts: i * 10 }));

/** The batch answer: each 'a' meets the key's first 'b' after it, if less than 200 ms later; else it times out. */
function expected(): { matches: string[]; timeouts: string[] } {
  const matches: string[] = [];
  const timeouts: string[] = [];
  events.forEach((e, i) => {
    if (e.t !== 'a') return;
    const b = events.slice(i + 1).find((x) => x.k === e.k && x.t === 'b');
    if (b !== undefined && b.ts - e.ts < WITHIN) matches.push(`${e.k} ${e.ts} ${b.ts}`);
    else timeouts.push(`${e.k} ${e.ts} ${e.ts + WITHIN}`);
  });
  return { matches: matches.sort(), timeouts: timeouts.sort() };
}

function start(dataDir: string, mode: 'bounded' | 'unbounded', state: string): ChildProcess {
  return spawn(process.execPath, [APP, dataDir, mode, state], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function committed(log: Log, topic: string): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  try {
    for (let p = 0; p < log.topic(topic).partitions; p++) for (const r of readAll(log, topic, p, 'read_committed')) out.push(JSON.parse(fromUtf8(r.value as Uint8Array)));
  } catch {
    // not created yet
  }
  return out;
}

for (const state of ['memory', 'lmdb'] as const) {
  test(`SIGKILL at random moments, ${KILLS} times, while input arrives: pattern matches and timeouts exactly once (${state} state)`, { timeout: 240_000 }, () =>
    withDir(async (dataDir) => {
      const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
      log.createTopic('input', { partitions: 3 });
      const feed = feedInChunks(log, 'input', events, { chunk: 20, key: (e) => e.k, pauseMs: 100 });
      const outputs = () => committed(log, 'matches').length + committed(log, 'timeouts').length;
      await killRepeatedly({ kills: KILLS, start: () => start(dataDir, 'unbounded', state), progress: outputs, inputDone: () => feed.produced >= EVENTS, jitterMs: 300 });
      await feed.done;
      assert.equal(await exited(start(dataDir, 'bounded', state)), 0, 'the final bounded run completes');
      const want = expected();
      assert.ok(want.matches.length > 50 && want.timeouts.length > 50);
      assert.deepEqual(committed(log, 'matches').map((m) => `${m.k} ${m.a} ${m.b}`).sort(), want.matches);
      assert.deepEqual(committed(log, 'timeouts').map((m) => `${m.k} ${m.a} ${m.at}`).sort(), want.timeouts);
      await log.close();
    }),
  );
}
