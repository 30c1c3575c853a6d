/**
 * Options of an app and of its sources, checked at once: every message says what to write.
 */
import { checkKafkaConfig, type Duration, type KafkaConfig, SluiceError, toMillis } from '../core/index.ts';
import { checkName } from './builder.ts';

export type Guarantee = 'exactly-once' | 'at-least-once' | 'at-most-once';
export type OnError = 'dead-letter' | 'fail';

/** Options of `new Sluice({...})`. */
export interface AppOptions {
  /** Required; the consumer group of the app's sources and the prefix of internal topics (`<name>.dlq`). */
  name: string;
  /** Data directory of the embedded log (default `./.sluice`). */
  dataDir?: string;
  /** How often state, offsets and output commit together (default `'1s'`). */
  checkpointInterval?: Duration;
  guarantee?: Guarantee;
  /** A record that fails to decode or throws in user code: to `<name>.dlq` (default) or stop the run. */
  onError?: OnError;
  state?: 'memory' | 'lmdb';
  /**
   * Worker threads to run the app's tasks on (default 1), at most one per source partition: each
   * thread runs its share of the tasks, records cross between threads by key through repartition
   * topics, and each thread commits its tasks exactly once. `sluice run FILE --parallelism N` sets it too.
   * @example new Sluice({ name: 'clicks', parallelism: 2 })
   */
  parallelism?: number;
  /**
   * Run on a Kafka cluster instead of the embedded log: sources, sinks, internal topics, group
   * offsets and transactions are Kafka's. `sluice run FILE --kafka HOST:PORT` gives the same without changing the file.
   * @example new Sluice({ name: 'clicks', kafka: { brokers: ['127.0.0.1:9092'] } })
   */
  kafka?: KafkaConfig;
}

export interface ResolvedAppOptions {
  name: string;
  dataDir: string;
  checkpointIntervalMs: number;
  guarantee: Guarantee;
  onError: OnError;
  state: 'memory' | 'lmdb';
  parallelism: number;
  kafka?: KafkaConfig;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new SluiceError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(value)} is not one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

export function resolveAppOptions(options: AppOptions): ResolvedAppOptions {
  if (options === null || typeof options !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', "new Sluice() needs options; write new Sluice({ name: 'clicks' })");
  }
  if (options.name === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', "new Sluice() needs a name; write new Sluice({ name: 'clicks' })");
  }
  checkName(options.name);
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir === '')) {
    throw new SluiceError('INVALID_ARGUMENT', "dataDir must be a directory path such as './.sluice'");
  }
  const checkpointIntervalMs = toMillis(options.checkpointInterval ?? '1s', 'checkpointInterval');
  if (checkpointIntervalMs === 0) throw new SluiceError('INVALID_ARGUMENT', "checkpointInterval must be positive, such as '1s' or 100");
  return {
    name: options.name,
    dataDir: options.dataDir ?? './.sluice',
    checkpointIntervalMs,
    guarantee: oneOf(options.guarantee, ['exactly-once', 'at-least-once', 'at-most-once'] as const, 'guarantee', 'exactly-once'),
    onError: oneOf(options.onError, ['dead-letter', 'fail'] as const, 'onError', 'dead-letter'),
    state: oneOf(options.state, ['memory', 'lmdb'] as const, 'state', 'memory'),
    parallelism: checkParallelism(options.parallelism, 'parallelism'),
    ...(options.kafka === undefined ? {} : { kafka: checkKafkaConfig(options.kafka, 'new Sluice() kafka') }),
  };
}

/** A thread count: a whole number from 1. */
export function checkParallelism(value: unknown, what: string): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1024) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(value)} is not a thread count; give a whole number from 1, such as parallelism: 2`);
  }
  return value;
}
