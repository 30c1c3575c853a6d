/**
 * The graph nodes behind tables (`Table` in table.ts only calls these), and the reads of a
 * running table. A table is a node whose output is its changelog, `{ key, value, previous }`
 * keyed by the table key: a `table` node (a source topic, `toTable()`), a running aggregate
 * (`rolling`), a `table-join`, or a stateless `flatMap` over another table's changelog
 * (`filter`, `mapValues`). Joins reach their inputs through `connectInputs` (two-input.ts), so
 * a table joins streams and tables of any key function and partition count.
 */
import { type Codec, type Duration, SluiceError, toMillis } from '../core/index.ts';
import { checkCodec, checkFunction, checkName, checkTopic, type GraphBuilder, type TableTask } from './builder.ts';
import type { NodeId, SourceTimeSpec } from './graph.ts';
import { tableSinkMode } from './output-mode.ts';
import { connectInputs, keyedInput } from './two-input.ts';

/** One change of a table: its key, new row (null: deleted) and the row it replaced (null: none). */
export interface TableChange<K, V> {
  key: K;
  value: V | null;
  previous: V | null;
  /** A versioned table's change: the version written, `[event time, row]` (it may be older than the current row). */
  version?: [time: number, row: V | null];
}

/** What a table node is: its node, whether it keeps versions (and how long), and the name it is queried by (none: not materialized). */
export interface TableInfo {
  node: NodeId;
  versionsMs?: number;
  queryName?: string;
}

/** `versions: '1h'`: a positive duration. */
export function versionsOf(versions: Duration | undefined, what: string): number | undefined {
  if (versions === undefined) return undefined;
  const ms = toMillis(versions, `${what} versions`);
  if (ms <= 0) throw new SluiceError('INVALID_ARGUMENT', `${what}: versions must be a positive duration, such as '1h'`);
  return ms;
}

/**
 * A table read from a topic: a changelog source (tombstones kept), keyed by the record key (or
 * `key(value)`), into a `table` node named after the topic, which is also its query name.
 */
export function tableSource(builder: GraphBuilder, topic: string, time: SourceTimeSpec, options: { key?: (value: any) => unknown; versionsMs?: number; codec?: Codec }): TableInfo {
  const { key, versionsMs, codec } = options;
  if (key !== undefined) checkFunction(key, 'table() key', '{ key: (user) => user.id }');
  checkName(topic);
  const source = builder.add({ kind: 'source', topic, time, changelog: true, ...(codec ? { codec } : {}) }, `source-${topic}`);
  // A tombstone has no value to take a key from: it deletes the row of its record key.
  const keyFn = key === undefined ? (r: { key: unknown }) => r.key : (r: { key: unknown; value: unknown }) => (r.value === null ? r.key : key(r.value));
  const keyed = builder.add({ kind: 'keyBy', input: source, fn: keyFn }, `${topic}.key`);
  const node = builder.add({ kind: 'table', input: keyed, changelog: true, ...(versionsMs === undefined ? {} : { versionsMs }) }, topic);
  return { node, queryName: topic, ...(versionsMs === undefined ? {} : { versionsMs }) };
}

/**
 * The tables of a changelog source (change data capture): per table, its changes (values
 * `{ table, key, value }`) keyed by `key` into a `table` node named after the table.
 */
export function changelogTables(builder: GraphBuilder, source: NodeId, tables: readonly string[]): [string, TableInfo][] {
  return tables.map((name) => {
    checkName(name);
    const changes = builder.add({ kind: 'filter', input: source, fn: (c: { table: string }) => c.table === name }, `${name}.changes`);
    const keyed = builder.add({ kind: 'keyBy', input: changes, fn: (c: { key: unknown }) => c.key }, `${name}.key`);
    const node = builder.add({ kind: 'table', input: keyed, changelog: true }, name);
    return [name, { node, queryName: name }];
  });
}

/** `keyed.toTable()`: the latest record per key (a null record deletes its key). */
export function toTableNode(builder: GraphBuilder, keyed: NodeId, options: { name?: string; versions?: Duration }): TableInfo {
  const versionsMs = versionsOf(options.versions, 'toTable()');
  const node = builder.add({ kind: 'table', input: keyed, changelog: false, ...(versionsMs === undefined ? {} : { versionsMs }) }, options.name);
  return { node, queryName: builder.node(node).name, ...(versionsMs === undefined ? {} : { versionsMs }) };
}

