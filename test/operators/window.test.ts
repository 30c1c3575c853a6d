import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, MINUTES } from '../../src/core/index.ts';
import { WindowOperator } from '../../src/operators/window.ts';
import { Triggers, TumblingWindow, type WindowSpec, Windows } from '../../src/time/index.ts';
import { collect, count, Harness, Partition, sum } from './window-harness.ts';

const oneToTen = (p = new Partition(0)) => Array.from({ length: 10 }, (_, i) => p.record(i + 1, i + 1));

test('DESIGN examples: count-tumbling 3 over 1..10 gives 6, 15, 24, then 10 when the input ends', () => {
  const h = new Harness({ name: 'w', window: Windows.countTumbling(3), aggregate: sum }).feed(oneToTen());
  assert.deepEqual(h.emitted().map((r) => r.value), [6, 15, 24]);
  h.watermark(Number.POSITIVE_INFINITY);
  assert.deepEqual(h.emitted().map((r) => r.value), [6, 15, 24, 10]);
  assert.deepEqual(h.emitted().map((r) => [r.start, r.end]), [[0, 3], [3, 6], [6, 9], [9, 10]]);
  assert.deepEqual(h.results.map((r) => r.timestamp), [3, 6, 9, 10], 'count results carry the largest event time');
});

test('DESIGN examples: count-sliding 3 by 1 over 1..10 gives 6, 9, 12, 15, ... full windows only', () => {
  const h = new Harness({ name: 'w', window: Windows.countSliding(3, 1), aggregate: sum }).feed(oneToTen()).watermark(Infinity);
  assert.deepEqual(h.emitted().map((r) => r.value), [6, 9, 12, 15, 18, 21, 24, 27]);
  const h2 = new Harness({ name: 'w', window: Windows.countSliding(3, 2), aggregate: sum }).feed(oneToTen()).watermark(Infinity);
  assert.deepEqual(h2.emitted().map((r) => r.value), [6, 12, 18, 24, 19], 'the tail holding record 10 fires at the end');
  const short = new Harness({ name: 'w', window: Windows.countSliding(3, 1), aggregate: sum }).feed(oneToTen().slice(0, 2)).watermark(Infinity);
  assert.deepEqual(short.emitted().map((r) => r.value), [3], 'an input shorter than a window still yields its partial');
});

test('DESIGN examples: clicks per URL per 5-minute tumbling window', () => {
  const p = new Partition(5000);
  const at = (h: number, m: number, s: number) => Date.UTC(2026, 0, 1, h, m, s);
  const clicks = [
    p.record({ url: '/products' }, at(10, 0, 1), '/products'),
    p.record({ url: '/cart' }, at(10, 1, 0), '/cart'),
    p.record({ url: '/products' }, at(10, 4, 59), '/products'),
    p.record({ url: '/products' }, at(10, 5, 0), '/products'),
  ];
  const h = new Harness({ name: 'clicks', window: TumblingWindow.of(5, MINUTES), aggregate: count }).feed(clicks).watermark(p.watermark);
  assert.deepEqual(h.emitted(), [], 'watermark 10:04:55 completes no window');
  h.watermark(at(10, 5, 0));
  // Keys whose windows end together come out in the order the keys first appeared.
  assert.deepEqual(h.emitted(), [
    { key: '/products', start: at(10, 0, 0), end: at(10, 5, 0), value: 2 },
    { key: '/cart', start: at(10, 0, 0), end: at(10, 5, 0), value: 1 },
  ]);
  h.watermark(Infinity);
  assert.deepEqual(h.emitted().at(-1), { key: '/products', start: at(10, 5, 0), end: at(10, 10, 0), value: 1 });
  const last = h.results.at(-1)!;
  assert.equal(last.timestamp, at(10, 10, 0) - 1);
  assert.equal(last.key, '/products');
  assert.equal(last.sourceWatermark, at(10, 5, 0), 'a result carries the watermark downstream saw before it');
});

test('a window fires when the watermark reaches its end, not before', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'w', window: Windows.tumbling(10), aggregate: sum }).feed([p.record(1, 3), p.record(2, 9)]);
  h.watermark(9);
  assert.deepEqual(h.lines(), []);
  h.watermark(10);
  assert.deepEqual(h.lines(), ['k [0,10) 3']);
  h.watermark(20);
  assert.deepEqual(h.lines(), ['k [0,10) 3'], 'a fired window fires once');
});

