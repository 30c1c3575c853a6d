/**
 * Recovery of one partition when a process first opens it: the metadata is reconciled with the
 * segment files, which describe themselves (CRC32C-checked batches carrying their base offsets).
 *
 * - Bytes past the committed end: intact batches that continue the log (their base offset is the
 *   next offset) are kept, as are further segment files a writer rolled to: they may have been
 *   acknowledged by a commit the metadata lost (a lost or damaged WAL), or were written by a
 *   writer that died before its commit (never acknowledged, kept as Kafka keeps them). A torn
 *   batch after them is cut. Transactional batches of producers with no open transaction here
 *   are recorded as aborted: their transaction's bookkeeping is gone, so it cannot have committed.
 *   Kept records are said in a warning (`SLUICE_RECORDS_RECOVERED`).
 * - Committed bytes missing (a truncated or missing active segment, a metadata file newer than
 *   its segments): under `fsync: batch` those records may have been acknowledged as durable
 *   (or be the unacknowledged end of a group a machine crash interrupted; see writer.ts), so the
 *   partition is refused with `DATA_LOST`, naming the offsets, until the files are restored or
 *   `sluice log repair --accept-data-loss` accepts the loss. Under the other fsync policies a
 *   crash may lose unsynced records (a short file, or a torn last batch) by the topic's own terms:
 *   they are cut with a warning (`SLUICE_DATA_LOST`). A batch damaged inside a file that still
 *   has all its committed bytes is the disk's damage, not a crash's: reads name it (CORRUPT_RECORD).
 * - Either way the next offset never moves back: lost offsets stay a gap in the log, so no offset
 *   is ever handed out twice, and no consumer position past the cut points at other records.
 * - Then files the metadata does not name are deleted (compaction's leftovers, see
 *   partition-files.ts), and indexes are brought in line with their segments.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { isSluiceError, SluiceError } from '../core/index.ts';
import { BATCH_HEADER_SIZE, batchCrcValid, isControl, isTransactional, readBatchHeader } from './format.ts';
import type { AbortedRange, MetaStore, PartitionMeta, SegmentMeta, TopicMeta } from './meta.ts';
import { type Partition, segmentPath } from './partition.ts';
import { removeUnnamedFiles } from './partition-files.ts';
import type { SegmentFile } from './segment-files.ts';

export interface RecoveryOptions {
  /** Cut committed records that are missing from the files instead of refusing (`sluice log repair --accept-data-loss`). */
  acceptDataLoss?: boolean;
}

export interface RecoveryReport {
  topic: string;
  partition: number;
  /** Offsets [from, to) found past the committed end and kept. */
  recovered?: [number, number];
  /** Offsets [from, to) the metadata committed that the files no longer hold, now a gap. */
  lost?: [number, number];
  /** Why the partition was not opened (DATA_LOST without `acceptDataLoss`). */
  refused?: string;
}

/** Reconciles every partition of `topics` (each under its own lock); DATA_LOST refusals are reported, not thrown. */
export function repairPartitions(
  meta: MetaStore,
  topics: readonly TopicMeta[],
  options: RecoveryOptions,
  open: (topic: TopicMeta, index: number) => Partition,
): RecoveryReport[] {
  const reports: RecoveryReport[] = [];
  for (const topic of topics) {
    for (let p = 0; p < topic.partitions; p++) {
      const partition = open(topic, p);
      try {
        reports.push(meta.locked(() => recoverPartitionLocked(meta, partition, options)));
      } catch (error) {
        if (!isSluiceError(error, 'DATA_LOST')) throw error;
        reports.push({ topic: topic.name, partition: p, refused: error.message });
      } finally {
        partition.close();
      }
    }
  }
  return reports;
}

