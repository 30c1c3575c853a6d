/**
 * Exchanges re-key a stream: each element goes to the task that owns its key. In one process
 * the hand-over is a direct call into the owner's input queue; a Kafka backend supplies an
 * exchange through a repartition topic behind the same interface.
 */
import type { OutgoingRecord } from '../backend/index.ts';
import { partitionForKey } from '../core/index.ts';
import { type Element, encodeKey, type RecordErrorHandler, withKey, withValue } from '../operators/index.ts';

export interface Exchange {
  /** Keys each element with the keyBy function and hands it to the owner of the key. */
  send(elements: Element[]): void;
  /** The same for one record of a fused run: its value now, and the element it came from. */
  sendOne(value: unknown, from: Element): void;
  /** The sending operator's watermark now (after each advance); an exchange between processes forwards it. */
  watermark?(watermark: number): void;
}

/** What an exchange is built from; a Kafka backend's factory writes to a repartition topic instead. */
export interface ExchangeSpec {
  /** The keyBy stage's stable name (a repartition topic would be `<app>-<name>-repartition`). */
  name: string;
  keyFn: (value: unknown) => unknown;
  /** The tasks of the keyed stage, by key partition. */
  targets: ElementQueue[];
  onError: RecordErrorHandler;
  /** The sending task's stage and partition (an exchange between processes names them in its watermark markers). */
  fromStage?: number;
  task?: number;
  /** The job's output of the current checkpoint (an exchange between processes writes into the transaction). */
  output?: (topic: string, record: OutgoingRecord) => void;
}

export type ExchangeFactory = (spec: ExchangeSpec) => Exchange;

/** The default: hand elements to the owning task in this process. */
export const inProcessExchanges: ExchangeFactory = (spec) => new InProcessExchange(spec.name, spec.keyFn, spec.targets, spec.onError);

/** Something that takes elements for later processing: a task's input queue. */
export interface ElementQueue {
  enqueue(element: Element): void;
}

/** The key partition of a key: Kafka's murmur2 placement of the key's bytes, as a repartition topic would place it. */
export function keyPartition(key: unknown, partitions: number): number {
  const bytes = encodeKey(key);
  return bytes === null ? 0 : partitionForKey(bytes, partitions);
}

/** What `keyOrReport` returns for a record whose key function threw. */
export const NO_KEY: unique symbol = Symbol('no key');

/**
 * The key `keyFn` gives `value`; when it throws, the record goes to `onError` under the keyBy
 * stage's `name` (dead letter, skip or fail, as the job says) and the result is NO_KEY.
 */
export function keyOrReport(keyFn: (value: unknown) => unknown, value: unknown, from: Element, onError: RecordErrorHandler, name: string): unknown {
  try {
    return keyFn(value);
  } catch (error) {
    onError(withValue(from, value), error, name);
    return NO_KEY;
  }
}

export class InProcessExchange implements Exchange {
  readonly #name: string;
  readonly #keyFn: (value: unknown) => unknown;
  readonly #targets: ElementQueue[];
  readonly #onError: RecordErrorHandler;
  // Keys repeat; caching the partition of string and number keys keeps murmur2 and key encoding off the hot path.
  readonly #cache = new Map<string | number, number>();

  constructor(name: string, keyFn: (value: unknown) => unknown, targets: ElementQueue[], onError: RecordErrorHandler) {
    this.#name = name;
    this.#keyFn = keyFn;
    this.#targets = targets;
    this.#onError = onError;
  }

  send(elements: Element[]): void {
    for (let i = 0; i < elements.length; i++) this.sendOne(elements[i].value, elements[i]);
  }

  sendOne(value: unknown, from: Element): void {
    const key = keyOrReport(this.#keyFn, value, from, this.#onError, this.#name);
    if (key === NO_KEY) return;
    let target: number;
    if (typeof key === 'string' || typeof key === 'number') {
      const cached = this.#cache.get(key);
      if (cached === undefined) {
        target = keyPartition(key, this.#targets.length);
        if (this.#cache.size >= 100_000) this.#cache.clear();
        this.#cache.set(key, target);
      } else target = cached;
    } else {
      target = keyPartition(key, this.#targets.length);
    }
    this.#targets[target].enqueue(withKey(from, value, key));
  }
}
