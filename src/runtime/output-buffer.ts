/**
 * Output of sinks and dead letters, held until the commit step writes it, per topic in the
 * order produced (so each key's results stay in order in their partition).
 */
import type { OutgoingRecord } from '../backend/index.ts';
import type { LogRecord } from '../core/index.ts';
import type { RecordSink } from '../operators/index.ts';

export class OutputBuffer implements RecordSink {
  #topics = new Map<string, OutgoingRecord[]>();
  #size = 0;

  append(topic: string, record: LogRecord): void {
    let list = this.#topics.get(topic);
    if (list === undefined) this.#topics.set(topic, (list = []));
    list.push(record);
    this.#size++;
  }

  /** Appends a batch; the buffer takes `records` (its caller made it for this call and drops it). */
  appendAll(topic: string, records: LogRecord[]): void {
    const list = this.#topics.get(topic);
    if (list === undefined) this.#topics.set(topic, records);
    else for (let i = 0; i < records.length; i++) list.push(records[i]);
    this.#size += records.length;
  }

  get size(): number {
    return this.#size;
  }

  /** Takes everything buffered, leaving the buffer empty. */
  drain(): Map<string, OutgoingRecord[]> {
    const taken = this.#topics;
    this.#topics = new Map();
    this.#size = 0;
    return taken;
  }
}
