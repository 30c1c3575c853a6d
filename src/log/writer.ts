/**
 * Group commit for one partition: batches handed in while the previous write's fsync is in
 * flight are appended together under one lock and made durable by one fsync, so concurrent
 * producers share the cost of a sync instead of paying one each.
 *
 * Under the 'batch' policy an append is acknowledged only once both its bytes and the metadata
 * commit naming its new end are durable: the segment's fdatasync and one fdatasync of the
 * metadata's WAL, shared by every group waiting for it (in this and other partitions), run side
 * by side. (One after the other would keep a durable end from ever naming unsynced bytes, but
 * doubles the latency of an acknowledgement and halves group-commit throughput; so after a
 * machine crash in the middle of a group, recovery may find the end of that unacknowledged group
 * missing, and refuses the partition with DATA_LOST as for any missing committed records.)
 *
 * Each group written is published on the diagnostics channel `sluice:log:group-written` (topic,
 * partition, batches, bytes), so benchmarks can report the group size they reached.
 */
import { channel } from 'node:diagnostics_channel';
import { type AppendResult, appendBatchesLocked, type PendingBatch } from './append.ts';
import { releaseBatchMemory } from './batch-arena.ts';
import type { MetaStore } from './meta.ts';
import type { Partition } from './partition.ts';
import type { SegmentFile } from './segment-files.ts';

interface Entry {
  batch: PendingBatch;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export const groupWritten = channel('sluice:log:group-written');

/** Most bytes appended under one lock and covered by one fsync: keeps the cross-process lock short. */
const MAX_GROUP_BYTES = 1 << 20;
/** Groups whose fsync may be in flight at once: the next group is written while the previous one syncs. */
const MAX_SYNCS_IN_FLIGHT = 4;

export class PartitionWriter {
  private queue: Entry[] = [];
  private running = false;
  private readonly partition: Partition;
  private readonly meta: MetaStore;
  private readonly now: () => number;
  private readonly afterAppend: (written: SegmentFile[]) => void;

  constructor(partition: Partition, meta: MetaStore, now: () => number, afterAppend: (written: SegmentFile[]) => void) {
    this.partition = partition;
    this.meta = meta;
    this.now = now;
    this.afterAppend = afterAppend;
  }

  append(batch: PendingBatch): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Resolves once everything handed in so far is appended and synced (for a clean close). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private draining: Promise<void> | undefined;

  private drain(): Promise<void> {
    const run = this.drainLoop().finally(() => {
      if (this.draining === run) this.draining = undefined;
    });
    this.draining = run;
    return run;
  }

  private async drainLoop(): Promise<void> {
    this.running = true;
    const inFlight: Array<Promise<void>> = [];
    let previous: Promise<void> = Promise.resolve();
    try {
      while (this.queue.length > 0) {
        let limit = MAX_GROUP_BYTES;
        const room = this.partition.roomBeforeRoll();
        if (room < this.queue[0].batch.batch.length) {
          // This group rolls the segment: once the syncs in flight finish, the closing segment is
          // durable and the roll need not block the loop on a sync under the lock. The group
          // then fills at most the new segment, so it does not roll that one too.
          await Promise.all(inFlight.splice(0));
          limit = Math.min(limit, this.partition.topic.segmentBytes);
        } else if (room < limit) {
          limit = room; // end the group where the segment fills
        }
        const group = this.takeGroup(limit);
        let results: AppendResult[];
        let files: SegmentFile[];
        try {
          ({ results, files } = this.appendGroup(group));
        } catch {
          // One bad batch (a fenced producer, a sequence gap) must not fail the others: retry alone.
          for (const entry of group) {
            previous = this.appendAlone(entry, previous);
            inFlight.push(previous);
          }
          continue;
        }
        // Acknowledge in order, each group once its own fsync and every earlier one completed.
        const synced = this.partition.topic.fsync === 'batch' ? this.durable(files) : Promise.resolve();
        const done = Promise.all([previous, synced]).then(
          () => {
            for (let i = 0; i < group.length; i++) group[i].resolve(results[i]);
          },
          (error: unknown) => {
            for (const entry of group) entry.reject(error);
          },
        );
        previous = done;
        inFlight.push(done);
        if (inFlight.length >= MAX_SYNCS_IN_FLIGHT) await inFlight.shift();
        // Let producers woken by earlier acknowledgements queue more before the next group.
        if (this.queue.length === 0 && inFlight.length > 0) await inFlight.shift();
        // Producers acknowledged just now queue their next batches a few promise steps later: let
        // them all (one turn of the loop) before taking the group, or a wave of them is cut into
        // several groups, each paying a segment and a WAL fdatasync (3 groups of 511 KiB from
        // 128 producers x 12 KiB, instead of 2 of 761 KiB).
        if (inFlight.length > 0 && this.queue.length > 0 && this.queuedBytes() < MAX_GROUP_BYTES) await nextTurn();
      }
      await Promise.all(inFlight);
    } finally {
      this.running = false;
      if (this.queue.length > 0) void this.drain();
    }
  }

  /** Syncs the group's segment files and the metadata commit that names their new end. */
  private async durable(files: SegmentFile[]): Promise<void> {
    await Promise.all([...files.map((file) => file.syncAsync()), this.meta.syncCommitted()]);
  }

  private queuedBytes(): number {
    let bytes = 0;
    for (let i = 0; i < this.queue.length && bytes < MAX_GROUP_BYTES; i++) bytes += this.queue[i].batch.batch.length;
    return bytes;
  }

  private takeGroup(limit: number): Entry[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes + this.queue[count].batch.batch.length <= limit)) {
      bytes += this.queue[count].batch.batch.length;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private appendGroup(group: Entry[]): { results: AppendResult[]; files: SegmentFile[] } {
    let appended: ReturnType<typeof appendBatchesLocked>;
    try {
      appended = this.meta.locked(() => appendBatchesLocked(this.meta, this.partition, group.map((e) => e.batch), this.now()), { flush: false });
    } catch (error) {
      this.partition.forgetOwnWrites(); // bytes written under a lock that did not commit are not the log's
      throw error;
    }
    const { results, written } = appended;
    // Written (or a duplicate, never to be written): the batches' bytes may be reused.
    for (const entry of group) releaseBatchMemory(entry.batch.chunk);
    const files = [...new Set(written.map((w) => w.file))];
    if (groupWritten.hasSubscribers) {
      let bytes = 0;
      for (const entry of group) bytes += entry.batch.batch.length;
      groupWritten.publish({ topic: this.partition.topic.name, partition: this.partition.index, batches: group.length, bytes });
    }
    this.afterAppend(files);
    return { results, files };
  }

  /** Appends one entry on its own; its acknowledgement follows `previous` (never rejects: errors go to the entry). */
  private appendAlone(entry: Entry, previous: Promise<void>): Promise<void> {
    let appended: { results: AppendResult[]; files: SegmentFile[] };
    try {
      appended = this.appendGroup([entry]);
    } catch (error) {
      entry.reject(error);
      return previous;
    }
    const { results, files } = appended;
    const synced = this.partition.topic.fsync === 'batch' ? this.durable(files) : Promise.resolve();
    return Promise.all([previous, synced]).then(
      () => entry.resolve(results[0]),
      (error: unknown) => entry.reject(error),
    );
  }
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
