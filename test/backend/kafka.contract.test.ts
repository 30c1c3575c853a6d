// The Kafka backend, held to the LogBackend contract against the real broker `.ci/run` starts
// (SLUICE_KAFKA_BOOTSTRAP). The broker is shared by every test: each test's topics, groups and
// transactional ids get a prefix of their own (names the contract expects to be refused pass
// through as they are, so the backend itself refuses them), and are deleted afterwards.
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { fetchV15 } from '@platformatic/kafka';
import type { BackendWriter, FetchedRecord, LogBackend } from '../../src/backend/index.ts';
import { KafkaBackend } from '../../src/backend/kafka/index.ts';
import { backendContract } from './contract.ts';

const bootstrap = process.env.SLUICE_KAFKA_BOOTSTRAP;

/** Where Kafka's semantics differ from the contract written for the embedded log (each still runs, shown as a todo). */
const KAFKA_SEMANTICS = {
  'prepared: the writer that prepared a transaction commits it; until then it is held back like an open one': 'Kafka has no prepared (two-phase) transactions a later process can decide (KIP-939 is not in 4.4 clients); exactly-once keeps state in the log transaction instead',
  'prepared: the writer that prepared a transaction aborts it; until then it is held back like an open one': 'Kafka has no prepared transactions',
  'prepared: the next writer with the transactional id finds the prepared transaction and commits it': 'Kafka has no prepared transactions',
  'prepared: the next writer with the transactional id finds the prepared transaction and aborts it': 'Kafka has no prepared transactions',
  'prepared: a fenced writer can neither commit nor abort the prepared transaction a newer writer took over': 'Kafka has no prepared transactions',
  'prepared: closing the writer that prepared a transaction leaves it for the next writer to decide': 'Kafka has no prepared transactions',
};

if (bootstrap === undefined) {
  void test('LogBackend contract: kafka', { skip: 'no broker: set SLUICE_KAFKA_BOOTSTRAP (`.ci/run` starts one with scripts/kafka.sh start)' }, () => {});
} else {
  backendContract('kafka', async () => {
    const kafka = new KafkaBackend({ brokers: [bootstrap] });
    const prefix = `c${randomUUID().slice(0, 8)}-`;
    const backend = prefixed(kafka, prefix);
    return {
      backend,
      readUncommitted: (topic, partition) => readUncommitted(kafka, prefix + topic, partition),
      async dispose() {
        for (const topic of await kafka.topicNames()) if (topic.startsWith(prefix)) await kafka.deleteTopic(topic).catch(() => undefined);
        await kafka.close();
      },
    };
  }, KAFKA_SEMANTICS);
}

const VALID = /^[a-zA-Z0-9._-]{1,249}$/;

/** The backend with every valid topic, group and transactional id prefixed. */
function prefixed(inner: KafkaBackend, prefix: string): LogBackend {
  const name = (n: string): string => (typeof n === 'string' && VALID.test(n) && n !== '.' && n !== '..' ? prefix + n : n);
  const offsets = <T extends { topic: string }>(list: T[]): T[] => list.map((o) => ({ ...o, topic: name(o.topic) }));
  const wrapWriter = (w: BackendWriter): BackendWriter => ({
    send: (topic, records) => w.send(name(topic), records),
    beginTransaction: () => w.beginTransaction(),
    sendOffsetsToTransaction: (group, list) => w.sendOffsetsToTransaction(name(group), offsets(list)),
    commitTransaction: () => w.commitTransaction(),
    abortTransaction: () => w.abortTransaction(),
    close: () => w.close(),
  });
  return {
    kind: 'kafka',
    ensureTopic: (topic, partitions, options) => inner.ensureTopic(name(topic), partitions, options),
    partitions: (topic) => inner.partitions(name(topic)),
    startOffsets: (topic) => inner.startOffsets(name(topic)),
    endOffsets: (topic) => inner.endOffsets(name(topic)),
    fetch: (topic, partition, offset, max) => inner.fetch(name(topic), partition, offset, max),
    waitForData: (topic, partition, offset, timeoutMs) => inner.waitForData(name(topic), partition, offset, timeoutMs),
    committedOffsets: (group, topic) => inner.committedOffsets(name(group), name(topic)),
    commitOffsets: (group, list) => inner.commitOffsets(name(group), offsets(list)),
    openWriter: async (options = {}) => wrapWriter(await inner.openWriter(options.transactionalId === undefined ? {} : { transactionalId: name(options.transactionalId) })),
    close: () => inner.close(),
  };
}

/** Every record a read_uncommitted reader sees (open and aborted transactions' too), markers left out: Kafka's own Fetch with isolation 0. */
async function readUncommitted(kafka: KafkaBackend, topic: string, partition: number): Promise<FetchedRecord[]> {
  const metadata = await kafka.admin.metadata({ topics: [topic], forceUpdate: true });
  const meta = metadata.topics.get(topic)!;
  const leader = metadata.brokers.get(meta.partitions[partition].leader)!;
  const { ConnectionPool } = await import('@platformatic/kafka');
  const pool = new ConnectionPool('sluice-test');
  try {
    const connection = await pool.get(leader);
    const records: FetchedRecord[] = [];
    for (let offset = 0n; ; ) {
      const response = await fetchV15.api.async(connection, 0, 0, 1 << 20, 0, 0, -1, [{ topicId: meta.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }], [], '');
      const batches = response.responses[0]?.partitions[0]?.records ?? [];
      if (batches.length === 0) return records;
      for (const batch of batches) {
        if ((batch.attributes & 0x20) === 0) {
          for (const r of batch.records) {
            const at = batch.firstOffset + BigInt(r.offsetDelta);
            if (at >= offset) records.push({ offset: Number(at), key: r.key, value: r.value, timestamp: Number(batch.firstTimestamp + r.timestampDelta) });
          }
        }
        offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
    }
  } finally {
    await pool.close();
  }
}
