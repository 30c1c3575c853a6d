/** What `Log.describeTopic` (and `sluice topic describe`) reports of a topic and its partitions. */
import type { PartitionMeta, TopicMeta } from './meta.ts';
import { lastStableOffset } from './partition.ts';

export interface PartitionDescription {
  partition: number;
  firstOffset: number;
  nextOffset: number;
  lastStableOffset: number;
  sizeBytes: number;
  segments: number;
}

export interface TopicDescription {
  name: string;
  config: TopicMeta;
  partitions: PartitionDescription[];
}

export function describePartition(partition: number, state: PartitionMeta): PartitionDescription {
  return {
    partition,
    firstOffset: state.logStart,
    nextOffset: state.next,
    lastStableOffset: lastStableOffset(state),
    sizeBytes: state.segments.reduce((sum, s) => sum + s.bytes, 0),
    segments: state.segments.length,
  };
}
