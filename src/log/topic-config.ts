/** A topic's settings as users give them: validated at once, with Kafka-like defaults. */
import { type LogRecord, SluiceError } from '../core/index.ts';
import type { FsyncPolicy, MetaStore, TopicMeta } from './meta.ts';

export interface TopicConfig {
  partitions: number;
  /** Keep the last record per key (and drop tombstones after `deleteRetentionMs`). */
  compact?: boolean;
  /** Delete closed segments whose newest record is older than this; -1 keeps forever (default). */
  retentionMs?: number;
  /** Delete the oldest closed segments while the partition is larger than this; -1 for no limit (default). */
  retentionBytes?: number;
  /** How long tombstones survive compaction (default 1 day). */
  deleteRetentionMs?: number;
  /** Roll the active segment at this size (default 64 MiB). */
  segmentBytes?: number;
  /** Roll the active segment at this age (default 7 days). */
  segmentMs?: number;
  /** fsync every batch (default: durable when the append resolves), every `fsyncIntervalMs`, or never. */
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Largest record accepted, as stored in a batch (default 1 MiB, Kafka's max.message.bytes). */
  maxMessageBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** A sanity limit on partitions per topic (each is a directory and files), overridable by this variable. */
export const MAX_PARTITIONS_ENV = 'SLUICE_MAX_PARTITIONS';
export const DEFAULT_MAX_PARTITIONS = 10_000;

function maxPartitions(): number {
  const text = process.env[MAX_PARTITIONS_ENV];
  if (text === undefined || text === '') return DEFAULT_MAX_PARTITIONS;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `${MAX_PARTITIONS_ENV} must be a positive integer, got '${text}'`);
  }
  return n;
}

/** Rejects a bad name or setting with a message that says what to write instead. */
export function validateTopicConfig(name: string, config: TopicConfig): void {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new SluiceError(
      'INVALID_TOPIC_NAME',
      `'${name}' is not a valid topic name: use 1 to 249 letters, digits, '.', '_' or '-' (and not '.' or '..')`,
    );
  }
  if (!Number.isInteger(config.partitions) || config.partitions < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `topic '${name}': partitions must be an integer of at least 1, got ${config.partitions}`);
  }
  const limit = maxPartitions();
  if (config.partitions > limit) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `topic '${name}': at most ${limit} partitions, got ${config.partitions} (each partition is a directory of files; set ${MAX_PARTITIONS_ENV} to allow more)`,
    );
  }
  for (const field of ['retentionMs', 'retentionBytes', 'deleteRetentionMs', 'segmentBytes', 'segmentMs', 'fsyncIntervalMs', 'maxMessageBytes'] as const) {
    const value = config[field];
    const min = field === 'retentionMs' || field === 'retentionBytes' ? -1 : field === 'deleteRetentionMs' ? 0 : 1;
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `topic '${name}': ${field} must be an integer of at least ${min}${min === -1 ? ' (-1 for no limit)' : ''}, got ${value}`,
      );
    }
  }
  if (config.fsync !== undefined && !['batch', 'interval', 'never'].includes(config.fsync)) {
    throw new SluiceError('INVALID_ARGUMENT', `topic '${name}': fsync must be 'batch', 'interval' or 'never', got '${config.fsync}'`);
  }
}

/** The stored settings of a new topic: the given ones over the defaults. */
export function topicMeta(name: string, config: TopicConfig, id: number, now: number): TopicMeta {
  return {
    name,
    id,
    partitions: config.partitions,
    compact: config.compact ?? false,
    retentionMs: config.retentionMs ?? -1,
    retentionBytes: config.retentionBytes ?? -1,
    deleteRetentionMs: config.deleteRetentionMs ?? 86_400_000,
    segmentBytes: config.segmentBytes ?? 64 << 20,
    segmentMs: config.segmentMs ?? 7 * 86_400_000,
    fsync: config.fsync ?? 'batch',
    fsyncIntervalMs: config.fsyncIntervalMs ?? 1000,
    maxMessageBytes: config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    createdAt: now,
  };
}

/** Settings `alterTopic` may change on an existing topic. */
export type TopicChanges = Pick<TopicConfig, 'retentionMs' | 'retentionBytes' | 'maxMessageBytes'>;

/** Under the lock: applies `changes` to topic `name`'s stored settings and returns them. */
export function alterTopicLocked(meta: MetaStore, name: string, changes: TopicChanges): TopicMeta {
  const current = meta.get<TopicMeta>(['topic', name]);
  if (!current) {
    throw new SluiceError('TOPIC_NOT_FOUND', `topic '${name}' does not exist; create it with \`sluice topic create ${name} --partitions N\``);
  }
  const known = new Set(['retentionMs', 'retentionBytes', 'maxMessageBytes']);
  for (const field of Object.keys(changes)) {
    if (!known.has(field)) throw new SluiceError('INVALID_ARGUMENT', `topic '${name}': ${field} cannot be changed; retentionMs, retentionBytes and maxMessageBytes can`);
  }
  validateTopicConfig(name, { partitions: current.partitions, ...changes });
  const altered: TopicMeta = { ...current };
  if (changes.retentionMs !== undefined) altered.retentionMs = changes.retentionMs;
  if (changes.retentionBytes !== undefined) altered.retentionBytes = changes.retentionBytes;
  if (changes.maxMessageBytes !== undefined) altered.maxMessageBytes = changes.maxMessageBytes;
  meta.put(['topic', name], altered);
  return altered;
}

/** Bytes `record` takes in a batch (see format.ts): what `maxMessageBytes` limits. */
export function storedRecordBytes(record: LogRecord): number {
  let bytes = 22 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const [name, value] of Object.entries(record.headers)) bytes += 6 + Buffer.byteLength(name) + value.length;
  return bytes;
}

/** Refuses a record larger than the topic allows, with RECORD_TOO_LARGE naming its place in the call. */
export function checkRecordSize(topic: TopicMeta, record: LogRecord, index: number): void {
  const max = topic.maxMessageBytes;
  if (max === undefined) return;
  const bytes = storedRecordBytes(record);
  if (bytes <= max) return;
  throw new SluiceError(
    'RECORD_TOO_LARGE',
    `record ${index} is ${bytes} bytes, more than topic '${topic.name}' accepts (${max} bytes, its max message bytes); nothing of this call was written; raise the limit with \`sluice topic alter ${topic.name} --max-message-bytes N\``,
  );
}
