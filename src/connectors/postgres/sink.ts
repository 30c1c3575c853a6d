/**
 * Rows into a Postgres table (`pg`), exactly-once: a write-ahead sink. Each checkpoint's rows
 * are kept inside the checkpoint itself (the engine's write-ahead, `Sink.writeAhead`); when the
 * checkpoint has committed they are applied in one Postgres transaction that also sets this sink's
 * row in `sluice_sink_offsets` to the checkpoint id. A checkpoint whose id that row already holds
 * is skipped, so the recovery of checkpoint L (its rows handed back from the checkpoint) applies
 * them once whether or not the crash came before the Postgres commit. Upserts by `key` (`INSERT
 * ... ON CONFLICT (key) DO UPDATE`, the last row per key in a batch wins); without `key`, appends.
 *
 * `sluice_sink_offsets(sink text primary key, checkpoint bigint, updated_at timestamptz)`, one row
 * per sink: `sink` is `<app>/<sink stage name>/<table>`.
 */
import pg from 'pg';
import type { Sink, SinkBatch, SinkContext } from '../../api/index.ts';
import { SluiceError } from '../../core/index.ts';
import { redact } from '../url.ts';

export interface PostgresSinkOptions {
  /** A connection string: `postgres://user:password@127.0.0.1:5432/analytics`. */
  url: string;
  /** The table, optionally schema-qualified: `user_clicks`, `public.user_clicks`. */
  table: string;
  /** Columns of the primary key to upsert by; omitted: append every row. */
  key?: string[];
  /** Create the table (and its primary key) from the first row's shape when it does not exist. */
  create?: boolean;
  /** Rows per INSERT statement (default 500). */
  batchRows?: number;
}

const OFFSETS_DDL = 'CREATE TABLE IF NOT EXISTS sluice_sink_offsets (sink text PRIMARY KEY, checkpoint bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())';
/** Postgres allows 65535 parameters per statement. */
const MAX_PARAMETERS = 60_000;

type Row = Record<string, unknown>;

export class PostgresSink implements Sink<Row> {
  readonly describe: string;
  readonly writeAhead = true;
  readonly #options: Required<Omit<PostgresSinkOptions, 'key'>> & { key: string[] | undefined };
  #client: pg.Client | undefined;
  #id = '';
  /** Column name -> data type of the table, once it exists. */
  #columns: Map<string, string> | undefined;
  #batch: SinkBatch<Row> | undefined;

