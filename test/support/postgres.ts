// A real Postgres for tests: the server .ci/run started (SLUICE_PG_URL), or else one this test
// process starts with scripts/postgres.sh on a free 127.0.0.1 port and stops when it exits. Each
// call to `freshDatabase` creates a database of its own, so tests sharing a server never meet.
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, sharedServer } from './local-server.ts';

const SCRIPT = new URL('../../scripts/postgres.sh', import.meta.url).pathname;

async function startServer(): Promise<string> {
  const port = await freePort();
  const dir = join(tmpdir(), `sluice-test-postgres-${process.pid}-${port}`);
  const out = execFileSync('bash', [SCRIPT, 'start', '--port', String(port), '--dir', dir], { encoding: 'utf8' });
  process.once('exit', () => {
    execFileSync('bash', [SCRIPT, 'stop', '--port', String(port), '--dir', dir], { stdio: 'ignore' });
  });
  const url = /^url (\S+)$/m.exec(out)?.[1];
  if (url === undefined) throw new Error(`scripts/postgres.sh printed no url: ${out}`);
  return url;
}

/** The server's URL (its `sluice` database). */
export const postgresServer: () => Promise<string> = sharedServer('SLUICE_PG_URL', startServer);

let databases = 0;

/** A new, empty database on the server; its URL. */
export async function freshDatabase(prefix: string): Promise<string> {
  const url = new URL(await postgresServer());
  const name = `${prefix}_${process.pid}_${++databases}_${Date.now() % 100_000}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: url.href });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.href;
}

/** Runs `sql` on `url` and returns the rows. */
export async function query(url: string, sql: string, values?: unknown[]): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}
