// Shared by the connector tests: a temporary data directory with an input topic, and DuckDB to
// read Parquet files back as a reader would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { jsonCodec, utf8 } from '../../src/core/index.ts';

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTemp<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), `${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Produces `values` (JSON) to `topic` in the embedded log of `dataDir`, keyed by `key(value)` when given. */
export async function produce(dataDir: string, topic: string, partitions: number, values: unknown[], key?: (v: any) => string, timestamp?: (v: any) => number): Promise<void> {
  const log = await EmbeddedBackend.open(dataDir);
  try {
    await log.ensureTopic(topic, partitions);
    const writer = await log.openWriter();
    const records = values.map((v, i) => ({ key: key ? utf8(key(v)) : null, value: jsonCodec.encode(v), timestamp: timestamp ? timestamp(v) : i, ...(key ? {} : { partition: i % partitions }) }));
    await writer.send(topic, records);
    await writer.close();
  } finally {
    await log.close();
  }
}

/** Rows of a DuckDB query (values as JSON-friendly: bigints as strings). */
export async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * A replication slot name of a test's own: slots belong to the whole server, which tests (and
 * earlier runs against the same server) share, so it is named after the test's fresh database.
 */
export function slotFor(url: string): string {
  return `s_${new URL(url).pathname.slice(1)}`.slice(0, 63);
}

/** Drops a test's replication slot (a slot keeps WAL on the server until it is dropped). */
export async function dropSlot(url: string, slot: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
  } finally {
    await client.end();
  }
}
