// The join operators in a harness: records and watermarks in, pairs out, snapshot and restore
// into a fresh operator (heap and lmdb tables), state gone once the watermark passes what can
// still match, late records counted and side-output, the watermark held back for outer output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntervalJoinOperator, type IntervalJoinConfig, type KeyJoinState } from '../../src/operators/join-interval.ts';
import { WindowJoinOperator } from '../../src/operators/join-window.ts';
import { keyId, MemoryTable } from '../../src/state/index.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { OperatorHarness } from '../../src/testing/index.ts';
import { Windows } from '../../src/time/index.ts';
import { withDir } from '../log/helpers.ts';

const L = (value: unknown) => ({ side: 0, value });
const R = (value: unknown) => ({ side: 1, value });
type Out = { l: string | null; r: string | null };
const pair = (l: { id: string } | null, r: { id: string } | null): Out => ({ l: l?.id ?? null, r: r?.id ?? null });

function interval(overrides: Partial<IntervalJoinConfig> = {}): IntervalJoinOperator {
  return new IntervalJoinOperator({ name: 'j', lowerMs: -10, upperMs: 10, type: 'inner', fn: pair, ...overrides });
}

void test('interval join: pairs within inclusive bounds, emitted once the watermark passes the later record, stamped max(left, right)', () => {
  const h = new OperatorHarness(interval());
  h.processBatch([
    { value: L({ id: 'l1' }), timestamp: 100, key: 'k' },
    { value: R({ id: 'r-early' }), timestamp: 90, key: 'k' },
    { value: R({ id: 'r-too-early' }), timestamp: 89, key: 'k' },
    { value: R({ id: 'r-late' }), timestamp: 110, key: 'k' },
    { value: R({ id: 'r-too-late' }), timestamp: 111, key: 'k' },
    { value: R({ id: 'other-key' }), timestamp: 100, key: 'x' },
  ]);
  assert.deepEqual(h.values(), [], 'nothing before the watermark passes the records');
  h.processWatermark(101);
  assert.deepEqual(h.takeValues(), [{ l: 'l1', r: 'r-early' }]);
  h.processWatermark(200);
  assert.deepEqual(
    h.output.map((e) => [e.value, e.timestamp, e.key]),
    [[{ l: 'l1', r: 'r-late' }, 110, 'k']],
  );
});

void test('interval join: exclusive bounds and bounds on one side of the left record', () => {
  const run = (config: Partial<IntervalJoinConfig>) => {
    const h = new OperatorHarness(interval(config));
    h.processBatch([80, 90, 95, 100, 105, 110].map((t) => ({ value: R({ id: `r${t}` }), timestamp: t, key: 'k' })));
    h.processElement(L({ id: 'l' }), 100, { key: 'k' });
    h.processWatermark(Number.POSITIVE_INFINITY);
    return h.values().map((v) => (v as Out).r);
  };
  assert.deepEqual(run({ lowerMs: -10, upperMs: 10 }), ['r90', 'r95', 'r100', 'r105', 'r110']);
  assert.deepEqual(run({ lowerMs: -9, upperMs: 9 }), ['r95', 'r100', 'r105'], 'exclusive bounds are the inclusive ones narrowed by 1 ms');
  assert.deepEqual(run({ lowerMs: -20, upperMs: -5 }), ['r80', 'r90', 'r95']);
  assert.deepEqual(run({ lowerMs: 5, upperMs: 10 }), ['r105', 'r110']);
});

void test('interval join (left): an unmatched left record comes out once, with null, when the watermark passes ts + upper; never before a match', () => {
  const table = new MemoryTable<KeyJoinState>();
  const h = new OperatorHarness(interval({ type: 'left', table }));
  h.processElement(L({ id: 'paid' }), 100, { key: 'a' });
  h.processElement(L({ id: 'unpaid' }), 100, { key: 'b' });
  h.processWatermark(110);
  assert.deepEqual(h.values(), [], 'a payment may still come at 110');
  h.processElement(R({ id: 'payment' }), 110, { key: 'a' });
  h.processWatermark(111);
  assert.deepEqual(h.takeValues(), [
    { l: 'paid', r: 'payment' },
    { l: 'unpaid', r: null },
  ]);
  assert.equal(h.output.length, 0);
  // The right record stays until W > ts - lower (120), then everything is gone.
  assert.equal(table.size, 1);
  h.processWatermark(121);
  assert.equal(table.size, 0, 'state cleaned once nothing can match');
  assert.deepEqual(h.values(), []);
});

