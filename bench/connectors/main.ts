/**
 * `npm run bench -- connectors`: the sinks against the fastest way to put the same rows there.
 *   1. Postgres: rows/s of `sinks.postgres` upserts (one transaction per checkpoint of
 *      `--per-checkpoint` rows, through the sink's own hooks) against `COPY ... FROM STDIN` of the
 *      same rows into a like table (pg-copy-streams), and the sink in append mode.
 *   2. Parquet: MB/s of `sinks.parquet` (staging per checkpoint, one part at the end) against
 *      DuckDB's `COPY table TO 'x.parquet'` of the same rows, each by its own output size.
 * Rows are clickstream window results `{ user_id, window_start, clicks, pages[] }`. Postgres is the
 * server in SLUICE_PG_URL, or one started here with scripts/postgres.sh (removed afterwards).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sinks } from '../../src/index.ts';

const { values: v } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    'per-checkpoint': { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(v.rows);
const PER_CHECKPOINT = Number(v['per-checkpoint']);
const RUNS = Number(v.runs);

interface Row {
  user_id: string;
  window_start: number;
  clicks: number;
  pages: string[];
}

const rows: Row[] = Array.from({ length: ROWS }, (_, i) => {
  const clicks = 1 + (i % 7);
  return { user_id: `user-${i % 5000}`, window_start: 1_700_000_000_000 + Math.floor(i / 5000) * 60_000, clicks, pages: Array.from({ length: clicks }, (_, j) => `/page/${(i + j) % 97}`) };
});

const context = (name: string) => ({ app: 'bench', name, guarantee: 'exactly-once' as const, clock: Date.now, warn: () => {} });
const best = (xs: number[]) => Math.min(...xs);

async function startPostgres(): Promise<{ url: string; stop: () => void }> {
  if (process.env.SLUICE_PG_URL) return { url: process.env.SLUICE_PG_URL, stop: () => {} };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = join(tmpdir(), `sluice-bench-postgres-${process.pid}`);
  const script = new URL('../../scripts/postgres.sh', import.meta.url).pathname;
  const out = execFileSync('bash', [script, 'start', '--port', String(port), '--dir', dir], { encoding: 'utf8' });
  return { url: /^url (\S+)$/m.exec(out)![1], stop: () => execFileSync('bash', [script, 'stop', '--port', String(port), '--dir', dir], { stdio: 'ignore' }) };
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The sink through its hooks, a checkpoint per PER_CHECKPOINT rows; seconds. */
async function timeSink(url: string, table: string, key: string[] | undefined): Promise<number> {
  await sql(url, `DROP TABLE IF EXISTS ${table}; DELETE FROM sluice_sink_offsets WHERE sink LIKE 'bench/%'`).catch(() => undefined);
  await sql(url, `CREATE TABLE ${table} (user_id text NOT NULL, window_start bigint NOT NULL, clicks bigint, pages text[]${key ? ', PRIMARY KEY (user_id, window_start)' : ''})`);
  const sink = sinks.postgres<Row>({ url, table, ...(key ? { key } : {}) });
  await sink.open(context(table));
  await sink.recover(0, []);
  const t0 = performance.now();
  let checkpoint = 0;
  for (let at = 0; at < rows.length; at += PER_CHECKPOINT) {
    checkpoint++;
    await sink.write({ checkpoint, records: rows.slice(at, at + PER_CHECKPOINT), final: false, now: Date.now() });
    await sink.commit(checkpoint);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sink.close();
  return seconds;
}

function copyText(row: Row): string {
  return `${row.user_id}\t${row.window_start}\t${row.clicks}\t{${row.pages.map((p) => `"${p}"`).join(',')}}\n`;
}

/** COPY FROM STDIN of the same rows, one transaction; seconds. */
async function timeCopy(url: string): Promise<number> {
  await sql(url, 'DROP TABLE IF EXISTS copy_ref; CREATE TABLE copy_ref (user_id text NOT NULL, window_start bigint NOT NULL, clicks bigint, pages text[], PRIMARY KEY (user_id, window_start))');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t0 = performance.now();
  await client.query('BEGIN');
  const stream = client.query(copyFrom('COPY copy_ref (user_id, window_start, clicks, pages) FROM STDIN'));
  await pipeline(Readable.from((function* () {
    for (let at = 0; at < rows.length; at += 1000) yield rows.slice(at, at + 1000).map(copyText).join('');
  })()), stream);
  await client.query('COMMIT');
  const seconds = (performance.now() - t0) / 1000;
  await client.end();
  return seconds;
}

/** sinks.parquet through its hooks; seconds and output bytes. */
async function timeParquet(dir: string): Promise<{ seconds: number; bytes: number }> {
  rmSync(dir, { recursive: true, force: true });
  const sink = sinks.parquet<Row>({ path: dir, rollEvery: '1h', schema: { user_id: 'STRING', window_start: 'INT64', clicks: 'INT64', pages: 'JSON' } });
  await sink.open(context('parquet'));
  await sink.recover(0);
  const t0 = performance.now();
  let checkpoint = 0;
  for (let at = 0; at < rows.length; at += PER_CHECKPOINT) {
    checkpoint++;
    await sink.write({ checkpoint, records: rows.slice(at, at + PER_CHECKPOINT), final: at + PER_CHECKPOINT >= rows.length, now: Date.now() });
    await sink.commit(checkpoint);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sink.close();
  const bytes = readdirSync(dir).filter((f) => f.endsWith('.parquet')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  return { seconds, bytes };
}

/** DuckDB COPY TO parquet of the same rows (loaded into a DuckDB table first, not timed); seconds and bytes. */
async function timeDuckdb(dir: string, jsonl: string): Promise<{ seconds: number; bytes: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  await c.run(`CREATE TABLE clicks AS SELECT user_id, window_start::BIGINT AS window_start, clicks::BIGINT AS clicks, pages::JSON AS pages FROM read_json('${jsonl}', format = 'newline_delimited', columns = { user_id: 'VARCHAR', window_start: 'BIGINT', clicks: 'BIGINT', pages: 'JSON' })`);
  const file = join(dir, 'duck.parquet');
  const t0 = performance.now();
  await c.run(`COPY clicks TO '${file}' (FORMAT parquet)`);
  const seconds = (performance.now() - t0) / 1000;
  c.closeSync();
  instance.closeSync();
  return { seconds, bytes: statSync(file).size };
}

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-connectors-'));
const { url, stop } = await startPostgres();
try {
  const load = loadavg()[0].toFixed(1);
  const upsert: number[] = [];
  const append: number[] = [];
  const copy: number[] = [];
  const parquet: { seconds: number; bytes: number }[] = [];
  const duck: { seconds: number; bytes: number }[] = [];
  const jsonl = join(work, 'rows.jsonl');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n'));
  await sql(url, 'CREATE TABLE IF NOT EXISTS sluice_sink_offsets (sink text PRIMARY KEY, checkpoint bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())');
  for (let run = 0; run < RUNS; run++) {
    copy.push(await timeCopy(url));
    upsert.push(await timeSink(url, 'bench_upsert', ['user_id', 'window_start']));
    append.push(await timeSink(url, 'bench_append', undefined));
    parquet.push(await timeParquet(join(work, 'parquet')));
    duck.push(await timeDuckdb(work, jsonl));
  }
  const mb = (r: { seconds: number; bytes: number }) => r.bytes / 1e6 / r.seconds;
  const bestOf = (xs: { seconds: number; bytes: number }[]) => xs.reduce((a, b) => (mb(b) > mb(a) ? b : a));
  const p = bestOf(parquet);
  const d = bestOf(duck);
  const result = {
    rows: ROWS,
    perCheckpoint: PER_CHECKPOINT,
    runs: RUNS,
    cpus: cpus().length,
    load1: Number(load),
    postgres: {
      upsertRowsPerS: Math.round(ROWS / best(upsert)),
      appendRowsPerS: Math.round(ROWS / best(append)),
      copyRowsPerS: Math.round(ROWS / best(copy)),
    },
    parquet: { sinkMBps: Number(mb(p).toFixed(1)), sinkBytes: p.bytes, duckdbMBps: Number(mb(d).toFixed(1)), duckdbBytes: d.bytes, sinkRowsPerS: Math.round(ROWS / p.seconds), duckdbRowsPerS: Math.round(ROWS / d.seconds) },
  };
  if (v.json) console.log(JSON.stringify(result));
  else {
    console.log(`connectors: ${ROWS} rows, checkpoints of ${PER_CHECKPOINT}, best of ${RUNS}; ${cpus().length} cores, load ${load}`);
    console.log(`postgres  upsert sink ${result.postgres.upsertRowsPerS} rows/s, append sink ${result.postgres.appendRowsPerS} rows/s, COPY ${result.postgres.copyRowsPerS} rows/s (upsert/COPY ${(result.postgres.upsertRowsPerS / result.postgres.copyRowsPerS).toFixed(2)})`);
    console.log(`parquet   sink ${result.parquet.sinkMBps} MB/s (${result.parquet.sinkRowsPerS} rows/s, ${p.bytes} B), DuckDB COPY TO ${result.parquet.duckdbMBps} MB/s (${result.parquet.duckdbRowsPerS} rows/s, ${d.bytes} B); rows/s sink/DuckDB ${(result.parquet.sinkRowsPerS / result.parquet.duckdbRowsPerS).toFixed(2)}`);
  }
} finally {
  stop();
  rmSync(work, { recursive: true, force: true });
}
