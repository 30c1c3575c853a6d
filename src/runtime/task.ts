/**
 * A task: one stage's fused operator chain for one input partition. A batch goes through the
 * chain operator by operator (each emits into a buffer handed to its consumers), so the
 * operators are plain calls over arrays: no queues, no promises per record.
 */
import { isSluiceError } from '../core/index.ts';
import type { Element, Operator, Output, RecordErrorHandler } from '../operators/index.ts';
import type { TaskSnapshot } from '../checkpoint/index.ts';
import type { Stage } from '../plan/index.ts';
import { Frontier } from '../time/index.ts';
import type { ElementQueue, Exchange } from './exchange.ts';
import { roundChannel } from './metrics-events.ts';

interface OpSlot {
  op: Operator;
  next: number[];
  side: Map<string, number[]>;
  exchanges: Exchange[];
  /** Operators feeding this one inside the task (the first operator is fed by the task's input). */
  inputs: number[];
  /** The operator's input watermark: over `inputs` (and, for the first, the task's input first). */
  frontier: Frontier;
  buffer: Element[];
  sideBuffers: Map<string, Element[]>;
  output: Output;
  /** The watermark this operator last forwarded. */
  watermark: number;
}


export class Task implements ElementQueue {
  readonly stage: Stage;
  readonly index: number;
  readonly #slots: OpSlot[];
  readonly #onError: RecordErrorHandler;
  #pending: Element[] = [];
  /** Metrics (read by the job's probe): records in and out per operator, and time inside it while timed. */
  readonly counters: { in: number[]; out: number[]; busyMs: number[] };

