/**
 * The stream-stream joins against a brute-force reference (join-reference.ts, which imports
 * nothing from src): two sources with different partition counts (2-4 each) and bounds, random
 * out-of-order and late input, keyed differently on each side, random batch sizes, heap or
 * lmdb state, and a checkpoint and restore at a random point of each input. The pairs, their
 * times, the late records (side output and RunSummary.late) must be the reference's, and every
 * key's output sequence must be that of a straight run at another batch size.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Guarantee, type Sluice, Windows, type WindowSpec } from '../../src/index.ts';
import type { OutputRecord } from '../../src/testing/index.ts';
import { type IntervalShape, intervalJoin, type JoinRec, type Pair, type SideInput, type WindowShape, windowJoin } from './join-reference.ts';
import { type JoinRunPlan, runJoin } from './join-run.ts';

const KEYS = ['a', 'b', 'c'];

function sideArb(topic: string, firstId: number, lateFree: fc.Arbitrary<boolean>): fc.Arbitrary<SideInput> {
  return fc
    .record({
      partitions: fc.integer({ min: 2, max: 4 }),
      bound: fc.integer({ min: 0, max: 30 }),
      lateFree,
      coarse: fc.boolean(),
      raw: fc.array(fc.record({ p: fc.nat(3), k: fc.nat(KEYS.length - 1), d: fc.integer({ min: -60, max: 25 }) }), { maxLength: 30 }),
    })
    .map(({ partitions, bound: anyBound, lateFree, coarse, raw }) => {
      // Coarse input: times and bound on a 5 ms grid, so records often sit exactly on bounds and window edges.
      const grid = (ms: number) => (coarse ? ms - (ms % 5) : ms);
      const bound = grid(anyBound);
      const max = new Map<number, number>();
      const records = raw.map(({ p, k, d: anyD }, i) => {
        const d = grid(anyD);
        const partition = p % partitions;
        const seen = max.get(partition);
        const ts = seen === undefined ? 1000 + d : seen + (lateFree ? Math.max(d, -bound) : d);
        max.set(partition, Math.max(seen ?? ts, ts));
        const rec: JoinRec = { id: firstId + i, k: KEYS[k], ts };
        return { partition, rec };
      });
      return { topic, partitions, bound, records };
    });
}

const planArb = (sides: number[]): fc.Arbitrary<{ straight: JoinRunPlan; restored: JoinRunPlan }> =>
  fc
    .record({
      batchSizes: fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 })),
      guarantee: fc.constantFrom<Guarantee>('exactly-once', 'exactly-once', 'at-least-once'),
      state: fc.constantFrom<'memory' | 'lmdb'>('memory', 'memory', 'lmdb'),
      cuts: fc.tuple(fc.nat(), fc.nat()),
    })
    .map(({ batchSizes, guarantee, state, cuts }) => {
      // lmdb state checkpoints exactly-once through the log's two-phase commit, which only the embedded log has.
      const g: Guarantee = state === 'lmdb' ? 'at-least-once' : guarantee;
      return {
        straight: { batchSize: batchSizes[0], guarantee: g, state },
        restored: { batchSize: batchSizes[1], guarantee: g, state, cut: cuts.map((c, i) => c % (sides[i] + 1)) },
      };
    });

function sources(app: Sluice, left: SideInput, right: SideInput) {
  return {
    l: app.stream<JoinRec>(left.topic, { timestamp: (r) => r.ts, watermark: left.bound }),
    r: app.stream<JoinRec>(right.topic, { timestamp: (r) => r.ts, watermark: right.bound }),
  };
}

const canonical = (p: Pair): string => `${p.l}|${p.r}|${p.ts}`;

/** The values of the join's topic checked against the reference, and each key's sequence against the straight run's. */
function compare(got: OutputRecord[], straight: OutputRecord[], want: Pair[]): void {
  for (const r of got) assert.equal(r.timestamp, (r.value as Pair).ts, 'each result carries its time as its event time');
  assert.deepEqual(got.map((r) => canonical(r.value as Pair)).sort(), want.map(canonical).sort(), 'the pairs');
  const byKey = (records: OutputRecord[]) => {
    const keys = new Map<string | null, string[]>();
    for (const r of records) keys.set(r.key, [...(keys.get(r.key) ?? []), canonical(r.value as Pair)]);
    return [...keys.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)));
  };
  assert.deepEqual(byKey(got), byKey(straight), "every key's results in the straight run's order");
}

const describeCase = (c: unknown) => JSON.stringify(c);

const intervalArb = fc
  .record({
    lower: fc.integer({ min: -40, max: 10 }),
    width: fc.integer({ min: 0, max: 40 }),
    lowerExclusive: fc.boolean(),
    upperExclusive: fc.boolean(),
    type: fc.constantFrom<IntervalShape['type']>('inner', 'left', 'outer'),
    lateTopic: fc.boolean(),
  })
  .filter((s) => s.lower + (s.lowerExclusive ? 1 : 0) <= s.lower + s.width - (s.upperExclusive ? 1 : 0))
  .map(({ lower, width, ...rest }) => ({ ...rest, lower, upper: lower + width }));

