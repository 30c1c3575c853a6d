// Logical graph -> physical plan: stages start at sources and keyBys, stateless operators
// after a union of stages run in each of them, side outputs and late data are wired.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppBuilder } from '../../src/api/index.ts';
import { Windows } from '../../src/index.ts';
import { physicalPlan } from '../../src/plan/index.ts';

type Ev = { k: string; v: number };

function names(plan: ReturnType<typeof physicalPlan>): string[][] {
  return plan.stages.map((s) => s.ops.map((op) => op.node.name));
}

void test('one stage per source and per keyBy, in topological order, with exchanges between them', () => {
  const app = new AppBuilder({ name: 'p' });
  const a = app.stream<Ev>('a');
  a.keyBy((e) => e.k).window(Windows.tumbling('1m')).sum((e) => e.v).keyBy((r) => r.value > 0).window(Windows.tumbling('1h')).count().to('out');
  const plan = physicalPlan(app.graph);
  assert.deepEqual(names(plan), [['source-a'], ['keyBy-1', 'window-2'], ['keyBy-3', 'window-4', 'sink-5']]);
  assert.deepEqual(plan.stages.map((s) => s.upstream), [[], [0], [1]]);
  assert.deepEqual(plan.stages[0].ops[0].exchanges, [1]);
  assert.deepEqual(plan.stages[1].ops[1].exchanges, [2]);
  assert.deepEqual(plan.sinkTopics, ['out']);
});

void test('stateless operators after a union of two sources are fused into both source stages', () => {
  const app = new AppBuilder({ name: 'p' });
  const a = app.stream<Ev>('a');
  const b = app.stream<Ev>('b').filter((e) => e.v > 0);
  const merged = a.union(b).map((e) => ({ ...e, v: e.v * 2 }));
  merged.to('doubled');
  merged.keyBy((e) => e.k).window(Windows.session('1m')).count().to('sessions');
  const plan = physicalPlan(app.graph);
  assert.deepEqual(names(plan), [
    ['source-a', 'union-3', 'map-4', 'sink-5'],
    ['source-b', 'filter-2', 'union-3', 'map-4', 'sink-5'],
    ['keyBy-6', 'window-7', 'sink-8'],
  ]);
  assert.deepEqual(plan.stages[2].upstream, [0, 1]);
  // map-4 fans out: to the sink in its stage, and through the exchange.
  assert.deepEqual(plan.stages[0].ops[2].next, [3]);
  assert.deepEqual(plan.stages[0].ops[2].exchanges, [2]);
});

void test('side outputs of a process function and late data of a window become wired operators', () => {
  const app = new AppBuilder({ name: 'p' });
  const keyed = app.stream<Ev>('a').keyBy((e) => e.k);
  const processed = keyed.process<Ev>({ processElement: (e, ctx) => ctx.output('odd', e) });
  processed.sideOutput<Ev>('odd').to('odd');
  processed.to('main');
  keyed.window(Windows.tumbling('1m')).sideOutputLateData('late').count().to('counts');
  const plan = physicalPlan(app.graph);
  const stage = plan.stages[1];
  assert.deepEqual(stage.ops.map((op) => op.node.name), ['keyBy-1', 'process-2', 'side-3', 'sink-4', 'sink-5', 'window-6', 'sink-7', 'window-6.late']);
  assert.deepEqual([...stage.ops[1].side], [['odd', [2]]]);
  assert.deepEqual(stage.ops[1].next, [4]);
  assert.deepEqual([...stage.ops[5].side], [['late', [7]]]);
  assert.deepEqual(plan.sinkTopics, ['counts', 'late', 'main', 'odd']);
});