void test('interval join (outer): unmatched records of both sides, each at its own time; the watermark forwarded is held back so they are on time', () => {
  const h = new OperatorHarness(interval({ type: 'outer', lowerMs: -5, upperMs: 20 }));
  h.processElement(L({ id: 'l' }), 100, { key: 'k' });
  h.processElement(R({ id: 'r' }), 300, { key: 'k' });
  h.processWatermark(400);
  assert.deepEqual(
    h.output.map((e) => [e.value, e.timestamp]),
    [
      [{ l: 'l', r: null }, 100],
      [{ l: null, r: 'r' }, 300],
    ],
  );
  assert.deepEqual(h.watermarks, [380], 'held back by the upper bound: an unmatched left record is stamped up to that far behind');
  for (const e of h.output) assert.ok(e.timestamp >= e.sourceWatermark, 'each result at or after the watermark downstream had seen');
});

void test('interval join: a record behind its partition watermark is late: counted and sent to the side output as the user value', () => {
  const h = new OperatorHarness(interval({ lateSideOutput: 'late' }));
  h.processElement(L({ id: 'on-time' }), 100, { key: 'k', sourceWatermark: 100 });
  h.processElement(R({ id: 'late' }), 99, { key: 'k', sourceWatermark: 100 });
  h.processWatermark(Number.POSITIVE_INFINITY);
  assert.deepEqual(h.values(), []);
  assert.deepEqual(h.side('late'), [{ id: 'late' }]);
  assert.equal((h.operator as IntervalJoinOperator).lateRecords, 1);
});

void test('interval join: a throwing function reports the pair and goes on', () => {
  const errors: unknown[] = [];
  const op = interval({ fn: (l) => { if (l.id === 'bad') throw new Error('boom'); return l.id; }, onError: (_e, error) => errors.push(error) });
  const h = new OperatorHarness(op);
  h.processBatch([
    { value: L({ id: 'bad' }), timestamp: 1, key: 'k' },
    { value: L({ id: 'good' }), timestamp: 2, key: 'k' },
    { value: R({ id: 'r' }), timestamp: 3, key: 'k' },
  ]);
  h.processWatermark(10);
  assert.deepEqual(h.values(), ['good']);
  assert.match(String((errors[0] as Error).message), /join function of 'j' threw for key 'k' \(left at 1, right at 3\): boom/);
});

/** A random-ish input of two keys and both sides, and where it is cut for a snapshot. */
const INPUT = Array.from({ length: 40 }, (_, i) => ({ value: (i % 3 === 0 ? R : L)({ id: `${i}` }), timestamp: 100 + ((i * 37) % 60), key: i % 2 === 0 ? 'a' : 'b' }));

function feed(h: OperatorHarness, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    h.processBatch([INPUT[i]]);
    if (i % 5 === 4) h.processWatermark(100 + i * 1.5);
  }
}

void test('interval join: a snapshot restored into a fresh operator gives what an uninterrupted run gives (heap table)', () => {
  for (const type of ['inner', 'left', 'outer'] as const) {
    const straight = new OperatorHarness(interval({ type }));
    feed(straight, 0, INPUT.length);
    straight.processWatermark(Number.POSITIVE_INFINITY);
    for (const cut of [0, 7, 20, 33, 40]) {
      const first = new OperatorHarness(interval({ type }));
      feed(first, 0, cut);
      const restored = OperatorHarness.restored(interval({ type }), first.snapshot());
      feed(restored, cut, INPUT.length);
      restored.processWatermark(Number.POSITIVE_INFINITY);
      assert.deepEqual([...first.values(), ...restored.values()], straight.values(), `${type}, cut at ${cut}`);
    }
  }
});

