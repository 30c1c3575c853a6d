/**
 * Property tests of the window operator against the brute-force reference, for every window
 * kind: random out-of-order input over several source partitions (each record's W_before
 * computed record by record per partition with a random bound), random allowed lateness,
 * random batch sizes with the operator watermark (the minimum over partitions) after each
 * batch, then +Infinity.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseWithInfinities, stringifyWithInfinities } from '../../src/core/index.ts';
import type { Element, Output } from '../../src/operators/operator.ts';
import { WindowOperator, type WindowResult } from '../../src/operators/window.ts';
import type { EmitSpec, WindowSpec } from '../../src/time/window-spec.ts';
import { type RefRecord, reference, windowId } from './window-reference.ts';

interface Input {
  spec: WindowSpec;
  lateness: number;
  emit: EmitSpec;
  records: RefRecord[];
  partitionOf: number[];
  /** Out-of-orderness bound of each partition. */
  bounds: number[];
}

const timeKinds = new Set(['tumbling', 'hopping', 'sliding', 'session']);

/** Random specs of each window kind. */
const specArbs: Record<WindowSpec['kind'], fc.Arbitrary<WindowSpec>> = {
  tumbling: fc.record({ size: fc.integer({ min: 1, max: 40 }), offset: fc.nat(39) }).map(({ size, offset }): WindowSpec => ({
    kind: 'tumbling',
    sizeMs: size,
    offsetMs: offset % size,
    time: 'event',
  })),
  hopping: fc.record({ a: fc.integer({ min: 1, max: 40 }), b: fc.integer({ min: 1, max: 40 }), offset: fc.nat(39) }).map(({ a, b, offset }): WindowSpec => ({
    kind: 'hopping',
    sizeMs: Math.max(a, b),
    slideMs: Math.min(a, b),
    offsetMs: offset % Math.min(a, b),
    time: 'event',
  })),
  sliding: fc.integer({ min: 1, max: 30 }).map((lookbackMs): WindowSpec => ({ kind: 'sliding', lookbackMs, time: 'event' })),
  session: fc.integer({ min: 1, max: 30 }).map((gapMs): WindowSpec => ({ kind: 'session', gapMs, time: 'event' })),
  global: fc.oneof(
    fc.integer({ min: 1, max: 5 }).map((every): WindowSpec => ({ kind: 'global', trigger: { kind: 'count', every } })),
    fc.integer({ min: 1, max: 50 }).map((everyMs): WindowSpec => ({ kind: 'global', trigger: { kind: 'interval', everyMs } })),
    fc.constant<WindowSpec>({ kind: 'global', trigger: { kind: 'watermark' } }),
  ),
  'count-tumbling': fc.integer({ min: 1, max: 5 }).map((size): WindowSpec => ({ kind: 'count-tumbling', size })),
  'count-sliding': fc.record({ a: fc.integer({ min: 1, max: 5 }), b: fc.integer({ min: 1, max: 5 }) }).map(({ a, b }): WindowSpec => ({
    kind: 'count-sliding',
    size: Math.max(a, b),
    slide: Math.min(a, b),
  })),
};
const kinds = Object.keys(specArbs) as WindowSpec['kind'][];

/** Records of 1-3 partitions, interleaved in a random arrival order; W_before per partition, record by record. */
function inputArb(kind: WindowSpec['kind'], maxPartitions: number): fc.Arbitrary<Input> {
  return fc
    .record({
      spec: specArbs[kind],
      lateness: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
      early: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 })),
      bounds: fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: maxPartitions }),
      raw: fc.array(fc.record({ p: fc.nat(maxPartitions - 1), ts: fc.integer({ min: 0, max: 150 }), key: fc.constantFrom('a', 'b', 'c') }), {
        maxLength: 60,
        size: 'medium',
      }),
    })
    .map(({ spec, lateness, early, bounds, raw }) => {
      const maxSeen = bounds.map(() => Number.NEGATIVE_INFINITY);
      const records: RefRecord[] = [];
      const partitionOf: number[] = [];
      raw.forEach((r, id) => {
        const p = r.p % bounds.length;
        records.push({ id, key: r.key, ts: r.ts, wBefore: maxSeen[p] - bounds[p] });
        partitionOf.push(p);
        maxSeen[p] = Math.max(maxSeen[p], r.ts);
      });
      const emit: EmitSpec = early > 0 && timeKinds.has(spec.kind) ? { kind: 'early-count', every: early } : { kind: 'final' };
      return { spec, lateness, emit, records, partitionOf, bounds };
    });
}

interface Run {
  /** Every emission as `key|start|end` -> ids, in order. */
  emissions: { id: string; ids: number[]; end: number; key: unknown; onWatermark: boolean }[];
  late: number[];
}

const collectIds = {
  init: (): number[] => [],
  add: (_key: unknown, v: number, acc: number[]) => [...acc, v],
  merge: (a: number[], b: number[]) => [...a, ...b],
  result: (acc: number[]) => acc,
};

