/**
 * Fetched Kafka record batches as the engine's records, read_committed.
 *
 * Wire format (Kafka's RecordBatch v2, decoded by the client): a batch has `firstOffset`,
 * `lastOffsetDelta`, `firstTimestamp`, `producerId` and `attributes` (bit 4 transactional,
 * bit 5 control); each record has `offsetDelta`, `timestampDelta`, key, value and headers. A
 * control batch holds one marker record whose key is `int16 version, int16 type` (0 abort,
 * 1 commit). A read_committed fetch returns batches up to the last stable offset and the list
 * of aborted transactions `(producerId, firstOffset)` overlapping the range; the reader drops a
 * transactional batch of a producer whose aborted transaction started at or before it, until
 * that producer's abort marker: Kafka's own consumer does the same.
 */
import type { RecordsBatch } from '@platformatic/kafka';
import type { Headers } from '../../core/index.ts';
import type { FetchedRecord, FetchResult } from '../types.ts';

const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/**
 * The committed records of `batches` from `offset` on, at most `maxRecords`, and where to fetch
 * next: after the last record returned, or past every batch (markers, aborted ranges) when none was cut.
 */
export function committedRecords(batches: readonly RecordsBatch[], aborted: readonly AbortedTransaction[] | null, offset: number, maxRecords: number): FetchResult {
  const pendingAborts = [...(aborted ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  const records: FetchedRecord[] = [];
  let next = offset;
  const from = BigInt(offset);
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < from) continue;
    while (pendingAborts.length > 0 && pendingAborts[0].firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
    if ((batch.attributes & CONTROL) !== 0) {
      const key = batch.records[0]?.key;
      if (key && key.length >= 4 && key.readInt16BE(2) === 0) abortedProducers.delete(batch.producerId);
      next = Number(lastOffset) + 1;
      continue;
    }
    if ((batch.attributes & TRANSACTIONAL) !== 0 && abortedProducers.has(batch.producerId)) {
      next = Number(lastOffset) + 1;
      continue;
    }
    for (const record of batch.records) {
      const at = Number(batch.firstOffset) + record.offsetDelta;
      if (at < offset) continue;
      if (records.length >= maxRecords) return { records, nextOffset: next };
      records.push({
        offset: at,
        key: bytes(record.key),
        value: bytes(record.value),
        timestamp: Number(batch.firstTimestamp + record.timestampDelta),
        ...(record.headers.length === 0 ? {} : { headers: headersOf(record.headers) }),
      });
      next = at + 1;
    }
    next = Math.max(next, Number(lastOffset) + 1);
  }
  return { records, nextOffset: next };
}

/** A plain Uint8Array view of the client's Buffer (records compare and hash as the other backends' do). */
function bytes(buffer: Buffer | null): Uint8Array | null {
  return buffer === null ? null : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function headersOf(entries: readonly [Buffer | null, Buffer | null][]): Headers {
  const headers: Headers = {};
  for (const [key, value] of entries) if (key !== null) headers[key.toString('utf8')] = bytes(value) ?? new Uint8Array(0);
  return headers;
}
