// The task: one stage's fused operator chain. Stages come from the real planner over graphs
// built with the public API; operators are the real stateless and process operators, with
// recorders in place of sinks and small test operators where a test needs a hook.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogicalNode } from '../../src/api/index.ts';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { jsonCodec, SluiceError } from '../../src/core/index.ts';
import {
  type Element,
  FilterOperator,
  FlatMapOperator,
  IdentityOperator,
  MapOperator,
  type Operator,
  type Output,
  ProcessOperator,
  positionOf,
  type RecordErrorHandler,
  rethrow,
} from '../../src/operators/index.ts';
import { physicalPlan, type Stage } from '../../src/plan/index.ts';
import { InProcessExchange } from '../../src/runtime/exchange.ts';
import { SourcePartition } from '../../src/runtime/source.ts';
import { Task } from '../../src/runtime/task.ts';
import { Sluice } from '../../src/sluice.ts';

/** Stands in for a sink: what reached it, and the watermarks it was given. */
class Recorder implements Operator {
  readonly name: string;
  readonly elements: Element[] = [];
  readonly watermarks: number[] = [];
  constructor(name: string) {
    this.name = name;
  }
  get values(): unknown[] {
    return this.elements.map((e) => e.value);
  }
  process(batch: Element[]): void {
    this.elements.push(...batch);
  }
  onWatermark(watermark: number): number {
    this.watermarks.push(watermark);
    return watermark;
  }
}

interface Built {
  task: Task;
  stage: Stage;
  /** Recorders by sink topic. */
  sinks: Map<string, Recorder>;
  /** Index in the stage of the operator for the node named `name`. */
  indexOf(name: string): number;
}

/** A task for stage `stageId` of the app's plan; `replace` swaps in an operator for a node by name. */
function buildTask(app: Sluice, stageId: number, options: { onError?: RecordErrorHandler; replace?: Record<string, Operator> } = {}): Built {
  const stage = physicalPlan(app.graph).stages[stageId];
  const onError = options.onError ?? rethrow;
  const sinks = new Map<string, Recorder>();
  const operatorFor = (node: LogicalNode): Operator => {
    const replaced = options.replace?.[node.name];
    if (replaced) return replaced;
    switch (node.kind) {
      case 'map':
        return new MapOperator(node.name, node.fn, onError);
      case 'filter':
        return new FilterOperator(node.name, node.fn, onError);
      case 'flatMap':
        return new FlatMapOperator(node.name, node.fn, onError);
      case 'process':
        return new ProcessOperator({ name: node.name, fn: node.fn, now: () => 0, onError });
      case 'sink': {
        const recorder = new Recorder(node.name);
        sinks.set(node.topic, recorder);
        return recorder;
      }
      case 'source':
      case 'keyBy':
      case 'union':
      case 'side':
        return new IdentityOperator(node.name);
      default:
        throw new Error(`no test operator for a ${node.kind} node`);
    }
  };
  const task = new Task(stage, 0, stage.ops.map((op) => operatorFor(op.node)), onError);
  const indexOf = (name: string) => {
    const i = stage.ops.findIndex((op) => op.node.name === name);
    assert.ok(i >= 0, `no operator named ${name} in stage ${stageId}`);
    return i;
  };
  return { task, stage, sinks, indexOf };
}

const app = (name: string) => new Sluice({ name, backend: new MemoryBackend() });

/** Source elements at offsets 0.., frozen deep so an operator changing one fails at once. */
function elements<T>(values: T[], topic = 'in'): Element<T>[] {
  return values.map((value, offset) =>
    Object.freeze({
      value: typeof value === 'object' && value !== null ? Object.freeze(value) : value,
      timestamp: 1000 + offset,
      sourceWatermark: Number.NEGATIVE_INFINITY,
      source: Object.freeze({ topic, partition: 0, offset }),
    }),
  );
}

void test('task: a chain of map, filter and flatMap runs a batch through in order; time and source position travel along', () => {
  const pipeline = app('chain');
  pipeline
    .stream<number>('in')
    .map((n) => n * 10, { name: 'times-ten' })
    .filter((n) => n !== 20, { name: 'not-twenty' })
    .flatMap((n) => [n, n + 1], { name: 'twice' })
    .to('out');
  const { task, sinks, indexOf } = buildTask(pipeline, 0);
  task.push(elements([1, 2, 3]));
  const out = sinks.get('out')!;
  assert.deepEqual(out.values, [10, 11, 30, 31]);
  assert.deepEqual(
    out.elements.map((e) => [e.timestamp, e.source?.offset]),
    [
      [1000, 0],
      [1000, 0],
      [1002, 2],
      [1002, 2],
    ],
  );
  task.push(elements([4]));
  assert.deepEqual(out.values, [10, 11, 30, 31, 40, 41], 'a second batch appends');
  assert.equal(task.counters.in[indexOf('times-ten')], 4);
  assert.equal(task.counters.out[indexOf('not-twenty')], 3);
  assert.equal(task.counters.out[indexOf('twice')], 6);
});

