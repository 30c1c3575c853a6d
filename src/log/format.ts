/**
 * The record batch: the unit the log writes, checksums and reads.
 *
 * On-disk layout of one batch (all integers big-endian; offsets and timestamps are stored as
 * float64, exact for every integer below 2^53):
 *
 * ```
 *  0  u32  magic            0x534c4231 ("SLB1")
 *  4  u32  length           bytes of the whole batch, header included
 *  8  u32  crc              CRC32C of bytes [12, length)
 * 12  u16  attributes       bit 0 transactional, bit 1 control (a transaction marker)
 * 14  u32  recordCount
 * 18  f64  baseOffset
 * 26  u32  lastOffsetDelta  offset of the last record minus baseOffset (gaps after compaction)
 * 30  f64  firstTimestamp   epoch ms
 * 38  f64  maxTimestamp     epoch ms
 * 46  f64  producerId       -1 when none
 * 54  i16  producerEpoch    -1 when none
 * 56  i32  baseSequence     -1 when none
 * 60  records...
 * ```
 *
 * Each record:
 *
 * ```
 * u32 offsetDelta | f64 timestamp | i32 keyLength (-1 null) | key | i32 valueLength (-1 null) | value
 * | u16 headerCount | per header: u16 nameLength | name (UTF-8) | u32 valueLength | value
 * ```
 *
 * A control batch holds one record whose key is one byte: 0 abort, 1 commit.
 */
import { crc32c } from '@node-rs/crc32';
import type { Headers, LogRecord } from '../core/index.ts';
import { patchedCrc32c } from './crc-patch.ts';

export const BATCH_MAGIC = 0x534c4231;
export const BATCH_HEADER_SIZE = 60;
/** The largest batch a length field may claim: reads of 2 GiB or more fail (and no batch is that large). */
export const MAX_BATCH_BYTES = 0x7fff_ffff;
export const ATTR_TRANSACTIONAL = 1;
export const ATTR_CONTROL = 2;
export const CONTROL_ABORT = 0;
export const CONTROL_COMMIT = 1;

export interface BatchHeader {
  length: number;
  attributes: number;
  recordCount: number;
  baseOffset: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export interface BatchProducer {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** A record inside a batch, with its absolute offset. Key and value are views into the batch buffer. */
export interface BatchRecord extends LogRecord {
  offset: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function headerBytes(headers: Headers): Array<[Uint8Array, Uint8Array]> {
  return Object.entries(headers).map(([name, value]) => [textEncoder.encode(name), value]);
}

/**
 * Encodes records into one batch. `offsetDeltas` keeps the offsets of records that survive
 * compaction; by default records take consecutive offsets. Appends encode at base offset 0 and
 * learn theirs under the lock: `setBaseOffset` then patches the CRC computed here.
 */
export function encodeBatch(
  records: readonly LogRecord[],
  baseOffset: number,
  options: {
    attributes?: number;
    producer?: BatchProducer;
    offsetDeltas?: readonly number[];
    /** Memory for the batch, not necessarily zeroed (every byte is written); a new array by default. */
    allocate?: (size: number) => Uint8Array;
  } = {},
): Uint8Array {
  let size = BATCH_HEADER_SIZE;
  // Header names encoded once, only for records that have headers (most have none).
  let encodedHeaders: Array<Array<[Uint8Array, Uint8Array]> | undefined> | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    size += 22 + (record.key === null ? 0 : record.key.length) + (record.value === null ? 0 : record.value.length);
    if (!record.headers) continue;
    const headers = headerBytes(record.headers);
    encodedHeaders ??= new Array(records.length);
    encodedHeaders[i] = headers;
    for (const [name, value] of headers) size += 2 + name.length + 4 + value.length;
  }
  const buffer = options.allocate ? options.allocate(size) : new Uint8Array(size);
  const view = new DataView(buffer.buffer, buffer.byteOffset, size);
  const deltas = options.offsetDeltas;
  let firstTimestamp = records.length > 0 ? records[0].timestamp : 0;
  let maxTimestamp = firstTimestamp;
  let pos = BATCH_HEADER_SIZE;
  let lastDelta = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const delta = deltas === undefined ? i : deltas[i];
    lastDelta = delta;
    const timestamp = record.timestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    if (timestamp < firstTimestamp) firstTimestamp = timestamp;
    view.setUint32(pos, delta);
    view.setFloat64(pos + 4, timestamp);
    pos = writeBytes(buffer, view, pos + 12, record.key);
    pos = writeBytes(buffer, view, pos, record.value);
    const headers = encodedHeaders?.[i];
    if (headers === undefined) {
      view.setUint16(pos, 0);
      pos += 2;
      continue;
    }
    view.setUint16(pos, headers.length);
    pos += 2;
    for (const [name, value] of headers) {
      view.setUint16(pos, name.length);
      buffer.set(name, pos + 2);
      pos += 2 + name.length;
      view.setUint32(pos, value.length);
      buffer.set(value, pos + 4);
      pos += 4 + value.length;
    }
  }
  const producer = options.producer;
  view.setUint32(0, BATCH_MAGIC);
  view.setUint32(4, size);
  view.setUint16(12, options.attributes ?? 0);
  view.setUint32(14, records.length);
  view.setFloat64(18, baseOffset);
  view.setUint32(26, lastDelta);
  view.setFloat64(30, firstTimestamp);
  view.setFloat64(38, maxTimestamp);
  view.setFloat64(46, producer ? producer.producerId : -1);
  view.setInt16(54, producer ? producer.producerEpoch : -1);
  view.setInt32(56, producer ? producer.baseSequence : -1);
  view.setUint32(8, crc32c(buffer.subarray(12)));
  return buffer;
}

function writeBytes(buffer: Uint8Array, view: DataView, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    view.setInt32(pos, -1);
    return pos + 4;
  }
  view.setInt32(pos, bytes.length);
  buffer.set(bytes, pos + 4);
  return pos + 4 + bytes.length;
}

