/**
 * Retention and compaction of closed segments.
 *
 * Retention deletes whole closed segments older than `retentionMs` (by their largest record
 * timestamp) or beyond `retentionBytes`, moving the log start forward; it reads the topic's
 * settings fresh, so `sluice topic alter` applies to running processes. Compaction lives in
 * compaction.ts.
 */
import type { AbortedRange, MetaStore, PartitionMeta, SegmentMeta, TopicMeta } from './meta.ts';
import { lastStableOffset, type Partition } from './partition.ts';
import { removeFilesOf } from './partition-files.ts';

export { type CompactOptions, compactPartition } from './compaction.ts';

/** Deletes closed segments past retention. Returns how many were deleted. */
export function enforceRetention(meta: MetaStore, partition: Partition, now: number): number {
  const topic = meta.get<TopicMeta>(['topic', partition.topic.name]) ?? partition.topic;
  if (topic.id !== partition.topic.id) return 0; // deleted (and perhaps created again) meanwhile
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
  for (const segment of removed) removeFilesOf(partition.dir, segment);
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
