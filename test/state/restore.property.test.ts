// Keyed operators on the lmdb backend: a checkpoint taken after any batch, then a crash (the
// operator and everything not checkpointed thrown away) and a restore from disk, gives the same
// output as an uninterrupted run. Checked for the process operator (value, list and map state,
// event-time timers), running aggregates and the time-window engines, against a straight run
// on heap state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseWithInfinities, stringifyWithInfinities } from '../../src/core/index.ts';
import type { Element, Operator, Output } from '../../src/operators/index.ts';
import { ProcessOperator, RollingAggregateOperator } from '../../src/operators/index.ts';
import { WindowOperator } from '../../src/operators/window.ts';
import type { WindowSpec } from '../../src/time/window-spec.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import type { KeyedTable } from '../../src/state/index.ts';
import { withDir } from '../log/helpers.ts';

type Input = { key: string; v: number; ts: number };
type Make = (table?: (kind: string) => KeyedTable<any>) => Operator;

const families: [string, Make][] = [
  [
    'process',
    (table) =>
      new ProcessOperator({
        name: 'p',
        now: () => 0,
        // Timers on disk with a heap of two: most of them are read back from the time index.
        ...(table ? { table: table('keyed'), timerTables: { event: table('event-timers'), processing: table('processing-timers') }, timerIndexes: { event: table('event-timer-index') as never, processing: table('processing-timer-index') as never }, timerHeapLimit: 2 } : {}),
        fn: {
          processElement(e: Input, ctx: any) {
            const sum = ctx.state.value('sum');
            sum.update((sum.value() ?? 0) + e.v);
            ctx.state.list('recent').add(e.v);
            ctx.state.map('byParity').set(e.v % 2, e.ts);
            ctx.timers.registerEventTime(e.ts + 50);
          },
          onTimer(t: number, ctx: any) {
            ctx.emit({ key: ctx.key, t, sum: ctx.state.value('sum').value(), recent: ctx.state.list('recent').get().length, parity: ctx.state.map('byParity').entries() });
            ctx.state.list('recent').clear();
          },
        },
      }),
  ],
  ['rolling', (table) => new RollingAggregateOperator('r', { init: () => 0, add: (_key: unknown, e: Input, acc: number) => acc + e.v, result: (acc: number) => acc }, undefined, table?.('accumulators'))],
  ...(
    [
      ['tumbling window', { kind: 'tumbling', sizeMs: 100, offsetMs: 0, time: 'event' }, false],
      ['hopping window (panes)', { kind: 'hopping', sizeMs: 100, slideMs: 30, offsetMs: 0, time: 'event' }, false],
      ['sliding window', { kind: 'sliding', lookbackMs: 50, time: 'event' }, false],
      ['session window', { kind: 'session', gapMs: 40, time: 'event' }, false],
      ['global window (watermark trigger)', { kind: 'global', trigger: { kind: 'watermark' } }, false],
      ['count-sliding window', { kind: 'count-sliding', size: 3, slide: 2 }, false],
      // Timers on disk with a heap of two: slices read back from the time index.
      ['tumbling window, timers on disk', { kind: 'tumbling', sizeMs: 100, offsetMs: 0, time: 'event' }, true],
      ['sliding window, timers on disk', { kind: 'sliding', lookbackMs: 50, time: 'event' }, true],
      ['session window, timers on disk', { kind: 'session', gapMs: 40, time: 'event' }, true],
    ] as [string, WindowSpec, boolean][]
  ).map(([family, window, onDisk]): [string, Make] => [
    family,
    (table) =>
      new WindowOperator({
        name: 'w',
        window,
        lateness: { allowedLatenessMs: 30, lateSideOutput: 'late' },
        aggregate: { init: () => [] as number[], add: (_key: unknown, e: Input, acc: number[]) => [...acc, e.v], merge: (a: number[], b: number[]) => [...a, ...b], result: (acc: number[]) => [...acc].sort() },
        table: table?.('windows'),
        ...(onDisk ? { timerIndex: table?.('window-timer-index'), timerHeapLimit: 2 } : {}),
      }) as Operator,
  ]),
];

function feed(op: Operator, batches: Input[][], out: unknown[], from: number, to: number, watermark: { w: number }): void {
  const output: Output = { emit: (e: Element) => out.push(e.value), side: (_tag, e: Element) => out.push({ late: e.value }) };
  for (let b = from; b < to; b++) {
    op.process(batches[b].map((e) => ({ value: e, key: e.key, timestamp: e.ts, sourceWatermark: watermark.w })), output);
    watermark.w = Math.max(watermark.w, ...batches[b].map((e) => e.ts - 10));
    op.onWatermark?.(watermark.w, output);
  }
  if (to === batches.length) op.onWatermark?.(Number.POSITIVE_INFINITY, output);
}

function perKey(out: unknown[]): Record<string, unknown[]> {
  const byKey: Record<string, unknown[]> = {};
  for (const o of out) {
    const key = JSON.stringify((o as { key?: unknown }).key ?? null);
    (byKey[key] ??= []).push(o);
  }
  return byKey;
}

const input = fc.array(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }), ts: fc.integer({ min: 0, max: 500 }) }), { maxLength: 6 }), { minLength: 1, maxLength: 8 });

for (const [family, make] of families) {
  void test(`${family}: checkpoint to lmdb after any batch, crash, restore: same output as a straight run`, () =>
    fc.assert(
      fc.asyncProperty(input, fc.nat(), async (batches, cut) => {
        const at = cut % (batches.length + 1);
        const straight: unknown[] = [];
        feed(make(), batches, straight, 0, batches.length, { w: Number.NEGATIVE_INFINITY });
        await withDir(async (dir) => {
          const restoredOut: unknown[] = [];
          const first = LmdbStateBackend.open(dir);
          const op = make((kind) => first.table(`op/${kind}`));
          const watermark = { w: Number.NEGATIVE_INFINITY };
          feed(op, batches, restoredOut, 0, at, watermark);
          // The job's checkpoint: the operator's snapshot rides in the checkpoint record.
          // As the job writes checkpoint JSON: with infinities marked (plain JSON would write -Infinity as null).
          first.checkpoint(new TextEncoder().encode(stringifyWithInfinities({ op: op.snapshot?.() ?? null, w: watermark.w })));
          // Work after the checkpoint that a crash loses: changed state that is never written.
          feed(op, batches, [], at, batches.length, { ...watermark });
          await first.close();
          const second = LmdbStateBackend.open(dir);
          const saved = parseWithInfinities(new TextDecoder().decode(second.lastCheckpoint())) as { op: unknown; w: number | null };
          const again = make((kind) => second.table(`op/${kind}`));
          if (saved.op !== null) again.restore?.(saved.op);
          feed(again, batches, restoredOut, at, batches.length, { w: saved.w ?? Number.NEGATIVE_INFINITY });
          await second.close();
          // Per key in order (DESIGN 4: results of one key in order; keys firing at the same time may interleave differently).
          assert.deepEqual(perKey(restoredOut), perKey(straight));
        });
      }),
      { numRuns: 40 },
    ));
}
