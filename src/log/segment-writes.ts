import type { SegmentFile } from './segment-files.ts';

/**
 * Batches placed back to back in one segment under the write lock, written with one writev
 * (and their index entries with one write per index file) when flushed: a group commit's
 * batches cost a few system calls instead of three each.
 */
export class SegmentWrites {
  private file: SegmentFile | undefined;
  private position = 0;
  private bytes = 0;
  private batches: Uint8Array[] = [];
  /** [position, baseOffset, maxTimestamp] per batch. */
  private entries: number[] = [];

  /** Whether a batch at `position` of `file` continues the batches placed so far. */
  continues(file: SegmentFile, position: number): boolean {
    return this.file === file && this.position + this.bytes === position;
  }

  add(file: SegmentFile, position: number, batch: Uint8Array, baseOffset: number, maxTimestamp: number): void {
    if (!this.continues(file, position)) {
      this.flush();
      this.file = file;
      this.position = position;
    }
    const last = this.batches.length - 1;
    const previous = this.batches[last];
    if (previous !== undefined && previous.buffer === batch.buffer && previous.byteOffset + previous.length === batch.byteOffset) {
      // Side by side in memory (batch-arena.ts): one iovec for both.
      this.batches[last] = new Uint8Array(batch.buffer, previous.byteOffset, previous.length + batch.length);
    } else {
      this.batches.push(batch);
    }
    this.entries.push(position, baseOffset, maxTimestamp);
    this.bytes += batch.length;
  }

  /** Writes what was placed; must run under the lock that placed it, before its commit. */
  flush(): void {
    const file = this.file;
    if (!file) return;
    const { position, batches, bytes, entries } = this;
    this.file = undefined;
    this.batches = [];
    this.entries = [];
    this.bytes = 0;
    file.writeBatches(position, batches, bytes, entries);
  }
}
