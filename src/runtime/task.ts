/**
 * A task: one stage's fused operator chain for one input partition. A batch goes through the
 * chain operator by operator (each emits into a buffer handed to its consumers), so the
 * operators are plain calls over arrays: no queues, no promises per record.
 *
 * Runs of stateless operators (filter, map, flatMap, identity) where each reads only the one
 * before it, and is its only reader, are fused further: one call per record through the run
 * (`FusableOperator.fuse`), with no array and no element between its operators; the run's last
 * operator buffers what leaves it. Their metrics count per operator as before; the time of a
 * fused run is counted at its first operator.
 */
import { isSluiceError } from '../core/index.ts';
import { type Element, type FusableOperator, type FusedStep, IdentityOperator, isFusable, type Operator, type Output, positionOf, RecordCursor, type RecordErrorHandler, type SourceOrigin, withValue } from '../operators/index.ts';
import type { TaskSnapshot } from '../checkpoint/index.ts';
import type { Stage } from '../plan/index.ts';
import { Frontier } from '../time/index.ts';
import type { ElementQueue, Exchange } from './exchange.ts';
import type { DecodedRecordSink } from './source.ts';
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
  /** What runs a batch given to this operator: the operator, or the fused run it starts. */
  runner: Pick<Operator, 'process'>;
  /** The operator whose buffer receives this one's main output: itself, or the end of the fused run after it. */
  tail: number;
  /** Whether fused steps count its records in and out (so batches and buffers must not). */
  countedInSteps: boolean;
}


export class Task implements ElementQueue {
  readonly stage: Stage;
  readonly index: number;
  readonly #slots: OpSlot[];
  readonly #onError: RecordErrorHandler;
  #pending: Element[] = [];
  /** The fused run at the task's input, when its first operator is stateless (always, for a planned stage). */
  #entry: FusedStep | undefined;
  /** The record `pushDecoded` is at: one object, never handed on (see RecordCursor). */
  readonly #cursor = new RecordCursor();
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
        runner: ops[i],
        tail: i,
        countedInSteps: false,
      };
      return slot;
    });
    this.counters = { in: ops.map(() => 0), out: ops.map(() => 0), busyMs: ops.map(() => 0) };
    this.#fuse(stage);
  }

  /**
   * Fuses each run of stateless operators: operator j joins the run of the one before it when
   * it is stateless, that one is its only input, and it is that one's only reader (no other
   * operator, exchange or side output). The run is built from its end: the last operator's step
   * buffers, each step before it calls the next.
   */
  #fuse(stage: Stage): void {
    const slots = this.#slots;
    const fusedInto = (j: number): boolean => {
      if (j === 0 || !isFusable(slots[j].op) || slots[j].side.size > 0 || slots[j].inputs.length !== 1) return false;
      const i = slots[j].inputs[0];
      return slots[i].next.length === 1 && slots[i].next[0] === j && stage.ops[i].exchanges.length === 0;
    };
    for (let h = 0; h < slots.length; h++) {
      if (fusedInto(h)) continue;
      const run: number[] = [];
      for (let j = h; slots[j].next.length === 1 && fusedInto(slots[j].next[0]); ) run.push((j = slots[j].next[0]));
      const head = slots[h];
      const members = isFusable(head.op) ? [h, ...run] : run;
      if (members.length === 0) {
        // An operator whose only readers are exchanges (a window before a re-keying) hands them each result at once.
        if (head.next.length === 0 && stage.ops[h].exchanges.length > 0) {
          const out = this.counters.out;
          head.output.emit = (element) => {
            out[h]++;
            const exchanges = head.exchanges;
            for (let i = 0; i < exchanges.length; i++) exchanges[i].sendOne(element.value, element);
          };
        }
        continue;
      }
      const last = members[members.length - 1];
      const tail = slots[last];
      // A run that only feeds exchanges hands each record to them at once (keyed there, no buffer).
      const toExchanges = tail.next.length === 0 && stage.ops[last].exchanges.length > 0;
      let step: FusedStep = toExchanges
        ? (value, from) => {
            const exchanges = tail.exchanges;
            for (let i = 0; i < exchanges.length; i++) exchanges[i].sendOne(value, from);
          }
        : (value, from) => tail.buffer.push(withValue(from, value));
      for (let m = members.length - 1; m >= 0; m--) {
        const slot = slots[members[m]];
        if (isFusable(slot.op)) step = slot.op.fuse(step, this.counters, members[m]);
        slot.countedInSteps = true;
      }
      head.tail = last;
      const entry = step;
      if (h === 0) this.#entry = entry;
      if (members[0] === h && !toExchanges && members.every((m) => slots[m].op instanceof IdentityOperator)) {
        // Only identities (a keyBy's entry, a union): the batch goes on as it is, read by the next operators only.
        const { in: ins, out: outs } = this.counters;
        head.runner = {
          process: (batch) => {
            for (const m of members) {
              ins[m] += batch.length;
              outs[m] += batch.length;
            }
            if (tail.buffer.length === 0) tail.buffer = batch;
            else for (let i = 0; i < batch.length; i++) tail.buffer.push(batch[i]);
          },
        };
      } else if (members[0] === h) {
        head.runner = {
          process: (batch) => {
            for (let i = 0; i < batch.length; i++) entry(batch[i].value, batch[i]);
          },
        };
      } else {
        const out = this.counters.out;
        head.output.emit = (element) => {
          out[h]++;
          entry(element.value, element);
        };
      }
    }
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

  /**
   * Runs a source batch through the chain as `decode` hands over its records: each goes through
   * the fused run at the task's input on the task's record cursor, so no element is made for a
   * record the run drops, and no array holds the batch. A record failure that names the record
   * is dead-lettered and the records after it go on, as in `push`.
   */
  pushDecoded(decode: (sink: DecodedRecordSink) => void, origin: SourceOrigin): void {
    const entry = this.#entry;
    if (entry === undefined) {
      const batch: Element[] = [];
      decode((value, timestamp, key, sourceWatermark, raw) => batch.push({ value, timestamp, key, sourceWatermark, origin, raw }));
      this.push(batch);
      return;
    }
    const cursor = this.#cursor;
    cursor.origin = origin;
    const t0 = roundChannel.hasSubscribers ? performance.now() : -1; // metrics: time inside the operators only
    decode((value, timestamp, key, sourceWatermark, raw) => {
      cursor.value = value;
      cursor.timestamp = timestamp;
      cursor.key = key;
      cursor.sourceWatermark = sourceWatermark;
      cursor.raw = raw;
      try {
        entry(value, cursor);
      } catch (error) {
        if (!(isSluiceError(error) && error.position && samePosition(cursor, error.position))) throw error;
        this.#onError(cursor.copy(value), error, this.#slots[0].op.name);
      }
    });
    if (t0 >= 0) this.counters.busyMs[0] += performance.now() - t0;
    this.#flush(0);
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
    if (!slot.countedInSteps) this.counters.in[i] += batch.length; // metrics
    const t0 = roundChannel.hasSubscribers ? performance.now() : -1; // metrics: time inside the operator only
    for (;;) {
      try {
        slot.runner.process(rest, slot.output);
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
    // The fused run after this operator holds its main output: delivered first, as unfused.
    if (slot.tail !== i) this.#flush(slot.tail);
    if (slot.countedInSteps) (slot.op as Partial<FusableOperator>).endRun?.();
    if (slot.buffer.length > 0) {
      if (!slot.countedInSteps) this.counters.out[i] += slot.buffer.length; // metrics
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
  const s = positionOf(element);
  return s !== undefined && s.offset === position.offset && s.partition === position.partition && s.topic === position.topic;
}