/** A control batch (transaction marker) for one producer. */
export function encodeControlBatch(
  type: typeof CONTROL_ABORT | typeof CONTROL_COMMIT,
  offset: number,
  timestamp: number,
  producerId: number,
  producerEpoch: number,
): Uint8Array {
  return encodeBatch([{ key: Uint8Array.of(type), value: null, timestamp }], offset, {
    attributes: ATTR_TRANSACTIONAL | ATTR_CONTROL,
    producer: { producerId, producerEpoch, baseSequence: -1 },
  });
}

const offsetBefore = new Uint8Array(8);
const offsetAfter = new Uint8Array(8);
const offsetAfterView = new DataView(offsetAfter.buffer);

/**
 * Rewrites the base offset of an encoded batch in place, and its CRC, which must be correct for
 * the old offset: appends learn their offset under the lock, and patching the CRC there (see
 * crc-patch.ts) spares a second pass over the whole batch.
 */
export function setBaseOffset(batch: Uint8Array, baseOffset: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  offsetBefore.set(batch.subarray(18, 26));
  offsetAfterView.setFloat64(0, baseOffset);
  // The CRC covers bytes [12, length): the offset sits at 6 of that message.
  view.setUint32(8, patchedCrc32c(view.getUint32(8), batch.byteLength - 12, 6, offsetBefore, offsetAfter));
  batch.set(offsetAfter, 18);
}

export type HeaderCheck = { ok: true; header: BatchHeader } | { ok: false; reason: string };

/** Reads a batch header at `pos`; `available` bytes follow it. Does not check the CRC. */
export function readBatchHeader(buffer: Uint8Array, pos: number, available: number): HeaderCheck {
  if (available < BATCH_HEADER_SIZE) return { ok: false, reason: 'truncated header' };
  const view = new DataView(buffer.buffer, buffer.byteOffset + pos, BATCH_HEADER_SIZE);
  if (view.getUint32(0) !== BATCH_MAGIC) return { ok: false, reason: 'bad magic' };
  const length = view.getUint32(4);
  if (length < BATCH_HEADER_SIZE || length > MAX_BATCH_BYTES) return { ok: false, reason: `impossible batch length ${length}` };
  return {
    ok: true,
    header: {
      length,
      attributes: view.getUint16(12),
      recordCount: view.getUint32(14),
      baseOffset: view.getFloat64(18),
      lastOffsetDelta: view.getUint32(26),
      firstTimestamp: view.getFloat64(30),
      maxTimestamp: view.getFloat64(38),
      producerId: view.getFloat64(46),
      producerEpoch: view.getInt16(54),
      baseSequence: view.getInt32(56),
    },
  };
}

