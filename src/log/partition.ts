/**
 * One partition as this process sees it: its segment files, appends under the metadata lock,
 * and reads up to the committed end (or the last stable offset). Recovery is in recovery.ts.
 */
import { join } from 'node:path';
import { SluiceError } from '../core/index.ts';
import {
  type BatchHeader,
  type BatchRecord,
  batchCrcValid,
  decodeRecords,
  isControl,
  isTransactional,
  readBatchHeader,
  setBaseOffset,
} from './format.ts';
import type { AbortedRange, MetaStore, PartitionMeta, SegmentMeta, TopicMeta } from './meta.ts';
import { SegmentCache, type SegmentFiles } from './segment-cache.ts';
import { SegmentFile, warnIndexRebuilt } from './segment-files.ts';
import { segmentFileName } from './segment-names.ts';
import type { SegmentWrites } from './segment-writes.ts';

export type Isolation = 'read_committed' | 'read_uncommitted';

export interface ReadOptions {
  maxRecords?: number;
  maxBytes?: number;
  isolation?: Isolation;
}

export interface ReadResult {
  records: BatchRecord[];
  /** Where the next read continues (past skipped control and aborted batches too). */
  nextOffset: number;
}

export interface AppendedBatch {
  baseOffset: number;
  lastOffset: number;
  file: SegmentFile;
}

const DEFAULT_MAX_BYTES = 1 << 20;
/** Reads that found the partition changed under them (compaction or retention elsewhere) start over this often. */
const MAX_READ_ATTEMPTS = 5;

/**
 * A read found its view of the partition out of date (a segment file it names is gone, or an
 * index was rebuilt): it starts over from fresh metadata. Never leaves this module.
 */
class StaleView extends Error {}

/**
 * An append found, under the lock, that the topic it was handed for was deleted, re-created or
 * had its record size limit changed (perhaps by another process) since this process last looked:
 * nothing was written, and the caller tries again with fresh metadata.
 */
export class StaleTopic extends Error {}

export function partitionKey(topic: string, partition: number): unknown[] {
  return ['part', topic, partition];
}

/** The offset read_committed readers stop before: the first offset of the earliest open transaction. */
export function lastStableOffset(state: PartitionMeta): number {
  let lso = state.next;
  for (const first of Object.values(state.openTxns)) if (first < lso) lso = first;
  return lso;
}

export class Partition {
  /** The topic's metadata as this process last read it (replaced when its settings change). */
  topic: TopicMeta;
  readonly index: number;
  readonly dir: string;
  private readonly meta: MetaStore;
  private readonly files: SegmentFiles = new Map();
  private readonly cache: SegmentCache;
  private readonly key: unknown[];
  /** nextOffset -> [segment base, generation, position]: sequential reads skip the index lookup. */
  private readonly hints = new Map<number, [number, number, number]>();
  /** Segment count at the last read: when it changes, handles of segments gone are closed. */
  private seenSegments = 0;
  private abortedVersion = -1;
  /** The active segment's bytes after this process's last append (0: unknown); see `rollsAfter`. */
  private activeBytesHint = 0;
  private aborted: AbortedRange[] = [];

  constructor(topic: TopicMeta, index: number, dir: string, meta: MetaStore, cache: SegmentCache = new SegmentCache()) {
    this.cache = cache;
    this.topic = topic;
    this.index = index;
    this.dir = dir;
    this.meta = meta;
    this.key = partitionKey(topic.name, index);
  }

  /** The partition's committed state, fresh from the metadata. */
  state(): PartitionMeta {
    const state = this.meta.get<PartitionMeta>(this.key);
    if (!state) {
      throw new SluiceError('PARTITION_NOT_FOUND', `partition ${this.index} of topic '${this.topic.name}' no longer exists`);
    }
    return state;
  }

  /**
   * The open files of `segment` (from the cache of open segments). With `create`, a missing log
   * file is made empty (a new active segment); otherwise a missing one means either that this
   * view is out of date (reads start over) or, when the metadata still names it, damage.
   */
  fileFor(segment: SegmentMeta, create = false): SegmentFile {
    const cached = this.files.get(segment.base);
    if (cached && cached.generation === segment.generation) {
      this.cache.touch(cached);
      return cached;
    }
    if (cached) this.cache.remove(cached, this.files);
    const file = SegmentFile.open(this.dir, segment.base, segment.generation, segment.fileGeneration, create);
    if (!file) throw this.missingFile(segment);
    this.cache.add(file, this.files);
    return file;
  }