test('hopping windows: each record in size/slide windows, results per key in end order', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'w', window: Windows.hopping(30, 10), aggregate: collect });
  h.feed([p.record('a', 5, 'x'), p.record('b', 15, 'y'), p.record('c', 25, 'x')]).watermark(Infinity);
  const x = h.lines().filter((l) => l.startsWith('x'));
  assert.deepEqual(x, ['x [-20,10) ["a"]', 'x [-10,20) ["a"]', 'x [0,30) ["a","c"]', 'x [10,40) ["c"]', 'x [20,50) ["c"]']);
  assert.equal(h.lines().filter((l) => l.startsWith('y')).length, 3);
});

test('late records are dropped and counted, or sent to the side output', () => {
  const p = new Partition(0);
  const feed = () => [p.record(1, 5), p.record(2, 20), p.record(3, 7)];
  const dropped = new Harness({ name: 'w', window: Windows.tumbling(10), aggregate: sum }).feed(feed()).watermark(Infinity);
  assert.deepEqual(dropped.lines(), ['k [0,10) 1', 'k [20,30) 2']);
  assert.equal(dropped.op.lateRecords, 1);
  const q = new Partition(0);
  const side = new Harness({
    name: 'w',
    window: Windows.tumbling(10),
    lateness: { allowedLatenessMs: 0, lateSideOutput: 'late-events' },
    aggregate: sum,
  });
  side.feed([q.record(1, 5), q.record(2, 20), q.record(3, 7)]).watermark(Infinity);
  assert.deepEqual(side.late.map((e) => e.value), [3]);
  assert.equal(side.op.lateRecords, 1);
});

test('the lateness rule uses the record own W_before, not the operator watermark', () => {
  // Two partitions: the operator watermark is held back by the slow one, yet a record behind
  // its own partition's watermark is late.
  const fast = new Partition(0, 0);
  const slow = new Partition(0, 1);
  const h = new Harness({ name: 'w', window: Windows.tumbling(10), aggregate: sum });
  h.feed([fast.record(1, 30), slow.record(2, 1), fast.record(4, 5), slow.record(8, 6)]);
  h.watermark(Math.min(fast.watermark, slow.watermark));
  assert.deepEqual(h.lines(), []);
  assert.equal(h.op.lateRecords, 1, 'ts 5 after the fast partition reached 30');
  h.watermark(Infinity);
  assert.deepEqual(h.lines(), ['k [0,10) 10', 'k [30,40) 1']);
});

test('allowed lateness: a fired window re-fires per late record until end + lateness', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'w', window: Windows.tumbling(10), lateness: { allowedLatenessMs: 5 }, aggregate: sum });
  h.feed([p.record(1, 2), p.record(10, 12)]).watermark(p.watermark);
  assert.deepEqual(h.lines(), ['k [0,10) 1']);
  h.feed([p.record(100, 3)]);
  assert.deepEqual(h.lines(), ['k [0,10) 1', 'k [0,10) 101'], 'W_before 12 < 10 + 5');
  h.feed([p.record(0, 15), p.record(1000, 4)]);
  assert.equal(h.op.lateRecords, 1, 'W_before 15 >= 10 + 5: late');
  h.watermark(Infinity);
  assert.deepEqual(h.lines(), ['k [0,10) 1', 'k [0,10) 101', 'k [10,20) 10']);
});

test('a late record in the same batch as the record completing its window: same emissions as per-record watermarks', () => {
  const config = { name: 'w', window: Windows.tumbling(10), lateness: { allowedLatenessMs: 50 }, aggregate: sum };
  const records = () => {
    const p = new Partition(0);
    return { p, all: [p.record(1, 2), p.record(2, 25), p.record(4, 5), p.record(8, 14)] };
  };
  const batched = new Harness(config);
  const { p, all } = records();
  batched.feed(all).watermark(p.watermark).watermark(Infinity);
  const perRecord = new Harness(config);
  const r = records();
  for (const e of r.all) perRecord.feed([e]).watermark(e.sourceWatermark);
  perRecord.watermark(r.p.watermark).watermark(Infinity);
  assert.deepEqual(batched.lines().sort(), perRecord.lines().sort());
  assert.deepEqual(batched.lines(), ['k [0,10) 1', 'k [0,10) 5', 'k [10,20) 8', 'k [20,30) 2']);
});

