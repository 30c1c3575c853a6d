/**
 * Compaction of a compacted topic's closed segments: keeps the last record of each key below the
 * last stable offset; tombstones are dropped once older than `deleteRetentionMs`; transaction
 * markers and aborted records go too. Offsets never change: a compacted segment has gaps.
 *
 * Adjacent cleaned segments are merged up to the topic's segment size, so segments compaction
 * empties disappear into their neighbours (a merged segment spans its parts' offsets, so offsets
 * stay contiguous and the next offset never moves).
 *
 * A crash at any point leaves the partition as before or as after, never in between:
 * 1. the cleaned segments are written under new names (`<base>.g<run>.log`, with a run number
 *    unique in the log) and synced, with the directory, while a marker file says the run is live;
 * 2. one metadata commit replaces the old segments with them;
 * 3. only then are the old files deleted.
 * Recovery deletes what the metadata does not name (segment-files of dead runs, old files).
 * Other processes reading the old files keep reading consistent, older data until they see the
 * commit; one that finds an old file gone starts its read over from fresh metadata.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRecord } from '../core/index.ts';
import type { BatchRecord } from './format.ts';
import { encodeBatch } from './format.ts';
import type { MetaStore, SegmentMeta, TopicMeta } from './meta.ts';
import { lastStableOffset, type Partition } from './partition.ts';
import { removeFilesOf, writeCompactionMarker } from './partition-files.ts';
import { SegmentFile } from './segment-files.ts';
import { segmentFileName } from './segment-names.ts';

/**
 * Test-only hook: called between the file operations of a compaction's commit (names: 'written',
 * 'commit', 'committed', 'removed'), so crash tests can kill a process at each of them.
 */
export const compactionTestHook: { step?: (name: string) => void } = {};

export interface CompactOptions {
  /** Roll the active segment first, so records still in it are compacted too (on demand). */
  rollActive?: boolean;
}

/** Bytes per batch of cleaned records. */
const CLEANED_BATCH_BYTES = 1 << 20;
/** Positions and relative offsets in a segment's indexes are u32. */
const MAX_SEGMENT_SPAN = 0xffff_ffff;

interface SegmentPlan {
  segment: SegmentMeta;
  /** Records read (committed, data) and kept. */
  visited: number;
  kept: number;
  keptBytes: number;
}

interface Output {
  replaced: SegmentMeta[];
  segment: SegmentMeta;
}

/** Compacts the closed segments of a compacted topic's partition. Returns the bytes saved. */
export function compactPartition(meta: MetaStore, partition: Partition, now: number, options: CompactOptions = {}): number {
  const topic: TopicMeta = partition.topic;
  if (!topic.compact) return 0;
  if (options.rollActive) meta.locked(() => partition.rollActiveLocked(now));
  const state = partition.state();
  const lso = lastStableOffset(state);
  const closed = state.segments.slice(0, -1).filter((s) => s.next <= lso);
  if (closed.length === 0) return 0;
  const logStart = state.logStart;
  // Last offset of every key within the closed segments only (as Kafka's cleaner does): they were
  // synced when they rolled, so a value is never dropped because of a newer one a crash may lose.
  const latest = new Map<string, number>();
  committedRecords(partition, logStart, closed[closed.length - 1].next, (record) => {
    if (record.key) latest.set(keyOf(record.key), record.offset);
  });
  const keep = (record: BatchRecord): boolean => {
    if (!record.key) return false; // unkeyed records cannot be compacted meaningfully; Kafka rejects them
    if (latest.get(keyOf(record.key)) !== record.offset) return false;
    return !(record.value === null && record.timestamp < now - topic.deleteRetentionMs);
  };
  const plans = closed.map((segment): SegmentPlan => {
    const plan = { segment, visited: 0, kept: 0, keptBytes: 0 };
    committedRecords(partition, Math.max(segment.base, logStart), segment.next, (record) => {
      plan.visited++;
      if (!keep(record)) return;
      plan.kept++;
      plan.keptBytes += recordBytes(record);
    });
    return plan;
  });
  const groups = groupSegments(plans, Math.min(topic.segmentBytes, 1 << 30)).filter(
    (group) => group.length > 1 || !group[0].segment.cleaned || group[0].kept < group[0].visited,
  );
  if (groups.length === 0) return 0;

  const run = meta.locked(() => meta.nextCounter('segmentGeneration'));
  const marker = writeCompactionMarker(partition.dir, run);
  try {
    const outputs = groups.map((group) => writeGroup(partition, group, run, logStart, keep));
    syncDirectory(partition.dir);
    step('written');
    const committed = meta.locked(() => {
      const current = partition.state();
      const done: Output[] = [];
      for (const output of outputs) {
        const at = current.segments.findIndex((s) => s.base === output.replaced[0].base);
        const unchanged =
          at >= 0 &&
          at + output.replaced.length < current.segments.length &&
          output.replaced.every((r, i) => current.segments[at + i].base === r.base && current.segments[at + i].generation === r.generation);
        // Retention or another cleaner got there first, or recovery elsewhere removed our files.
        if (!unchanged || !existsSync(join(partition.dir, segmentFileName(output.segment.base, run, 'log')))) continue;
        current.segments.splice(at, output.replaced.length, output.segment);
        done.push(output);
      }
      if (done.length > 0) partition.saveLocked(current);
      step('commit');
      return done;
    });
    step('committed');
    for (const output of outputs) {
      const old = committed.includes(output) ? output.replaced : [output.segment];
      for (const segment of old) {
        removeFilesOf(partition.dir, segment);
        step('removed');
      }
    }
    partition.dropStaleFiles(partition.state());
    return committed.reduce((sum, o) => sum + o.replaced.reduce((s, r) => s + r.bytes, 0) - o.segment.bytes, 0);
  } finally {
    rmSync(marker, { force: true });
  }
}

