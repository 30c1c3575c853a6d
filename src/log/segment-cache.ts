/**
 * The open segment files of one log, across its partitions: a least-recently-used set of at
 * most `capacity` handles (each holds three descriptors: log, offset index, time index), so a
 * process reading topics of many segments, or one whose segments compaction keeps replacing,
 * holds a bounded number of open files.
 */
import type { SegmentFile } from './segment-files.ts';

export const DEFAULT_MAX_OPEN_SEGMENTS = 64;

/** A partition's handles by segment base; the cache removes what it evicts. */
export type SegmentFiles = Map<number, SegmentFile>;

export class SegmentCache {
  readonly capacity: number;
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly order = new Map<SegmentFile, SegmentFiles>();
  private last: SegmentFile | undefined;

  constructor(capacity = DEFAULT_MAX_OPEN_SEGMENTS) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.order.size;
  }

  /** Marks `file` as just used. */
  touch(file: SegmentFile): void {
    if (this.last === file) return;
    const owner = this.order.get(file);
    if (!owner) return;
    this.order.delete(file);
    this.order.set(file, owner);
    this.last = file;
  }

  /** Adds a newly opened handle of `owner`'s, closing the least recently used ones beyond capacity. */
  add(file: SegmentFile, owner: SegmentFiles): void {
    owner.set(file.base, file);
    this.order.set(file, owner);
    this.last = file;
    for (const [oldest, oldestOwner] of this.order) {
      if (this.order.size <= this.capacity) break;
      this.forget(oldest, oldestOwner);
    }
  }

  /** Closes `file` and forgets it. */
  remove(file: SegmentFile, owner: SegmentFiles): void {
    this.forget(file, owner);
  }

  private forget(file: SegmentFile, owner: SegmentFiles): void {
    this.order.delete(file);
    if (owner.get(file.base) === file) owner.delete(file.base);
    if (this.last === file) this.last = undefined;
    file.close();
  }
}