void test('task: fan-out hands every branch the original elements, whatever the branches before it did', () => {
  const pipeline = app('fan-out');
  const users = pipeline.stream<{ id: string; n: number }>('users');
  users.map((u) => ({ a: u.id })).to('a');
  users.map((u) => ({ b: u.n })).to('b');
  users.filter((u) => u.n > 1).to('c');
  users.flatMap((u) => [u.id, u.id]).to('d');
  users.to('e');
  const { task, sinks } = buildTask(pipeline, 0);
  // Frozen: a branch that changed an element in place would throw here.
  const input = elements([
    { id: 'u1', n: 1 },
    { id: 'u2', n: 2 },
  ]);
  task.push(input);
  assert.deepEqual(sinks.get('a')!.values, [{ a: 'u1' }, { a: 'u2' }]);
  assert.deepEqual(sinks.get('b')!.values, [{ b: 1 }, { b: 2 }]);
  assert.deepEqual(sinks.get('c')!.values, [{ id: 'u2', n: 2 }]);
  assert.deepEqual(sinks.get('d')!.values, ['u1', 'u1', 'u2', 'u2']);
  assert.deepEqual(sinks.get('e')!.values, [
    { id: 'u1', n: 1 },
    { id: 'u2', n: 2 },
  ]);
});

void test('task: side outputs of a process function reach the side branch, the main output the main one', () => {
  const pipeline = app('side');
  const checked = pipeline
    .stream<number>('in')
    .keyBy((n) => n % 2)
    .process<number>(
      {
        processElement(n, ctx) {
          if (n > 100) ctx.output('large', { large: n });
          else ctx.emit(n);
        },
      },
      { name: 'check' },
    );
  checked.to('main');
  checked
    .sideOutput<{ large: number }>('large')
    .map((x) => x.large / 100)
    .to('large');
  const { task, sinks } = buildTask(pipeline, 1);
  // A keyed stage is fed by an exchange: queued elements run at the next drain.
  const input = elements([5, 500, 7, 300]).map((e) => ({ ...e, key: (e.value as number) % 2 }));
  for (const e of input) task.enqueue(e);
  assert.equal(task.hasPending, true);
  assert.deepEqual(sinks.get('main')!.values, [], 'nothing runs before the drain');
  task.drain();
  assert.equal(task.hasPending, false);
  assert.deepEqual(sinks.get('main')!.values, [5, 7]);
  assert.deepEqual(sinks.get('large')!.values, [5, 3]);
});