/** `table.filter(fn)`: a row failing `fn` is absent, so a row that stops passing becomes a delete. */
export function tableFilterNode(builder: GraphBuilder, table: TableInfo, fn: (value: any, key: any) => boolean, name?: string): TableInfo {
  checkFunction(fn, 'table filter()', '.filter((user) => user.tier === "gold")');
  const keep = (row: unknown, key: unknown): unknown => (row !== null && fn(row, key) ? row : null);
  const change = (c: TableChange<unknown, unknown>): TableChange<unknown, unknown>[] => {
    const value = keep(c.value, c.key);
    const previous = keep(c.previous, c.key);
    const version = c.version === undefined ? {} : { version: [c.version[0], keep(c.version[1], c.key)] as [number, unknown] };
    return value === null && previous === null && c.version === undefined ? [] : [{ key: c.key, value, previous, ...version }];
  };
  return derived(builder, table, builder.add({ kind: 'flatMap', input: table.node, fn: change, table: 'filter' }, name ?? `table-filter-${builder.graph.nodes.length}`));
}

/** `table.mapValues(fn)`: each row (and the row it replaced) mapped; deletes stay deletes. */
export function tableMapNode(builder: GraphBuilder, table: TableInfo, fn: (value: any, key: any) => unknown, name?: string): TableInfo {
  checkFunction(fn, 'mapValues()', '.mapValues((user) => user.name)');
  const map = (row: unknown, key: unknown): unknown => (row === null ? null : (fn(row, key) ?? null));
  const change = (c: TableChange<unknown, unknown>): TableChange<unknown, unknown>[] => [
    { key: c.key, value: map(c.value, c.key), previous: map(c.previous, c.key), ...(c.version === undefined ? {} : { version: [c.version[0], map(c.version[1], c.key)] as [number, unknown] }) },
  ];
  return derived(builder, table, builder.add({ kind: 'flatMap', input: table.node, fn: change, table: 'mapValues' }, name ?? `table-map-${builder.graph.nodes.length}`));
}

/** A table computed from another's changelog without state of its own: not queryable, versioned as its input. */
function derived(_builder: GraphBuilder, table: TableInfo, node: NodeId): TableInfo {
  return { node, ...(table.versionsMs === undefined ? {} : { versionsMs: table.versionsMs }) };
}

/** `table.to(topic)`: the changelog as upserts and tombstones. */
export function tableSinkNode(builder: GraphBuilder, table: TableInfo, topic: string, options: { name?: string; codec?: unknown; mode?: unknown }): void {
  checkTopic(topic, 'to()');
  const codec = checkCodec(options.codec, 'to()');
  const mode = tableSinkMode(options.mode);
  builder.add({ kind: 'sink', input: table.node, topic, changelog: true, ...(codec ? { codec } : {}), ...(mode ? { mode } : {}) }, options.name);
}

/** `keyed.join(table, fn)` and `leftJoin`: the stream records joined with the table's row of their key. */
export function streamTableJoinNode(builder: GraphBuilder, keyed: NodeId, table: TableInfo, join: 'inner' | 'left', fn: (event: any, row: any) => unknown, name?: string): NodeId {
  const what = join === 'inner' ? 'join()' : 'leftJoin()';
  checkFunction(fn, what, '.join(users, (click, user) => ({ ...click, tier: user.tier }))');
  if (name !== undefined) checkName(name);
  const stage = name ?? `${join === 'inner' ? 'join' : 'left-join'}-${builder.graph.nodes.length}`;
  const input = connectInputs(builder, keyedInput(builder, keyed, what), { node: table.node, key: (c: TableChange<unknown, unknown>) => c.key }, stage);
  const versioned = table.versionsMs === undefined ? {} : { versionsMs: table.versionsMs };
  return builder.add({ kind: 'stream-table-join', input, join, fn, ...versioned }, stage);
}

/** `a.join(b, fn)`, `leftJoin`, `outerJoin`: two tables joined on the key, a table queryable by its name. */
export function tableJoinNode(builder: GraphBuilder, left: TableInfo, right: TableInfo, join: 'inner' | 'left' | 'outer', fn: (a: any, b: any) => unknown, name?: string): TableInfo {
  const what = join === 'inner' ? 'join()' : `${join}Join()`;
  checkFunction(fn, what, '.join(customers, (order, customer) => ({ ...order, customer }))');
  if (name !== undefined) checkName(name);
  const stage = name ?? `table-${join}-join-${builder.graph.nodes.length}`;
  const byKey = (c: TableChange<unknown, unknown>): unknown => c.key;
  const input = connectInputs(builder, { node: left.node, key: byKey }, { node: right.node, key: byKey }, stage);
  const node = builder.add({ kind: 'table-join', input, join, fn }, stage);
  return { node, queryName: stage };
}

