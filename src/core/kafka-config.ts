/** How Sluice reaches a Kafka cluster: `new Sluice({ kafka: { brokers } })`, `--kafka HOST:PORT`, `SLUICE_KAFKA`. */
import { SluiceError } from './errors.ts';

export interface KafkaConfig {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[];
  /** The client id brokers log (default `sluice`). */
  clientId?: string;
}

const HOST_PORT = /^[^\s:,]+:\d{1,5}$/;

/** Checks a config, naming what is wrong; returns it with the brokers trimmed. */
export function checkKafkaConfig(config: unknown, where = 'kafka'): KafkaConfig {
  if (config === null || typeof config !== 'object' || !Array.isArray((config as KafkaConfig).brokers) || (config as KafkaConfig).brokers.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `${where} needs brokers; write kafka: { brokers: ['127.0.0.1:9092'] }`);
  }
  const { brokers, clientId } = config as KafkaConfig;
  const trimmed = brokers.map((b) => (typeof b === 'string' ? b.trim() : b));
  for (const broker of trimmed) {
    if (typeof broker !== 'string' || !HOST_PORT.test(broker)) {
      throw new SluiceError('INVALID_ARGUMENT', `${where}: broker ${JSON.stringify(broker)} is not HOST:PORT, such as '127.0.0.1:9092'`);
    }
  }
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) throw new SluiceError('INVALID_ARGUMENT', `${where}: clientId must be a non-empty string`);
  return { brokers: trimmed, ...(clientId === undefined ? {} : { clientId }) };
}

/** `HOST:PORT[,HOST:PORT...]`, as `--kafka` and `SLUICE_KAFKA` take it. */
export function parseBrokers(list: string, where = '--kafka'): KafkaConfig {
  return checkKafkaConfig({ brokers: list.split(',').filter((b) => b.trim() !== '') }, where);
}
