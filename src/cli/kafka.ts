/**
 * The CLI on a Kafka cluster (`--kafka HOST:PORT` or `SLUICE_KAFKA`, before or after any
 * command): topics, produce and consume through the Kafka backend, so the tour of the CLI
 * works against a cluster. Commands that only make sense on the embedded log (topic alter and
 * compact, which Kafka's own tools do) say so.
 */
import type { Command } from 'commander';
import type { KafkaBackend } from '../backend/kafka/index.ts';
import { type KafkaConfig, parseBrokers, SluiceError } from '../core/index.ts';
import type { ConsumeOptions } from './consumer.ts';
import { paint, printJson, table, write } from './format.ts';
import { recordToJsonLine } from './records.ts';

export const KAFKA_ENV = 'SLUICE_KAFKA';

/** The cluster a command runs against, if `--kafka` (or SLUICE_KAFKA) names one. */
export function kafkaOf(command: Command): KafkaConfig | undefined {
  const { kafka } = command.optsWithGlobals<{ kafka?: string }>();
  return kafka === undefined || kafka === '' ? undefined : parseBrokers(kafka);
}

/** Opens the Kafka backend, runs `work`, and closes it whatever happens. */
export async function withKafka<T>(config: KafkaConfig, work: (backend: KafkaBackend) => Promise<T>): Promise<T> {
  const { KafkaBackend } = await import('../backend/kafka/index.ts');
  const backend = new KafkaBackend(config);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/** Refuses a command Kafka's own tools do. */
export function notOnKafka(command: Command, what: string, instead: string): void {
  if (kafkaOf(command) !== undefined) throw new SluiceError('INVALID_ARGUMENT', `${what} is for the embedded log; on Kafka, ${instead}`);
}

export interface KafkaTopicOptions {
  partitions: number;
  compact?: boolean;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
}

export async function kafkaTopicCreate(backend: KafkaBackend, name: string, options: KafkaTopicOptions, json: boolean): Promise<void> {
  const configs: Record<string, string> = {};
  if (options.compact) configs['cleanup.policy'] = 'compact';
  if (options.retentionMs !== undefined) configs['retention.ms'] = String(options.retentionMs);
  if (options.retentionBytes !== undefined) configs['retention.bytes'] = String(options.retentionBytes);
  if (options.segmentBytes !== undefined) configs['segment.bytes'] = String(options.segmentBytes);
  await backend.createTopic(name, options.partitions, configs).catch((error: unknown) => {
    if (error instanceof SluiceError && error.code === 'TOPIC_EXISTS') throw new SluiceError('TOPIC_EXISTS', `topic '${name}' already exists on the Kafka cluster`, { cause: error });
    throw error;
  });
  if (json) return printJson({ name, partitions: options.partitions, configs });
  const plural = options.partitions === 1 ? '' : 's';
  await write(`${paint('green', 'created')} topic ${paint('bold', name)} with ${options.partitions} partition${plural} on Kafka${options.compact ? ' (compacted)' : ''}\n`);
}

export async function kafkaTopicList(backend: KafkaBackend, json: boolean): Promise<void> {
  const topics: { name: string; partitions: number }[] = [];
  for (const name of await backend.topicNames()) topics.push({ name, partitions: await backend.partitions(name) });
  if (json) return printJson(topics);
  if (topics.length === 0) return write('no topics; create one with `sluice topic create NAME --partitions N --kafka HOST:PORT`\n');
  await write(table(topics, [{ header: 'NAME', value: (t) => t.name }, { header: 'PARTITIONS', value: (t) => t.partitions, align: 'right' }]));
}

export async function kafkaTopicDescribe(backend: KafkaBackend, name: string, json: boolean): Promise<void> {
  const start = await backend.startOffsets(name);
  const stable = await backend.endOffsets(name);
  const partitions = start.map((first, partition) => ({ partition, startOffset: first, lastStableOffset: stable[partition] }));
  if (json) return printJson({ name, partitions });
  await write(`topic ${paint('bold', name)} on Kafka, ${partitions.length} partition${partitions.length === 1 ? '' : 's'}\n`);
  await write(
    table(partitions, [
      { header: 'PARTITION', value: (p) => p.partition, align: 'right' },
      { header: 'START', value: (p) => p.startOffset, align: 'right' },
      { header: 'LAST STABLE', value: (p) => p.lastStableOffset, align: 'right' },
    ]),
  );
}

export async function kafkaTopicDelete(backend: KafkaBackend, name: string, json: boolean): Promise<void> {
  await backend.deleteTopic(name);
  if (json) return printJson({ deleted: name });
  await write(`${paint('green', 'deleted')} topic ${paint('bold', name)} on Kafka\n`);
}

/**
 * `sluice consume --kafka`: reads read_committed from where the options say and prints JSON
 * lines. With --group it starts from the group's committed offsets and commits what it printed
 * (a simple commit, without joining the group: one consumer per group at a time).
 */
export async function kafkaConsume(backend: KafkaBackend, options: ConsumeOptions): Promise<number> {
  const { topic } = options;
  if (options.isolation === 'read_uncommitted') throw new SluiceError('INVALID_ARGUMENT', '--isolation read_uncommitted is for the embedded log; on Kafka, sluice consume reads read_committed');
  const count = await backend.partitions(topic);
  const partitions = options.partition === undefined ? [...Array(count).keys()] : [options.partition];
  if (options.partition !== undefined && options.partition >= count) throw new SluiceError('PARTITION_NOT_FOUND', `topic '${topic}' has partitions 0 to ${count - 1}; there is no partition ${options.partition}`);
  const first = await backend.startOffsets(topic);
  const end = await backend.endOffsets(topic);
  const committed = options.group === undefined ? new Map<number, number>() : await backend.committedOffsets(options.group, topic);
  const positions = new Map<number, number>();
  for (const p of partitions) {
    const start = options.start;
    let at: number;
    if (start.kind === 'beginning') at = first[p];
    else if (start.kind === 'offset') at = Math.max(first[p], Math.min(start.offset, end[p]));
    else if (start.kind === 'timestamp') at = (await backend.offsetsForTimestamp(topic, start.timestamp))[p];
    else if (start.kind === 'committed') at = committed.get(p) ?? first[p];
    else at = end[p];
    positions.set(p, at);
  }
  let printed = 0;
  let lastRecord = Date.now();
  const commit = async () => {
    if (options.group !== undefined) await backend.commitOffsets(options.group, partitions.map((p) => ({ topic, partition: p, offset: positions.get(p)! })));
  };
  try {
    while (!options.signal.aborted) {
      let lines = '';
      let read = 0;
      for (const p of partitions) {
        const remaining = options.max === undefined ? 1000 : Math.min(1000, options.max - printed - read);
        if (remaining <= 0) break;
        const { records, nextOffset } = await backend.fetch(topic, p, positions.get(p)!, remaining);
        for (const record of records) lines += `${recordToJsonLine(topic, p, record)}\n`;
        read += records.length;
        positions.set(p, nextOffset);
      }
      if (lines !== '') await options.output(lines);
      printed += read;
      if (options.max !== undefined && printed >= options.max) break;
      if (read > 0) {
        lastRecord = Date.now();
        continue;
      }
      const left = options.timeoutMs === undefined ? 1000 : options.timeoutMs - (Date.now() - lastRecord);
      if (left <= 0) break;
      const stop = new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([stop, ...partitions.map((p) => backend.waitForData(topic, p, positions.get(p)!, Math.min(left, 1000)))]);
    }
  } finally {
    await commit();
  }
  return printed;
}

/** `sluice app reset APP --kafka`: forgets the app's group offsets and its checkpoints topic; Kafka refuses while the app runs. */
export async function kafkaAppReset(backend: KafkaBackend, app: string, json: boolean): Promise<void> {
  await backend.deleteGroup(app);
  const checkpoints = `${app}.checkpoints`;
  const had = (await backend.topicNames()).includes(checkpoints);
  if (had) await backend.deleteTopic(checkpoints);
  if (json) return printJson({ app, offsets: 'deleted', checkpoints: had });
  await write(`${paint('green', 'reset')} ${paint('bold', app)} on Kafka: forgot its group offsets${had ? ' and its checkpoints' : ''}; its next run reads its input from the earliest offsets\n`);
}
