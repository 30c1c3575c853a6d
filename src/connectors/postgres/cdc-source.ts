/**
 * `sources.postgresCdc`: the rows of Postgres tables, then every insert, update and delete of
 * them, read by logical replication (`pgoutput`, through pg-logical-replication). `app.source()`
 * makes one changelog `Table` per captured table; each change reaches it as `{ table, key, value }`
 * (`value: null`: the row was deleted, a tombstone) at its transaction's commit time.
 *
 * Exactly-once. The first start creates the slot with a consistent snapshot (cdc-setup.ts) and
 * hands the snapshot's rows to the pipeline in one batch, so no checkpoint holds part of it (the
 * snapshot must fit in memory). Then the change stream, in commit order. The position saved in
 * each checkpoint is `{ done, lsn, n }`: `done` the end LSN of the last transaction handed whole,
 * `lsn` and `n` the commit LSN of the transaction being handed and how many of its changes were.
 * Only when that checkpoint has committed is the slot's confirmed LSN moved to `done`, so Postgres
 * keeps (and after a crash sends again) every change not yet in a committed checkpoint; on a
 * restore, changes the restored position covers are skipped. A start without a checkpoint drops
 * the slot an earlier run left and takes a new snapshot.
 *
 * A bounded run writes a logical decoding message (`pg_logical_emit_message`, prefix
 * `sluice.bound`) and ends at it: every transaction committed before `bound()` is read.
 *
 * Heartbeats (Debezium's idea): while everything handed on is in a committed checkpoint and no
 * change waits, the source writes a message (prefix `sluice.heartbeat`) every `heartbeatInterval`.
 * When it comes back through the stream with nothing before it still unconfirmed, the slot is told
 * its LSN: every transaction before it was handed on and committed. So the slot moves on while the
 * captured tables are quiet and others change, and Postgres need not keep their WAL.
 */
import { randomUUID } from 'node:crypto';
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import type { ChangelogSource, SourceContext, SourceReader, SourceRecord } from '../../api/index.ts';
import { type Duration, SluiceError, toMillis, utf8 } from '../../core/index.ts';
import { type CapturedTable, checkTables, connect, createSlotWithSnapshot, ensurePublication, slotInfo, waitForSlot } from './cdc-setup.ts';
import { redact } from '../url.ts';
import { lsnBefore, parseLsn } from './lsn.ts';
import { Arrivals } from '../arrivals.ts';

export interface PostgresCdcOptions {
  /** A connection string of a user with the REPLICATION attribute: `postgres://user@127.0.0.1:5432/app`. */
  url: string;
  /** The tables to capture, `schema.table` (`public.users`); a name without a schema is in `public`. */
  tables: string[];
  /** The replication slot (created on the first start; lower-case letters, digits and `_`). One app reads one slot. */
  slot: string;
  /** The publication the slot streams (created or set to `tables`); default the slot's name. */
  publication?: string;
  /** Changes held between Postgres and the pipeline before the stream is paused (default 10,000). */
  buffer?: number;
  /** How often a quiet source moves the slot on (default '10s'; see the file's comment). */
  heartbeatInterval?: Duration;
}

/** Where the source is in the change stream (see the file's comment). */
interface CdcPosition {
  done: string;
  lsn: string;
  n: number;
}

