/**
 * The interface of sinks outside the log (files, Parquet, Postgres, your own): what
 * `stream.to(sink)` takes. The engine buffers a sink's records between checkpoints and drives
 * the sink through each checkpoint's steps (DESIGN section 6); the sinks themselves live in
 * src/connectors. Only types here (and the channel push sources report on): the api records the
 * sink in the graph and runs nothing.
 */
import { channel } from 'node:diagnostics_channel';

/** What a sink is told when the job opens it. */
export interface SinkContext {
  /** The app's name. */
  readonly app: string;
  /** The sink stage's stable name: name files, tables and offset rows after it. */
  readonly name: string;
  /** The app's guarantee (options.ts `Guarantee`; spelled out here, since options.ts imports the builder). */
  readonly guarantee: 'exactly-once' | 'at-least-once' | 'at-most-once';
  /** Processing-time clock, epoch ms. */
  readonly clock: () => number;
  /** Recoverable trouble worth telling the operator. */
  warn(message: string): void;
}

/** One checkpoint's records for a sink, in the order the pipeline produced them. */
export interface SinkBatch<T> {
  /** The checkpoint id: increases by one per checkpoint of the app. */
  readonly checkpoint: number;
  /** May be empty: a sink that rolls files by time gets every checkpoint. */
  readonly records: readonly T[];
  /** The last checkpoint of this run (a bounded run's end, or a stop): finish whatever is open. */
  readonly final: boolean;
  /** Processing time of the checkpoint, epoch ms. */
  readonly now: number;
}

/**
 * A sink that joins checkpoints. Each hook is called once per checkpoint, in order, by the
 * checkpoint coordinator: `write` (make the batch durable but invisible: a hidden file, rows held
 * for a database transaction), optionally `prepare`, then `commit` after the log committed the
 * checkpoint (make it visible: a rename, a database commit), or `abort` if the checkpoint failed
 * before it was prepared. On start `recover(last)` settles what a crash left: commit what
 * checkpoints up to `last` wrote, drop anything later (it is written again from the input).
 *
 * A sink that commits in a system of its own after the log (a database) sets `writeAhead`: the
 * engine then keeps each checkpoint's records inside the checkpoint and hands the last one back to
 * `recover`, so records whose checkpoint committed but whose `commit` never ran are not lost
 * (Flink's write-ahead sink). Such a sink records the last checkpoint id it applied beside the
 * data, in the same transaction, and skips a batch it already applied.
 * @example
 * // A sink that keeps each checkpoint's records in memory and makes them visible on commit.
 * const committed: unknown[] = [];
 * const pending = new Map<number, readonly unknown[]>();
 * const memorySink: Sink = {
 *   describe: 'memory',
 *   async open() {},
 *   async recover() { pending.clear(); },
 *   async write(batch) { pending.set(batch.checkpoint, batch.records); },
 *   async commit(id) { committed.push(...(pending.get(id) ?? [])); pending.delete(id); },
 *   async abort(id) { pending.delete(id); },
 *   async close() {},
 * };
 * stream.to(memorySink);
 */
export interface Sink<T = unknown> {
  /** What it writes to, for `explain()` and messages: `postgres table 'user_clicks'`. */
  readonly describe: string;
  /** Keep each checkpoint's records in the checkpoint and hand the last one to `recover` (records must be JSON values). */
  readonly writeAhead?: boolean;
  /** Connects, before `recover`. */
  open(context: SinkContext): Promise<void>;
  /**
   * On start: makes visible what checkpoints up to `last` wrote (0: none committed) and drops
   * anything later. With `writeAhead`, `pending` holds the records of checkpoint `last`.
   */
  recover(last: number, pending?: readonly T[]): Promise<void>;
  /** The checkpoint's records: made durable, not yet visible. */
  write(batch: SinkBatch<T>): Promise<void>;
  /** Optional second phase before the log commits (needs a log with two-phase commit: the embedded log). */
  prepare?(checkpoint: number): Promise<void>;
  /** The checkpoint committed: make its records visible. */
  commit(checkpoint: number): Promise<void>;
  /** The checkpoint failed before it was prepared: drop what `write` did for it. */
  abort(checkpoint: number): Promise<void>;
  close(): Promise<void>;
}

/** Whether `value` looks like a `Sink` (what `stream.to()` checks before recording it). */
export function isSink(value: unknown): value is Sink {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Partial<Sink>;
  return typeof s.write === 'function' && typeof s.commit === 'function' && typeof s.open === 'function' && typeof s.recover === 'function';
}

/** The hooks a sink lacks, for the error that names them. */
export function missingSinkHooks(value: object): string[] {
  const s = value as Record<string, unknown>;
  return ['open', 'recover', 'write', 'commit', 'abort', 'close'].filter((hook) => typeof s[hook] !== 'function');
}