test('sessions split at gaps; adjacent sessions stay apart; a late record within lateness bridges them', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 's', window: Windows.session(10), lateness: { allowedLatenessMs: 100 }, aggregate: collect });
  h.feed([p.record('a', 0, 'u'), p.record('b', 5, 'u'), p.record('c', 15, 'u'), p.record('d', 40, 'u'), p.record('x', 0, 'v')]);
  h.watermark(p.watermark);
  // [0,15) from a, b; c's own window [15,25) only touches it; d at 40 completes both.
  // x (ts 0, W_before 40) is within lateness and its window already complete: it fires at once.
  assert.deepEqual(h.lines(), ['v [0,10) ["x"]', 'u [0,15) ["a","b"]', 'u [15,25) ["c"]']);
  h.feed([p.record('e', 14, 'u')]);
  assert.deepEqual(h.lines().slice(3), ['u [0,25) ["a","b","c","e"]'], 'e overlaps both: they merge, and the merged session fires at once');
  h.watermark(Infinity);
  assert.deepEqual(h.lines().slice(4), ['u [40,50) ["d"]']);
});

test('a session merges only with sessions not finalized for the record', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 's', window: Windows.session(10), lateness: { allowedLatenessMs: 15 }, aggregate: sum });
  h.feed([p.record(1, 0), p.record(1, 30)]);
  assert.deepEqual(h.lines(), [], 'no watermark yet: the session [0, 10) is still held');
  // W_before 30 >= 10 + 15: the session [0, 10) is finalized for this record, so they do not
  // merge; the record's own window [8, 18) is not late (18 + 15 > 30) and is complete by its
  // partition's watermark, so [0, 10) fires first, then [8, 18).
  h.feed([p.record(100, 8)]).watermark(Infinity);
  assert.deepEqual(h.lines(), ['k [0,10) 1', 'k [8,18) 100', 'k [30,40) 1']);
});

test('a fired session that a record grows is a new window: it fires when the watermark reaches its new end', () => {
  const fast = new Partition(0, 0);
  const slow = new Partition(0, 1);
  const h = new Harness({ name: 's', window: Windows.session(10), lateness: { allowedLatenessMs: 100 }, aggregate: sum });
  const watermark = () => Math.min(fast.watermark, slow.watermark);
  const k = () => h.lines().filter((l) => l.startsWith('k'));
  h.feed([fast.record(1, 0, 'k'), fast.record(0, 30, 'z'), slow.record(0, 10, 'z')]).watermark(watermark());
  assert.deepEqual(k(), ['k [0,10) 1']);
  // ts 5 (W_before 10) may still join [0, 10) (10 + 100 > 10) and grows it to [0, 15).
  h.feed([slow.record(2, 5, 'k')]);
  assert.deepEqual(k(), ['k [0,10) 1'], 'nothing yet: [0, 15) is not complete');
  h.feed([slow.record(0, 15, 'z')]).watermark(watermark());
  assert.deepEqual(k(), ['k [0,10) 1', 'k [0,15) 3']);
});

test('session windows need aggregate.merge', () => {
  assert.throws(
    () => new WindowOperator({ name: 's', window: Windows.session('30s'), aggregate: { init: () => 0, add: (_k: unknown, _v: unknown, a: number) => a + 1, result: (a: number) => a } }),
    (e) => isSluiceError(e, 'INVALID_ARGUMENT') && /aggregate.merge/.test(e.message),
  );
});

test('sliding windows: each record aggregates its key lookback, inclusive', () => {
  const p = new Partition(100);
  const h = new Harness({ name: 'sl', window: Windows.sliding(10), aggregate: collect });
  h.feed([p.record('a', 0), p.record('b', 10), p.record('c', 11), p.record('d', 5)]).watermark(Infinity);
  assert.deepEqual(h.lines(), ['k [-10,1) ["a"]', 'k [-5,6) ["a","d"]', 'k [0,11) ["a","b","d"]', 'k [1,12) ["b","c","d"]']);
});