/** Runs the operator over the input cut into batches of the given sizes (cycled), a watermark after each. */
function run(input: Input, batchSizes: number[], restartAt = -1): Run {
  const config = {
    name: 'prop',
    window: input.spec,
    lateness: { allowedLatenessMs: input.lateness, lateSideOutput: 'late' },
    emit: input.emit,
    aggregate: collectIds,
  };
  let op = new WindowOperator(config);
  const result: Run = { emissions: [], late: [] };
  let onWatermark = false;
  const out: Output<WindowResult> = {
    emit: (e) => {
      const v = e.value;
      result.emissions.push({ id: windowId(v.key, v.start, v.end), ids: [...(v.value as number[])], end: v.end, key: v.key, onWatermark });
    },
    side: (_tag, e) => result.late.push(e.value as number),
  };
  const { bounds } = input;
  const partitionWatermark = bounds.map(() => Number.NEGATIVE_INFINITY);
  const maxSeen = [...partitionWatermark];
  let i = 0;
  let b = 0;
  while (i < input.records.length) {
    const size = Math.max(1, batchSizes[b++ % batchSizes.length]);
    const batch: Element<number>[] = [];
    for (const r of input.records.slice(i, i + size)) {
      batch.push({ value: r.id, timestamp: r.ts, key: r.key, sourceWatermark: r.wBefore });
      const p = input.partitionOf[r.id];
      maxSeen[p] = Math.max(maxSeen[p], r.ts);
      partitionWatermark[p] = maxSeen[p] - bounds[p];
    }
    i += size;
    op.process(batch, out);
    if (b === restartAt) {
      const saved = parseWithInfinities(stringifyWithInfinities(op.snapshot()));
      op = new WindowOperator(config);
      op.restore(saved);
    }
    const watermark = Math.min(...partitionWatermark);
    assert.ok(!Number.isNaN(watermark));
    onWatermark = true;
    op.onWatermark(watermark, out);
    onWatermark = false;
  }
  onWatermark = true;
  op.onWatermark(Number.POSITIVE_INFINITY, out);
  assert.equal(op.lateRecords, result.late.length);
  return result;
}

/** The last emission of each window, ids sorted. */
function finals(r: Run): Map<string, number[]> {
  const last = new Map<string, number[]>();
  for (const e of r.emissions) last.set(e.id, [...e.ids].sort((a, b) => a - b));
  return last;
}

function checkAgainstReference(input: Input, r: Run): void {
  const ref = reference(input.spec, input.lateness, input.records);
  assert.deepEqual([...r.late].sort((a, b) => a - b), ref.late, 'late records');
  const got = finals(r);
  for (const [id, ids] of ref.windows) assert.deepEqual(got.get(id), ids, `final value of ${id}`);
  for (const [id, ids] of got) {
    if (ref.windows.has(id)) continue;
    // Only sessions may emit windows the reference lacks: ones later merged into a larger session.
    assert.equal(input.spec.kind, 'session', `unexpected window ${id}`);
    const [key, start, end] = id.split('|');
    const into = [...ref.windows].find(([rid, rids]) => {
      const [k, s, e] = rid.split('|');
      return k === key && Number(s) <= Number(start) && Number(end) <= Number(e) && ids.every((x) => rids.includes(x));
    });
    assert.ok(into, `session ${id} was merged into a final session`);
  }
  // Per key, what fires on watermarks comes out in window-end order.
  const lastEnd = new Map<unknown, number>();
  for (const e of r.emissions) {
    if (!e.onWatermark) continue;
    if (input.spec.kind === 'global') continue;
    assert.ok(e.end >= (lastEnd.get(e.key) ?? Number.NEGATIVE_INFINITY), `window-end order for key ${String(e.key)}`);
    lastEnd.set(e.key, e.end);
  }
}

const batchesArb = fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 });

for (const kind of kinds) {
  test(`${kind} windows match the brute-force reference, and do not depend on batching`, () => {
    fc.assert(
      fc.property(inputArb(kind, 3), batchesArb, batchesArb, (input, sizesA, sizesB) => {
        const a = run(input, sizesA);
        checkAgainstReference(input, a);
        const b = run(input, sizesB);
        assert.deepEqual(finals(b), finals(a), 'final values under another batching');
        assert.deepEqual([...b.late].sort(), [...a.late].sort(), 'late records under another batching');
      }),
      { numRuns: 150 },
    );
  });

  test(`${kind} windows, single partition: every emission, not only the last per window, is independent of batching`, () => {
    const lines = (r: Run) => r.emissions.map((e) => `${e.id} ${JSON.stringify(e.ids)}`).sort();
    fc.assert(
      fc.property(inputArb(kind, 1), batchesArb, (input, sizes) => {
        // Global windows on watermark or interval triggers fire on watermarks by definition.
        fc.pre(input.spec.kind !== 'global' || input.spec.trigger.kind === 'count');
        const perRecord = run(input, [1]);
        const batched = run(input, sizes);
        assert.deepEqual(lines(batched), lines(perRecord));
      }),
      { numRuns: 100 },
    );
  });

  test(`${kind} windows: a snapshot and restore at any batch gives the same results`, () => {
    fc.assert(
      fc.property(inputArb(kind, 3), batchesArb, fc.integer({ min: 1, max: 10 }), (input, sizes, at) => {
        const straight = run(input, sizes);
        const restored = run(input, sizes, at);
        assert.deepEqual(restored.emissions, straight.emissions);
        assert.deepEqual(restored.late, straight.late);
      }),
      { numRuns: 50 },
    );
  });
}