/** Reconciles `partition` with its files; must run inside `meta.locked`. */
export function recoverPartitionLocked(meta: MetaStore, partition: Partition, options: RecoveryOptions = {}): RecoveryReport {
  const state = partition.state();
  const report: RecoveryReport = { topic: partition.topic.name, partition: partition.index };
  let changed = false;
  if (!existsSync(partition.dir)) {
    // Topic creation commits first and makes directories after: a creator that died in between left none.
    if (state.segments.some((s) => s.bytes > 0)) {
      changed = lose(partition, state, report, state.segments[0].base, 'the partition directory is missing', options);
      state.segments = [emptySegment(state.next, Date.now())];
      state.logStart = state.next;
    }
    mkdirSync(partition.dir, { recursive: true });
  }
  changed = checkActive(partition, state, report, options) || changed;
  changed = adoptTail(meta, partition, state, report) || changed;
  removeUnnamedFiles(partition.dir, state);
  for (const segment of state.segments.slice(0, -1)) {
    // A missing closed segment is left for reads and `describe` to report; the rest stays usable.
    if (existsSync(segmentPath(partition.dir, segment))) partition.fileFor(segment).repairIndexes(segment.bytes);
  }
  const active = state.segments[state.segments.length - 1];
  partition.fileFor(active, true).repairIndexes(active.bytes);
  if (changed) partition.saveLocked(state);
  return report;
}

/**
 * Checks that the active segment holds its committed bytes: a file shorter than them is
 * verified whole, otherwise its last batch is. Returns whether the state changed.
 */
function checkActive(partition: Partition, state: PartitionMeta, report: RecoveryReport, options: RecoveryOptions): boolean {
  const active = state.segments[state.segments.length - 1];
  if (active.bytes === 0) return false;
  if (!existsSync(segmentPath(partition.dir, active))) {
    const lost = lose(partition, state, report, active.base, `its segment file ${segmentPath(partition.dir, active)} is missing`, options);
    partition.fileFor(active, true);
    active.bytes = 0;
    return lost;
  }
  const file = partition.fileFor(active);
  const size = file.size();
  // Under 'batch' every committed byte was synced before its commit: a file that still has them
  // all lost nothing to a crash, and damage inside it is the disk's, left for reads to name
  // (CORRUPT_RECORD, as in closed segments). Other policies may lose a tail to a machine crash.
  if (size >= active.bytes && partition.topic.fsync === 'batch') return false;
  let validEnd: number;
  if (size < active.bytes) {
    validEnd = file.scan(0, size, true, false).validEnd;
  } else {
    file.loadIndexes(active.bytes);
    const from = file.indexDamage === undefined ? file.lookup(Number.MAX_SAFE_INTEGER) : 0;
    const { lastBatchStart, validEnd: headersEnd } = file.scan(from, active.bytes, false, false);
    if (headersEnd < active.bytes && lastBatchStart < 0) validEnd = from === 0 ? 0 : file.scan(0, active.bytes, true, false).validEnd;
    else if (lastBatchStart < 0) validEnd = active.bytes;
    else validEnd = file.scan(lastBatchStart, headersEnd, true, false).validEnd;
    // A damaged index may have pointed the check wrongly: verify the whole segment before refusing.
    if (validEnd < active.bytes && from > 0) validEnd = file.scan(0, active.bytes, true, false).validEnd;
  }
  if (validEnd >= active.bytes) return false;
  const kept = validEnd === 0 ? { next: active.base, maxTimestamp: Number.NEGATIVE_INFINITY } : file.scan(0, validEnd, false, false);
  const why =
    size < active.bytes
      ? `its segment file ${file.logPath} holds ${size} of the ${active.bytes} committed bytes`
      : `the batch at byte ${validEnd} of ${file.logPath} does not read back (a torn write or a damaged disk)`;
  lose(partition, state, report, kept.next, why, options);
  file.truncate(validEnd);
  active.bytes = validEnd;
  active.maxTimestamp = kept.maxTimestamp;
  return true;
}

/** Records (or refuses) the loss of offsets [from, state.next); the next offset stays. */
function lose(partition: Partition, state: PartitionMeta, report: RecoveryReport, from: number, why: string, options: RecoveryOptions): boolean {
  const where = `${partition.topic.name}/${partition.index}`;
  const range = from < state.next ? `offsets ${from} to ${state.next - 1}` : 'no committed records, but its files';
  if (partition.topic.fsync === 'batch' && options.acceptDataLoss !== true) {
    throw new SluiceError(
      'DATA_LOST',
      `partition ${where}: ${range} are committed but missing: ${why}. They may have been acknowledged, so the partition is not opened. Restore the files from a backup, or accept the loss with \`sluice log repair --accept-data-loss\` (the partition then goes on at offset ${state.next}; no offset is handed out twice)`,
    );
  }
  report.lost = [from, state.next];
  process.emitWarning(`partition ${where}: ${range} were lost (${why}); the partition goes on at offset ${state.next}`, { code: 'SLUICE_DATA_LOST' });
  return true;
}

