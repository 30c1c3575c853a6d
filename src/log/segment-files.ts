/**
 * Segment files of one partition and their sparse indexes.
 *
 * Files, named by the segment's base offset (20 digits) and, once compaction has rewritten it,
 * the generation of its file (`<base>.g<generation>.<ext>`), so a rewritten segment never
 * replaces a file in place: the metadata commit switches from the old files to the new ones.
 * - `<base>.log`: record batches back to back (see format.ts).
 * - `<base>.index`: the sparse offset index, 8-byte entries `u32 relativeOffset | u32 position`,
 *   one at the first batch and then one per `INDEX_INTERVAL_BYTES` of log.
 * - `<base>.timeindex`: the time index, 12-byte entries `f64 maxTimestampSoFar | u32 relativeOffset`,
 *   added with offset index entries when the maximum timestamp grew.
 * Index entries pointing at or past a segment's committed bytes are ignored (a writer killed
 * mid-append) and cut by the next writer. Indexes are derived data: a missing one is rebuilt by
 * scanning its segment, and so is one that disagrees with the segment (see `rebuildIndexes`).
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../core/index.ts';
import { BATCH_HEADER_SIZE, batchCrcValid, readBatchHeader } from './format.ts';
import { segmentFileName } from './segment-names.ts';

export const INDEX_INTERVAL_BYTES = 4096;

/** One segment's open file and in-memory copy of its indexes, as this process knows them. */
export class SegmentFile {
  readonly base: number;
  readonly generation: number;
  readonly logPath: string;
  readonly fd: number;
  /** Offset index: relative offsets and positions, ascending. */
  private offsets: number[] = [];
  private positions: number[] = [];
  /** Time index: max timestamp so far and relative offset, ascending. */
  private times: number[] = [];
  private timeOffsets: number[] = [];
  /** Entries of each index already in its file: the rest are written together by `writeIndexes`. */
  private offsetsWritten = 0;
  private timesWritten = 0;
  private readonly indexFd: number;
  private readonly timeIndexFd: number;
  /** Committed bytes as of this process's last append or repair: equal to the metadata's when nobody else wrote since. */
  private knownBytes = -1;
  /** Written by this process since its last sync: closing it syncs first, so no promised sync is skipped. */
  private unsynced = false;
  /** Writes this process made to the file, how many of them the latest completed fdatasync covers, and where the last one ended (-1: unknown). */
  private writes = 0;
  private durableWrites = 0;
  private ownEnd = -1;
  /** Asynchronous syncs in flight: the descriptor stays open until they finish. */
  private syncing = 0;
  private closeWanted = false;
  closed = false;
  /** Set when the index files were found inconsistent with themselves: they need `rebuildIndexes`. */
  indexDamage: string | undefined;

