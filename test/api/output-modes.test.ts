// Output modes of window and table results (Spark's append, update, complete), written by
// .to(topic, { mode }): what each writes, and the mistakes they refuse.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sluice, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Reading = { k: string; v: number; ts: number };
type Row = { key: string; start: number; value: number };

const readings: Reading[] = [
  { k: 'a', v: 5, ts: 1_000 },
  { k: 'a', v: 3, ts: 2_000 },
  { k: 'b', v: 1, ts: 3_000 },
  { k: 'a', v: 7, ts: 4_000 },
  { k: 'a', v: 2, ts: 61_000 },
];

void test('window results: append writes each window once, update each change once, the final value last', async () => {
  const kit = new TestKit();
  kit.input('readings', readings, { key: (r) => r.k, partitions: 2 });
  const app = kit.app({ name: 'modes' });
  const keyed = app.stream<Reading>('readings', { timestamp: (r) => r.ts }).keyBy((r) => r.k);
  keyed.window(Windows.tumbling('1m')).max((r) => r.v).to('append');
  keyed.window(Windows.tumbling('1m')).max((r) => r.v).to('update', { mode: 'update' });
  await app.run({ bounded: true });
  const rows = (topic: string) => kit.output<Row>(topic).map((r) => `${r.key}@${r.start}=${r.value}`);
  assert.deepEqual(rows('append').sort(), ['a@0=7', 'a@60000=2', 'b@0=1']);
  // a@0 went 5 -> 7 (the 3 changed nothing, and the final firing repeats 7: neither is written).
  assert.deepEqual(rows('update').filter((r) => r.startsWith('a@0')), ['a@0=5', 'a@0=7']);
  assert.deepEqual(rows('update').sort(), ['a@0=5', 'a@0=7', 'a@60000=2', 'b@0=1']);
});

void test('complete mode writes the whole result table at each checkpoint after a change', async () => {
  const kit = new TestKit({ stepping: true });
  kit.input('readings', readings.slice(0, 3), { key: (r) => r.k });
  const app = kit.app({ name: 'complete', checkpointInterval: 1 });
  const keyed = app.stream<Reading>('readings', { timestamp: (r) => r.ts }).keyBy((r) => r.k);
  keyed.window(Windows.tumbling('1m')).count().to('windows-complete', { mode: 'complete' });
  keyed.sum((r) => r.v, { name: 'totals' }).to('totals-complete', { mode: 'complete' });
  const running = app.run();
  await kit.runUntilIdle();
  const first = kit.records<number>('totals-complete').length;
  assert.deepEqual(new Map(kit.records<number>('totals-complete').map((r) => [r.key, r.value])), new Map([['a', 8], ['b', 1]]));
  kit.input('readings', readings.slice(3), { key: (r) => r.k });
  await kit.runUntilIdle();
  app.stop();
  await running;
  // The second write is the whole table again: b's unchanged row too.
  const second = kit.records<number>('totals-complete').slice(first);
  assert.deepEqual(second.map((r) => `${r.key}=${r.value}`).sort(), ['a=17', 'b=1']);
  const windows = kit.output<Row>('windows-complete').map((r) => `${r.key}@${r.start}=${r.value}`);
  assert.deepEqual(windows.slice(-3).sort(), ['a@0=3', 'a@60000=1', 'b@0=1'], 'every window, fired or open, in the last write');
});

void test("a table's update mode writes no repeated value; complete mode writes deletes as tombstones", async () => {
  const kit = new TestKit({ stepping: true });
  kit.input('users', [{ id: 'u1', tier: 'gold' }, { id: 'u1', tier: 'gold' }, { id: 'u2', tier: 'free' }], { key: (u) => u.id });
  const app = kit.app({ name: 'table-modes', checkpointInterval: 1 });
  const users = app.table<{ id: string; tier: string }>('users');
  users.to('users-update');
  users.to('users-complete', { mode: 'complete' });
  const running = app.run();
  await kit.runUntilIdle();
  kit.tombstones('users', ['u2']);
  await kit.runUntilIdle();
  app.stop();
  await running;
  assert.deepEqual(kit.records('users-update').map((r) => r.key), ['u1', 'u2', 'u2'], 'u1 once (its second record changed nothing), u2 and its delete');
  const complete = kit.records<{ tier: string } | null>('users-complete').map((r) => `${r.key}=${r.value?.tier ?? 'deleted'}`);
  assert.deepEqual(complete, ['u1=gold', 'u2=free', 'u2=deleted', 'u1=gold']);
});

void test('output modes say what to write instead', () => {
  const app = new Sluice({ name: 'bad-modes' });
  const keyed = app.stream<Reading>('readings').keyBy((r) => r.k);
  assert.throws(() => keyed.count().to('t', { mode: 'append' } as never), /a table's rows change, so it has no append mode/);
  assert.throws(() => keyed.window(Windows.tumbling('1m')).count().to('t', { mode: 'upsert' as never }), /output mode "upsert" is not one/);
  assert.throws(() => keyed.window(Windows.session('1m')).count().to('t', { mode: 'update' }), /session and count windows change shape/);
  const shared = keyed.window(Windows.tumbling('1m')).count();
  shared.to('t1', { mode: 'update' });
  assert.throws(() => shared.to('t2'), /read by that one sink/);
  const read = keyed.window(Windows.tumbling('2m')).count();
  read.map((r) => r.value).to('values');
  assert.throws(() => read.to('t3', { mode: 'complete' }), /read by that one sink/);
});

for (const state of ['memory', 'lmdb'] as const) {
  void test(`update mode remembers what it wrote across a restart (${state} state)`, async () => {
    const dataDir = state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-update-mode-')) : undefined;
    const options = { name: 'update-restart', checkpointInterval: 1, ...(dataDir ? { dataDir, state } : {}) };
    const pipeline = (app: Sluice): void => {
      app.stream<Reading>('readings', { timestamp: (r) => r.ts }).keyBy((r) => r.k).window(Windows.tumbling('1m')).max((r) => r.v).to('live', { mode: 'update' });
    };
    try {
      const kit = new TestKit({ stepping: true });
      kit.input('readings', readings.slice(0, 1), { key: (r) => r.k });
      const first = kit.app(options);
      pipeline(first);
      const running = first.run();
      await kit.runUntilIdle();
      first.stop();
      await running;
      // After the restart a 3 leaves a@0 at 5: nothing to write; the 7 is a change.
      kit.input('readings', readings.slice(1), { key: (r) => r.k });
      const second = kit.app(options);
      pipeline(second);
      await second.run({ bounded: true });
      const written = kit.output<Row>('live').map((r) => `${r.key}@${r.start}=${r.value}`);
      assert.deepEqual(written.sort(), ['a@0=5', 'a@0=7', 'a@60000=2', 'b@0=1'], 'a@0=5 once, though the window emitted it again after the restart');
    } finally {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
}
