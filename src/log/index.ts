/**
 * log: the embedded durable log. Topics of partitions in segment files with CRC32C-checked
 * batches and sparse indexes, retention and compaction, consumer group offsets, idempotent and
 * transactional producers; several processes share one data directory safely.
 * Knows nothing of pipelines.
 */
export type { AppendResult } from './append.ts';
export type { BatchRecord } from './format.ts';
export { type GroupAssignment, type GroupMember, type JoinOptions, partitionKey, type TopicPartition } from './groups.ts';
export type { ProduceRecord } from './internals.ts';
export { type GroupOffset, Log, type LogOptions, type PartitionDescription, type TopicDescription } from './log.ts';
export type { FsyncPolicy, TopicMeta } from './meta.ts';
export type { Isolation, ReadOptions, ReadResult } from './partition.ts';
export { type ProducedOffset, Producer } from './producer.ts';
export type { RecoveryOptions, RecoveryReport } from './recovery.ts';
export type { RebuiltTopic } from './topic-admin.ts';
export type { SegmentDamage } from './partition-check.ts';
export { DEFAULT_MAX_MESSAGE_BYTES, storedRecordBytes, type TopicChanges, type TopicConfig } from './topic-config.ts';