  /**
   * Opens the files of segment `base` (whose file carries `fileGeneration`); with `create`, an
   * empty log file is made when missing. Returns undefined when the log file does not exist.
   */
  static open(dir: string, base: number, generation: number, fileGeneration: number | undefined, create = false): SegmentFile | undefined {
    const logPath = join(dir, segmentFileName(base, fileGeneration, 'log'));
    let fd: number;
    try {
      fd = openSync(logPath, create ? (existsSync(logPath) ? 'r+' : 'w+') : 'r+');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && !create) return undefined;
      throw new SluiceError('IO_FAILED', `cannot open segment ${logPath}: ${(cause as Error).message}`, { cause });
    }
    return new SegmentFile(dir, base, generation, fileGeneration, logPath, fd);
  }

  private constructor(dir: string, base: number, generation: number, fileGeneration: number | undefined, logPath: string, fd: number) {
    this.base = base;
    this.generation = generation;
    this.logPath = logPath;
    this.fd = fd;
    try {
      this.indexFd = openOrCreate(join(dir, segmentFileName(base, fileGeneration, 'index')));
      this.timeIndexFd = openOrCreate(join(dir, segmentFileName(base, fileGeneration, 'timeindex')));
    } catch (cause) {
      closeSync(fd);
      throw new SluiceError('IO_FAILED', `cannot open the indexes of segment ${logPath}: ${(cause as Error).message}`, { cause });
    }
  }

  size(): number {
    return fstatSync(this.fd).size;
  }

  read(position: number, length: number): Uint8Array {
    if (this.closed) throw new SluiceError('IO_FAILED', `segment ${this.logPath} was read after it was closed`);
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  /**
   * Under the write lock, before appending at `committedBytes`: when another process wrote since
   * this one last did (the file size tells, even for a writer that died before committing),
   * brings the indexes in line and cuts what a dead writer left past the end.
   */
  prepareAppend(committedBytes: number): void {
    if (this.knownBytes === committedBytes && this.size() === committedBytes) return;
    if (this.size() > committedBytes) {
      ftruncateSync(this.fd, committedBytes);
      this.ownEnd = -1;
    }
    this.repairIndexes(committedBytes);
  }

  /** Writes `bytes` at `position`, the committed end (after `prepareAppend`). */
  writeAt(position: number, bytes: Uint8Array): void {
    this.writeAllAt(position, [bytes], bytes.length);
  }

  /**
   * Writes batches back to back from `position`, the committed end (after `prepareAppend`), with
   * one writev, and indexes them: `entries` holds [position, baseOffset, maxTimestamp] per batch.
   */
  writeBatches(position: number, batches: readonly Uint8Array[], bytes: number, entries: readonly number[]): void {
    this.writeAllAt(position, batches, bytes);
    for (let i = 0; i < entries.length; i += 3) this.addIndexEntry(entries[i], entries[i + 1], entries[i + 2]);
    this.writeIndexes();
  }

  private writeAllAt(position: number, buffers: readonly Uint8Array[], bytes: number): void {
    // A failed write leaves bytes past the committed end: the next append cuts them (prepareAppend).
    this.knownBytes = -1;
    this.ownEnd = -1;
    this.writes++;
    let done = writevSync(this.fd, buffers as Uint8Array[], position);
    if (done < bytes) {
      // A short write (rare: a signal, a nearly full disk): the rest one buffer at a time.
      let at = 0;
      for (const buffer of buffers) {
        const end = at + buffer.length;
        while (done < end) done += writeSync(this.fd, buffer, done - at, end - done, position + done);
        at = end;
      }
    }
    this.knownBytes = position + bytes;
    this.ownEnd = position + bytes;
    this.unsynced = true;
  }

  /**
   * Loads index entries other writers added since this process last looked, ignoring entries at
   * or past the committed bytes (a writer died before committing them).
   */
  loadIndexes(committedBytes: number): void {
    const known = this.offsets.length;
    const count = Math.floor(fstatSync(this.indexFd).size / 8) - known;
    if (count > 0) {
      const bytes = new Uint8Array(count * 8);
      readSync(this.indexFd, bytes, 0, bytes.length, known * 8);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < count; i++) {
        const relative = view.getUint32(i * 8);
        const position = view.getUint32(i * 8 + 4);
        if (position >= committedBytes) break; // a dead writer's entries past the committed end
        const last = this.positions.length > 0 ? this.positions[this.positions.length - 1] : -1;
        const lastRelative = this.offsets.length > 0 ? this.offsets[this.offsets.length - 1] : -1;
        if (position <= last || relative <= lastRelative || (last < 0 && position !== 0)) {
          this.indexDamage ??= `offset index entry ${known + i} is out of order`;
          break;
        }
        this.offsets.push(relative);
        this.positions.push(position);
      }
    }
    const knownTimes = this.times.length;
    const timeCount = Math.floor(fstatSync(this.timeIndexFd).size / 12) - knownTimes;
    if (timeCount > 0) {
      const bytes = new Uint8Array(timeCount * 12);
      readSync(this.timeIndexFd, bytes, 0, bytes.length, knownTimes * 12);
      const view = new DataView(bytes.buffer);
      const lastRelative = this.offsets.length > 0 ? this.offsets[this.offsets.length - 1] : -1;
      for (let i = 0; i < timeCount; i++) {
        const relative = view.getUint32(i * 12 + 8);
        const time = view.getFloat64(i * 12);
        const previousTime = this.times.length > 0 ? this.times[this.times.length - 1] : Number.NEGATIVE_INFINITY;
        const previousRelative = this.timeOffsets.length > 0 ? this.timeOffsets[this.timeOffsets.length - 1] : -1;
        // Entries ascend in both fields; anything else is a dead writer's leftover or damage.
        if (relative > lastRelative) break; // goes with an offset entry past the committed end
        // Entries ascend in both fields, each with an offset index entry; anything else is damage.
        if (relative <= previousRelative || !(time > previousTime) || this.lookupEntry(this.base + relative).baseOffset !== this.base + relative) {
          this.indexDamage ??= `time index entry ${knownTimes + i} is inconsistent`;
          break;
        }
        this.times.push(time);
        this.timeOffsets.push(relative);
      }
    }
    this.offsetsWritten = this.offsets.length;
    this.timesWritten = this.times.length;
  }

  /**
   * Under the write lock: makes the index files exactly describe the committed bytes, cutting
   * entries a dead writer left and adding the ones it never wrote (a rebuild when they are missing).
   */
  repairIndexes(committedBytes: number): void {
    // Entries this process added for batches whose commit then failed (a full disk) are not the log's.
    if (this.positions.length > 0 && this.positions[this.positions.length - 1] >= committedBytes) this.cutIndexes(committedBytes);
    this.loadIndexes(committedBytes);
    // Repairs and recovery scan on from the last entry: it must point where it says.
    if (this.indexDamage === undefined && this.offsets.length > 0) {
      const position = this.positions[this.positions.length - 1];
      const expected = this.base + this.offsets[this.offsets.length - 1];
      const head = this.read(position, BATCH_HEADER_SIZE);
      const check = readBatchHeader(head, 0, head.length);
      if (!check.ok || check.header.baseOffset !== expected) {
        this.indexDamage = `the last offset index entry points offset ${expected} at byte ${position}, where ${check.ok ? `offset ${check.header.baseOffset} starts` : 'no batch starts'}`;
      }
    }
    if (this.indexDamage !== undefined) {
      warnIndexRebuilt(this.logPath, this.indexDamage);
      this.rebuildIndexes(committedBytes);
      return;
    }
    ftruncateSync(this.indexFd, this.offsets.length * 8);
    ftruncateSync(this.timeIndexFd, this.times.length * 12);
    this.offsetsWritten = this.offsets.length;
    this.timesWritten = this.times.length;
    const from = this.positions.length > 0 ? this.positions[this.positions.length - 1] : 0;
    this.scan(from, committedBytes, false, true);
    this.knownBytes = committedBytes;
  }

  /** Under the write lock: adds index entries for a batch just written at `position`. */
  indexBatch(position: number, baseOffset: number, maxTimestamp: number): void {
    this.addIndexEntry(position, baseOffset, maxTimestamp);
    this.writeIndexes();
  }

  /** Adds the batch at `position` to the in-memory indexes when due; `writeIndexes` writes it out. */
  private addIndexEntry(position: number, baseOffset: number, maxTimestamp: number): void {
    const last = this.positions.length > 0 ? this.positions[this.positions.length - 1] : -INDEX_INTERVAL_BYTES;
    if (position - last < INDEX_INTERVAL_BYTES) return;
    const relative = baseOffset - this.base;
    this.offsets.push(relative);
    this.positions.push(position);
    const lastTime = this.times.length > 0 ? this.times[this.times.length - 1] : Number.NEGATIVE_INFINITY;
    if (maxTimestamp > lastTime) {
      this.times.push(maxTimestamp);
      this.timeOffsets.push(relative);
    }
  }

  /** Writes the index entries added since the last call, one write per index file. */
  private writeIndexes(): void {
    const count = this.offsets.length - this.offsetsWritten;
    if (count > 0) {
      const bytes = new Uint8Array(count * 8);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < count; i++) {
        view.setUint32(i * 8, this.offsets[this.offsetsWritten + i]);
        view.setUint32(i * 8 + 4, this.positions[this.offsetsWritten + i]);
      }
      writeFully(this.indexFd, bytes, this.offsetsWritten * 8);
      this.offsetsWritten = this.offsets.length;
    }
    const timeCount = this.times.length - this.timesWritten;
    if (timeCount > 0) {
      const bytes = new Uint8Array(timeCount * 12);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < timeCount; i++) {
        view.setFloat64(i * 12, this.times[this.timesWritten + i]);
        view.setUint32(i * 12 + 8, this.timeOffsets[this.timesWritten + i]);
      }
      writeFully(this.timeIndexFd, bytes, this.timesWritten * 12);
      this.timesWritten = this.times.length;
    }
  }

  /**
   * Walks batches from `from` to `to`. With `verify`, checks each CRC; with `index`, adds index
   * entries. Returns where the valid prefix ends, the next offset after it and its max timestamp.
   */
  scan(
    from: number,
    to: number,
    verify: boolean,
    index: boolean,
  ): { validEnd: number; next: number; maxTimestamp: number; lastBatchStart: number } {
    let pos = from;
    let lastBatchStart = -1;
    let next = -1;
    let maxTimestamp = Number.NEGATIVE_INFINITY;
    const chunkSize = 1 << 20;
    let chunk: Uint8Array = new Uint8Array(0);
    let chunkStart = pos;
    while (pos < to) {
      if (pos + BATCH_HEADER_SIZE > chunkStart + chunk.length) {
        chunkStart = pos;
        chunk = this.read(pos, Math.min(chunkSize, to - pos));
      }
      const check = readBatchHeader(chunk, pos - chunkStart, chunk.length - (pos - chunkStart));
      if (!check.ok) break;
      const { header } = check;
      if (pos + header.length > to) break;
      if (verify) {
        if (pos + header.length > chunkStart + chunk.length) {
          chunkStart = pos;
          chunk = this.read(pos, Math.max(header.length, Math.min(chunkSize, to - pos)));
          if (chunk.length < header.length) break;
        }
        if (!batchCrcValid(chunk, pos - chunkStart, header.length)) break;
      }
      if (index) this.addIndexEntry(pos, header.baseOffset, header.maxTimestamp);
      lastBatchStart = pos;
      next = header.baseOffset + header.lastOffsetDelta + 1;
      if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
      pos += header.length;
    }
    if (index) this.writeIndexes();
    return { validEnd: pos, next, maxTimestamp, lastBatchStart };
  }

  /** Under the write lock, after recovery found a torn or corrupt tail: cuts the segment and its indexes at `bytes`. */
  truncate(bytes: number): void {
    ftruncateSync(this.fd, bytes);
    this.knownBytes = -1;
    this.ownEnd = -1;
    this.cutIndexes(bytes);
  }

  /** Drops index entries (in memory and in the files) of batches at or past byte `bytes`. */
  private cutIndexes(bytes: number): void {
    let keep = this.positions.findIndex((p) => p >= bytes);
    if (keep === -1) keep = this.positions.length;
    this.offsets.length = keep;
    this.positions.length = keep;
    const lastRelative = keep > 0 ? this.offsets[keep - 1] : -1;
    let keepTimes = this.timeOffsets.findIndex((r) => r > lastRelative);
    if (keepTimes === -1) keepTimes = this.timeOffsets.length;
    this.times.length = keepTimes;
    this.timeOffsets.length = keepTimes;
    ftruncateSync(this.indexFd, keep * 8);
    ftruncateSync(this.timeIndexFd, keepTimes * 12);
    this.offsetsWritten = keep;
    this.timesWritten = keepTimes;
  }

  /** The position of the last indexed batch starting at or before `offset`. */
  lookup(offset: number): number {
    return this.lookupEntry(offset).position;
  }

  /**
   * The last index entry at or before `offset`: the position of a batch and the base offset the
   * index says it has (-1 when no entry applies and the position is the segment's start), so a
   * reader can check the index against the batch it finds there.
   */
  lookupEntry(offset: number): { position: number; baseOffset: number } {
    const relative = offset - this.base;
    let lo = 0;
    let hi = this.offsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid] <= relative) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { position: 0, baseOffset: -1 } : { position: this.positions[found], baseOffset: this.base + this.offsets[found] };
  }

  /**
   * Under the write lock: throws both indexes away and rebuilds them by scanning the segment's
   * committed bytes (an index that disagrees with its segment is damaged; the segment is the truth).
   */
  rebuildIndexes(committedBytes: number): void {
    this.offsets = [];
    this.positions = [];
    this.times = [];
    this.timeOffsets = [];
    this.indexDamage = undefined;
    ftruncateSync(this.indexFd, 0);
    ftruncateSync(this.timeIndexFd, 0);
    this.offsetsWritten = 0;
    this.timesWritten = 0;
    this.scan(0, committedBytes, false, true);
    this.knownBytes = committedBytes;
  }

  /** A position at or before the first batch that may hold a record with timestamp >= `timestamp`. */
  lookupTime(timestamp: number): number {
    // Entries ascend in max timestamp: records before the first entry reaching `timestamp`
    // are all earlier, so reading may start at the entry before it.
    let index = this.times.findIndex((t) => t >= timestamp);
    if (index === -1) index = this.times.length;
    const relative = index === 0 ? 0 : this.timeOffsets[index - 1];
    return this.lookup(this.base + relative);
  }

  sync(): void {
    if (this.closed) return; // closing synced what this process wrote
    // fdatasync is enough: the committed size lives in the metadata, not in the inode.
    this.unsynced = false;
    const writes = this.writes;
    fdatasyncSync(this.fd);
    this.durableWrites = writes;
  }

  /**
   * Under the write lock: syncs the file unless its first `committedBytes` are durable already,
   * that is, this process wrote the last of them (anyone else wrote before it, under the lock)
   * and an fdatasync that started after that write has completed. A segment rolls this way
   * without a blocking sync when its group commits' syncs covered it. Returns whether it synced.
   */
  syncCommitted(committedBytes: number): boolean {
    if (this.closed) return false; // closing synced what this process wrote
    if (this.ownEnd === committedBytes && this.durableWrites === this.writes) return false;
    this.sync();
    return true;
  }

  /** After a metadata commit that may have failed: bytes this process wrote are not known to be the log's. */
  forgetOwnWrites(): void {
    this.ownEnd = -1;
  }

  /** fdatasync off the main thread; the descriptor stays open until it completes. */
  syncAsync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.unsynced = false;
    this.syncing++;
    const writes = this.writes;
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (error) => {
        this.syncing--;
        if (this.closeWanted && this.syncing === 0) this.closeNow();
        if (error) return reject(error);
        if (writes > this.durableWrites) this.durableWrites = writes;
        resolve();
      });
    });
  }

  /** Closes the files (after syncing what this process wrote and did not sync yet). */
  close(): void {
    if (this.closed) return;
    if (this.unsynced) {
      this.unsynced = false;
      fdatasyncSync(this.fd);
    }
    this.closed = true;
    if (this.syncing > 0) this.closeWanted = true;
    else this.closeNow();
  }

  private closeNow(): void {
    closeSync(this.fd);
    closeSync(this.indexFd);
    closeSync(this.timeIndexFd);
  }
}

/** Index damage is repaired, never fatal, but said: it may point at a failing disk. */
export function warnIndexRebuilt(logPath: string, why: string): void {
  process.emitWarning(`the indexes of ${logPath} were damaged (${why}); rebuilt them from the segment`, { code: 'SLUICE_INDEX_REBUILT' });
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function openOrCreate(path: string): number {
  return openSync(path, existsSync(path) ? 'r+' : 'w+');
}