test('global windows fire per trigger, and at the end only if changed', () => {
  const byCount = new Harness({ name: 'g', window: Windows.global(Triggers.count(3)), aggregate: sum }).feed(oneToTen()).watermark(Infinity);
  assert.deepEqual(byCount.emitted().map((r) => r.value), [6, 21, 45, 55]);
  const nine = new Harness({ name: 'g', window: Windows.global(Triggers.count(3)), aggregate: sum }).feed(oneToTen().slice(0, 9)).watermark(Infinity);
  assert.deepEqual(nine.emitted().map((r) => r.value), [6, 21, 45]);
  const p = new Partition(0);
  const byInterval = new Harness({ name: 'g', window: Windows.global(Triggers.interval(10)), aggregate: sum });
  byInterval.feed([p.record(1, 1), p.record(2, 5)]).watermark(5).watermark(9);
  assert.deepEqual(byInterval.emitted().map((r) => r.value), [3], 'the first watermark crosses a boundary from -Infinity');
  byInterval.feed([p.record(4, 9)]).watermark(9.5);
  assert.equal(byInterval.results.length, 1);
  byInterval.watermark(10).watermark(Infinity);
  assert.deepEqual(byInterval.emitted().map((r) => r.value), [3, 7]);
  const onWatermark = new Harness({ name: 'g', window: Windows.global(Triggers.watermark()), aggregate: sum });
  onWatermark.feed([p.record(1, 11, 'a')]).watermark(11).watermark(12).feed([p.record(2, 12, 'a')]).watermark(13);
  assert.deepEqual(onWatermark.emitted().map((r) => r.value), [1, 3]);
});

test('early firings by count emit updates, then the final', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'e', window: Windows.tumbling(100), emit: { kind: 'early-count', every: 2 }, aggregate: sum });
  h.feed([1, 2, 3, 4, 5].map((v) => p.record(v, v))).watermark(Infinity);
  assert.deepEqual(h.emitted().map((r) => r.value), [3, 10, 15]);
});

test('early firings by interval run on processing time', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'e', window: Windows.tumbling(100), emit: { kind: 'early-interval', everyMs: 1000 }, aggregate: sum });
  h.feed([p.record(1, 1)]).time(5000);
  assert.deepEqual(h.emitted().map((r) => r.value), [1]);
  h.feed([p.record(2, 2)]).time(5500);
  assert.equal(h.results.length, 1, 'the next early firing is due at 6000');
  h.time(6000).time(7000);
  assert.deepEqual(h.emitted().map((r) => r.value), [1, 3], 'nothing changed since 6000');
  h.watermark(100);
  assert.deepEqual(h.emitted().map((r) => r.value), [1, 3, 3]);
});

test('processing-time windows assign by the clock and fire from onProcessingTime', () => {
  let now = 1000;
  const h = new Harness({ name: 'p', window: Windows.tumbling(100, { time: 'processing' }), aggregate: sum, clock: () => now });
  h.feed([{ value: 1, timestamp: 5, key: 'k', sourceWatermark: Number.POSITIVE_INFINITY }]);
  now = 1050;
  h.feed([{ value: 2, timestamp: 0, key: 'k', sourceWatermark: 0 }]);
  h.watermark(1_000_000);
  assert.deepEqual(h.lines(), [], 'event time does not fire processing-time windows');
  h.time(1099);
  assert.deepEqual(h.lines(), []);
  h.time(1100);
  assert.deepEqual(h.lines(), ['k [1000,1100) 3']);
  now = 1200;
  h.feed([{ value: 4, timestamp: 0, key: 'k', sourceWatermark: 0 }]).watermark(Infinity);
  assert.deepEqual(h.lines(), ['k [1000,1100) 3', 'k [1200,1300) 4'], 'the end of a bounded input fires every window');
});

test('processing-time sessions and lookback windows run on the clock', () => {
  let now = 0;
  const clock = () => now;
  const record = (value: number) => ({ value, timestamp: 0, key: 'k', sourceWatermark: 0 });
  const session = new Harness({ name: 'ps', window: Windows.session(100, { time: 'processing' }), aggregate: sum, clock });
  const sliding = new Harness({ name: 'pl', window: Windows.sliding(50, { time: 'processing' }), aggregate: collect, clock });
  for (const [t, v] of [[0, 1], [60, 2], [300, 4]]) {
    now = t;
    session.feed([record(v)]).time(t);
    sliding.feed([record(v)]).time(t);
  }
  assert.deepEqual(session.lines(), ['k [0,160) 3'], 'the session closed 100 ms after its last record');
  assert.deepEqual(sliding.lines(), ['k [-50,1) [1]', 'k [10,61) [2]']);
  session.time(400);
  assert.deepEqual(session.lines(), ['k [0,160) 3', 'k [300,400) 4']);
});

