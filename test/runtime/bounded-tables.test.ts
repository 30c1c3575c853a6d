// A bounded run's end fires every window at watermark +Infinity, but does not finish a table:
// the next run (bounded or not) goes on with the tables, running aggregates and joins' tables
// the last one left, while its windows and watermarks start empty. On memory and lmdb state.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSluiceError, type Sluice, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Click = { user: string; ts: number };
type User = { id: string; tier: string };

function pipeline(app: Sluice): void {
  const users = app.table<User>('users', { key: (u) => u.id });
  const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts }).keyBy((c) => c.user);
  clicks.count({ name: 'clicks-per-user' }).to('counts');
  clicks.window(Windows.tumbling('1m')).count().to('per-minute');
  clicks.join(users, (c, u) => ({ user: c.user, ts: c.ts, tier: u.tier }), { name: 'enrich' }).to('enriched');
}

for (const state of ['memory', 'lmdb'] as const) {
  void test(`tables and running aggregates survive a bounded run into the next (${state} state)`, async () => {
    const dataDir = state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-bounded-tables-')) : undefined;
    const options = { name: 'bounded-tables', ...(dataDir ? { dataDir, state } : {}) };
    try {
      const kit = new TestKit();
      kit.input<User>('users', [{ id: 'u1', tier: 'gold' }, { id: 'u2', tier: 'free' }], { key: (u) => u.id, partitions: 2 });
      kit.input<Click>('clicks', [{ user: 'u1', ts: 0 }, { user: 'u1', ts: 10_000 }, { user: 'u2', ts: 70_000 }], { key: (c) => c.user, partitions: 2 });
      const first = kit.app(options);
      pipeline(first);
      await first.run({ bounded: true });

      // Only clicks arrive: the users table they join comes from the last run's state.
      kit.input<Click>('clicks', [{ user: 'u1', ts: 20_000 }, { user: 'u2', ts: 5_000 }], { key: (c) => c.user, partitions: 2 });
      const second = kit.app(options);
      pipeline(second);
      await second.run({ bounded: true });

      const counts = kit.records<number>('counts');
      const last = new Map(counts.map((r) => [r.key, r.value]));
      assert.deepEqual(Object.fromEntries(last), { u1: 3, u2: 2 }, 'the running counts go on from the first run');
      const enriched = kit.output<{ user: string; ts: number; tier: string }>('enriched').filter((e) => e.ts === 20_000 || e.ts === 5_000);
      assert.deepEqual(enriched.map((e) => `${e.user}:${e.tier}`).sort(), ['u1:gold', 'u2:free'], 'the join still holds the users table');
      // Windows start empty: the new clicks (earlier than the last run's +Infinity watermark) are not late.
      const minutes = kit.output<{ key: string; start: number; value: number }>('per-minute').map((w) => `${w.key}@${w.start}=${w.value}`);
      assert.deepEqual(minutes.sort(), ['u1@0=1', 'u1@0=2', 'u2@0=1', 'u2@60000=1'], 'the second run windows its own clicks only');

      // A changed operator after a bounded run is refused by name, not silently emptied.
      const third = kit.app(options);
      const users = third.table<User>('users', { key: (u) => u.id });
      third.stream<Click>('clicks').keyBy((c) => c.user).sum((c) => c.ts, { name: 'clicks-per-user' }).to('counts');
      users.toStream().to('users-out');
      await assert.rejects(third.run({ bounded: true }), (e) => isSluiceError(e, 'STATE_INCOMPATIBLE') && /operator 'clicks-per-user'.*'rolling count', now 'rolling sum'/.test(e.message));
    } finally {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
}
