/** Where produced records go, and their encoding into the batch one append writes. */
import { type LogRecord, partitionForKey, SluiceError } from '../core/index.ts';
import type { PendingBatch } from './append.ts';
import { type ArenaChunk, takeBatchMemory } from './batch-arena.ts';
import { type BatchProducer, encodeBatch, readBatchHeader } from './format.ts';
import type { ProduceRecord } from './internals.ts';
import type { TopicMeta } from './meta.ts';
import { checkRecordSize } from './topic-config.ts';

/**
 * Groups records by partition: the given one, else murmur2(key) % partitions for keyed records,
 * else `nextUnkeyed()` % partitions. Checks every record (size, partition) before any is written.
 */
export function routeRecords(topic: TopicMeta, records: readonly ProduceRecord[], nextUnkeyed: () => number): Map<number, LogRecord[]> {
  const groups = new Map<number, LogRecord[]>();
  records.forEach((record, i) => {
    checkRecordSize(topic, record, i);
    let partition = record.partition;
    // Unkeyed records rotate record by record: a call still appends one batch per partition, and
    // a pipeline's unkeyed output (one call per checkpoint) spreads over the topic instead of filling one partition.
    if (partition === undefined) partition = record.key ? partitionForKey(record.key, topic.partitions) : nextUnkeyed() % topic.partitions;
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new SluiceError('PARTITION_NOT_FOUND', `record ${i}: topic '${topic.name}' has partitions 0 to ${topic.partitions - 1}, not ${partition}`);
    }
    let group = groups.get(partition);
    if (!group) groups.set(partition, (group = []));
    group.push(record.partition === undefined ? record : { key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers });
  });
  return groups;
}

/**
 * Records as one encoded batch at base offset 0, its real base offset (and so its CRC) set when it is appended. The
 * batch lives in arena memory (batch-arena.ts): whoever writes it releases `chunk`.
 */
export function toPending(records: readonly LogRecord[], options: { attributes?: number; producer?: BatchProducer } = {}): PendingBatch {
  let chunk: ArenaChunk | undefined;
  const batch = encodeBatch(records, 0, {
    ...options, // the CRC computed now, while the bytes are in cache; the append patches it with the offset
    allocate: (size) => {
      const memory = takeBatchMemory(size);
      chunk = memory.chunk;
      return memory.bytes;
    },
  });
  const check = readBatchHeader(batch, 0, batch.length);
  if (!check.ok) throw new SluiceError('INVALID_RECORD', 'records did not encode');
  return chunk === undefined ? { batch, header: check.header } : { batch, header: check.header, chunk };
}