/**
 * Keeps intact batches past the committed end that continue the log, in the active segment and
 * in further segment files a writer rolled to. Returns whether the state changed.
 */
function adoptTail(meta: MetaStore, partition: Partition, state: PartitionMeta, report: RecoveryReport): boolean {
  const start = state.next;
  const aborted: AbortedRange[] = [];
  let rolled = false;
  for (;;) {
    const active = state.segments[state.segments.length - 1];
    const file = partition.fileFor(active, active.bytes === 0);
    const tail = walkTail(file, active.bytes, file.size(), state.next);
    if (rolled && tail.end === 0) {
      state.segments.pop(); // an empty rolled file: nothing to keep; deleted below as unnamed
      partition.dropStaleFiles(state);
      break;
    }
    if (tail.end > active.bytes) {
      for (const batch of tail.batches) {
        if (batch.transactional && !(String(batch.producerId) in state.openTxns)) aborted.push([batch.producerId, batch.base, batch.last]);
      }
      active.bytes = tail.end;
      active.next = tail.next;
      if (tail.maxTimestamp > active.maxTimestamp) active.maxTimestamp = tail.maxTimestamp;
      state.next = tail.next;
    }
    file.prepareAppend(active.bytes); // cuts a torn batch after the kept ones
    // A writer that rolled before dying left the next segment's file, named by the next offset.
    if (active.bytes === 0) break;
    const next = emptySegment(state.next, Date.now());
    if (!existsSync(segmentPath(partition.dir, next))) break;
    state.segments.push(next);
    rolled = true;
  }
  if (state.next === start) return false;
  if (aborted.length > 0) {
    const key = ['aborted', partition.topic.name, partition.index];
    meta.put(key, [...(meta.get<AbortedRange[]>(key) ?? []), ...aborted]);
    state.abortedVersion++;
  }
  report.recovered = [start, state.next];
  process.emitWarning(
    `partition ${partition.topic.name}/${partition.index}: kept offsets ${start} to ${state.next - 1} found past the committed end (a writer died before its commit, or the metadata lost a commit)`,
    { code: 'SLUICE_RECORDS_RECOVERED' },
  );
  return true;
}

interface TailBatch {
  base: number;
  last: number;
  transactional: boolean;
  producerId: number;
}

/**
 * The intact batches from byte `from` that continue the log at offset `next`: whole, CRC-valid,
 * each starting at the offset after the one before. Stops at the first that does not, and at a
 * transaction marker (its transaction's outcome lives in metadata that is gone).
 */
function walkTail(file: SegmentFile, from: number, size: number, next: number): { end: number; next: number; maxTimestamp: number; batches: TailBatch[] } {
  const batches: TailBatch[] = [];
  let pos = from;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  while (pos + BATCH_HEADER_SIZE <= size) {
    const head = file.read(pos, BATCH_HEADER_SIZE);
    const check = readBatchHeader(head, 0, head.length);
    if (!check.ok || pos + check.header.length > size) break;
    const { header } = check;
    if (header.baseOffset !== next || isControl(header)) break;
    const whole = file.read(pos, header.length);
    if (whole.length < header.length || !batchCrcValid(whole, 0, header.length)) break;
    const last = header.baseOffset + header.lastOffsetDelta;
    batches.push({ base: header.baseOffset, last, transactional: isTransactional(header), producerId: header.producerId });
    if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
    next = last + 1;
    pos += header.length;
  }
  return { end: pos, next, maxTimestamp, batches };
}

function emptySegment(base: number, now: number): SegmentMeta {
  return { base, next: base, bytes: 0, maxTimestamp: Number.NEGATIVE_INFINITY, createdAt: now, generation: 0 };
}
