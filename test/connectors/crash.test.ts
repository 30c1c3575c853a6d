// kill -9 at random moments with the Postgres and Parquet sinks: the clickstream app runs while
// input arrives, is killed with SIGKILL and restarted, then a bounded run finishes it. The upserted
// table, the appended table and the Parquet files (read by DuckDB) must then hold exactly the batch
// result: every window once, with its count and pages.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Log } from '../../src/log/index.ts';
import { freshDatabase, query } from '../support/postgres.ts';
import { duckdb, withTemp } from './helpers.ts';
import { exited, killRepeatedly } from '../support/kill-loop.ts';
import { feedInChunks } from '../support/feed.ts';

const APP = new URL('./fixtures/clickstream-app.ts', import.meta.url).pathname;
const USERS = 8;
const EVENTS = 2400;
const KILLS = 10;

interface Click {
  user_id: string;
  page: string;
  ts: number;
}

const clicks: Click[] = Array.from({ length: EVENTS }, (_, i) => ({ user_id: `u${(i * 7) % USERS}`, page: `/p${(i * 13) % 11}`, ts: i * 1000 }));

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [APP, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function applied(url: string): Promise<number> {
  try {
    const rows = await query(url, 'SELECT coalesce(max(checkpoint), 0) AS c FROM sluice_sink_offsets');
    return Number(rows[0].c);
  } catch {
    return 0; // not created yet
  }
}

for (const state of ['memory', 'lmdb'] as const) {
  void test(`SIGKILL ${KILLS} times while input arrives: Postgres (upsert and append) and Parquet hold exactly the batch result (${state} state)`, { timeout: 300_000 }, async () => {
    const url = await freshDatabase(`crash_${state}`);
    await withTemp('connectors-crash', async (dir) => {
      const dataDir = join(dir, 'data');
      const parquetDir = join(dir, 'parquet');
      const args = (mode: string) => [dataDir, mode, url, parquetDir, state];
      const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
      log.createTopic('clicks', { partitions: 3 });
      const feed = feedInChunks(log, 'clicks', clicks, { chunk: 40, key: (c) => c.user_id, pauseMs: 60 });
      await killRepeatedly({ kills: KILLS, start: () => start(args('unbounded')), progress: () => applied(url), inputDone: () => feed.produced >= EVENTS, jitterMs: 250 });
      await feed.done;
      await log.close();
      assert.equal(await exited(start(args('bounded'))), 0, 'the final bounded run completes');

      const expected = new Map<string, string[]>();
      for (const c of clicks) {
        const id = `${c.user_id}@${Math.floor(c.ts / 60_000) * 60_000}`;
        expected.set(id, [...(expected.get(id) ?? []), c.page]);
      }
      const check = (rows: Record<string, unknown>[], what: string, pages: (r: Record<string, unknown>) => string[]) => {
        const seen = new Map<string, number>();
        for (const r of rows) {
          const id = `${r.user_id}@${Number(r.window_start)}`;
          const want = expected.get(id);
          assert.ok(want, `${what}: unexpected window ${id}`);
          assert.equal(Number(r.clicks), want.length, `${what}: count of ${id}`);
          assert.deepEqual(pages(r).sort(), [...want].sort(), `${what}: pages of ${id}`);
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        for (const id of expected.keys()) assert.equal(seen.get(id), 1, `${what}: window ${id} exactly once`);
      };
      check(await query(url, 'SELECT * FROM user_clicks'), 'user_clicks', (r) => [...(r.pages as string[])]);
      check(await query(url, 'SELECT * FROM user_clicks_log'), 'user_clicks_log (append)', (r) => [...(r.pages as string[])]);
      check(await duckdb(`SELECT * FROM read_parquet('${parquetDir}/**/*.parquet')`), 'parquet', (r) => JSON.parse(String(r.pages)));
    });
  });
}