/**
 * `a.join(b, fk, fn)` and `leftJoin`: each row of `a` joined with the row of `b` that `fk(row)`
 * names (Kafka Streams' foreign-key join): subscriptions re-keyed by the foreign key meet `b`'s
 * changes, and the answers go back to `a`'s key, into a table queryable by the stage's name.
 */
export function foreignKeyJoinNode(builder: GraphBuilder, left: TableInfo, right: TableInfo, join: 'inner' | 'left', fk: (row: any) => unknown, fn: (a: any, b: any) => unknown, name?: string): TableInfo {
  const what = join === 'inner' ? 'join()' : 'leftJoin()';
  checkFunction(fk, `${what} foreign key`, '.join(users, (order) => order.userId, (order, user) => ({ ...order, user }))');
  checkFunction(fn, what, '.join(users, (order) => order.userId, (order, user) => ({ ...order, user }))');
  if (name !== undefined) checkName(name);
  const stage = name ?? `table-fk-${join}-join-${builder.graph.nodes.length}`;
  const subscribe = builder.add({ kind: 'fk-subscribe', input: left.node, fk }, `${stage}.subscribe`);
  const input = connectInputs(builder, { node: subscribe, key: (s: { fk: unknown }) => s.fk }, { node: right.node, key: (c: TableChange<unknown, unknown>) => c.key }, stage);
  const lookup = builder.add({ kind: 'fk-lookup', input, join, fn }, `${stage}.lookup`);
  const back = builder.add({ kind: 'keyBy', input: lookup, fn: (a: { aKey: unknown }) => a.aKey }, `${stage}.back`);
  const node = builder.add({ kind: 'fk-result', input: back }, stage);
  return { node, queryName: stage };
}

/** Rows a table read returns at most without `limit`. */
export const DEFAULT_ROWS = 1000;

/**
 * Reads a running table from the operators holding it (one per task; a key lives in one). The
 * rows are the operator's own state, copied out so a caller cannot change it.
 */
export class TableReader {
  readonly #app: string;
  readonly #name: string;
  readonly #builder: GraphBuilder;
  readonly #versioned: boolean;

  constructor(builder: GraphBuilder, app: string, name: string, versioned: boolean) {
    this.#builder = builder;
    this.#app = app;
    this.#name = name;
    this.#versioned = versioned;
  }

  #tasks(): readonly TableTask[] {
    const tasks = this.#builder.tables?.(this.#name);
    if (tasks === undefined) {
      throw new SluiceError('STORE_UNAVAILABLE', `table '${this.#name}' answers while app '${this.#app}' runs: from when app.run() has restored its state until it returns`);
    }
    return tasks;
  }

  get(key: unknown): unknown {
    for (const task of this.#tasks()) {
      const row = task.get(key);
      if (row !== undefined) return structuredClone(row);
    }
    return undefined;
  }

  asOf(key: unknown, time: number): unknown {
    if (!this.#versioned) {
      throw new SluiceError('INVALID_ARGUMENT', `table '${this.#name}' keeps no versions, so it has no past rows; open it with versions, such as app.table('${this.#name}', { versions: '1h' })`);
    }
    if (typeof time !== 'number' || Number.isNaN(time)) throw new SluiceError('INVALID_ARGUMENT', `asOf(key, time): time must be epoch ms, got ${String(time)}`);
    for (const task of this.#tasks()) {
      const row = task.asOf?.(key, time);
      if (row !== undefined) return structuredClone(row);
    }
    return undefined;
  }

  /** Rows by key (string order), those whose key starts with `prefix` (as a string), at most `limit`; and how many matched. */
  scan(options: { prefix?: string; limit?: number } = {}): { rows: { key: unknown; value: unknown }[]; total: number } {
    const { prefix, limit = DEFAULT_ROWS } = options;
    if (prefix !== undefined && typeof prefix !== 'string') throw new SluiceError('INVALID_ARGUMENT', `prefix must be a string, got ${typeof prefix}`);
    if (!Number.isInteger(limit) || limit < 1) throw new SluiceError('INVALID_ARGUMENT', `limit must be a whole number >= 1, got ${String(limit)}`);
    const found: { key: unknown; value: unknown; text: string }[] = [];
    for (const task of this.#tasks()) {
      for (const [key, value] of task.rows()) {
        const text = typeof key === 'string' ? key : JSON.stringify(key);
        if (prefix === undefined || text.startsWith(prefix)) found.push({ key, value, text });
      }
    }
    found.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    return { rows: found.slice(0, limit).map(({ key, value }) => structuredClone({ key, value })), total: found.length };
  }
}
