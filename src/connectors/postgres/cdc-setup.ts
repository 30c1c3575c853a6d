/**
 * The Postgres side of `sources.postgresCdc`: the checks that fail early with a message saying
 * what to change (wal_level, the tables and their replica identity), the publication, and the
 * replication slot created together with the consistent snapshot of the tables' rows.
 *
 * The snapshot: `CREATE_REPLICATION_SLOT ... LOGICAL pgoutput (SNAPSHOT 'export')` on a
 * replication connection returns the slot's consistent point and a snapshot of the database as of
 * that point; a second connection imports it (`SET TRANSACTION SNAPSHOT`) in a REPEATABLE READ
 * transaction and reads every table. The change stream of the slot then starts exactly after that
 * snapshot: no change is missed or seen twice between the two.
 */
import pg from 'pg';
import { SluiceError } from '../../core/index.ts';
import { redact } from '../url.ts';

/** A captured table: its qualified name and the columns its rows are keyed by. */
export interface CapturedTable {
  /** `schema.table`, as given in `tables` (with `public.` added when no schema was given). */
  name: string;
  keyColumns: string[];
}

/** One snapshot row. */
export interface SnapshotRow {
  table: string;
  row: Record<string, unknown>;
}

const UNDEFINED_OBJECT = '42704';


/** `"schema"."table"` of a qualified name. */
export function quoteTable(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

export async function connect(url: string, what: string, replication = false): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...(replication ? { replication: 'database' } : {}) });
  // A connection that breaks later fails its next statement, not the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (cause) {
    throw new SluiceError('SOURCE_FAILED', `${what}: cannot connect to ${redact(url)}: ${(cause as Error).message}`, { cause });
  }
  return client;
}

/**
 * Checks wal_level and each table (it exists, it has a replica identity that names a key) and
 * returns the tables with their key columns.
 */
export async function checkTables(client: pg.Client, tables: readonly string[], what: string): Promise<CapturedTable[]> {
  const level = (await client.query('SHOW wal_level')).rows[0].wal_level as string;
  if (level !== 'logical') {
    throw new SluiceError('SOURCE_FAILED', `${what}: the server's wal_level is '${level}', and change data capture needs 'logical'; set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart Postgres`);
  }
  const captured: CapturedTable[] = [];
  for (const name of tables) {
    const [schema, table] = name.split('.');
    const found = await client.query(
      `SELECT c.oid, c.relreplident, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    if (found.rows.length === 0 || !['r', 'p'].includes(found.rows[0].relkind)) throw new SluiceError('SOURCE_FAILED', `${what}: table ${name} does not exist; create it, or fix its name in tables (schema.table)`);
    const { oid, relreplident } = found.rows[0] as { oid: number; relreplident: string };
    // The key: the replica identity index (REPLICA IDENTITY USING INDEX), else the primary key.
    const index = relreplident === 'i' ? 'i.indisreplident' : 'i.indisprimary';
    const keys = await client.query(
      `SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = $1 AND ${index} ORDER BY k.ord`,
      [oid],
    );
    const keyColumns = keys.rows.map((r) => r.attname as string);
    if (relreplident === 'n' || keyColumns.length === 0) {
      const why = relreplident === 'n' ? 'has REPLICA IDENTITY NOTHING' : relreplident === 'f' ? 'has REPLICA IDENTITY FULL but no primary key' : 'has no primary key (its default replica identity)';
      throw new SluiceError(
        'SOURCE_FAILED',
        `${what}: table ${name} ${why}, so its updates and deletes carry no key to apply them by; add a primary key (ALTER TABLE ${quoteTable(name)} ADD PRIMARY KEY (id)) or name a unique index (ALTER TABLE ${quoteTable(name)} REPLICA IDENTITY USING INDEX ...)`,
      );
    }
    captured.push({ name, keyColumns });
  }
  return captured;
}

/** The publication the slot streams: created, or set to exactly these tables. */
export async function ensurePublication(client: pg.Client, publication: string, tables: readonly CapturedTable[]): Promise<void> {
  const list = tables.map((t) => quoteTable(t.name)).join(', ');
  const exists = (await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])).rows.length > 0;
  const quoted = `"${publication.replaceAll('"', '""')}"`;
  await client.query(exists ? `ALTER PUBLICATION ${quoted} SET TABLE ${list}` : `CREATE PUBLICATION ${quoted} FOR TABLE ${list}`);
}

/** Whether the slot exists, and whether it is a pgoutput slot of this database. */
export async function slotInfo(client: pg.Client, slot: string): Promise<{ plugin: string; database: string } | undefined> {
  const rows = (await client.query('SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows;
  return rows[0] as { plugin: string; database: string } | undefined;
}

/** Waits until no connection holds the slot (one of a process just killed is let go within seconds). */
export async function waitForSlot(client: pg.Client, slot: string, what: string, waitMs = 30_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = (await client.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0] as { active_pid: number | null } | undefined;
    if (row === undefined || row.active_pid === null) return;
    if (Date.now() > deadline) throw new SluiceError('SOURCE_FAILED', `${what}: replication slot '${slot}' is in use by another connection (Postgres backend pid ${row.active_pid}); is the app running elsewhere? Stop it, or give this one a slot of its own`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * (Re)creates the slot and reads the snapshot it exports: every row of every table as of the
 * slot's consistent point, each table's rows in key order. A slot left by an earlier run whose
 * snapshot never reached a checkpoint is dropped first (nothing of it was kept); call
 * `waitForSlot` before, so no connection holds it.
 */
export async function createSlotWithSnapshot(url: string, slot: string, tables: readonly CapturedTable[], what: string): Promise<{ consistentPoint: string; rows: SnapshotRow[] }> {
  const replication = await connect(url, what, true);
  const reader = await connect(url, what);
  try {
    try {
      await replication.query(`DROP_REPLICATION_SLOT "${slot}"`);
    } catch (error) {
      if ((error as { code?: string }).code !== UNDEFINED_OBJECT) throw error;
    }
    const created = (await replication.query(`CREATE_REPLICATION_SLOT "${slot}" LOGICAL pgoutput (SNAPSHOT 'export')`)).rows[0] as { consistent_point: string; snapshot_name: string };
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`SET TRANSACTION SNAPSHOT '${created.snapshot_name}'`);
    const rows: SnapshotRow[] = [];
    for (const table of tables) {
      const order = table.keyColumns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
      const result = await reader.query(`SELECT * FROM ${quoteTable(table.name)} ORDER BY ${order}`);
      for (const row of result.rows) rows.push({ table: table.name, row });
    }
    await reader.query('COMMIT');
    return { consistentPoint: created.consistent_point, rows };
  } finally {
    await reader.end();
    await replication.end();
  }
}