const BOUND_PREFIX = 'sluice.bound';
const HEARTBEAT_PREFIX = 'sluice.heartbeat';
const NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** The captured tables, checked and qualified (`users` -> `public.users`). */
export function checkCdcOptions(options: PostgresCdcOptions): Required<Omit<PostgresCdcOptions, 'publication' | 'heartbeatInterval'>> & { publication: string; heartbeatMs: number } {
  const example = "sources.postgresCdc({ url, tables: ['public.users'], slot: 'sluice_users' })";
  if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc() takes options; write ${example}`);
  const { url, tables, slot, publication = slot, buffer = 10_000, heartbeatInterval = '10s' } = options;
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): url must be a connection string such as 'postgres://user@127.0.0.1:5432/app', got ${JSON.stringify(url)}`);
  if (!Array.isArray(tables) || tables.length === 0) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): tables must list the tables to capture, such as ['public.users']; write ${example}`);
  const qualified = tables.map((t) => {
    const parts = typeof t === 'string' ? t.split('.') : [];
    if (parts.length < 1 || parts.length > 2 || !parts.every((p) => NAME.test(p))) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): table ${JSON.stringify(t)} is not a table name such as 'public.users'`);
    return parts.length === 1 ? `public.${parts[0]}` : t;
  });
  if (new Set(qualified).size !== qualified.length) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): tables lists a table twice: ${JSON.stringify(tables)}`);
  for (const [what, name] of [['slot', slot], ['publication', publication]] as const) {
    if (typeof name !== 'string' || !/^[a-z0-9_]{1,63}$/.test(name)) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): ${what} must be 1-63 lower-case letters, digits or '_', such as 'sluice_users', got ${JSON.stringify(name)}`);
  }
  if (!Number.isInteger(buffer) || buffer < 1) throw new SluiceError('INVALID_ARGUMENT', `sources.postgresCdc(): buffer must be a positive number of changes, got ${JSON.stringify(buffer)}`);
  const heartbeatMs = toMillis(heartbeatInterval, 'sources.postgresCdc() heartbeatInterval');
  if (!(heartbeatMs > 0)) throw new SluiceError('INVALID_ARGUMENT', "sources.postgresCdc(): heartbeatInterval must be positive, such as '10s'");
  return { url, tables: qualified, slot, publication, buffer, heartbeatMs };
}

export class PostgresCdcSource implements ChangelogSource {
  readonly describe: string;
  readonly tables: readonly string[];
  readonly #options: ReturnType<typeof checkCdcOptions>;

  constructor(options: PostgresCdcOptions) {
    this.#options = checkCdcOptions(options);
    this.tables = this.#options.tables;
    this.describe = `postgres cdc slot '${this.#options.slot}' (${this.tables.join(', ')})`;
  }

  async open(context: SourceContext): Promise<SourceReader> {
    return new CdcReader(this.#options, this.describe, context);
  }
}

/** What the stream handed over, in order: changes, and the ends of transactions and of a bounded run. */
type Entry = { kind: 'change'; record: SourceRecord; lsn: string; index: number } | { kind: 'commit'; end: string } | { kind: 'bound' } | { kind: 'heartbeat'; lsn: string };

class CdcReader implements SourceReader {
  readonly #options: ReturnType<typeof checkCdcOptions>;
  readonly #describe: string;
  readonly #context: SourceContext;
  #started: Promise<void> | undefined;
  /** The position restored (`seek`), whose changes are skipped when Postgres sends them again. */
  #restored: CdcPosition | undefined;
  #position: CdcPosition = { done: '0/0', lsn: '0/0', n: 0 };
  /** The LSN the slot was last told is flushed. */
  #confirmed = '0/0';
  #tables = new Map<string, CapturedTable>();
  #snapshot: SourceRecord[] = [];
  #queue: Entry[] = [];
  #service: LogicalReplicationService | undefined;
  #failure: SluiceError | undefined;
  /** The transaction being received: its commit LSN, changes so far, and whether a restore covers it whole. */
  #tx: { lsn: string; time: number; count: number; skip: boolean } | undefined;
  readonly #arrivals = new Arrivals();
  #spaced: (() => void) | undefined;
  #bound: string | undefined;
  #ended = false;
  #warnedToast = false;
  /** The position of the last committed checkpoint; the heartbeat written and not yet back; its timer. */
  #committedPosition: CdcPosition | undefined;
  #heartbeat: string | undefined;
  #heartbeats: ReturnType<typeof setInterval> | undefined;

  constructor(options: ReturnType<typeof checkCdcOptions>, describe: string, context: SourceContext) {
    this.#options = options;
    this.#describe = describe;
    this.#context = context;
  }

  /** Connects on first use: by then a restore has said (with `seek`) whether to resume. */
  #start(): Promise<void> {
    this.#started ??= this.#connect();
    return this.#started;
  }