/** Whether the batch at `pos` (whose header says `length`) has a correct CRC32C. */
export function batchCrcValid(buffer: Uint8Array, pos: number, length: number): boolean {
  const view = new DataView(buffer.buffer, buffer.byteOffset + pos, 12);
  return view.getUint32(8) === crc32c(buffer.subarray(pos + 12, pos + length));
}

/** Key, value and header values are views into `buffer`. */
/**
 * Decodes the records of a CRC-checked batch whose offsets fall in `[from, end)`, at most
 * `limit` of them; records before `from` are stepped over without being built.
 */
export function decodeRecords(
  buffer: Uint8Array,
  pos: number,
  header: BatchHeader,
  into: BatchRecord[] = [],
  from = Number.NEGATIVE_INFINITY,
  end = Number.POSITIVE_INFINITY,
  limit = Number.POSITIVE_INFINITY,
): BatchRecord[] {
  const view = new DataView(buffer.buffer, buffer.byteOffset);
  let p = pos + BATCH_HEADER_SIZE;
  let taken = 0;
  for (let i = 0; i < header.recordCount && taken < limit; i++) {
    const offset = header.baseOffset + view.getUint32(p);
    if (offset >= end) break;
    if (offset < from) {
      p = skipRecord(view, p);
      continue;
    }
    taken++;
    const timestamp = view.getFloat64(p + 4);
    p += 12;
    const keyLength = view.getInt32(p);
    p += 4;
    const key = keyLength < 0 ? null : buffer.subarray(p, p + keyLength);
    if (keyLength > 0) p += keyLength;
    const valueLength = view.getInt32(p);
    p += 4;
    const value = valueLength < 0 ? null : buffer.subarray(p, p + valueLength);
    if (valueLength > 0) p += valueLength;
    const headerCount = view.getUint16(p);
    p += 2;
    let headers: Headers | undefined;
    if (headerCount > 0) {
      headers = {};
      for (let h = 0; h < headerCount; h++) {
        const nameLength = view.getUint16(p);
        const name = textDecoder.decode(buffer.subarray(p + 2, p + 2 + nameLength));
        p += 2 + nameLength;
        const length = view.getUint32(p);
        headers[name] = buffer.subarray(p + 4, p + 4 + length);
        p += 4 + length;
      }
    }
    into.push(headers ? { offset, timestamp, key, value, headers } : { offset, timestamp, key, value });
  }
  return into;
}

/** The position after the record at `p`. */
function skipRecord(view: DataView, p: number): number {
  p += 12;
  const keyLength = view.getInt32(p);
  p += 4 + Math.max(0, keyLength);
  const valueLength = view.getInt32(p);
  p += 4 + Math.max(0, valueLength);
  const headerCount = view.getUint16(p);
  p += 2;
  for (let h = 0; h < headerCount; h++) {
    p += 2 + view.getUint16(p);
    p += 4 + view.getUint32(p);
  }
  return p;
}

export function isControl(header: BatchHeader): boolean {
  return (header.attributes & ATTR_CONTROL) !== 0;
}

export function isTransactional(header: BatchHeader): boolean {
  return (header.attributes & ATTR_TRANSACTIONAL) !== 0;
}

/** The marker type of a control batch. */
export function controlType(buffer: Uint8Array, pos: number): number {
  // Record layout: offsetDelta(4) timestamp(8) keyLength(4) key(1)
  return buffer[pos + BATCH_HEADER_SIZE + 16];
}