/** An operator that fails on the element whose value is `bad` after emitting the ones before it, naming its position. */
class FailsOn implements Operator {
  readonly name = 'fails-on';
  readonly batches: unknown[][] = [];
  readonly #bad: unknown;
  readonly #withPosition: boolean;
  constructor(bad: unknown, withPosition = true) {
    this.#bad = bad;
    this.#withPosition = withPosition;
  }
  process(batch: Element[], out: Output): void {
    this.batches.push(batch.map((e) => e.value));
    for (const e of batch) {
      if (e.value === this.#bad) {
        throw new SluiceError('INVALID_RECORD', `cannot take ${String(e.value)}`, this.#withPosition ? { position: e.source } : {});
      }
      out.emit(e);
    }
  }
}

void test('task: an operator failing mid-batch on a named record has it dead-lettered; the records before and after it go on', () => {
  const pipeline = app('mid-batch');
  pipeline
    .stream<string>('in')
    .map((s) => s, { name: 'step' })
    .map((s) => s.toUpperCase())
    .to('out');
  const failing = new FailsOn('bad');
  const dead: Array<[unknown, string, string]> = [];
  const onError: RecordErrorHandler = (element, error, operator) => dead.push([element?.value, operator, (error as Error).message]);
  const { task, sinks } = buildTask(pipeline, 0, { onError, replace: { step: failing } });
  task.push(elements(['a', 'bad', 'c', 'bad', 'e']));
  assert.deepEqual(sinks.get('out')!.values, ['A', 'C', 'E']);
  assert.deepEqual(dead, [
    ['bad', 'fails-on', 'cannot take bad'],
    ['bad', 'fails-on', 'cannot take bad'],
  ]);
  assert.deepEqual(failing.batches, [['a', 'bad', 'c', 'bad', 'e'], ['c', 'bad', 'e'], ['e']], 'each retry starts right after the failed record');
});

void test('task: a user function throwing mid-batch is dead-lettered by its operator and the rest processed', () => {
  const pipeline = app('user-error');
  pipeline
    .stream<number>('in')
    .map((n) => {
      if (n === 2) throw new Error('two is not allowed');
      return n;
    })
    .to('out');
  const dead: unknown[] = [];
  const { task, sinks } = buildTask(pipeline, 0, { onError: (element) => dead.push(element?.source?.offset) });
  task.push(elements([1, 2, 3]));
  assert.deepEqual(sinks.get('out')!.values, [1, 3]);
  assert.deepEqual(dead, [1]);
});

void test('task: in a fused run, a failing operator reports the element as it received it (the value before it, the source position of the record)', () => {
  const pipeline = app('fused-failure');
  pipeline
    .stream<number>('in')
    .map((n) => ({ n: n * 10 }), { name: 'wrap' })
    .filter((v) => {
      if (v.n === 20) throw new Error('twenty');
      return true;
    }, { name: 'check' })
    .flatMap((v) => [v.n, v.n + 1], { name: 'pair' })
    .to('out');
  const dead: [unknown, number | undefined, string][] = [];
  const { task, sinks, indexOf } = buildTask(pipeline, 0, { onError: (element, _error, operator) => dead.push([element?.value, element?.source?.offset, operator]) });
  task.push(elements([1, 2, 3]));
  assert.deepEqual(sinks.get('out')!.values, [10, 11, 30, 31]);
  assert.deepEqual(dead, [[{ n: 20 }, 1, 'check']]);
  assert.deepEqual(
    ['wrap', 'check', 'pair'].map((name) => [task.counters.in[indexOf(name)], task.counters.out[indexOf(name)]]),
    [
      [3, 3],
      [3, 2],
      [2, 4],
    ],
  );
});

void test('task: a source batch decoded straight into the fused run hands on elements of their own, each with its record\'s value, time and position', () => {
  const pipeline = app('decoded');
  pipeline
    .stream<{ n: number }>('in')
    .filter((v) => v.n % 2 === 1, { name: 'odd' })
    .map((v) => (v.n === 3 ? v : { n: v.n * 100 }), { name: 'maybe-scale' })
    .filter((v) => {
      if (v.n === 500) throw new Error('five hundred');
      return true;
    }, { name: 'check' })
    .to('out');
  const dead: [unknown, number | undefined][] = [];
  const { task, sinks } = buildTask(pipeline, 0, { onError: (element, _error) => dead.push([element?.value, positionOf(element)?.offset]) });
  const partition = new SourcePartition('in', 0, 0, { watermark: { kind: 'bounded-out-of-orderness', boundMs: 0 } }, jsonCodec, 'source-in', rethrow);
  const records = [1, 2, 3, 4, 5, 7].map((n, offset) => ({ key: null, value: jsonCodec.encode({ n }), timestamp: 1000 + n, offset }));
  task.pushDecoded((sink) => partition.decode(records, sink), partition.origin);
  const out = sinks.get('out')!;
  assert.deepEqual(
    out.elements.map((e) => [e.value, e.timestamp, positionOf(e)]),
    [
      [{ n: 100 }, 1001, { topic: 'in', partition: 0, offset: 0 }],
      [{ n: 3 }, 1003, { topic: 'in', partition: 0, offset: 2 }],
      [{ n: 700 }, 1007, { topic: 'in', partition: 0, offset: 5 }],
    ],
  );
  assert.equal(new Set(out.elements).size, 3, 'every element is an object of its own (the decoding cursor never leaves the run)');
  assert.deepEqual(dead, [[{ n: 500 }, 4]]);
});

void test('task: a failure that names no record, or a handler that refuses, stops the batch with the error', () => {
  const pipeline = app('stop');
  pipeline
    .stream<string>('in')
    .map((s) => s, { name: 'step' })
    .to('out');
  const unnamed = buildTask(pipeline, 0, { replace: { step: new FailsOn('bad', false) }, onError: () => assert.fail('not a record error') });
  assert.throws(() => unnamed.task.push(elements(['a', 'bad', 'c'])), /cannot take bad/);
  const refusing = buildTask(pipeline, 0, { replace: { step: new FailsOn('bad') } });
  assert.throws(() => refusing.task.push(elements(['a', 'bad', 'c'])), /cannot take bad/);
  assert.deepEqual(refusing.sinks.get('out')!.values, [], 'nothing of a failed batch is flushed downstream');
});

/** Forwards the watermark held back by `holdMs`, recording what it was given. */
class HoldsBack implements Operator {
  readonly name: string;
  readonly seen: number[] = [];
  readonly #holdMs: number;
  constructor(name: string, holdMs: number) {
    this.name = name;
    this.#holdMs = holdMs;
  }
  process(batch: Element[], out: Output): void {
    for (const e of batch) out.emit(e);
  }
  onWatermark(watermark: number): number {
    this.seen.push(watermark);
    return watermark - this.#holdMs;
  }
}

void test('task: an operator with two inputs gets the minimum of their watermarks; the task returns the minimum leaving through exchanges', () => {
  const pipeline = app('watermarks');
  const s = pipeline.stream<number>('in');
  const slow = s.map((n) => n, { name: 'slow' });
  const fast = s.map((n) => n, { name: 'fast' });
  const merged = slow.union(fast);
  merged.to('out');
  merged.keyBy((n) => n).count().to('counts');
  const slowOp = new HoldsBack('slow', 100);
  const fastOp = new HoldsBack('fast', 10);
  const built = buildTask(pipeline, 0, { replace: { slow: slowOp, fast: fastOp } });
  const { task, sinks, stage } = built;
  const target = { received: [] as Element[], enqueue: (e: Element) => target.received.push(e) };
  const leavingOp = stage.ops.findIndex((op) => op.exchanges.length > 0);
  assert.ok(leavingOp >= 0, 'the union feeds the keyBy through an exchange');
  task.connect(leavingOp, new InProcessExchange('by-n', (n) => n, [target], rethrow));

  assert.equal(task.advanceWatermark(1000), 900, 'the leaving watermark is the slower branch');
  assert.deepEqual(slowOp.seen, [1000]);
  assert.deepEqual(fastOp.seen, [1000]);
  assert.deepEqual(sinks.get('out')!.watermarks, [900], 'the union forwards the minimum of its inputs');
  assert.equal(task.advanceWatermark(1000), 900, 'the same input watermark again');
  assert.deepEqual(sinks.get('out')!.watermarks, [900], 'a watermark that did not advance is not forwarded again');
  assert.equal(task.advanceWatermark(500), 900, 'a watermark never goes back');
  assert.equal(task.advanceWatermark(2000), 1900);
  assert.deepEqual(sinks.get('out')!.watermarks, [900, 1900]);

  task.push(elements([7]));
  assert.deepEqual(
    target.received.map((e) => [e.value, e.key]),
    [
      [7, 7],
      [7, 7],
    ],
    'both branches of the union reach the exchange',
  );
});

void test('task: snapshot and restore carry each operator its forwarded watermark', () => {
  const pipeline = app('restore');
  pipeline
    .stream<number>('in')
    .map((n) => n, { name: 'step' })
    .to('out');
  const first = buildTask(pipeline, 0, { replace: { step: new HoldsBack('step', 0) } });
  first.task.advanceWatermark(5000);
  const snapshot = first.task.snapshot();
  const step = new HoldsBack('step', 0);
  const second = buildTask(pipeline, 0, { replace: { step } });
  second.task.restore(snapshot);
  second.task.advanceWatermark(4000);
  assert.deepEqual(step.seen, [], 'below the restored watermark nothing is forwarded');
  second.task.advanceWatermark(6000);
  assert.deepEqual(step.seen, [6000]);
  assert.deepEqual(second.sinks.get('out')!.watermarks, [6000]);
});

void test('task: processing time reaches the operators that want it, and what they emit flows on', () => {
  const pipeline = app('processing-time');
  pipeline
    .stream<string>('in')
    .map((s) => s, { name: 'ticker' })
    .to('out');
  const ticks: number[] = [];
  const ticker: Operator = {
    name: 'ticker',
    process: (batch, out) => {
      for (const e of batch) out.emit(e);
    },
    onProcessingTime: (now, out) => {
      ticks.push(now);
      out.emit({ value: `tick ${now}`, timestamp: now, sourceWatermark: Number.NEGATIVE_INFINITY });
    },
  };
  const { task, sinks } = buildTask(pipeline, 0, { replace: { ticker } });
  task.advanceProcessingTime(42);
  assert.deepEqual(ticks, [42]);
  assert.deepEqual(sinks.get('out')!.values, ['tick 42']);
});