  constructor(stage: Stage, index: number, ops: Operator[], onError: RecordErrorHandler) {
    this.stage = stage;
    this.index = index;
    this.#onError = onError;
    const inputs: number[][] = stage.ops.map(() => []);
    stage.ops.forEach((physical, i) => {
      for (const j of physical.next) inputs[j].push(i);
      for (const list of physical.side.values()) for (const j of list) inputs[j].push(i);
    });
    this.#slots = stage.ops.map((physical, i) => {
      const slot: OpSlot = {
        op: ops[i],
        next: physical.next,
        side: physical.side,
        exchanges: [],
        inputs: inputs[i],
        frontier: inputFrontier(i, inputs[i].length),
        buffer: [],
        sideBuffers: new Map(),
        output: {
          emit: (element) => slot.buffer.push(element),
          side: (tag, element) => {
            let list = slot.sideBuffers.get(tag);
            if (list === undefined) slot.sideBuffers.set(tag, (list = []));
            list.push(element);
          },
        },
        watermark: Number.NEGATIVE_INFINITY,
      };
      return slot;
    });
    this.counters = { in: ops.map(() => 0), out: ops.map(() => 0), busyMs: ops.map(() => 0) };
  }

  /** The task's state for a checkpoint: each operator's snapshot and the watermark it forwarded. */
  snapshot(): TaskSnapshot {
    return { ops: this.#slots.map((slot) => slot.op.snapshot?.() ?? null), watermarks: this.#slots.map((slot) => slot.watermark) };
  }

  /** Restores `snapshot()` of a task of the same stage shape (checked by the caller). */
  restore(snapshot: TaskSnapshot): void {
    this.#slots.forEach((slot, i) => {
      const state = snapshot.ops[i];
      if (state !== null && state !== undefined) slot.op.restore?.(state);
      slot.watermark = snapshot.watermarks[i];
    });
  }

  /** Operator `index` takes the snapshot a bounded run ended with (see `Operator.restoreEnded`); the watermark starts over. */
  restoreEnded(index: number, state: unknown): void {
    if (state !== null && state !== undefined) this.#slots[index].op.restoreEnded?.(state);
  }

  /** Restores one operator's snapshot and forwarded watermark (a savepoint restore, by name). */
  restoreOperator(index: number, state: unknown, watermark: number): void {
    const slot = this.#slots[index];
    if (state !== null && state !== undefined) slot.op.restore?.(state);
    slot.watermark = watermark;
  }

  /** Connects the exchanges leaving operator `op` (made once every task exists). */
  connect(op: number, exchange: Exchange): void {
    this.#slots[op].exchanges.push(exchange);
  }

  /** Input from an exchange, processed at the next `drain()`. */
  enqueue(element: Element): void {
    this.#pending.push(element);
  }

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Runs a batch of source elements through the chain. */
  push(batch: Element[]): void {
    if (batch.length > 0) this.#run(0, batch);
  }

  /** Runs what exchanges delivered since the last drain. */
  drain(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#run(0, batch);
  }

  /**
   * The task's input watermark advanced: each operator in order fires what completed and
   * forwards its watermark. Returns the watermark leaving through exchanges (the minimum).
   */
  advanceWatermark(watermark: number): number {
    let leaving = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      const { frontier, inputs } = slot;
      const first = i === 0 ? 1 : 0;
      if (first === 1) frontier.advance(0, watermark);
      for (let k = 0; k < inputs.length; k++) frontier.advance(first + k, this.#slots[inputs[k]].watermark);
      const input = frontier.current();
      if (input > slot.watermark) {
        const t0 = roundChannel.hasSubscribers ? performance.now() : -1; // metrics: window firing time
        const forwarded = slot.op.onWatermark ? slot.op.onWatermark(input, slot.output) : input;
        if (t0 >= 0) this.counters.busyMs[i] += performance.now() - t0;
        slot.watermark = Math.max(slot.watermark, forwarded);
        this.#flush(i);
      }
      if (slot.exchanges.length > 0) {
        leaving = Math.min(leaving, slot.watermark);
        for (const exchange of slot.exchanges) exchange.watermark?.(slot.watermark);
      }
    }
    return leaving;
  }

  /** Processing time advanced: processing-time timers and windows fire. */
  advanceProcessingTime(now: number): void {
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot.op.onProcessingTime) {
        slot.op.onProcessingTime(now, slot.output);
        this.#flush(i);
      }
    }
  }

  operators(): Operator[] {
    return this.#slots.map((s) => s.op);
  }

  #run(i: number, batch: Element[]): void {
    const slot = this.#slots[i];
    let rest = batch;
    this.counters.in[i] += batch.length; // metrics
    const t0 = roundChannel.hasSubscribers ? performance.now() : -1; // metrics: time inside the operator only
    for (;;) {
      try {
        slot.op.process(rest, slot.output);
        break;
      } catch (error) {
        // An operator that throws mid-batch names the failing record's position; dead-letter
        // it and go on with the records after it (the ones before it were processed).
        const at = isSluiceError(error) && error.position ? rest.findIndex((e) => samePosition(e, error.position!)) : -1;
        if (at < 0) throw error;
        this.#onError(rest[at], error, slot.op.name);
        rest = rest.slice(at + 1);
      }
    }
    if (t0 >= 0) this.counters.busyMs[i] += performance.now() - t0;
    this.#flush(i);
  }

  #flush(i: number): void {
    const slot = this.#slots[i];
    if (slot.buffer.length > 0) {
      this.counters.out[i] += slot.buffer.length; // metrics
      const out = slot.buffer;
      slot.buffer = [];
      this.#deliver(out, slot.next, slot.exchanges);
    }
    if (slot.sideBuffers.size > 0) {
      const sides = slot.sideBuffers;
      slot.sideBuffers = new Map();
      for (const [tag, elements] of sides) {
        this.counters.out[i] += elements.length; // metrics
        this.#deliver(elements, slot.side.get(tag) ?? [], []);
      }
    }
  }

  /** Every consumer reads the same elements: operators never change an element they were given. */
  #deliver(elements: Element[], next: number[], exchanges: Exchange[]): void {
    for (const j of next) this.#run(j, elements);
    for (const exchange of exchanges) exchange.send(elements);
  }
}

/** Operator `i`'s input frontier: the first operator's input 0 is the task's input watermark. */
function inputFrontier(i: number, inputs: number): Frontier {
  const frontier = new Frontier(Math.max(1, inputs + (i === 0 ? 1 : 0)));
  // An operator nothing feeds (none in a well-formed plan) never holds a watermark back.
  if (i > 0 && inputs === 0) frontier.end(0);
  return frontier;
}

function samePosition(element: Element, position: { topic: string; partition: number; offset: number }): boolean {
  const s = element.source;
  return s !== undefined && s.offset === position.offset && s.partition === position.partition && s.topic === position.topic;
}