void test('interval join: pairs, unmatched records and late records as the reference, across batch sizes and a restore', async () => {
  const caseArb = fc
    .record({ left: sideArb('left', 0, fc.boolean()), right: sideArb('right', 1000, fc.boolean()), shape: intervalArb })
    .chain((c) => planArb([c.left.records.length, c.right.records.length]).map((plans) => ({ ...c, plans })));
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ left, right, shape, plans }) => {
      const topics = ['joined', 'late'];
      const build = (app: Sluice) => {
        const { l, r } = sources(app, left, right);
        // Keyed differently on each side: the join re-keys both by the key's value.
        let join = l
          .keyBy((x) => x.k)
          .intervalJoin(
            r.keyBy((y) => `${y.k}`.toLowerCase()),
            { type: shape.type },
          )
          .between(shape.lower, shape.upper);
        if (shape.lowerExclusive) join = join.lowerBoundExclusive();
        if (shape.upperExclusive) join = join.upperBoundExclusive();
        if (shape.lateTopic) join = join.sideOutputLateData('late');
        join.process((a, b, ctx) => ({ l: a === null ? null : a.id, r: b === null ? null : b.id, ts: ctx.timestamp }), { name: 'join' }).to('joined');
      };
      const want = intervalJoin(left, right, shape);
      const straight = await runJoin(build, [left, right], plans.straight, topics);
      const restored = await runJoin(build, [left, right], plans.restored, topics);
      for (const run of [straight, restored]) {
        compare(run.topics.get('joined')!, straight.topics.get('joined')!, want.pairs);
        assert.equal(run.late, want.late.length, 'late records counted');
        const lateIds = run.topics.get('late')!.map((r) => (r.value as JoinRec).id).sort();
        assert.deepEqual(lateIds, shape.lateTopic ? [...want.late].sort() : [], 'late records in the side output');
      }
    }),
    { numRuns: Number(process.env.JOIN_RUNS ?? 40), reporter: (d) => { if (d.failed) throw new Error(`${fc.defaultReportMessage(d)}\n${describeCase(d.counterexample)}`); } },
  );
});

const windowArb: fc.Arbitrary<WindowShape> = fc.oneof(
  fc.record({ size: fc.integer({ min: 5, max: 40 }), offset: fc.nat(4) }).map(({ size, offset }) => ({ kind: 'tumbling' as const, size, offset })),
  fc.record({ slide: fc.integer({ min: 3, max: 15 }), extra: fc.nat(25), offset: fc.nat(2) }).map(({ slide, extra, offset }) => ({ kind: 'hopping' as const, size: slide + extra, slide, offset })),
  fc.integer({ min: 2, max: 25 }).map((gap) => ({ kind: 'session' as const, gap })),
);

function windowSpec(w: WindowShape): WindowSpec {
  if (w.kind === 'tumbling') return Windows.tumbling(w.size, { offset: w.offset });
  if (w.kind === 'hopping') return Windows.hopping(w.size, w.slide, { offset: w.offset });
  return Windows.session(w.gap);
}

void test('window join: every pair of a key in a window, stamped end - 1, as the reference, across batch sizes and a restore', async () => {
  const caseArb = windowArb
    .chain((window) => {
      // The session reference takes late-free input; grid windows get late records too.
      const lateFree = window.kind === 'session' ? fc.constant(true) : fc.boolean();
      return fc.record({ window: fc.constant(window), left: sideArb('left', 0, lateFree), right: sideArb('right', 1000, lateFree) });
    })
    .chain((c) => planArb([c.left.records.length, c.right.records.length]).map((plans) => ({ ...c, plans })));
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ window, left, right, plans }) => {
      const build = (app: Sluice) => {
        const { l, r } = sources(app, left, right);
        l.join(r)
          .where((x) => x.k)
          .equalTo((y) => y.k)
          .window(windowSpec(window))
          .apply((a, b) => ({ l: a.id, r: b.id }), { name: 'join' })
          .map((p) => p)
          .to('joined');
      };
      const want = windowJoin(left, right, window);
      const straight = await runJoin(build, [left, right], plans.straight, ['joined']);
      const restored = await runJoin(build, [left, right], plans.restored, ['joined']);
      // The join function gives no time; the result's event time is checked against end - 1 here.
      const withTime = (records: OutputRecord[]) => records.map((r) => ({ ...r, value: { ...(r.value as Pair), ts: r.timestamp } }));
      for (const run of [straight, restored]) {
        compare(withTime(run.topics.get('joined')!), withTime(straight.topics.get('joined')!), want.pairs);
        assert.equal(run.late, want.late.length, 'late records counted');
      }
    }),
    { numRuns: Number(process.env.JOIN_RUNS ?? 40), reporter: (d) => { if (d.failed) throw new Error(`${fc.defaultReportMessage(d)}\n${describeCase(d.counterexample)}`); } },
  );
});
