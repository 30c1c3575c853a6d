/**
 * Property tests of the two engines of tumbling and hopping windows: the window-major engine
 * of heap state (PaneWindowEngine) and the per-key engine of durable tables and early firings
 * (FixedWindowEngine). Random out-of-order input over several partitions with many keys (so
 * many keys fire in one pane), random allowed lateness, random batches with the operator
 * watermark after each, a snapshot at a random batch restored into the same or the other
 * engine. Checked against the brute-force reference, and per key emission by emission against
 * each other (the order across keys of one window end is the engines' own).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseWithInfinities, stringifyWithInfinities } from '../../src/core/index.ts';
import type { AggregateFunction } from '../../src/operators/aggregate-function.ts';
import type { Element, Output } from '../../src/operators/operator.ts';
import { Emitter, type EngineContext, type WindowEngine, type WindowResult } from '../../src/operators/window-common.ts';
import { FixedWindowEngine } from '../../src/operators/window-fixed.ts';
import { PaneWindowEngine } from '../../src/operators/window-panes.ts';
import type { WindowSpec } from '../../src/time/window-spec.ts';
import { type RefRecord, reference, windowId } from './window-reference.ts';

type FixedSpec = WindowSpec & { kind: 'tumbling' | 'hopping' };

interface Input {
  spec: FixedSpec;
  lateness: number;
  records: RefRecord[];
  partitionOf: number[];
  bounds: number[];
}

const specArb: fc.Arbitrary<FixedSpec> = fc.oneof(
  fc.record({ size: fc.integer({ min: 1, max: 40 }), offset: fc.nat(39) }).map(({ size, offset }): FixedSpec => ({ kind: 'tumbling', sizeMs: size, offsetMs: offset % size, time: 'event' })),
  fc.record({ a: fc.integer({ min: 1, max: 40 }), b: fc.integer({ min: 1, max: 40 }), offset: fc.nat(39) }).map(
    ({ a, b, offset }): FixedSpec => ({ kind: 'hopping', sizeMs: Math.max(a, b), slideMs: Math.min(a, b), offsetMs: offset % Math.min(a, b), time: 'event' }),
  ),
);

const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);

const inputArb: fc.Arbitrary<Input> = fc
  .record({
    spec: specArb,
    lateness: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
    bounds: fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 3 }),
    keyCount: fc.integer({ min: 1, max: keys.length }),
    raw: fc.array(fc.record({ p: fc.nat(2), ts: fc.integer({ min: 0, max: 150 }), k: fc.nat(keys.length - 1) }), { maxLength: 120, size: 'medium' }),
  })
  .map(({ spec, lateness, bounds, keyCount, raw }) => {
    const maxSeen = bounds.map(() => Number.NEGATIVE_INFINITY);
    const records: RefRecord[] = [];
    const partitionOf: number[] = [];
    raw.forEach((r, id) => {
      const p = r.p % bounds.length;
      records.push({ id, key: keys[r.k % keyCount], ts: r.ts, wBefore: maxSeen[p] - bounds[p] });
      partitionOf.push(p);
      maxSeen[p] = Math.max(maxSeen[p], r.ts);
    });
    return { spec, lateness, records, partitionOf, bounds };
  });

const collectIds: AggregateFunction = {
  init: (): number[] => [],
  add: (_key: unknown, v: unknown, acc: unknown) => [...(acc as number[]), v as number],
  merge: (a: unknown, b: unknown) => [...(a as number[]), ...(b as number[])],
  result: (acc: unknown) => acc,
};

type Kind = 'panes' | 'per-key' | 'per-key-early';

interface Run {
  /** Per key, its emissions in order as `start|end ids`; updates of early firings left out. */
  perKey: Map<unknown, string[]>;
  /** The last emission of each window. */
  finals: Map<string, number[]>;
  late: number[];
}

function engine(kind: Kind, spec: FixedSpec, ctx: EngineContext): WindowEngine {
  if (kind === 'panes') return new PaneWindowEngine(spec, ctx);
  return new FixedWindowEngine(spec, kind === 'per-key-early' ? { ...ctx, earlyEvery: 1_000_000 } : ctx, false);
}