  async #connect(): Promise<void> {
    const { url, slot, publication } = this.#options;
    const client = await connect(url, this.#describe);
    try {
      for (const table of await checkTables(client, this.#options.tables, this.#describe)) this.#tables.set(table.name, table);
      await ensurePublication(client, publication, [...this.#tables.values()]);
      const existing = await slotInfo(client, slot);
      const database = (await client.query('SELECT current_database() AS db')).rows[0].db as string;
      if (existing !== undefined && (existing.plugin !== 'pgoutput' || existing.database !== database)) {
        const whose = existing.plugin !== 'pgoutput' ? `uses the plugin '${existing.plugin}', not pgoutput` : `belongs to database '${existing.database}' (slots are named server-wide)`;
        throw new SluiceError('SOURCE_FAILED', `${this.#describe}: replication slot '${slot}' ${whose}; give the source a slot of its own`);
      }
      await waitForSlot(client, slot, this.#describe);
      if (this.#restored !== undefined) {
        if (existing === undefined) {
          throw new SluiceError('SOURCE_FAILED', `${this.#describe}: replication slot '${slot}' is gone (dropped by hand?), and with it the changes since the last checkpoint; reset the app (sluice app reset APP) to start again from a new snapshot`);
        }
        this.#position = { ...this.#restored };
        this.#confirmed = this.#restored.done;
      } else {
        const { consistentPoint, rows } = await createSlotWithSnapshot(url, slot, [...this.#tables.values()], this.#describe);
        const now = this.#context.clock();
        this.#snapshot = rows.map(({ table, row }) => ({ value: this.#encode(table, row, row), timestamp: now }));
        this.#position = { done: consistentPoint, lsn: '0/0', n: 0 };
        this.#confirmed = consistentPoint;
      }
    } finally {
      await client.end();
    }
    await this.#stream();
  }

  async #stream(): Promise<void> {
    const service = new LogicalReplicationService({ connectionString: this.#options.url }, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
    this.#service = service;
    service.on('data', (_lsn: string, message: Pgoutput.Message) => this.#receive(message));
    // Postgres asks for a reply now and then: the slot hears only what committed checkpoints hold.
    service.on('heartbeat', (_lsn: string, _time: number, shouldRespond: boolean) => {
      if (shouldRespond) void service.acknowledge(lsnBefore(this.#confirmed));
    });
    service.on('error', (error: Error) => this.#fail(error));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.#options.publication], messages: true });
    const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
    const streaming = service.subscribe(plugin, this.#options.slot, '0/0').then(
      () => {
        if (!service.isStop()) this.#fail(new Error('the replication connection closed'));
      },
      (error: Error) => this.#fail(error),
    );
    await Promise.race([started, streaming]);
    if (this.#failure !== undefined) throw this.#failure;
    this.#heartbeats = setInterval(() => void this.#beat(), this.#options.heartbeatMs);
    this.#heartbeats.unref();
  }

  /** Everything handed on is in a committed checkpoint, and nothing waits. */
  get #quiet(): boolean {
    const c = this.#committedPosition ?? this.#restored;
    const p = this.#position;
    return this.#queue.length === 0 && this.#snapshot.length === 0 && this.#tx === undefined && c !== undefined && c.done === p.done && c.lsn === p.lsn && c.n === p.n;
  }

  /** Writes a heartbeat message when quiet (one at a time); its return moves the slot on. */
  async #beat(): Promise<void> {
    if (!this.#quiet || this.#heartbeat !== undefined || this.#failure !== undefined) return;
    const nonce = randomUUID();
    this.#heartbeat = nonce;
    try {
      await this.#emit(HEARTBEAT_PREFIX, nonce);
    } catch (error) {
      this.#heartbeat = undefined;
      this.#context.warn(`${this.#describe}: could not write a heartbeat (${(error as Error).message}); the slot moves on with the next change`);
    }
  }

  async #emit(prefix: string, content: string): Promise<void> {
    const client = await connect(this.#options.url, this.#describe);
    try {
      await client.query('SELECT pg_logical_emit_message(false, $1, $2)', [prefix, content]);
    } finally {
      await client.end();
    }
  }

  #fail(cause: Error): void {
    this.#failure ??= cause instanceof SluiceError ? cause : new SluiceError('SOURCE_FAILED', `${this.#describe}: replication from ${redact(this.#options.url)} stopped: ${cause.message}; run the app again: it resumes from its last checkpoint`, { cause });
    this.#arrivals.wake();
    this.#spaced?.();
  }

  /** One pgoutput message, in WAL commit order; waits (pausing the stream) while the queue is full. */
  async #receive(message: Pgoutput.Message): Promise<void> {
    switch (message.tag) {
      case 'begin': {
        const lsn = message.commitLsn ?? '0/0';
        // A transaction the restored checkpoint holds whole: Postgres sends it again when the crash came before the slot heard of it.
        const skip = this.#restored !== undefined && parseLsn(lsn) < parseLsn(this.#restored.done);
        this.#tx = { lsn, time: Number(BigInt(message.commitTime as bigint) / 1000n), count: 0, skip };
        return;
      }
      case 'insert':
        this.#change(message.relation, message.new, message.new);
        break;
      case 'update': {
        const before = message.key ?? message.old;
        const table = this.#captured(message.relation);
        // A changed key moves the row: the old key is deleted.
        if (before !== null && table !== undefined && JSON.stringify(keyOf(table, before)) !== JSON.stringify(keyOf(table, message.new))) this.#change(message.relation, before, null);
        this.#warnUnchanged(message.relation, message.new);
        this.#change(message.relation, message.new, message.new);
        break;
      }
      case 'delete':
        this.#change(message.relation, (message.key ?? message.old)!, null);
        break;
      case 'truncate':
        this.#fail(
          new SluiceError('SOURCE_FAILED', `${this.#describe}: ${message.relations.map((r) => `${r.schema}.${r.name}`).join(', ')} was truncated; a TRUNCATE names no rows, so the tables cannot follow it: delete rows with DELETE, or reset the app (sluice app reset APP) to start from a new snapshot`),
        );
        return;
      case 'commit':
        if (this.#tx !== undefined && !this.#tx.skip) this.#push({ kind: 'commit', end: message.commitEndLsn ?? '0/0' });
        this.#tx = undefined;
        break;
      case 'message':
        if (message.prefix === BOUND_PREFIX && Buffer.from(message.content).toString('utf8') === this.#bound) this.#push({ kind: 'bound' });
        if (message.prefix === HEARTBEAT_PREFIX && Buffer.from(message.content).toString('utf8') === this.#heartbeat && message.messageLsn !== null) this.#push({ kind: 'heartbeat', lsn: message.messageLsn });
        break;
      default:
        return;
    }
    while (this.#queue.length >= this.#options.buffer && this.#failure === undefined) await new Promise<void>((resolve) => (this.#spaced = resolve));
  }

  #captured(relation: Pgoutput.MessageRelation): CapturedTable | undefined {
    return this.#tables.get(`${relation.schema}.${relation.name}`);
  }

  /** A change of a captured table: skipped when the restored position already holds it. */
  #change(relation: Pgoutput.MessageRelation, keyRow: Record<string, unknown>, row: Record<string, unknown> | null): void {
    const table = this.#captured(relation);
    const tx = this.#tx;
    if (table === undefined || tx === undefined) return;
    const index = tx.count++;
    if (tx.skip || (this.#restored !== undefined && tx.lsn === this.#restored.lsn && index < this.#restored.n)) return;
    this.#push({ kind: 'change', record: { value: this.#encode(table.name, keyRow, row), timestamp: tx.time }, lsn: tx.lsn, index });
  }

  #encode(table: string, keyRow: Record<string, unknown>, row: Record<string, unknown> | null): Uint8Array {
    const captured = this.#tables.get(table)!;
    return utf8(JSON.stringify({ table, key: keyOf(captured, keyRow), value: row === null ? null : { ...row } }));
  }

  /** An unchanged TOASTed value is not sent (without REPLICA IDENTITY FULL): the row would lack it. */
  #warnUnchanged(relation: Pgoutput.MessageRelation, row: Record<string, unknown>): void {
    if (this.#warnedToast || !relation.columns.some((c) => row[c.name] === undefined)) return;
    this.#warnedToast = true;
    this.#context.warn(`${this.#describe}: an update of ${relation.schema}.${relation.name} left a large (TOASTed) value unchanged, which Postgres does not send; its row lacks that column. Set ALTER TABLE ${relation.schema}.${relation.name} REPLICA IDENTITY FULL to get whole rows`);
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    this.#arrivals.wake();
  }

  async bound(): Promise<void> {
    await this.#start();
    this.#bound = randomUUID();
    await this.#emit(BOUND_PREFIX, this.#bound);
  }

  get done(): boolean {
    return this.#ended;
  }

  async read(max: number): Promise<SourceRecord[]> {
    await this.#start();
    if (this.#failure !== undefined) throw this.#failure;
    // The snapshot goes in one batch: a checkpoint holds all of it or none.
    if (this.#snapshot.length > 0) {
      const snapshot = this.#snapshot;
      this.#snapshot = [];
      return snapshot;
    }
    const records: SourceRecord[] = [];
    let taken = 0;
    for (; taken < this.#queue.length && !this.#ended; taken++) {
      const entry = this.#queue[taken];
      if (entry.kind === 'change') {
        if (records.length === max) break;
        records.push(entry.record);
        this.#position = { ...this.#position, lsn: entry.lsn, n: entry.index + 1 };
      } else if (entry.kind === 'commit') this.#position = { ...this.#position, done: entry.end };
      else if (entry.kind === 'heartbeat') this.#heartbeatBack(entry.lsn, records.length === 0);
      else this.#ended = true;
    }
    this.#queue.splice(0, taken);
    if (this.#queue.length < this.#options.buffer) this.#spaced?.();
    return records;
  }

  /** A heartbeat came back: if everything before it is committed, the slot may skip to it. */
  #heartbeatBack(lsn: string, nothingHanded: boolean): void {
    this.#heartbeat = undefined;
    if (!nothingHanded || !this.#quietBefore()) return;
    if (parseLsn(lsn) <= parseLsn(this.#confirmed)) return;
    this.#confirmed = lsn;
    void this.#service?.acknowledge(lsnBefore(lsn));
  }

  /** As `#quiet`, for the entries before the one being read: the position handed on is the committed one. */
  #quietBefore(): boolean {
    const c = this.#committedPosition ?? this.#restored;
    const p = this.#position;
    return c !== undefined && c.done === p.done && c.lsn === p.lsn && c.n === p.n;
  }

  position(): CdcPosition {
    return this.#position;
  }

  seek(position: unknown): void {
    const p = position as Partial<CdcPosition> | null;
    if (p === null || typeof p !== 'object' || typeof p.done !== 'string' || typeof p.lsn !== 'string' || typeof p.n !== 'number') {
      throw new SluiceError('CHECKPOINT_CORRUPT', `${this.#describe}: the checkpoint's position ${JSON.stringify(position)} is not a change-stream position { done, lsn, n }`);
    }
    this.#restored = { done: p.done, lsn: p.lsn, n: p.n };
  }

  committed(position: unknown): void {
    this.#committedPosition = position as CdcPosition;
    const { done } = position as CdcPosition;
    if (parseLsn(done) <= parseLsn(this.#confirmed)) return;
    this.#confirmed = done;
    void this.#service?.acknowledge(lsnBefore(done));
  }

  async waitForData(timeoutMs: number): Promise<void> {
    await this.#start();
    if (this.#queue.length > 0 || this.#snapshot.length > 0 || this.#failure !== undefined) return;
    await this.#arrivals.wait(timeoutMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeats);
    this.#failure ??= new SluiceError('SOURCE_FAILED', `${this.#describe}: closed`);
    this.#spaced?.();
    await this.#service?.destroy();
  }
}

/** The key of a row: its key column's value, or the values of several in order. */
function keyOf(table: CapturedTable, row: Record<string, unknown>): unknown {
  return table.keyColumns.length === 1 ? row[table.keyColumns[0]] : table.keyColumns.map((c) => row[c]);
}
