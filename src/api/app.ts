/**
 * The api-level app: options, sources, and the logical graph they start. The runnable
 * `Sluice` class extends it at the package root, where it may reach the runtime.
 */
import { type Codec, type Duration, SluiceError, toMillis } from '../core/index.ts';
import type { WatermarkSpec } from '../time/index.ts';
import { checkCodec, checkFunction, checkTopic, GraphBuilder } from './builder.ts';
import { type ChangelogSource, isChangelogSource, isSource, type Source } from './connector.ts';
import { describeGraph, holdsTable, type LogicalGraph, type SourceTimeSpec } from './graph.ts';
import { type AppOptions, type ResolvedAppOptions, resolveAppOptions } from './options.ts';
import { Stream, Table } from './stream.ts';
import { changelogTables, tableSource, versionsOf } from './table-nodes.ts';

/** A watermark strategy, as `Watermarks.boundedOutOfOrderness('5s')` builds it, or just its bound as a duration. */
export type WatermarkArgument = WatermarkSpec | Duration;

/** Options of `app.stream(topic, {...})`. */
export interface SourceOptions<T> {
  /** Event time of a value, epoch ms; default the log record's timestamp. */
  timestamp?: (value: T) => number;
  /** Watermark strategy; default no out-of-orderness (event time never goes back). */
  watermark?: WatermarkArgument;
  /** How values are stored in the topic; default JSON. */
  codec?: Codec<T>;
  /** A partition silent this long stops holding the watermark back (timing-dependent; default never). */
  idleTimeout?: Duration;
}

/** Options of `app.table(topic, {...})`: a source's options, the key, and versions. */
export interface TableSourceOptions<V> extends SourceOptions<V> {
  /** The table key of a value; default the record key (as a string). A tombstone deletes the row of its record key. */
  key?: (value: V) => unknown;
  /**
   * Keep each key's earlier rows this long before the watermark (`'1h'`): a versioned table.
   * A stream joined with it joins the row valid at each record's event time, and
   * `app.table(name).asOf(key, time)` reads past rows.
   */
  versions?: Duration;
}

export class AppBuilder {
  readonly options: ResolvedAppOptions;
  /** @internal */
  readonly builder = new GraphBuilder();

  constructor(options: AppOptions) {
    this.options = resolveAppOptions(options);
    this.builder.appName = this.options.name;
  }

  /**
   * A stream of the JSON values of a topic.
   * @example
   * const events = app.stream<{ url: string; ts: number }>('events', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness('5s') });
   */
  stream<T>(topic: string, options: SourceOptions<T> = {}): Stream<T> {
    checkTopic(topic, 'stream()');
    this.#oneReader(topic);
    if (options === null || typeof options !== 'object') {
      throw new SluiceError('INVALID_ARGUMENT', "stream() options must be an object such as { timestamp: (e) => e.ts, watermark: '5s' }");
    }
    const time = sourceTime(options, 'stream()');
    const codec = checkCodec(options.codec, 'stream()');
    return new Stream<T>(this.builder, this.builder.add({ kind: 'source', topic, time, ...(codec ? { codec } : {}) }, `source-${topic}`));
  }

