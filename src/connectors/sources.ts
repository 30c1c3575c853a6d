/**
 * `sources`: the sources outside the log that ship with Sluice, each read with its position in
 * every checkpoint (see docs/semantics.md).
 */
import type { ChangelogSource, Source } from '../api/index.ts';
import { FileSource, type FileSourceOptions } from './files/file-source.ts';
import { HttpSource, type HttpSourceOptions } from './http/http-source.ts';
import { MqttSource, type MqttSourceOptions } from './mqtt/mqtt-source.ts';
import { PostgresCdcSource, type PostgresCdcOptions } from './postgres/cdc-source.ts';

/**
 * JSON lines or CSV files matching a glob; bounded unless `watch: true`.
 * @example
 * const events = app.source(sources.file({ path: 'events/*.jsonl', format: 'jsonl' }), { timestamp: (e) => e.ts });
 */
function file<T = any>(options: FileSourceOptions): Source<T> {
  return new FileSource(options) as Source<T>;
}

/**
 * A push source: JSON lines POSTed to 127.0.0.1, acknowledged when their checkpoint commits;
 * when the pipeline falls behind it refuses with 429 (`onFull: 'block'`), drops, or sheds by a rule.
 * @example
 * const events = app.source(sources.http({ port: 8080, path: '/events' }), { timestamp: (e) => e.ts });
 */
function http<T = any>(options: HttpSourceOptions): Source<T> & { readonly stats: HttpSource['stats']; readonly port: number | undefined } {
  return new HttpSource(options) as unknown as Source<T> & HttpSource;
}

/**
 * Change data capture from Postgres (logical replication, pgoutput): a consistent snapshot of
 * `tables`, then their inserts, updates and deletes; `app.source()` makes a changelog `Table` of
 * each. Needs `wal_level = logical` and a primary key (or replica identity index) per table.
 * @example
 * const users = app.source(sources.postgresCdc({ url, tables: ['public.users'], slot: 'sluice_users' })).table('public.users');
 */
function postgresCdc(options: PostgresCdcOptions): ChangelogSource {
  return new PostgresCdcSource(options);
}

/**
 * JSON messages of MQTT topic filters. At-least-once with QoS 1 (a persistent session,
 * acknowledged after the checkpoint; a crash may deliver a message again), at-most-once with QoS 0:
 * MQTT has no offsets to replay from.
 * @example
 * const readings = app.source(sources.mqtt({ url: 'mqtt://127.0.0.1:1883', topic: 'sensors/+/temperature', qos: 1 }), { timestamp: (r) => r.ts });
 */
function mqtt<T = any>(options: MqttSourceOptions): Source<T> & { readonly stats: MqttSource['stats'] } {
  return new MqttSource(options) as Source<T> & MqttSource;
}

export const sources = { file, http, mqtt, postgresCdc };
