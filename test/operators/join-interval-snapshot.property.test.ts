/**
 * The interval join's heap snapshots copy only the keys changed since the last one and reuse
 * the earlier copies of the others. Against the brute-force reference (join-reference.ts, which
 * imports nothing from src): random out-of-order input on both sides over several source
 * partitions, random batches and watermarks, snapshots at several random points, and at some of
 * them a restore into a fresh operator which goes on (and snapshots again). The pairs must be the
 * reference's, and a snapshot taken earlier must read the same after the operator went on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseWithInfinities, stringifyWithInfinities } from '../../src/core/json-infinity.ts';
import { IntervalJoinOperator, type IntervalJoinType } from '../../src/operators/join-interval.ts';
import { OperatorHarness } from '../../src/testing/index.ts';
import { intervalJoin, type JoinRec, type Pair, type SideInput } from '../runtime/join-reference.ts';

const KEYS = ['a', 'b', 'c', 'd'];

interface Arrival {
  side: 0 | 1;
  partition: number;
  rec: JoinRec;
}

interface Step {
  flush: boolean;
  snapshot: number;
  restore: boolean;
}

interface Case {
  partitions: number;
  bound: number;
  lower: number;
  upper: number;
  type: IntervalJoinType;
  arrivals: Arrival[];
  steps: Step[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    partitions: fc.integer({ min: 2, max: 3 }),
    bound: fc.integer({ min: 0, max: 30 }),
    lower: fc.integer({ min: -30, max: 20 }),
    span: fc.integer({ min: 0, max: 40 }),
    type: fc.constantFrom<IntervalJoinType>('inner', 'left', 'outer'),
    raw: fc.array(fc.record({ side: fc.constantFrom<0 | 1>(0, 1), p: fc.nat(2), k: fc.nat(KEYS.length - 1), d: fc.integer({ min: -40, max: 20 }) }), { maxLength: 60 }),
    // Per arrival: whether a batch ends after it, a snapshot is taken, and the run restores from it.
    steps: fc.array(fc.record({ flush: fc.boolean(), snapshot: fc.nat(3), restore: fc.boolean() }), { minLength: 60, maxLength: 60 }),
  })
  .map(({ partitions, bound, lower, span, type, raw, steps }) => {
    // Late-free input: each record is at or after its partition's watermark (max seen - bound),
    // so at or after the operator's, the minimum over partitions; lateness is the runtime test's.
    const max = new Map<number, number>();
    const arrivals: Arrival[] = raw.map(({ side, p, k, d }, i) => {
      const partition = p % partitions;
      const seen = max.get(partition);
      const ts = seen === undefined ? 1000 + d : seen + Math.max(d, -bound);
      max.set(partition, Math.max(seen ?? ts, ts));
      return { side, partition, rec: { id: i, k: KEYS[k], ts } };
    });
    return { partitions, bound, lower, upper: lower + span, type, arrivals, steps };
  });

function reference(c: Case): Pair[] {
  const side = (s: 0 | 1, topic: string): SideInput => ({
    topic,
    partitions: c.partitions,
    bound: c.bound,
    records: c.arrivals.filter((a) => a.side === s).map(({ partition, rec }) => ({ partition, rec })),
  });
  return intervalJoin(side(0, 'l'), side(1, 'r'), { lower: c.lower, upper: c.upper, lowerExclusive: false, upperExclusive: false, type: c.type }).pairs;
}

const sorted = (pairs: Pair[]): Pair[] => [...pairs].sort((a, b) => (a.l ?? -1) - (b.l ?? -1) || (a.r ?? -1) - (b.r ?? -1) || a.ts - b.ts);

function run(c: Case): { pairs: Pair[]; snapshotsStable: boolean } {
  const make = () =>
    new IntervalJoinOperator({
      name: 'j',
      lowerMs: c.lower,
      upperMs: c.upper,
      type: c.type,
      fn: (l: JoinRec | null, r: JoinRec | null, ctx: { timestamp: number }): Pair => ({ l: l?.id ?? null, r: r?.id ?? null, ts: ctx.timestamp }),
    });
  let op = make();
  let h = new OperatorHarness(op);
  const pairs: Pair[] = [];
  // Each snapshot taken, with its JSON at the time, to check it later.
  const taken: { snapshot: unknown; json: string }[] = [];
  const max = new Map<number, number>();
  let batch: { value: unknown; timestamp: number; key: string; sourceWatermark: number }[] = [];
  const watermark = () => (max.size < c.partitions ? Number.NEGATIVE_INFINITY : Math.min(...[...max.values()].map((m) => m - c.bound)));
  c.arrivals.forEach(({ side, partition, rec }, i) => {
    const seen = max.get(partition);
    batch.push({ value: { side, value: rec }, timestamp: rec.ts, key: rec.k, sourceWatermark: seen === undefined ? Number.NEGATIVE_INFINITY : seen - c.bound });
    max.set(partition, Math.max(seen ?? rec.ts, rec.ts));
    const step = c.steps[i];
    if (!step.flush && i < c.arrivals.length - 1) return;
    h.processBatch(batch);
    batch = [];
    h.processWatermark(watermark());
    if (step.snapshot === 0) return;
    const snapshot = op.snapshot();
    taken.push({ snapshot, json: stringifyWithInfinities(snapshot) });
    if (!step.restore) return;
    pairs.push(...(h.takeValues() as Pair[]));
    op = make();
    h = OperatorHarness.restored(op, parseWithInfinities(taken[taken.length - 1].json));
  });
  h.processWatermark(Number.POSITIVE_INFINITY);
  pairs.push(...(h.takeValues() as Pair[]));
  return { pairs, snapshotsStable: taken.every((t) => stringifyWithInfinities(t.snapshot) === t.json) };
}

void test('interval join (heap): snapshots of changed keys only, restored at random points, give the reference pairs', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { pairs, snapshotsStable } = run(c);
      assert.deepEqual(sorted(pairs), sorted(reference(c)));
      assert.ok(snapshotsStable, 'a snapshot changed after it was taken');
    }),
    { numRuns: 300 },
  );
});