  /**
   * A stream read from a source outside the log (files, ...); its position is in every checkpoint.
   * @example
   * const events = app.source(sources.file({ path: 'events/*.jsonl', format: 'jsonl' }), { timestamp: (e) => e.ts });
   */
  source(source: ChangelogSource, options?: ConnectorSourceOptions<unknown>): SourceTables;
  source<T>(source: Source<T>, options?: ConnectorSourceOptions<T>): Stream<T>;
  source<T>(source: Source<T> | ChangelogSource, options: ConnectorSourceOptions<T> = {}): Stream<T> | SourceTables {
    if (!isSource(source)) throw new SluiceError('INVALID_ARGUMENT', "source() takes a source such as sources.file({ path: 'events/*.jsonl', format: 'jsonl' }); for a topic write app.stream('events')");
    const time = sourceTime(options, 'source()');
    const changelog = isChangelogSource(source);
    const taken = changelog ? source.tables.find((name) => this.#tableNamed(name) !== undefined) : undefined;
    if (taken !== undefined) throw new SluiceError('INVALID_ARGUMENT', `table '${taken}' is already defined in this app; capture each table with one source`);
    const node = this.builder.add({ kind: 'source', topic: source.describe, time, connector: source as Source }, options.name);
    if (!changelog) return new Stream<T>(this.builder, node);
    // Change data capture: a changelog table per captured table, each named (and queried) after it.
    const tables = new Map<string, Table<unknown, unknown>>();
    for (const [name, info] of changelogTables(this.builder, node, source.tables)) {
      const table = new Table<unknown, unknown>(this.builder, info);
      this.#tables.set(name, table);
      tables.set(name, table);
    }
    return new SourceTables(tables);
  }

  /**
   * A table: the latest value per key of a (usually compacted) topic, keyed by the record key
   * unless `key` is given; a tombstone (a null value) deletes its key. Called with the name of a
   * table the app already has (a source table's topic, or the name of `toTable()`, a running
   * aggregate or a table join), it returns that table, to query while the app runs.
   * @example
   * const users = app.table<{ name: string; tier: string }>('users', { versions: '1h', timestamp: (u) => u.updatedAt });
   * // while app.run() runs:
   * app.table('users').get('u1');                 // { name, tier }
   * app.table('users').asOf('u1', Date.now() - 60_000);
   */
  table<V = unknown, K = string>(topic: string, options?: TableSourceOptions<V>): Table<K, V> {
    const existing = this.#tableNamed(topic);
    if (existing !== undefined) {
      if (options !== undefined) throw new SluiceError('INVALID_ARGUMENT', `table '${topic}' is already defined in this app; call app.table('${topic}') without options to get it`);
      return existing as Table<K, V>;
    }
    if (this.builder.tables !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}' has no table named '${topic}' (tables: ${this.#tableNames().map((n) => `'${n}'`).join(', ') || 'none'}); a running app cannot add one`);
    }
    checkTopic(topic, 'table()');
    this.#oneReader(topic);
    const given = options ?? {};
    if (given === null || typeof given !== 'object') {
      throw new SluiceError('INVALID_ARGUMENT', "table() options must be an object such as { versions: '1h', timestamp: (u) => u.updatedAt }");
    }
    const codec = checkCodec(given.codec, 'table()');
    const versionsMs = versionsOf(given.versions, `table('${topic}')`);
    const info = tableSource(this.builder, topic, sourceTime(given), { ...(given.key ? { key: given.key } : {}), ...(versionsMs === undefined ? {} : { versionsMs }), ...(codec ? { codec } : {}) });
    const table = new Table<K, V>(this.builder, info);
    this.#tables.set(topic, table);
    return table;
  }

  readonly #tables = new Map<string, Table<unknown, unknown>>();

  /** A table of this app by name: one made by app.table(), or a node that holds one. */
  #tableNamed(name: string): Table<unknown, unknown> | undefined {
    const known = this.#tables.get(name);
    if (known !== undefined) return known;
    const node = this.builder.graph.nodes.find((n) => n.name === name && holdsTable(n));
    if (node === undefined) return undefined;
    const versionsMs = node.kind === 'table' ? node.versionsMs : undefined;
    const table = new Table<unknown, unknown>(this.builder, { node: node.id, queryName: node.name, ...(versionsMs === undefined ? {} : { versionsMs }) });
    this.#tables.set(name, table);
    return table;
  }

  /** @internal The names tables are queried by. */
  tableNames(): string[] {
    return this.#tableNames();
  }

  #tableNames(): string[] {
    return this.builder.graph.nodes.flatMap((n) => (holdsTable(n) ? [n.name] : []));
  }

  /** One reader per topic: two would commit conflicting offsets for the app's group. */
  #oneReader(topic: string): void {
    const source = this.builder.graph.nodes.find((n) => n.kind === 'source' && n.topic === topic);
    if (source === undefined) return;
    const first = source.kind === 'source' && source.changelog ? `table the first app.table('${topic}')` : `stream the first app.stream('${topic}')`;
    throw new SluiceError('INVALID_ARGUMENT', `topic '${topic}' is already a source of this app; keep the ${first} returned and use it again`);
  }

  /** The logical graph recorded so far. */
  get graph(): LogicalGraph {
    return this.builder.graph;
  }

  /** The logical graph as JSON-able data. */
  describe(): unknown[] {
    return describeGraph(this.builder.graph);
  }
}

