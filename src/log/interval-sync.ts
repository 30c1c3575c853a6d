/** The 'interval' fsync policy: files appended to are synced once their topic's interval has passed. */
import type { SegmentFile } from './segment-files.ts';

export class IntervalSync {
  /** Files appended to, with when they are due for an fsync. */
  private readonly dirty = new Map<SegmentFile, number>();

  /** Remembers `files`, written now, as due after `intervalMs`. */
  written(files: readonly SegmentFile[], now: number, intervalMs: number): void {
    for (const file of files) if (!this.dirty.has(file)) this.dirty.set(file, now + intervalMs);
  }

  /** Syncs the files that are due (all of them with `all`, at close). */
  syncDue(now: number, all = false): void {
    for (const [file, due] of this.dirty) {
      if (!all && due > now) continue;
      this.dirty.delete(file);
      try {
        file.sync();
      } catch {
        // the file was closed (topic deleted or segment replaced): nothing left to sync
      }
    }
  }
}