  constructor(options: PostgresSinkOptions) {
    if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', "sinks.postgres() takes options; write sinks.postgres({ url, table: 'user_clicks', key: ['user_id', 'window_start'] })");
    const { url, table, key, create, batchRows } = options;
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) throw new SluiceError('INVALID_ARGUMENT', `sinks.postgres(): url must be a connection string such as 'postgres://user@127.0.0.1:5432/analytics', got ${JSON.stringify(url)}`);
    if (typeof table !== 'string' || !/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/.test(table)) throw new SluiceError('INVALID_ARGUMENT', `sinks.postgres(): table must be a table name such as 'user_clicks' or 'public.user_clicks', got ${JSON.stringify(table)}`);
    if (key !== undefined && (!Array.isArray(key) || key.length === 0 || key.some((k) => typeof k !== 'string' || k.length === 0))) {
      throw new SluiceError('INVALID_ARGUMENT', `sinks.postgres(): key must list the primary key's columns, such as ['user_id', 'window_start'], got ${JSON.stringify(key)}; omit it to append`);
    }
    if (batchRows !== undefined && !(Number.isInteger(batchRows) && batchRows > 0)) throw new SluiceError('INVALID_ARGUMENT', `sinks.postgres(): batchRows must be a positive integer, got ${JSON.stringify(batchRows)}`);
    this.#options = { url, table, key, create: create === true, batchRows: batchRows ?? 500 };
    this.describe = `postgres table '${table}'${key ? ` upserted by (${key.join(', ')})` : ' (append)'}`;
  }

  async open(context: SinkContext): Promise<void> {
    this.#id = `${context.app}/${context.name}/${this.#options.table}`;
    const client = new pg.Client({ connectionString: this.#options.url });
    // A connection that breaks between checkpoints fails the next statement, not the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (cause) {
      throw new SluiceError('SINK_FAILED', `${this.describe}: cannot connect to ${redact(this.#options.url)}: ${(cause as Error).message}`, { cause });
    }
    this.#client = client;
    await this.#query(OFFSETS_DDL);
    this.#columns = await this.#tableColumns();
    if (this.#columns === undefined && !this.#options.create) {
      throw new SluiceError('SINK_FAILED', `${this.describe}: table '${this.#options.table}' does not exist; create it, or pass { create: true } to create it from the first row`);
    }
  }

  /** Applies checkpoint `last`'s rows unless this sink's offsets row says they are in already. */
  async recover(last: number, pending?: readonly Row[]): Promise<void> {
    const applied = await this.#applied();
    // The app's checkpoints started again (an app reset): count from there.
    if (applied > last) await this.#query('UPDATE sluice_sink_offsets SET checkpoint = $2, updated_at = now() WHERE sink = $1', [this.#id, last]);
    if (applied < last && pending !== undefined && pending.length > 0) await this.#apply(last, pending);
    this.#batch = undefined;
  }

  async write(batch: SinkBatch<Row>): Promise<void> {
    this.#batch = batch;
  }

  async commit(checkpoint: number): Promise<void> {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch?.checkpoint !== checkpoint || batch.records.length === 0) return;
    await this.#apply(checkpoint, batch.records);
  }

  async abort(checkpoint: number): Promise<void> {
    if (this.#batch?.checkpoint === checkpoint) this.#batch = undefined;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end();
  }

  /** One transaction: the rows, and the offsets row set to `checkpoint`; skipped if it holds `checkpoint` already. */
  async #apply(checkpoint: number, records: readonly Row[]): Promise<void> {
    const rows = records.map((r, i) => asRow(r, i, this.describe));
    if (this.#columns === undefined) await this.#create(rows[0]);
    const columns = this.#columns!;
    await this.#query('BEGIN');
    try {
      const offset = await this.#query('SELECT checkpoint FROM sluice_sink_offsets WHERE sink = $1 FOR UPDATE', [this.#id]);
      const applied = offset.rows.length === 0 ? 0 : Number(offset.rows[0].checkpoint);
      if (applied >= checkpoint) {
        await this.#query('ROLLBACK');
        return;
      }
      const names = columnsOf(rows, columns, this.describe);
      const key = this.#options.key;
      const target = key === undefined ? rows : lastPerKey(rows, key, this.describe);
      const perStatement = Math.max(1, Math.min(this.#options.batchRows, Math.floor(MAX_PARAMETERS / names.length)));
      for (let at = 0; at < target.length; at += perStatement) {
        const chunk = target.slice(at, at + perStatement);
        const values: unknown[] = [];
        const tuples = chunk.map((row) => `(${names.map((name) => {
          values.push(toParameter(row[name], columns.get(name)!));
          return `$${values.length}`;
        }).join(', ')})`);
        let sql = `INSERT INTO ${quoteTable(this.#options.table)} (${names.map(quote).join(', ')}) VALUES ${tuples.join(', ')}`;
        if (key !== undefined) {
          const updates = names.filter((n) => !key.includes(n));
          sql += ` ON CONFLICT (${key.map(quote).join(', ')}) ${updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.map((n) => `${quote(n)} = EXCLUDED.${quote(n)}`).join(', ')}`}`;
        }
        await this.#query(sql, values);
      }
      await this.#query(
        'INSERT INTO sluice_sink_offsets (sink, checkpoint) VALUES ($1, $2) ON CONFLICT (sink) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()',
        [this.#id, checkpoint],
      );
      await this.#query('COMMIT');
    } catch (error) {
      await this.#client?.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async #applied(): Promise<number> {
    const result = await this.#query('SELECT checkpoint FROM sluice_sink_offsets WHERE sink = $1', [this.#id]);
    return result.rows.length === 0 ? 0 : Number(result.rows[0].checkpoint);
  }

  /** Creates the table from a row's shape, with the key as its primary key. */
  async #create(row: Row): Promise<void> {
    const key = this.#options.key ?? [];
    for (const k of key) if (!(k in row)) throw new SluiceError('SINK_FAILED', `${this.describe}: key column '${k}' is not a field of the first row ${JSON.stringify(row)}`);
    const definitions = Object.entries(row).map(([name, value]) => `${quote(name)} ${sqlType(value)}${key.includes(name) ? ' NOT NULL' : ''}`);
    if (key.length > 0) definitions.push(`PRIMARY KEY (${key.map(quote).join(', ')})`);
    await this.#query(`CREATE TABLE IF NOT EXISTS ${quoteTable(this.#options.table)} (${definitions.join(', ')})`);
    this.#columns = await this.#tableColumns();
  }

  async #tableColumns(): Promise<Map<string, string> | undefined> {
    const [schema, table] = this.#options.table.includes('.') ? this.#options.table.split('.') : [undefined, this.#options.table];
    const result = await this.#query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND table_schema = ${schema === undefined ? 'current_schema()' : '$2'} ORDER BY ordinal_position`,
      schema === undefined ? [table] : [table, schema],
    );
    if (result.rows.length === 0) return undefined;
    return new Map(result.rows.map((r) => [String(r.column_name), String(r.data_type)]));
  }

  async #query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    const client = this.#client;
    if (client === undefined) throw new SluiceError('SINK_FAILED', `${this.describe}: not connected`);
    try {
      return await client.query(sql, values);
    } catch (cause) {
      const message = (cause as Error).message;
      const hint = /no unique or exclusion constraint/.test(message) ? `; upserts need a primary key or unique index on (${this.#options.key?.join(', ')})` : '';
      throw new SluiceError('SINK_FAILED', `${this.describe}: ${message}${hint}`, { cause });
    }
  }
}

function asRow(record: unknown, index: number, describe: string): Row {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new SluiceError('SINK_FAILED', `${describe} writes objects (a column per field); row ${index} of the batch is ${JSON.stringify(record)}: map it to an object first`);
  }
  return record as Row;
}

/** The columns the batch writes: its rows' fields, each of which the table must have. */
function columnsOf(rows: readonly Row[], table: Map<string, string>, describe: string): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) names.add(name);
  for (const name of names) {
    if (!table.has(name)) throw new SluiceError('SINK_FAILED', `${describe}: the rows have a field '${name}' the table has no column for (it has ${[...table.keys()].join(', ')}); add the column or map the field away`);
  }
  return [...names];
}

/** The last row of each key, in first-seen order: one statement may not upsert a row twice. */
function lastPerKey(rows: readonly Row[], key: readonly string[], describe: string): Row[] {
  const byKey = new Map<string, Row>();
  for (const row of rows) {
    const id = JSON.stringify(key.map((k) => {
      const v = row[k];
      if (v === undefined || v === null) throw new SluiceError('SINK_FAILED', `${describe}: a row has no value for key column '${k}': ${JSON.stringify(row)}`);
      return v instanceof Date ? v.toISOString() : v;
    }));
    byKey.delete(id);
    byKey.set(id, row);
  }
  return [...byKey.values()];
}

function toParameter(value: unknown, type: string): unknown {
  if (value === undefined) return null;
  // JSON columns take text; pg would send a JS array as a Postgres array literal.
  if ((type === 'json' || type === 'jsonb') && value !== null) return JSON.stringify(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) return JSON.stringify(value);
  return value;
}

function sqlType(value: unknown): string {
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'double precision';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Date) return 'timestamptz';
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return 'text[]';
  return 'jsonb';
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteTable(table: string): string {
  return table.split('.').map(quote).join('.');
}