test('early firings by interval on processing-time windows', () => {
  let now = 0;
  const h = new Harness({
    name: 'pe',
    window: Windows.tumbling(1000, { time: 'processing' }),
    emit: { kind: 'early-interval', everyMs: 300 },
    aggregate: sum,
    clock: () => now,
  });
  for (const t of [100, 400, 700]) {
    now = t;
    h.feed([{ value: t, timestamp: 0, key: 'k', sourceWatermark: 0 }]).time(t);
  }
  now = 1000;
  h.time(1000);
  // Early at 100 (the first call), 400 and 700, then the final at the window end.
  assert.deepEqual(h.emitted().map((r) => r.value), [100, 500, 1200, 1200]);
});

test('a throwing aggregate becomes USER_FUNCTION_FAILED naming the operator and the record', () => {
  const op = new WindowOperator({
    name: 'boom',
    window: Windows.tumbling(10),
    aggregate: {
      init: () => 0,
      add: () => {
        throw new Error('bad value');
      },
      result: (a: number) => a,
    },
  });
  const element = { value: 1, timestamp: 1, key: 'k', sourceWatermark: 0, source: { topic: 'in', partition: 2, offset: 7 } };
  assert.throws(
    () => op.process([element], { emit() {}, side() {} }),
    (e) => isSluiceError(e, 'USER_FUNCTION_FAILED') && e.operator === 'boom' && e.position?.offset === 7 && /bad value/.test(e.message),
  );
});

test('operator arguments are checked', () => {
  const base = { name: 'w', window: Windows.tumbling(10), aggregate: sum };
  assert.throws(() => new WindowOperator({ ...base, name: '' }), /non-empty name/);
  assert.throws(() => new WindowOperator({ ...base, lateness: { allowedLatenessMs: -1 } }), /allowed lateness/);
  assert.throws(() => new WindowOperator({ ...base, window: Windows.countTumbling(3), emit: { kind: 'early-count', every: 2 } }), /early firings apply to time windows/);
  assert.throws(() => new WindowOperator({ ...base, emit: { kind: 'early-count', every: 0 } }), /whole number/);
  const op = new WindowOperator(base);
  assert.throws(() => op.process([{ value: 1, timestamp: Number.NaN, key: 'k', sourceWatermark: 0 }], { emit() {}, side() {} }), (e) => isSluiceError(e, 'INVALID_RECORD'));
  assert.throws(() => op.restore(new WindowOperator({ ...base, window: Windows.session(5) , aggregate: sum }).snapshot()), (e) => isSluiceError(e, 'STATE_INCOMPATIBLE'));
});

test('snapshot and restore mid-stream gives the same output, for every window kind', () => {
  const kinds = [
    Windows.tumbling(10),
    Windows.hopping(20, 5),
    Windows.sliding(7),
    Windows.session(6),
    Windows.global(Triggers.count(4)),
    Windows.countTumbling(3),
    Windows.countSliding(4, 2),
  ];
  for (const window of kinds) {
    const config = { name: 'w', window, lateness: { allowedLatenessMs: 8 }, aggregate: collect };
    const make = () => {
      const p = new Partition(5);
      const times = [3, 1, 12, 9, 25, 14, 30, 22, 41, 38, 29, 55, 47, 60, 33];
      return { p, records: times.map((t, i) => p.record(`r${i}`, t, i % 3 === 0 ? 'a' : 'b')) };
    };
    const straight = new Harness(config);
    const restarted = new Harness(config);
    const a = make();
    const b = make();
    for (let i = 0; i < a.records.length; i += 3) {
      straight.feed(a.records.slice(i, i + 3)).watermark(a.records[Math.min(i + 3, a.records.length - 1)].sourceWatermark);
      restarted.feed(b.records.slice(i, i + 3)).restart().watermark(b.records[Math.min(i + 3, b.records.length - 1)].sourceWatermark).restart();
    }
    straight.watermark(Infinity);
    restarted.watermark(Infinity);
    assert.ok(straight.results.length > 0, window.kind);
    assert.deepEqual(restarted.lines(), straight.lines(), window.kind);
    assert.equal(restarted.op.lateRecords, straight.op.lateRecords, window.kind);
  }
});