  private missingFile(segment: SegmentMeta): Error {
    const current = this.state().segments.find((s) => s.base === segment.base);
    if (!current || current.generation !== segment.generation) return new StaleView();
    return new SluiceError(
      'CORRUPT_RECORD',
      `segment file ${segmentPath(this.dir, segment)} of ${this.topic.name}/${this.index} is missing: offsets ${segment.base} to ${segment.next - 1} cannot be read; restore the file from a backup, or read on from offset ${segment.next}`,
    );
  }

  /** Under the lock: closes the active segment (synced) and starts an empty one at the next offset. */
  private roll(state: PartitionMeta, now: number): SegmentMeta {
    // Skipped when the syncs of this process's group commits already covered every committed byte.
    const closing = state.segments[state.segments.length - 1];
    this.fileFor(closing).syncCommitted(closing.bytes);
    const active: SegmentMeta = { base: state.next, next: state.next, bytes: 0, maxTimestamp: Number.NEGATIVE_INFINITY, createdAt: now, generation: 0 };
    state.segments.push(active);
    this.fileFor(active, true);
    return active;
  }

  /** Under the lock: rolls the active segment when it holds records, so compaction can clean them. */
  rollActiveLocked(now: number): boolean {
    const state = this.state();
    if (state.segments[state.segments.length - 1].bytes === 0) return false;
    this.roll(state, now);
    this.saveLocked(state);
    return true;
  }

  /**
   * Appends one encoded batch (its base offset is set here). Must run inside `meta.locked`.
   * Rolls the active segment by size or age first. Returns the offsets the batch took. With
   * `writes`, the batch is only placed: `writes.flush()` writes it with the batches placed after
   * it, before the lock's commit (a batch placed but never flushed is simply not in the log).
   */
  appendLocked(state: PartitionMeta, batch: Uint8Array, header: BatchHeader, now: number, writes?: SegmentWrites): AppendedBatch {
    let active = state.segments[state.segments.length - 1];
    const tooBig = active.bytes > 0 && active.bytes + batch.length > this.topic.segmentBytes;
    const tooOld = active.bytes > 0 && now - active.createdAt >= this.topic.segmentMs;
    if (tooBig || tooOld) {
      writes?.flush(); // the old segment is synced as it closes: its last batches first
      active = this.roll(state, now);
    }
    // Never recreate a file that holds committed records: appending to an empty one would hide the loss.
    const file = this.fileFor(active, active.bytes === 0);
    const baseOffset = state.next;
    setBaseOffset(batch, baseOffset);
    if (writes) {
      // The file was checked when this lock's first batch was placed in it: nobody else writes meanwhile.
      if (!writes.continues(file, active.bytes)) file.prepareAppend(active.bytes);
      writes.add(file, active.bytes, batch, baseOffset, header.maxTimestamp);
    } else {
      file.prepareAppend(active.bytes);
      file.writeAt(active.bytes, batch);
      file.indexBatch(active.bytes, baseOffset, header.maxTimestamp);
    }
    const lastOffset = baseOffset + header.lastOffsetDelta;
    active.bytes += batch.length;
    this.activeBytesHint = active.bytes;
    active.next = lastOffset + 1;
    if (header.maxTimestamp > active.maxTimestamp) active.maxTimestamp = header.maxTimestamp;
    state.next = lastOffset + 1;
    return { baseOffset, lastOffset, file };
  }

  /**
   * Bytes the active segment probably takes before it rolls by size, judged from this process's
   * last append without reading the metadata (infinite when unknown). The writer ends a group
   * there and lets the syncs in flight finish before the group that rolls, so the roll finds the
   * closing segment durable and need not sync it under the lock.
   */
  roomBeforeRoll(): number {
    return this.activeBytesHint > 0 ? this.topic.segmentBytes - this.activeBytesHint : Number.POSITIVE_INFINITY;
  }

  /** After an append's metadata commit failed: what this process wrote to its files is not known to be committed. */
  forgetOwnWrites(): void {
    for (const file of this.files.values()) file.forgetOwnWrites();
  }

  /** Under the lock, before appending: throws StaleTopic when `topic` no longer describes the topic. */
  checkTopicLocked(): void {
    const current = this.meta.get<TopicMeta>(['topic', this.topic.name]);
    if (!current || current.id !== this.topic.id || current.maxMessageBytes !== this.topic.maxMessageBytes) throw new StaleTopic();
  }

  saveLocked(state: PartitionMeta): void {
    this.meta.put(this.key, state);
  }

