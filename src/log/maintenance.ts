/**
 * Retention and compaction of closed segments.
 *
 * Retention deletes whole closed segments older than `retentionMs` (by their largest record
 * timestamp) or beyond `retentionBytes`, moving the log start forward.
 * Compaction, for compacted topics, keeps the last record of each key in closed segments below
 * the last stable offset; tombstones are dropped once older than `deleteRetentionMs`;
 * transaction markers and aborted records go too. Offsets never change: a compacted segment has
 * gaps. The cleaned file is written beside the original and renamed over it, and the segment's
 * generation is bumped under the lock, so readers in other processes reopen it; a reader that
 * still holds the old file reads consistent, older data.
 */
import { closeSync, fdatasyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRecord } from '../core/index.ts';
import type { BatchRecord } from './format.ts';
import { encodeBatch } from './format.ts';
import type { AbortedRange, MetaStore, PartitionMeta, SegmentMeta, TopicMeta } from './meta.ts';
import { lastStableOffset, type Partition } from './partition.ts';
import { segmentName } from './segment-files.ts';

/** Deletes closed segments past retention. Returns how many were deleted. */
export function enforceRetention(meta: MetaStore, partition: Partition, now: number): number {
  const topic = partition.topic;
  if (topic.retentionMs < 0 && topic.retentionBytes < 0) return 0;
  const removed = meta.locked(() => {
    const state = partition.state();
    const doomed: SegmentMeta[] = [];
    let total = state.segments.reduce((sum, s) => sum + s.bytes, 0);
    // Never the active segment, and never past the last stable offset (open transactions need their data).
    const lso = lastStableOffset(state);
    while (state.segments.length > 1) {
      const oldest = state.segments[0];
      if (oldest.next > lso) break;
      const expired = topic.retentionMs >= 0 && oldest.maxTimestamp < now - topic.retentionMs;
      const oversize = topic.retentionBytes >= 0 && total > topic.retentionBytes;
      if (!expired && !oversize) break;
      doomed.push(state.segments.shift() as SegmentMeta);
      total -= oldest.bytes;
    }
    if (doomed.length === 0) return doomed;
    state.logStart = state.segments[0].base;
    pruneAborted(meta, topic.name, partition.index, state);
    partition.saveLocked(state);
    return doomed;
  });
  for (const segment of removed) removeSegmentFiles(partition.dir, segment.base);
  if (removed.length > 0) partition.dropStaleFiles(partition.state());
  return removed.length;
}

function pruneAborted(meta: MetaStore, topic: string, index: number, state: PartitionMeta): void {
  const key = ['aborted', topic, index];
  const ranges = meta.get<AbortedRange[]>(key);
  if (!ranges) return;
  const kept = ranges.filter(([, , last]) => last >= state.logStart);
  if (kept.length === ranges.length) return;
  meta.put(key, kept);
  state.abortedVersion++;
}

export function removeSegmentFiles(dir: string, base: number): void {
  for (const ext of ['.log', '.index', '.timeindex']) rmSync(join(dir, `${segmentName(base)}${ext}`), { force: true });
}

/** Compacts the closed segments of a compacted topic's partition. Returns the bytes saved. */
export function compactPartition(meta: MetaStore, partition: Partition, now: number): number {
  const topic: TopicMeta = partition.topic;
  if (!topic.compact) return 0;
  const state = partition.state();
  const lso = lastStableOffset(state);
  const closed = state.segments.slice(0, -1).filter((s) => s.next <= lso);
  if (closed.length === 0) return 0;
  // Last offset of every key within the closed segments only (as Kafka's cleaner does): they were
  // synced when they rolled, so a value is never dropped because of a newer one a crash may lose.
  const cleanUpTo = closed[closed.length - 1].next;
  const latest = new Map<string, number>();
  const committedRecords = (from: number, to: number, visit: (r: BatchRecord) => void) => {
    for (let offset = from; offset < to; ) {
      const page = partition.read(offset, { isolation: 'read_committed', maxBytes: 4 << 20 });
      for (const record of page.records) if (record.offset < to) visit(record);
      if (page.nextOffset <= offset) break;
      offset = page.nextOffset;
    }
  };
  committedRecords(state.logStart, cleanUpTo, (record) => {
    if (record.key) latest.set(keyOf(record.key), record.offset);
  });
  const replacements: Array<{ segment: SegmentMeta; bytes: number; tmp: string }> = [];
  let saved = 0;
  for (const segment of closed) {
    const kept: BatchRecord[] = [];
    committedRecords(Math.max(segment.base, state.logStart), segment.next, (record) => {
      if (!record.key) return; // unkeyed records cannot be compacted meaningfully; Kafka rejects them
      if (latest.get(keyOf(record.key)) !== record.offset) return;
      if (record.value === null && record.timestamp < now - topic.deleteRetentionMs) return;
      kept.push(record);
    });
    const tmp = join(partition.dir, `${segmentName(segment.base)}.cleaning`);
    const bytes = writeCleaned(tmp, kept);
    saved += segment.bytes - bytes;
    replacements.push({ segment, bytes, tmp });
  }
  if (saved <= 0) {
    for (const r of replacements) rmSync(r.tmp, { force: true });
    return 0;
  }
  meta.locked(() => {
    const current = partition.state();
    for (const { segment, bytes, tmp } of replacements) {
      const live = current.segments.find((s) => s.base === segment.base);
      if (!live || live.generation !== segment.generation) {
        rmSync(tmp, { force: true }); // retention or another cleaner got there first
        continue;
      }
      renameSync(tmp, join(partition.dir, `${segmentName(segment.base)}.log`));
      for (const ext of ['.index', '.timeindex']) rmSync(join(partition.dir, `${segmentName(segment.base)}${ext}`), { force: true });
      live.bytes = bytes;
      live.generation++;
      live.cleaned = true;
      const rebuilt = partition.fileFor(live);
      rebuilt.repairIndexes(bytes);
    }
    partition.saveLocked(current);
  });
  return saved;
}

/** Keys as strings for a Map: latin1 maps every byte sequence to a distinct string. */
function keyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** Writes kept records as batches of up to ~1 MiB into a new file; returns its size. */
function writeCleaned(path: string, records: BatchRecord[]): number {
  const file = new SegmentFileWriter(path);
  let group: LogRecord[] = [];
  let deltas: number[] = [];
  let groupBase = 0;
  let groupBytes = 0;
  const flush = () => {
    if (group.length === 0) return;
    file.write(encodeBatch(group, groupBase, { offsetDeltas: deltas }));
    group = [];
    deltas = [];
    groupBytes = 0;
  };
  for (const record of records) {
    if (group.length === 0) groupBase = record.offset;
    group.push(record);
    deltas.push(record.offset - groupBase);
    groupBytes += (record.key?.length ?? 0) + (record.value?.length ?? 0) + 32;
    if (groupBytes >= 1 << 20) flush();
  }
  flush();
  return file.finish();
}

class SegmentFileWriter {
  private readonly fd: number;
  private size = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.size + done);
    this.size += bytes.length;
  }

  finish(): number {
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    return this.size;
  }
}