test('a snapshot is a detached copy: later in-place changes to accumulators do not leak into it', () => {
  const mutable = {
    init: () => [] as number[],
    add: (_key: unknown, v: number, acc: number[]) => {
      acc.push(v);
      return acc;
    },
    result: (acc: number[]) => [...acc],
  };
  const p = new Partition(0);
  const h = new Harness({ name: 'm', window: Windows.tumbling(10), aggregate: mutable }).feed([p.record(1, 1)]);
  const saved = h.op.snapshot();
  h.feed([p.record(2, 2)]);
  const fresh = new WindowOperator({ name: 'm', window: Windows.tumbling(10), aggregate: mutable });
  fresh.restore(saved);
  const out: unknown[] = [];
  fresh.onWatermark(Infinity, { emit: (e) => out.push(e.value.value), side() {} });
  assert.deepEqual(out, [[1]]);
});

test('state that cannot be checkpointed is reported with what to do', () => {
  const p = new Partition(0);
  const h = new Harness({
    name: 'fn-state',
    window: Windows.tumbling(10),
    aggregate: { init: () => ({ f: () => 1 }), add: (_k: unknown, _v: unknown, acc: unknown) => acc, result: () => 0 },
  }).feed([p.record(1, 1)]);
  assert.throws(() => h.op.snapshot(), (e) => isSluiceError(e, 'INVALID_ARGUMENT') && /plain data/.test(e.message));
});

test('query returns the current value of the windows held, per key or for all keys', () => {
  const p = new Partition(0);
  const h = new Harness({ name: 'q', window: Windows.hopping(20, 10), lateness: { allowedLatenessMs: 10 }, aggregate: sum });
  h.feed([p.record(1, 5, 'a'), p.record(2, 12, 'a'), p.record(4, 12, 'b')]).watermark(15);
  const a = h.op.query('a').map((r) => `${r.start}-${r.end}:${r.value}`);
  assert.deepEqual(a, ['-10-10:1', '0-20:3', '10-30:2'], 'fired windows stay queryable until end + lateness');
  assert.equal(h.op.query().length, 5);
  assert.deepEqual(h.op.query('nobody'), []);
  h.watermark(25);
  assert.deepEqual(h.op.query('a').map((r) => `${r.start}-${r.end}:${r.value}`), ['0-20:3', '10-30:2']);
  const counts = new Harness({ name: 'qc', window: Windows.countTumbling(3), aggregate: sum }).feed(oneToTen().slice(0, 4));
  assert.deepEqual(counts.op.query('k'), [{ key: 'k', start: 3, end: 4, value: 4 }]);
  const global = new Harness({ name: 'qg', window: Windows.global(Triggers.count(100)), aggregate: sum }).feed(oneToTen());
  assert.equal(global.op.query('k')[0].value, 55);
});

test('snapshots written before infinities had one JSON encoding (\'inf\' strings) still restore', () => {
  // Taken by the previous release: two records of key 'k' at times 1 and 3, before any watermark.
  const old = {
    sliding: '{"version":1,"name":"w","window":"sliding","watermark":"-inf","progress":"-inf","lateRecords":0,"nextEarlyAt":"-inf","engine":[{"key":"k","windows":[{"start":-9,"end":2,"acc":null,"fired":false,"since":1},{"start":-7,"end":4,"acc":null,"fired":false,"since":1}],"extra":[{"ts":1,"value":1,"cutoff":"-inf"},{"ts":3,"value":2,"cutoff":1}],"extraUntil":12}]}',
    session: '{"version":1,"name":"w","window":"session","watermark":"-inf","progress":"-inf","lateRecords":0,"nextEarlyAt":"-inf","engine":[{"key":"k","windows":[{"start":1,"end":8,"acc":3,"fired":false,"since":2}],"extraUntil":"inf"}]}',
  };
  const fired = (window: WindowSpec, saved: string) => {
    const op = new WindowOperator({ name: 'w', window, aggregate: sum });
    op.restore(JSON.parse(saved));
    const out: unknown[] = [];
    op.onWatermark(Infinity, { emit: (e) => out.push([e.value.start, e.value.end, e.value.value]), side() {} });
    return out;
  };
  assert.deepEqual(fired(Windows.sliding(10), old.sliding), [
    [-9, 2, 1],
    [-7, 4, 3],
  ]);
  assert.deepEqual(fired(Windows.session(5), old.session), [[1, 8, 3]]);
});