function step(name: string): void {
  compactionTestHook.step?.(name);
}

/** Adjacent segments whose cleaned records fit in one segment of `limit` bytes. */
function groupSegments(plans: SegmentPlan[], limit: number): SegmentPlan[][] {
  const groups: SegmentPlan[][] = [];
  let current: SegmentPlan[] = [];
  let bytes = 0;
  for (const plan of plans) {
    const span = plan.segment.next - (current[0]?.segment.base ?? plan.segment.base);
    if (current.length > 0 && (bytes + plan.keptBytes > limit || span > MAX_SEGMENT_SPAN)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(plan);
    bytes += plan.keptBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Writes the kept records of a group of segments as one new segment file (with its indexes). */
function writeGroup(partition: Partition, group: SegmentPlan[], run: number, logStart: number, keep: (r: BatchRecord) => boolean): Output {
  const replaced = group.map((p) => p.segment);
  const base = replaced[0].base;
  const writer = new CleanedWriter(join(partition.dir, segmentFileName(base, run, 'log')));
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (const segment of replaced) {
    committedRecords(partition, Math.max(segment.base, logStart), segment.next, (record) => {
      if (keep(record)) writer.add(record);
    });
    if (segment.maxTimestamp > maxTimestamp) maxTimestamp = segment.maxTimestamp;
  }
  const bytes = writer.finish();
  const segment: SegmentMeta = {
    base,
    next: replaced[replaced.length - 1].next,
    bytes,
    maxTimestamp,
    createdAt: replaced[0].createdAt,
    generation: run,
    fileGeneration: run,
    cleaned: true,
  };
  // Indexes are derived data: built now, outside the lock; a lost one is rebuilt on open.
  const file = SegmentFile.open(partition.dir, base, run, run);
  file?.rebuildIndexes(bytes);
  file?.close();
  return { replaced, segment };
}

/** Visits the committed data records in [from, to). */
function committedRecords(partition: Partition, from: number, to: number, visit: (r: BatchRecord) => void): void {
  for (let offset = from; offset < to; ) {
    const page = partition.read(offset, { isolation: 'read_committed', maxBytes: 4 << 20 });
    for (const record of page.records) if (record.offset < to) visit(record);
    if (page.nextOffset <= offset) break;
    offset = page.nextOffset;
  }
}

/** About the bytes a record takes in a batch (see format.ts). */
function recordBytes(record: BatchRecord): number {
  let bytes = 22 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const [name, value] of Object.entries(record.headers)) bytes += 6 + name.length + (value?.length ?? 0);
  return bytes;
}

/** Keys as strings for a Map: latin1 maps every byte sequence to a distinct string. */
function keyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Kept records, batched up to ~1 MiB, appended to a new file. */
class CleanedWriter {
  private readonly fd: number;
  private size = 0;
  private group: LogRecord[] = [];
  private deltas: number[] = [];
  private groupBase = 0;
  private groupBytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  add(record: BatchRecord): void {
    if (this.group.length === 0) this.groupBase = record.offset;
    this.group.push(record);
    this.deltas.push(record.offset - this.groupBase);
    this.groupBytes += recordBytes(record);
    if (this.groupBytes >= CLEANED_BATCH_BYTES) this.flush();
  }

  finish(): number {
    this.flush();
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    return this.size;
  }

  private flush(): void {
    if (this.group.length === 0) return;
    const bytes = encodeBatch(this.group, this.groupBase, { offsetDeltas: this.deltas });
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.size + done);
    this.size += bytes.length;
    this.group = [];
    this.deltas = [];
    this.groupBytes = 0;
  }
}