/**
 * The tables of a change data capture source (`app.source(sources.postgresCdc(...))`): a
 * changelog `Table` per captured table, keyed by its primary key (an array for a key of several
 * columns), a deleted row removed. Each is also `app.table(name)`, to query while the app runs.
 * @example
 * const users = app.source(sources.postgresCdc({ url, tables: ['public.users'], slot: 'sluice_users' })).table<User>('public.users');
 * clicks.keyBy((c) => c.user_id).join(users, (click, user) => ({ ...click, tier: user.tier })).to('enriched-clicks');
 */
export class SourceTables {
  readonly #tables: ReadonlyMap<string, Table<unknown, unknown>>;

  /** @internal Made by `app.source()`. */
  constructor(tables: ReadonlyMap<string, Table<unknown, unknown>>) {
    this.#tables = tables;
  }

  /** The captured tables' names. */
  get names(): string[] {
    return [...this.#tables.keys()];
  }

  /** The changelog table of a captured table (`public.users`; `users` means `public.users`). */
  table<V = Record<string, any>, K = unknown>(name: string): Table<K, V> {
    const table = this.#tables.get(name) ?? (name.includes('.') ? undefined : this.#tables.get(`public.${name}`));
    if (table === undefined) throw new SluiceError('INVALID_ARGUMENT', `table ${JSON.stringify(name)} is not captured by this source (it captures ${this.names.map((n) => `'${n}'`).join(', ')}); add it to tables`);
    return table as Table<K, V>;
  }
}

/** Options of `app.source(source, {...})`: event time and watermarks, and a stable name. */
export interface ConnectorSourceOptions<T> extends Omit<SourceOptions<T>, 'codec'> {
  name?: string;
}

/** A source's event time and watermark, from its options. */
function sourceTime(options: Omit<SourceOptions<any>, 'codec'>, what = 'stream()'): SourceTimeSpec {
  if (options === null || typeof options !== 'object') {
    throw new SluiceError('INVALID_ARGUMENT', `${what} options must be an object such as { timestamp: (e) => e.ts, watermark: '5s' }`);
  }
  const watermark = toWatermarkSpec(options.watermark);
  if (options.idleTimeout !== undefined) {
    watermark.idleTimeoutMs = toMillis(options.idleTimeout, 'idleTimeout');
    if (watermark.idleTimeoutMs === 0) throw new SluiceError('INVALID_ARGUMENT', "idleTimeout must be positive, such as '1m'; omit it to never treat a partition as idle");
  }
  const time: SourceTimeSpec = { watermark };
  if (options.timestamp !== undefined) {
    checkFunction(options.timestamp, `${what} timestamp`, '{ timestamp: (e) => e.ts }');
    time.timestamp = options.timestamp;
  }
  return time;
}

function toWatermarkSpec(watermark: WatermarkArgument | undefined): WatermarkSpec {
  if (watermark === undefined) return { kind: 'bounded-out-of-orderness', boundMs: 0 };
  if (typeof watermark === 'number' || typeof watermark === 'string') {
    return { kind: 'bounded-out-of-orderness', boundMs: toMillis(watermark, 'watermark') };
  }
  if (watermark !== null && typeof watermark === 'object' && 'kind' in watermark && watermark.kind === 'bounded-out-of-orderness') {
    return { ...watermark, boundMs: toMillis(watermark.boundMs, 'watermark bound') };
  }
  throw new SluiceError('INVALID_ARGUMENT', `watermark: ${JSON.stringify(watermark)} is not a watermark strategy; write Watermarks.boundedOutOfOrderness('5s')`);
}