void test('interval join: state in an lmdb table is checkpointed by the backend and restored after a reopen', () =>
  withDir(async (dir) => {
    const straight = new OperatorHarness(interval({ type: 'outer' }));
    feed(straight, 0, INPUT.length);
    straight.processWatermark(Number.POSITIVE_INFINITY);

    const backend = LmdbStateBackend.open(dir);
    const first = new OperatorHarness(interval({ type: 'outer', table: backend.table<KeyJoinState>('j/join/0') }));
    feed(first, 0, 25);
    const snapshot = first.snapshot() as { keys?: unknown };
    assert.equal(snapshot.keys, undefined, 'the durable table is left out of the snapshot');
    backend.checkpoint(new TextEncoder().encode('cp'));
    // Changes after the checkpoint are lost with the process.
    feed(first, 25, 30);
    await backend.close();

    const reopened = LmdbStateBackend.open(dir);
    const restored = OperatorHarness.restored(interval({ type: 'outer', table: reopened.table<KeyJoinState>('j/join/0') }), snapshot);
    feed(restored, 25, INPUT.length);
    restored.processWatermark(Number.POSITIVE_INFINITY);
    const firstUpToCheckpoint = new OperatorHarness(interval({ type: 'outer' }));
    feed(firstUpToCheckpoint, 0, 25);
    assert.deepEqual([...firstUpToCheckpoint.values(), ...restored.values()], straight.values());
    assert.equal([...reopened.table<KeyJoinState>('j/join/0').entries()].length, 0, 'nothing left once the watermark passed everything');
    assert.equal(reopened.table<KeyJoinState>('j/join/0').get(keyId('a')), undefined);
    await reopened.close();
  }));

void test('window join: every pair of a key in a window, at end - 1, in event-time order whatever the arrival order', () => {
  const make = () => new WindowJoinOperator({ name: 'w', window: Windows.tumbling(100), fn: pair });
  const records = [
    { value: R({ id: 'r2' }), timestamp: 50, key: 'k', source: { topic: 'b', partition: 0, offset: 1 } },
    { value: L({ id: 'l1' }), timestamp: 10, key: 'k', source: { topic: 'a', partition: 1, offset: 0 } },
    { value: R({ id: 'r1' }), timestamp: 20, key: 'k', source: { topic: 'b', partition: 0, offset: 0 } },
    { value: L({ id: 'l2' }), timestamp: 10, key: 'k', source: { topic: 'a', partition: 0, offset: 3 } },
    { value: L({ id: 'next-window' }), timestamp: 150, key: 'k', source: { topic: 'a', partition: 0, offset: 4 } },
    { value: R({ id: 'other-key' }), timestamp: 20, key: 'x', source: { topic: 'b', partition: 1, offset: 0 } },
  ];
  const want = [
    [{ l: 'l2', r: 'r1' }, 99],
    [{ l: 'l2', r: 'r2' }, 99],
    [{ l: 'l1', r: 'r1' }, 99],
    [{ l: 'l1', r: 'r2' }, 99],
  ];
  for (const order of [records, [...records].reverse()]) {
    const h = new OperatorHarness(make());
    h.processBatch(order);
    h.processWatermark(100);
    assert.deepEqual(h.output.map((e) => [e.value, e.timestamp]), want);
    // A snapshot and restore keep the open window.
    const restored = OperatorHarness.restored(make(), h.snapshot());
    restored.processElement(R({ id: 'r3' }), 160, { key: 'k', source: { topic: 'b', partition: 0, offset: 2 } });
    restored.processWatermark(Number.POSITIVE_INFINITY);
    assert.deepEqual(restored.output.map((e) => [e.value, e.timestamp]), [[{ l: 'next-window', r: 'r3' }, 199]]);
  }
});

void test('window join: sessions of a key merge across both sides; late records are counted and side-output unwrapped', () => {
  const h = new OperatorHarness(new WindowJoinOperator({ name: 'w', window: Windows.session(10), lateness: { allowedLatenessMs: 0, lateSideOutput: 'late' }, fn: pair }));
  h.processBatch([
    { value: L({ id: 'l1' }), timestamp: 0, key: 'k' },
    { value: R({ id: 'r1' }), timestamp: 9, key: 'k' },
    { value: L({ id: 'l2' }), timestamp: 18, key: 'k' },
    { value: R({ id: 'r-alone' }), timestamp: 100, key: 'k' },
  ]);
  h.processWatermark(50);
  h.processElement(R({ id: 'late' }), 5, { key: 'k', sourceWatermark: 50 });
  h.processWatermark(Number.POSITIVE_INFINITY);
  assert.deepEqual(h.output.map((e) => [e.value, e.timestamp]), [
    [{ l: 'l1', r: 'r1' }, 27],
    [{ l: 'l2', r: 'r1' }, 27],
  ]);
  assert.deepEqual(h.side('late'), [{ id: 'late' }]);
  assert.equal((h.operator as WindowJoinOperator).lateRecords, 1);
});
