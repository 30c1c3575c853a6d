/**
 * Random pipeline graphs against a naive reference (graph-reference.ts, which shares no code
 * with the runtime): one or two sources of 2-4 partitions with out-of-order (and sometimes late)
 * input, fan-out from any stream to up to 4 branches of map, filter, flatMap, keyBy, union,
 * running aggregates, windows of every kind with and without allowed lateness and late side
 * outputs, and process functions with a side output. Each graph runs on the test kit at a random
 * batch size, with a checkpoint and restore at a random point of its input, and every output
 * topic is compared with the reference.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import type { Guarantee } from '../../src/index.ts';
import { graphArb, lateGraphArb, outputTopics, sourceArb } from './graph-arbitrary.ts';
import { describe, type Graph, type SourceInput } from './graph-model.ts';
import { canonical, type Expectation, expectations, windowName } from './graph-reference.ts';
import { type RunPlan, runGraph } from './graph-run.ts';

interface Case {
  graph: Graph;
  sources: SourceInput[];
  plan: RunPlan;
}

const caseArb = (graphs: fc.Arbitrary<Graph>, options: { late?: boolean } = {}): fc.Arbitrary<Case> =>
  graphs.chain((graph) => {
  const topics = graph.nodes.flatMap((n) => (n.op === 'source' ? [n.topic] : []));
  return fc
    .record({
      sources: fc.tuple(...topics.map((t, i) => sourceArb(t, i * 1000, options))),
      batchSize: fc.integer({ min: 1, max: 20 }),
      guarantee: fc.constantFrom<Guarantee>('exactly-once', 'exactly-once', 'at-least-once', 'at-most-once'),
      state: fc.constantFrom<'memory' | 'lmdb'>('memory', 'memory', 'memory', 'lmdb'),
      cuts: fc.array(fc.nat(), { minLength: topics.length, maxLength: topics.length }),
    })
    .map(({ sources, batchSize, guarantee, state, cuts }) => ({
      graph,
      sources,
      // lmdb state checkpoints exactly-once through the log's two-phase commit, which only the embedded log has.
      plan: { batchSize, guarantee, state: guarantee === 'exactly-once' ? 'memory' : state, cut: sources.map((s, i) => cuts[i] % (s.records.length + 1)) },
    }));
});

const sorted = (values: unknown[]) => values.map(canonical).sort();

type Value = Record<string, unknown>;

function check(topic: string, expected: Expectation, actual: unknown[]): void {
  switch (expected.kind) {
    case 'unchecked':
      return;
    case 'bag': {
      assert.deepEqual(sorted(actual), sorted(expected.values), `${topic}: the values written`);
      if (!expected.endOrder) return;
      const lastEnd = new Map<string, number>();
      for (const v of actual as Value[]) {
        const key = canonical(v.key);
        assert.ok(Number(v.end) >= (lastEnd.get(key) ?? Number.NEGATIVE_INFINITY), `${topic}: results of key ${key} in window-end order`);
        lastEnd.set(key, Number(v.end));
      }
      return;
    }
    case 'rolling': {
      const byKey = new Map<string, string[]>();
      for (const v of actual as Value[]) {
        const key = canonical(v.key);
        byKey.set(key, [...(byKey.get(key) ?? []), canonical(v)]);
      }
      assert.deepEqual([...byKey.keys()].sort(), [...expected.keys.keys()].sort(), `${topic}: the keys updated`);
      for (const [key, want] of expected.keys) {
        const got = byKey.get(key)!;
        if (want.sequence !== undefined) assert.deepEqual(got, want.sequence.map(canonical), `${topic}: the updates of key ${key}, in order`);
        assert.equal(got.length, want.count, `${topic}: the number of updates of key ${key}`);
        assert.equal(got[got.length - 1], canonical(want.last), `${topic}: the last update of key ${key}`);
      }
      return;
    }
    case 'finals': {
      const last = new Map<string, Value>();
      for (const v of actual as Value[]) last.set(windowName(v.key, Number(v.start), Number(v.end)), v);
      for (const [name, want] of expected.finals) assert.equal(canonical(last.get(name)), canonical(want), `${topic}: the final result of window ${name}`);
      for (const [name, got] of last) {
        if (expected.finals.has(name) || Number(got.end) > expected.watermark) continue;
        // Only a session may emit a window the reference lacks: one later merged into a larger session of its key.
        assert.ok(expected.session, `${topic}: unexpected window ${name}`);
        const into = [...expected.held.values()].some((f) => {
          const w = f as Value;
          return canonical(w.key) === canonical(got.key) && Number(w.start) <= Number(got.start) && Number(got.end) <= Number(w.end);
        });
        assert.ok(into, `${topic}: session ${name} lies inside a final session`);
      }
      return;
    }
  }
}

async function property(t: TestContext, cases: fc.Arbitrary<Case>, numRuns: number): Promise<void> {
  let topics = 0;
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(cases, async ({ graph, sources, plan }) => {
      const names = outputTopics(graph);
      const got = await runGraph(graph, sources, plan, names);
      const compare = (want: Map<string, Expectation>, output: Map<string, unknown[]>, when: string) => {
        for (const topic of names) {
          const expected = want.get(topic);
          assert.ok(expected, `the reference knows topic ${topic}`);
          topics++;
          if (expected.kind !== 'unchecked') checked++;
          check(`${topic} (${when})`, expected, output.get(topic)!);
        }
      };
      if (got.first !== undefined) {
        // The first run stopped with every record before the cut processed: windows up to the operator watermarks have fired.
        const before = sources.map((s, i) => ({ ...s, records: s.records.slice(0, plan.cut[i]) }));
        compare(expectations(graph, before, false), got.first, 'when the first run stopped');
      }
      compare(expectations(graph, sources), got.last, 'at the end');
    }),
    {
      numRuns,
      reporter: (details) => {
        if (!details.failed) return;
        const c = details.counterexample?.[0] as Case | undefined;
        const where = c === undefined ? '' : `\ngraph:\n${describe(c.graph)}\ninput: ${JSON.stringify(c.sources)}\nplan: ${JSON.stringify(c.plan)}`;
        throw new Error(`${fc.defaultReportMessage(details)}${where}`);
      },
    },
  );
  t.diagnostic(`${checked} of ${topics} output topics checked against the reference`);
  // The reference leaves only topics whose contents depend on batching unchecked; they must stay few.
  assert.ok(checked >= topics * 0.8, `only ${checked} of ${topics} topics were checked`);
}

void test('random pipeline graphs give what the reference interpreter gives, across batch sizes and a restore', (t) => property(t, caseArb(graphArb), 250));

void test('late data in keyed time windows (each key in one partition) gives what the reference gives', (t) => property(t, caseArb(lateGraphArb, { late: true }), 200));
