/** `Table<K, V>`: the latest row per key; the nodes it records are made in table-nodes.ts. */
import type { Codec } from '../core/index.ts';
import { SluiceError } from '../core/index.ts';
import type { GraphBuilder } from './builder.ts';
import type { NodeId } from './graph.ts';
import type { StageOptions } from './stage-options.ts';
import { checkOptions, Stream } from './stream-stage.ts';
import { type TableChange, type TableInfo, TableReader, foreignKeyJoinNode, tableFilterNode, tableJoinNode, tableMapNode, tableSinkNode } from './table-nodes.ts';

/**
 * A table: the latest row per key (Kafka Streams' KTable). Every change of a row flows on as a
 * changelog; a stream joined with it reads its rows. A table that holds state (a source table,
 * `toTable()`, a running aggregate, a table join) is queryable by its name while the app runs:
 * `app.table(name).get(key)`, `.scan({ prefix, limit })`, and on a versioned table `.asOf(key, time)`.
 * @example
 * const users = app.table<{ name: string; tier: string }>('users', { versions: '1h' });
 * clicks.keyBy((c) => c.user).join(users, (click, user) => ({ ...click, ...user })).to('enriched');
 */
export class Table<K, V> {
  /** @internal */
  readonly builder: GraphBuilder;
  /** @internal */
  readonly info: TableInfo;

  /** @internal Tables are made by `app.table()`, `toTable()`, running aggregates and joins. */
  constructor(builder: GraphBuilder, info: TableInfo) {
    this.builder = builder;
    this.info = info;
  }

  /** @internal The node producing the changelog. */
  get nodeId(): NodeId {
    return this.info.node;
  }

  /** The name the table is queried by (`app.table(name)`), or undefined for a table without state of its own (`filter`, `mapValues`). */
  get name(): string | undefined {
    return this.info.queryName;
  }

  /** Whether the table keeps past versions (`versions`): joins at event time and `asOf` need it. */
  get versioned(): boolean {
    return this.info.versionsMs !== undefined;
  }

  /** Keeps the rows for which `fn` is true: a row that stops passing becomes a delete. */
  filter(fn: (value: V, key: K) => boolean, options: StageOptions = {}): Table<K, V> {
    checkOptions(options, 'filter()', "{ name: 'gold-users' }");
    return new Table<K, V>(this.builder, tableFilterNode(this.builder, this.info, fn, options.name));
  }

  /** Maps each row; the key stays. */
  mapValues<U>(fn: (value: V, key: K) => U, options: StageOptions = {}): Table<K, U> {
    checkOptions(options, 'mapValues()', "{ name: 'user-names' }");
    return new Table<K, U>(this.builder, tableMapNode(this.builder, this.info, fn, options.name));
  }

  /** The changelog: `{ key, value, previous }` per change of a row, a delete with `value: null`. */
  toStream(): Stream<TableChange<K, V>> {
    return new Stream<TableChange<K, V>>(this.builder, this.info.node);
  }

  /**
   * Writes the changelog to a (compacted) topic: the key as the record key, the row as the value,
   * a delete as a tombstone; `app.table(topic)` reads it back. That is the `update` output mode
   * (a change that leaves a row as it was writes nothing); `{ mode: 'complete' }` writes the
   * whole table at each checkpoint instead.
   * @example carts.to('carts'); totals.to('totals-dashboard', { mode: 'complete' });
   */
  to(topic: string, options: StageOptions & { codec?: Codec<V>; mode?: 'update' | 'complete' } = {}): void {
    checkOptions(options, 'to()', "{ name: 'to-carts' }");
    tableSinkNode(this.builder, this.info, topic, options);
  }

  /**
   * Joins two tables on the key: a row where both have one; it changes when either side does and
   * is deleted when a side is. With a foreign key `fk` (Kafka Streams' foreign-key join), each row
   * joins the row of `other` whose key `fk(row)` names instead: the result is keyed by this
   * table's key, changes when the row or the row it names changes, and a row whose foreign key
   * changes leaves its old match.
   * @example
   * orders.join(customers, (order, customer) => ({ ...order, customer }));
   * orders.join(users, (order) => order.userId, (order, user) => ({ ...order, name: user.name }), { name: 'orders-with-users' });
   */
  join<W, R>(other: Table<K, W>, fn: (left: V, right: W) => R, options?: StageOptions): Table<K, R>;
  join<FK, W, R>(other: Table<FK, W>, fk: (left: V) => FK | null | undefined, fn: (left: V, right: W) => R, options?: StageOptions): Table<K, R>;
  join(other: Table<unknown, unknown>, ...args: unknown[]): Table<K, unknown> {
    return this.#joinOrForeignKey(other, 'inner', args);
  }