/** What a source is told when the job opens it. */
export interface SourceContext {
  readonly app: string;
  /** The source stage's stable name. */
  readonly name: string;
  /** Processing-time clock, epoch ms. */
  readonly clock: () => number;
  warn(message: string): void;
}

/** One record a source read: its value's bytes (decoded by the JSON codec) and a default event time. */
export interface SourceRecord {
  value: Uint8Array;
  /** Event time when the stream gives no `timestamp` extractor, epoch ms. */
  timestamp: number;
  /** The record could not be read (a malformed CSV row): it goes to the dead letters with `value` as its bytes. */
  error?: string;
}

/**
 * A source's reader, positioned by what it already handed to the pipeline. The runtime reads it
 * once per round, saves `position()` in every checkpoint (with the state and output it led to) and
 * `seek`s back to it on restore, so a restart neither loses nor repeats a record.
 */
export interface SourceReader {
  /** A bounded run: fix the end at what is there now. */
  bound(): Promise<void>;
  /** Up to `max` records after the position; moves the position past them. */
  read(max: number): Promise<SourceRecord[]>;
  /** The reader reached its end (bounded, or a source that does not follow new data). */
  readonly done: boolean;
  /** Where the next read starts, as JSON: saved in each checkpoint. */
  position(): unknown;
  /** Moves to a saved position (a restore). */
  seek(position: unknown): void;
  /** Resolves when more may be readable, or after `timeoutMs`. */
  waitForData(timeoutMs: number): Promise<void>;
  /** The checkpoint holding `position` (a value `position()` returned) committed: a push source acknowledges what it covers. */
  committed?(position: unknown): void;
  close(): Promise<void>;
}

/**
 * A source outside the log (`app.source(...)`), read as one partition.
 * @example
 * const events = app.source(sources.file({ path: 'events/*.jsonl', format: 'jsonl' }), { timestamp: (e) => e.ts });
 */
export interface Source<T = unknown> {
  /** What it reads, for `explain()`, metrics and error positions: `jsonl files events/*.jsonl`. */
  readonly describe: string;
  open(context: SourceContext): Promise<SourceReader>;
  /** Only for typing: the values it produces. */
  readonly __values?: T;
}

/** Whether `value` looks like a `Source`. */
export function isSource(value: unknown): value is Source {
  return value !== null && typeof value === 'object' && typeof (value as Partial<Source>).open === 'function' && typeof (value as Partial<Source>).describe === 'string';
}

/** One change a changelog source read: the table, the row's key, and the row (null: deleted). */
export interface ChangelogRecord {
  table: string;
  key: unknown;
  value: unknown;
}

/**
 * A source of changes of several tables (change data capture, `sources.postgresCdc`): its values
 * are `ChangelogRecord`s, and `app.source()` makes a changelog `Table` of each of `tables`. A
 * `Source` in shape (without its value type, so that overloads of `app.source()` stay apart).
 * @example
 * const tables = app.source(sources.postgresCdc({ url, tables: ['public.users'], slot: 'sluice_users' }));
 * const users = tables.table<{ name: string; tier: string }>('public.users');
 */
export interface ChangelogSource {
  /** What it reads, for `explain()`, metrics and error positions. */
  readonly describe: string;
  /** Its reader: each record's value is a `ChangelogRecord` as JSON. */
  open(context: SourceContext): Promise<SourceReader>;
  /** The tables it captures, by the names their `Table`s get. */
  readonly tables: readonly string[];
}

/** Whether `value` is a changelog source (a source with `tables`). */
export function isChangelogSource(value: unknown): value is ChangelogSource {
  return isSource(value) && Array.isArray((value as Partial<ChangelogSource>).tables);
}

/**
 * `sluice:push-source`: what a push source (one whose producers cannot wait: HTTP, MQTT) did with
 * what it was sent, published at most every 250 ms while it changes, and when it closes. The
 * counts are cumulative since the source's reader opened (the job started). `/metrics` and the
 * dashboard read it.
 */
export const pushSourceChannel = channel('sluice:push-source');

export interface PushSourceEvent {
  /** The app's name (the job). */
  app: string;
  /** The source stage's name. */
  source: string;
  describe: string;
  time: number;
  /** Records taken into the buffer. */
  accepted: number;
  /** Requests refused because the buffer was full (HTTP 429). */
  refused: number;
  /** Records dropped because the buffer was full (`onFull: 'drop'`). */
  dropped: number;
  /** Records shed by the rule (`onFull: 'shed'`). */
  shed: number;
  /** Records in the buffer now, and at most so far. */
  buffered: number;
  maxBuffered: number;
  /** The buffer's bound, in records. */
  capacity: number;
}