  /** Reads records from `offset`. Corrupt data inside the committed log is an error naming file and position. */
  read(offset: number, options: ReadOptions = {}): ReadResult {
    for (let attempt = 1; ; attempt++) {
      try {
        return this.readOnce(offset, options);
      } catch (error) {
        if (!(error instanceof StaleView)) throw error;
        if (attempt >= MAX_READ_ATTEMPTS) {
          throw new SluiceError('IO_FAILED', `${this.topic.name}/${this.index} kept changing while being read at offset ${offset}; try again`);
        }
      }
    }
  }

  private readOnce(offset: number, options: ReadOptions): ReadResult {
    const state = this.state();
    if (state.segments.length !== this.seenSegments) {
      // Compaction or retention (perhaps in another process) removed segments: free their files now.
      if (this.seenSegments > 0) this.dropStaleFiles(state);
      this.seenSegments = state.segments.length;
    }
    const committed = options.isolation === 'read_committed';
    const end = committed ? lastStableOffset(state) : state.next;
    if (offset < state.logStart) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} of ${this.topic.name}/${this.index} was deleted by retention; the log starts at ${state.logStart}`,
      );
    }
    const records: BatchRecord[] = [];
    if (offset >= end) return { records, nextOffset: offset };
    if (committed) this.refreshAborted(state);
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    let next = offset;
    let bytesRead = 0;
    let segmentIndex = findSegment(state.segments, offset);
    while (segmentIndex < state.segments.length && next < end && records.length < maxRecords && bytesRead < maxBytes) {
      const segment = state.segments[segmentIndex];
      const file = this.fileFor(segment);
      let { position: pos, baseOffset: indexed } = this.startPosition(file, segment, next);
      while (pos < segment.bytes && next < end && records.length < maxRecords && bytesRead < maxBytes) {
        const wanted = Math.min(segment.bytes - pos, Math.max(maxBytes - bytesRead, 64 * 1024));
        const chunk = file.read(pos, wanted);
        if (chunk.length < wanted) this.corrupt(file, segment, pos + chunk.length, 'the file is shorter than the committed log');
        let at = 0;
        if (indexed >= 0) {
          // The index is derived data: where it disagrees with the segment, rebuild it and start over.
          const first = readBatchHeader(chunk, 0, chunk.length);
          if (!first.ok || first.header.baseOffset !== indexed) {
            this.indexDamaged(file, segment, `it points offset ${indexed} at byte ${pos}, where ${first.ok ? `offset ${first.header.baseOffset} starts` : 'no batch starts'}`);
          }
          indexed = -1;
        }
        while (at < chunk.length && next < end && records.length < maxRecords) {
          const check = readBatchHeader(chunk, at, chunk.length - at);
          if (!check.ok && (chunk.length - at >= 60 || pos + chunk.length >= segment.bytes)) this.corrupt(file, segment, pos + at, check.reason);
          if (!check.ok) break;
          const header = check.header;
          if (at + header.length > chunk.length) {
            if (at === 0) {
              // A batch larger than the chunk: read it whole.
              const whole = file.read(pos, header.length);
              if (whole.length < header.length) this.corrupt(file, segment, pos, 'batch runs past the end of the file');
              if (!batchCrcValid(whole, 0, header.length)) this.corrupt(file, segment, pos, 'CRC32C mismatch');
              if (header.baseOffset >= end) break;
              this.takeBatch(whole, 0, header, next, end, committed, records, maxRecords - records.length);
              next = Math.max(next, header.baseOffset + header.lastOffsetDelta + 1);
              at = header.length;
              bytesRead += header.length;
            }
            break;
          }
          if (!batchCrcValid(chunk, at, header.length)) this.corrupt(file, segment, pos + at, 'CRC32C mismatch');
          if (header.baseOffset >= end) break;
          this.takeBatch(chunk, at, header, next, end, committed, records, maxRecords - records.length);
          next = Math.max(next, header.baseOffset + header.lastOffsetDelta + 1);
          at += header.length;
          bytesRead += header.length;
        }
        if (at === 0) break;
        pos += at;
        this.remember(next, segment, pos);
      }
      if (pos >= segment.bytes) {
        // Past the segment's last batch: offsets up to its end are gaps (compacted away, or lost and accepted).
        next = Math.max(next, segment.next);
        segmentIndex++;
        if (segmentIndex < state.segments.length) next = Math.max(next, state.segments[segmentIndex].base);
      } else {
        break;
      }
    }
    // Stopped inside a batch at maxRecords: continue right after the last record returned.
    if (records.length > 0 && records.length >= maxRecords) next = records[records.length - 1].offset + 1;
    return { records, nextOffset: Math.min(next, end) };
  }

  private takeBatch(
    buffer: Uint8Array,
    at: number,
    header: BatchHeader,
    from: number,
    end: number,
    committed: boolean,
    into: BatchRecord[],
    limit: number,
  ): void {
    if (header.baseOffset + header.lastOffsetDelta < from) return;
    if (isControl(header)) return;
    if (committed && isTransactional(header) && this.isAborted(header.producerId, header.baseOffset)) return;
    decodeRecords(buffer, at, header, into, from, end, limit);
  }

  private corrupt(file: SegmentFile, segment: SegmentMeta, position: number, reason: string): never {
    throw new SluiceError(
      'CORRUPT_RECORD',
      `corrupt batch in ${file.logPath} at byte ${position} (${reason}): the segment file was damaged on disk, so offsets up to ${segment.next - 1} in it may not be readable; restore the file from a backup, or read on from offset ${segment.next}`,
    );
  }

  /** Where to start reading `offset` in `segment`, and the base offset the index promises there (-1 for none). */
  private startPosition(file: SegmentFile, segment: SegmentMeta, offset: number): { position: number; baseOffset: number } {
    const hint = this.hints.get(offset);
    if (hint && hint[0] === segment.base && hint[1] === segment.generation) return { position: hint[2], baseOffset: -1 };
    file.loadIndexes(segment.bytes);
    if (file.indexDamage !== undefined) this.indexDamaged(file, segment, file.indexDamage);
    return file.lookupEntry(offset);
  }

  /** Rebuilds the indexes of `segment` under the lock, says so, and starts the read over. */
  private indexDamaged(file: SegmentFile, segment: SegmentMeta, why: string): never {
    this.meta.locked(
      () => {
        const current = this.state().segments.find((s) => s.base === segment.base && s.generation === segment.generation);
        if (current) file.rebuildIndexes(current.bytes);
      },
      { flush: false },
    );
    warnIndexRebuilt(file.logPath, why);
    throw new StaleView();
  }

  private remember(next: number, segment: SegmentMeta, position: number): void {
    if (this.hints.size >= 16) this.hints.delete(this.hints.keys().next().value as number);
    this.hints.set(next, [segment.base, segment.generation, position]);
  }

  private refreshAborted(state: PartitionMeta): void {
    if (state.abortedVersion === this.abortedVersion) return;
    this.aborted = this.meta.get<AbortedRange[]>(['aborted', this.topic.name, this.index]) ?? [];
    this.abortedVersion = state.abortedVersion;
  }

  private isAborted(producerId: number, offset: number): boolean {
    for (const [id, first, last] of this.aborted) if (id === producerId && offset >= first && offset <= last) return true;
    return false;
  }

  /** The first offset whose record timestamp is >= `timestamp`, or the end when none is. */
  offsetForTimestamp(timestamp: number): number {
    const state = this.state();
    for (const segment of state.segments) {
      if (segment.maxTimestamp < timestamp || segment.bytes === 0) continue;
      const file = this.fileFor(segment);
      file.loadIndexes(segment.bytes);
      let from = Math.max(this.offsetAt(file, segment, file.lookupTime(timestamp)), state.logStart);
      while (from < segment.next) {
        const page = this.read(from, { isolation: 'read_uncommitted', maxBytes: 256 * 1024 });
        for (const record of page.records) if (record.timestamp >= timestamp) return record.offset;
        if (page.nextOffset <= from) break;
        from = page.nextOffset;
      }
    }
    return state.next;
  }

  private offsetAt(file: SegmentFile, segment: SegmentMeta, position: number): number {
    if (position >= segment.bytes) return segment.next;
    const head = file.read(position, 60);
    const check = readBatchHeader(head, 0, head.length);
    return check.ok ? check.header.baseOffset : segment.base;
  }

  /** Closes this process's file handles of segments no longer in the partition (or replaced by compaction). */
  dropStaleFiles(state: PartitionMeta): void {
    const live = new Map(state.segments.map((s) => [s.base, s.generation]));
    for (const [base, file] of this.files) if (live.get(base) !== file.generation) this.cache.remove(file, this.files);
  }

  close(): void {
    for (const file of [...this.files.values()]) this.cache.remove(file, this.files);
  }
}

/** The path of a segment's log file. */
export function segmentPath(dir: string, segment: SegmentMeta): string {
  return join(dir, segmentFileName(segment.base, segment.fileGeneration, 'log'));
}

/** Index of the segment holding `offset` (the last whose base is <= offset; the first if none). */
function findSegment(segments: SegmentMeta[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].base <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