  /** As `join`, with a row for every left row (the right one may be null); with a foreign key, every left row joins the row it names or null. */
  leftJoin<W, R>(other: Table<K, W>, fn: (left: V, right: W | null) => R, options?: StageOptions): Table<K, R>;
  leftJoin<FK, W, R>(other: Table<FK, W>, fk: (left: V) => FK | null | undefined, fn: (left: V, right: W | null) => R, options?: StageOptions): Table<K, R>;
  leftJoin(other: Table<unknown, unknown>, ...args: unknown[]): Table<K, unknown> {
    return this.#joinOrForeignKey(other, 'left', args);
  }

  /** `(other, fn, options?)` joins on the key, `(other, fk, fn, options?)` on a foreign key. */
  #joinOrForeignKey(other: unknown, join: 'inner' | 'left', args: unknown[]): Table<K, unknown> {
    const keyJoin = args.length < 3 && (args[1] === undefined || (typeof args[1] === 'object' && args[1] !== null));
    if (keyJoin) return this.#join(other, join, args[0], (args[1] ?? {}) as StageOptions);
    const what = join === 'inner' ? 'join()' : 'leftJoin()';
    if (!(other instanceof Table) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', `table ${what} takes a table of the same app; write orders.${join === 'inner' ? 'join' : 'leftJoin'}(users, (order) => order.userId, (order, user) => ({ ...order, user }))`);
    }
    const options = (args[2] ?? {}) as StageOptions;
    checkOptions(options, what, "{ name: 'orders-with-users' }");
    const fk = args[0] as (row: unknown) => unknown;
    const fn = args[1] as (a: unknown, b: unknown) => unknown;
    return new Table<K, unknown>(this.builder, foreignKeyJoinNode(this.builder, this.info, other.info, join, fk, fn, options.name));
  }

  /** As `join`, with a row for every key either side has. */
  outerJoin<W, R>(other: Table<K, W>, fn: (left: V | null, right: W | null) => R, options: StageOptions = {}): Table<K, R> {
    return this.#join(other, 'outer', fn, options);
  }

  #join<R>(other: unknown, join: 'inner' | 'left' | 'outer', fn: unknown, options: StageOptions): Table<K, R> {
    const what = join === 'inner' ? 'join()' : `${join}Join()`;
    if (!(other instanceof Table) || other.builder !== this.builder) {
      throw new SluiceError('INVALID_ARGUMENT', `table ${what} takes a table of the same app; write orders.${join === 'inner' ? 'join' : `${join}Join`}(customers, (order, customer) => ({ ...order, customer }))`);
    }
    checkOptions(options, what, "{ name: 'orders-with-customers' }");
    return new Table<K, R>(this.builder, tableJoinNode(this.builder, this.info, other.info, join, fn as (a: unknown, b: unknown) => unknown, options.name));
  }

  #reader(): TableReader {
    const name = this.info.queryName;
    if (name === undefined) {
      throw new SluiceError('INVALID_ARGUMENT', 'this table has no state of its own (filter and mapValues compute rows on the way); query the table it comes from, or write .toStream().keyBy((c) => c.key).toTable({ name }) to keep one');
    }
    return new TableReader(this.builder, this.builder.appName ?? 'this app', name, this.versioned);
  }

  /** The current row of `key` while the app runs, or undefined (read from the operator's state). */
  get(key: K): V | undefined {
    return this.#reader().get(key) as V | undefined;
  }

  /** The row `key` had at event time `time` (epoch ms), on a versioned table, or undefined. */
  asOf(key: K, time: number): V | undefined {
    return this.#reader().asOf(key, time) as V | undefined;
  }

  /** Rows in key order (keys compared as strings), those whose key starts with `prefix`, at most `limit` (default 1000). */
  scan(options: { prefix?: string; limit?: number } = {}): { key: K; value: V }[] {
    return this.#reader().scan(options).rows as { key: K; value: V }[];
  }
}
