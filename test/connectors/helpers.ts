// Shared by the connector tests: a temporary data directory with an input topic, and DuckDB to
// read Parquet files back as a reader would.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
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
