/**
 * How events and result rows cross the log in the benchmark. Two modes, the same for Sluice
 * and the hand-written loop so the ratio measures the engine and not serialization:
 * - `object` (default): a record's value is the 4-byte index of an object in a table held by
 *   the process; decode is a lookup. It plays the part of Flink's in-process generator source
 *   and discarding sink: the engine still fetches, batches, routes, windows and commits records.
 * - `json`: values are JSON text, as the CLI and default codec write them.
 */
import { type Codec, jsonCodec } from '../../src/index.ts';
import type { NexmarkEvent } from './model.ts';

export type CodecMode = 'object' | 'json';

export interface Codecs {
  mode: CodecMode;
  event: Codec<NexmarkEvent>;
  // Rows differ per query; `to()` takes a codec of its stream's type.
  row: Codec<any>;
}

/** Values as indexes into `table`; encoding appends to it. */
export class ObjectTable<T> implements Codec<T> {
  readonly name = 'object-table';
  readonly table: T[];

  constructor(table: T[] = []) {
    this.table = table;
  }

  encode(value: T): Uint8Array {
    return indexBytes(this.table.push(value) - 1);
  }

  decode(bytes: Uint8Array): T {
    return this.table[(bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0];
  }
}

export function indexBytes(i: number): Uint8Array {
  const bytes = new Uint8Array(4);
  bytes[0] = i;
  bytes[1] = i >>> 8;
  bytes[2] = i >>> 16;
  bytes[3] = i >>> 24;
  return bytes;
}

/** Codecs for one run: `events` are the generated input (the object table's contents). */
export function codecsFor(mode: CodecMode, events: NexmarkEvent[]): Codecs {
  if (mode === 'json') return { mode, event: jsonCodec as Codec<NexmarkEvent>, row: jsonCodec };
  return { mode, event: new ObjectTable(events), row: new ObjectTable<unknown>() };
}

/** The stored bytes of every input event, made once per process and shared by every run. */
export function encodeInput(mode: CodecMode, events: NexmarkEvent[]): Uint8Array[] {
  return mode === 'json' ? events.map((e) => jsonCodec.encode(e)) : events.map((_, i) => indexBytes(i));
}
