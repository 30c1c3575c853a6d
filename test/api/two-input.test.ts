// Two-input operators meet both inputs in one task per key: the inputs are tagged, merged and
// re-keyed once, whatever their key functions and partition counts, and the user's own keyBy
// before the operator is dropped from the plan instead of becoming a stage of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppBuilder, connectInputs, KeyedStream, keyedInput, LEFT, type SidedValue } from '../../src/api/index.ts';
import { physicalPlan } from '../../src/plan/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Ad = { adId: string; n: number };
type Click = { ad: string; n: number };

void test('two-input: the user keyBys before the operator are dropped, one keyed stage reads both sources', () => {
  const app = new AppBuilder({ name: 'p' });
  const left = app.stream<Ad>('impressions').keyBy((e) => e.adId);
  const right = app.stream<Click>('clicks').keyBy((e) => e.ad);
  const keyBy = connectInputs(app.builder, keyedInput(app.builder, left.nodeId, 'join'), keyedInput(app.builder, right.nodeId, 'join'), 'join');
  new KeyedStream(app.builder, keyBy).process({ processElement: (v, ctx) => ctx.emit(v) }, { name: 'joined' }).to('out');
  const plan = physicalPlan(app.graph);
  assert.deepEqual(
    plan.stages.map((s) => s.ops.map((op) => op.node.name)),
    [
      ['source-impressions', 'join.left', 'join.inputs'],
      ['source-clicks', 'join.right', 'join.inputs'],
      ['join.key', 'joined', 'sink-9'],
    ],
  );
  assert.deepEqual(plan.stages[2].upstream, [0, 1]);
});

void test('two-input: both sides of every key reach the same task, across different partition counts', async () => {
  const kit = new TestKit();
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  kit.input('impressions', keys.flatMap((k, i) => [{ adId: k, n: i }, { adId: k, n: i + 100 }]), { partitions: 2 });
  kit.input('clicks', keys.map((k, i) => ({ ad: k, n: i + 1000 })), { partitions: 3 });
  const app = kit.app({ name: 'two-input' });
  const left = app.stream<Ad>('impressions').keyBy((e) => e.adId);
  const right = app.stream<Click>('clicks').keyBy((e) => e.ad);
  const keyBy = connectInputs(app.builder, keyedInput(app.builder, left.nodeId, 'join'), keyedInput(app.builder, right.nodeId, 'join'), 'join');
  // A per-key count of each side in keyed state: if a key's sides met in two tasks, some
  // record would see the other side's count at zero after all its records were counted.
  new KeyedStream<string, SidedValue>(app.builder, keyBy)
    .process<{ key: string; left: number; right: number }>(
      {
        processElement(record, ctx) {
          const side = ctx.state.value<number>(record.side === LEFT ? 'left' : 'right');
          side.update((side.value() ?? 0) + 1);
          ctx.emit({ key: ctx.key, left: ctx.state.value<number>('left').value() ?? 0, right: ctx.state.value<number>('right').value() ?? 0 });
        },
      },
      { name: 'sides' },
    )
    .to('sides');
  await app.run({ bounded: true });
  const last = new Map<string, { left: number; right: number }>();
  for (const r of kit.output<{ key: string; left: number; right: number }>('sides')) last.set(r.key, r);
  assert.deepEqual(
    [...last.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.left, v.right]),
    keys.map((k) => [k, 2, 1]),
  );
});
