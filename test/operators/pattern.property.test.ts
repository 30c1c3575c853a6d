/**
 * Property test of the pattern operator against the brute-force matcher (pattern-reference.ts,
 * which imports nothing from src): random patterns built through the Pattern API from every
 * step kind and quantifier, each skip strategy, random keyed events out of order within each
 * partition's watermark bound over several partitions, random batch sizes with the operator
 * watermark (the minimum over partitions) after each batch, and a checkpoint (JSON round trip)
 * and restore at a random batch. Matches and timed-out partial matches must be the same, in
 * the same order, per key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkPattern, Pattern, type PatternCondition, toSkipSpec } from '../../src/api/index.ts';
import { isSluiceError, parseWithInfinities, stringifyWithInfinities } from '../../src/core/index.ts';
import type { Element, Output } from '../../src/operators/operator.ts';
import { PatternOperator } from '../../src/operators/pattern.ts';
import { onTime, type RefCond, type RefInput, type RefOutput, type RefPattern, type RefSkip, type RefStep, type RefValue, referenceMatches } from './pattern-reference.ts';

const NAMES = ['s0', 's1', 's2', 's3', 's4', 's5'];

function condArb(earlier: string[]): fc.Arbitrary<RefCond> {
  const letters = fc.subarray(['a', 'b', 'c'], { minLength: 1, maxLength: 2 }).map((l): RefCond => ({ kind: 'in', letters: l.join('') }));
  if (earlier.length === 0) return fc.oneof(letters, letters, fc.constant<RefCond>({ kind: 'true' }));
  return fc.oneof(letters, letters, fc.constant<RefCond>({ kind: 'true' }), fc.constantFrom(...earlier).map((step): RefCond => ({ kind: 'gtPrev', step })));
}

const kindArb = fc.constantFrom<RefStep['kind']>('next', 'followedBy', 'followedBy', 'followedByAny', 'notNext', 'notFollowedBy');

/** A random pattern: 1-5 steps of any kind, conditions, quantifiers; some are rejected by the builder (then skipped). */
const patternArb: fc.Arbitrary<RefPattern> = fc
  .record({
    kinds: fc.array(kindArb, { minLength: 0, maxLength: 4 }),
    within: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  })
  .chain(({ kinds, within }) => {
    const all: RefStep['kind'][] = ['begin', ...kinds];
    const stepArbs = all.map((kind, i) => {
      const positiveBefore = all.slice(0, i + 1).map((k, j) => (k === 'notNext' || k === 'notFollowedBy' ? undefined : NAMES[j])).filter((n): n is string => n !== undefined);
      const negation = kind === 'notNext' || kind === 'notFollowedBy';
      return fc
        .record({
          where: fc.array(fc.record({ op: fc.constantFrom<'and' | 'or'>('and', 'and', 'or'), c: condArb(positiveBefore) }), { minLength: 1, maxLength: 2 }),
          quant: negation ? fc.constant('one') : fc.constantFrom('one', 'one', 'times', 'range', 'orMore', 'oneOrMore'),
          n: fc.integer({ min: 1, max: 3 }),
          extra: fc.integer({ min: 0, max: 2 }),
          optional: negation ? fc.constant(false) : fc.boolean(),
          greedy: fc.boolean(),
          consecutive: fc.boolean(),
          until: fc.option(condArb(positiveBefore), { nil: undefined, freq: 3 }),
        })
        .map(({ where, quant, n, extra, optional, greedy, consecutive, until }): RefStep => {
          const [min, max] = quant === 'times' ? [n, n] : quant === 'range' ? [n, n + extra] : quant === 'orMore' ? [n, Number.POSITIVE_INFINITY] : quant === 'oneOrMore' ? [1, Number.POSITIVE_INFINITY] : [1, 1];
          const loop = max > 1;
          return {
            name: NAMES[i],
            kind,
            where: [{ op: 'and', c: where[0].c }, ...where.slice(1)],
            ...(loop && until !== undefined ? { until } : {}),
            min,
            max,
            optional,
            greedy: loop && greedy,
            consecutive: loop && consecutive,
          };
        });
    });
    return fc.tuple(...stepArbs).map((steps): RefPattern => ({ steps, ...(within !== undefined ? { within } : {}) }));
  });

function skipArb(pattern: RefPattern): fc.Arbitrary<RefSkip> {
  const names = pattern.steps.filter((s) => s.kind !== 'notNext' && s.kind !== 'notFollowedBy').map((s) => s.name);
  return fc.oneof(
    fc.constantFrom<RefSkip>('noSkip', 'skipToNext', 'skipPastLastEvent'),
    fc.constantFrom(...names).map((n): RefSkip => ({ skipToFirst: n })),
    fc.constantFrom(...names).map((n): RefSkip => ({ skipToLast: n })),
  );
}

function toCondition(c: RefCond): PatternCondition<RefValue> {
  if (c.kind === 'true') return () => true;
  if (c.kind === 'in') return (e) => c.letters.includes(e.k);
  return (e, ctx) => {
    const prev = ctx.events(c.step).at(-1);
    return prev === undefined || e.n > prev.n;
  };
}