/** Runs the input through `first`, and from batch `restartAt` on through `then` restored from `first`'s snapshot. */
function run(input: Input, sizes: number[], first: Kind, then: Kind = first, restartAt = -1): Run {
  const result: Run = { perKey: new Map(), finals: new Map(), late: [] };
  const out: Output<WindowResult> = {
    emit: (e) => {
      const v = e.value;
      const ids = [...(v.value as number[])].sort((a, b) => a - b);
      result.finals.set(windowId(v.key, v.start, v.end), ids);
      const list = result.perKey.get(v.key) ?? [];
      list.push(`${v.start}|${v.end} ${ids.join(',')}`);
      result.perKey.set(v.key, list);
    },
    side: (_tag, e) => result.late.push(e.value as number),
  };
  const emitter = new Emitter('prop', 'late', (_e, error) => {
    throw error;
  });
  emitter.out = out;
  const ctx: EngineContext = { aggregate: collectIds, emitter, latenessMs: input.lateness, earlyEvery: 0 };
  let e = engine(first, input.spec, ctx);
  const partitionWatermark = input.bounds.map(() => Number.NEGATIVE_INFINITY);
  const maxSeen = [...partitionWatermark];
  let watermark = Number.NEGATIVE_INFINITY;
  let i = 0;
  let b = 0;
  while (i < input.records.length) {
    const size = Math.max(1, sizes[b++ % sizes.length]);
    for (const r of input.records.slice(i, i + size)) {
      const element: Element = { value: r.id, timestamp: r.ts, key: r.key, sourceWatermark: r.wBefore };
      e.add(element, r.key, r.ts, r.wBefore);
      const p = input.partitionOf[r.id];
      maxSeen[p] = Math.max(maxSeen[p], r.ts);
      partitionWatermark[p] = maxSeen[p] - input.bounds[p];
    }
    i += size;
    if (b === restartAt) {
      // As the operator saves it: a deep copy through the checkpoint's JSON.
      const saved = parseWithInfinities(stringifyWithInfinities(structuredClone(e.snapshot())));
      e = engine(then, input.spec, ctx);
      e.restore(saved, watermark);
    }
    const w = Math.min(...partitionWatermark);
    if (w > watermark) {
      watermark = w;
      emitter.forwarded = w;
      e.advance(w);
    }
  }
  e.advance(Number.POSITIVE_INFINITY);
  return result;
}

function checkReference(input: Input, r: Run): void {
  const ref = reference(input.spec, input.lateness, input.records);
  assert.deepEqual([...r.late].sort((a, b) => a - b), ref.late, 'late records');
  assert.deepEqual(new Map([...r.finals].sort()), new Map([...ref.windows].sort()), 'final values');
}

const batchesArb = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 });

test('window-major and per-key engines: the reference results, and per key the same emissions in the same order', () => {
  fc.assert(
    fc.property(inputArb, batchesArb, (input, sizes) => {
      const panes = run(input, sizes, 'panes');
      checkReference(input, panes);
      const perKey = run(input, sizes, 'per-key');
      assert.deepEqual(panes.perKey, perKey.perKey);
      assert.deepEqual([...panes.late].sort(), [...perKey.late].sort());
    }),
    { numRuns: 300 },
  );
});

test('a snapshot of either engine at any batch restores into either, with the same emissions', () => {
  const kinds = fc.constantFrom<Kind>('panes', 'per-key');
  fc.assert(
    fc.property(inputArb, batchesArb, fc.integer({ min: 1, max: 12 }), kinds, kinds, (input, sizes, at, first, then) => {
      const straight = run(input, sizes, 'panes');
      const restored = run(input, sizes, first, then, at);
      assert.deepEqual(restored.perKey, straight.perKey);
      assert.deepEqual([...restored.late].sort(), [...straight.late].sort());
    }),
    { numRuns: 300 },
  );
});

test('a window-major snapshot restores into the per-key engine without panes (early firings): same final values', () => {
  fc.assert(
    fc.property(inputArb, batchesArb, fc.integer({ min: 1, max: 12 }), (input, sizes, at) => {
      const straight = run(input, sizes, 'panes');
      const restored = run(input, sizes, 'panes', 'per-key-early', at);
      assert.deepEqual(restored.finals, straight.finals);
      assert.deepEqual([...restored.late].sort(), [...straight.late].sort());
      const back = run(input, sizes, 'per-key-early', 'panes', at);
      assert.deepEqual(back.finals, straight.finals);
    }),
    { numRuns: 200 },
  );
});