/** The pattern through the public builder; undefined when the builder rejects it. */
function build(ref: RefPattern): Pattern<RefValue> | undefined {
  try {
    let p: Pattern<RefValue> | undefined;
    for (const s of ref.steps) {
      p = p === undefined ? Pattern.begin<RefValue>(s.name) : p[s.kind as 'next'](s.name);
      for (const w of s.where) p = w.op === 'and' ? p.where(toCondition(w.c)) : p.or(toCondition(w.c));
      if (s.max === Number.POSITIVE_INFINITY) p = s.min === 1 ? p.oneOrMore() : p.timesOrMore(s.min);
      else if (s.max > 1) p = s.min === s.max ? p.times(s.min) : p.times(s.min, s.max);
      if (s.until !== undefined) p = p.until(toCondition(s.until));
      if (s.optional) p = p.optional();
      if (s.greedy) p = p.greedy();
      if (s.consecutive) p = p.consecutive();
    }
    if (ref.within !== undefined) p = p!.within(ref.within);
    checkPattern(p);
    return p;
  } catch (error) {
    if (isSluiceError(error, 'INVALID_ARGUMENT')) return undefined;
    throw error;
  }
}

interface Input {
  pattern: RefPattern;
  skip: RefSkip;
  bounds: number[];
  records: RefInput[];
  batches: number[];
  restartAt: number;
}

const inputArb: fc.Arbitrary<Input> = patternArb.chain((pattern) =>
  fc
    .record({
      skip: skipArb(pattern),
      bounds: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 3 }),
      raw: fc.array(fc.record({ p: fc.nat(2), ts: fc.integer({ min: 0, max: 40 }), key: fc.constantFrom('x', 'y'), k: fc.constantFrom('a', 'b', 'c'), n: fc.nat(3) }), { maxLength: 16 }),
      batches: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
      restartAt: fc.integer({ min: -1, max: 8 }),
    })
    .map(({ skip, bounds, raw, batches, restartAt }) => {
      const offsets = bounds.map(() => 0);
      const records = raw.map((r, id): RefInput => {
        const partition = r.p % bounds.length;
        return { key: r.key, ts: r.ts, partition, offset: offsets[partition]++, value: { id, k: r.k, n: r.n } };
      });
      return { pattern, skip, bounds, records, batches, restartAt };
    }),
);

function chainOf(match: Record<string, RefValue[]>, names: string[]): string {
  return names.flatMap((name) => match[name].map((e) => `${e.id}:${name}`)).join(',');
}

/** Runs the operator over the input in batches, a watermark after each, a restart at one batch. */
function runOperator(input: Input, p: Pattern<RefValue>): { byKey: Map<string, RefOutput[]>; late: number[] } {
  const { spec } = checkPattern(p);
  const skip = toSkipSpec(input.skip, undefined, spec);
  const make = () => new PatternOperator({ name: 'prop', pattern: spec, skip, lateSideOutput: 'late', timedOutTag: 'timed-out' });
  const names = spec.steps.filter((s) => s.kind !== 'notNext' && s.kind !== 'notFollowedBy').map((s) => s.name);
  let op = make();
  const byKey = new Map<string, RefOutput[]>();
  const late: number[] = [];
  const push = (key: unknown, o: RefOutput) => byKey.set(String(key), [...(byKey.get(String(key)) ?? []), o]);
  const out: Output = {
    emit: (e) => push(e.key, { type: 'match', chain: chainOf(e.value as Record<string, RefValue[]>, names) }),
    side: (tag, e) => {
      if (tag === 'late') late.push((e.value as RefValue).id);
      else if (tag === 'timed-out') {
        const v = e.value as { match: Record<string, RefValue[]>; timeoutAt: number };
        push(e.key, { type: 'timeout', chain: chainOf(v.match, names), at: v.timeoutAt });
      } else throw new Error(`unexpected side output ${tag}`);
    },
  };
  const maxSeen = input.bounds.map(() => Number.NEGATIVE_INFINITY);
  const wm = (p: number) => maxSeen[p] - input.bounds[p];
  let i = 0;
  let b = 0;
  while (i < input.records.length) {
    const size = input.batches[b++ % input.batches.length];
    const batch: Element[] = [];
    for (const r of input.records.slice(i, i + size)) {
      batch.push({ value: r.value, timestamp: r.ts, key: r.key, sourceWatermark: wm(r.partition), source: { topic: 't', partition: r.partition, offset: r.offset } });
      maxSeen[r.partition] = Math.max(maxSeen[r.partition], r.ts);
    }
    i += size;
    op.process(batch, out);
    op.onWatermark(Math.min(...input.bounds.map((_, q) => wm(q))), out);
    if (b === input.restartAt) {
      const saved = parseWithInfinities(stringifyWithInfinities(op.snapshot()));
      op = make();
      op.restore(saved);
    }
  }
  op.onWatermark(Number.POSITIVE_INFINITY, out);
  // With within, the end of the input (W = +Infinity) expires every partial match.
  if (spec.withinMs !== undefined) assert.equal(op.partialMatches, 0, 'partial matches left after W = +Infinity');
  return { byKey, late };
}

test('pattern operator = brute-force matcher: random patterns, skip strategies, out-of-order keyed input, restore', () => {
  let ran = 0;
  fc.assert(
    fc.property(inputArb, (input) => {
      const p = build(input.pattern);
      fc.pre(p !== undefined);
      ran++;
      const expectedOnTime = onTime(input.records, input.bounds);
      const expected = referenceMatches(input.pattern, input.skip, expectedOnTime);
      const got = runOperator(input, p!);
      const lateExpected = input.records.filter((r) => !expectedOnTime.includes(r)).map((r) => r.value.id);
      assert.deepEqual(got.late, lateExpected, 'late records');
      for (const key of new Set([...expected.keys(), ...got.byKey.keys()])) {
        assert.deepEqual(got.byKey.get(key) ?? [], expected.get(key) ?? [], `key ${key}`);
      }
    }),
    { numRuns: Number(process.env.PATTERN_RUNS ?? 400) },
  );
  assert.ok(ran > 50, `only ${ran} generated patterns were accepted by the builder`);
});
