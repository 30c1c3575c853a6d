// sinks.postgres against a real Postgres: upserts by key from a pipeline (table created from the
// first row), appends, and the write-ahead recovery that applies a committed checkpoint's rows
// exactly once whether or not the crash came before the Postgres commit.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSluiceError, Sluice, sinks, Windows } from '../../src/index.ts';
import { freshDatabase, query } from '../support/postgres.ts';
import { produce, withTemp } from './helpers.ts';

interface Click {
  user: string;
  page: string;
  ts: number;
}

const context = { app: 'pg', name: 'sink', guarantee: 'exactly-once' as const, clock: () => 0, warn: () => {} };
const clicks = (from: number, n: number): Click[] => Array.from({ length: n }, (_, i) => ({ user: `u${(from + i) % 4}`, page: `/p${(from + i) % 6}`, ts: (from + i) * 1500 }));

void test('sinks.postgres upserts window results by key into a table it creates; a second run adds the new windows', { timeout: 120_000 }, async () => {
  const url = await freshDatabase('pg_upsert');
  await withTemp('pg-sink', async (dir) => {
    const dataDir = join(dir, 'data');
    const run = async () => {
      const app = new Sluice({ name: 'clickstream', dataDir, checkpointInterval: '20ms' });
      app
        .stream<Click>('clicks', { timestamp: (e) => e.ts })
        .keyBy((e) => e.user)
        .window(Windows.tumbling('1m'))
        .collect((e) => e.page)
        .map((r) => ({ user_id: r.key, window_start: r.start, clicks: r.value.length, pages: r.value }))
        .to(sinks.postgres({ url, table: 'user_clicks', key: ['user_id', 'window_start'], create: true }));
      await app.run({ bounded: true, batchSize: 5 });
    };
    const all = [...clicks(0, 200)];
    await produce(dataDir, 'clicks', 2, all, (c) => c.user, (c) => c.ts);
    await run();
    const more = clicks(400, 100);
    all.push(...more);
    await produce(dataDir, 'clicks', 2, more, (c) => c.user, (c) => c.ts);
    await run();

    const want = new Map<string, string[]>();
    for (const c of all) {
      const id = `${c.user}@${Math.floor(c.ts / 60_000) * 60_000}`;
      want.set(id, [...(want.get(id) ?? []), c.page]);
    }
    const rows = await query(url, 'SELECT user_id, window_start, clicks, pages FROM user_clicks');
    assert.equal(rows.length, want.size, 'one row per user and minute');
    for (const r of rows) {
      const pages = want.get(`${r.user_id}@${r.window_start}`);
      assert.ok(pages, `unexpected row ${JSON.stringify(r)}`);
      assert.equal(Number(r.clicks), pages.length);
      assert.deepEqual([...(r.pages as string[])].sort(), [...pages].sort(), 'collect_list as text[]');
    }
    const offsets = await query(url, 'SELECT sink, checkpoint FROM sluice_sink_offsets');
    assert.equal(offsets.length, 1);
    assert.match(String(offsets[0].sink), /^clickstream\/.*\/user_clicks$/);
  });
});

void test('sinks.postgres recovery applies the last checkpoint\'s rows once: skipped when Postgres has them, applied when the crash came first', { timeout: 60_000 }, async () => {
  const url = await freshDatabase('pg_replay');
  await query(url, 'CREATE TABLE events (id bigint, name text)');
  const sink = sinks.postgres<Record<string, unknown>>({ url, table: 'events' });
  const rows = (from: number) => [{ id: from, name: `e${from}` }, { id: from + 1, name: `e${from + 1}` }];
  await sink.open(context);
  await sink.recover(0, []);
  await sink.write({ checkpoint: 1, records: rows(0), final: false, now: 0 });
  await sink.commit(1);
  // Restart after checkpoint 1 committed in Postgres: the write-ahead rows are handed back and skipped.
  await sink.recover(1, rows(0));
  // Checkpoint 2 committed in the log, the process died before its Postgres commit: recovery applies it.
  await sink.write({ checkpoint: 2, records: rows(2), final: false, now: 0 });
  await sink.recover(2, rows(2));
  await sink.recover(2, rows(2));
  // Checkpoint 3 aborted: nothing of it is written.
  await sink.write({ checkpoint: 3, records: rows(4), final: false, now: 0 });
  await sink.abort(3);
  await sink.commit(3);
  await sink.close();
  const ids = (await query(url, 'SELECT id FROM events ORDER BY id')).map((r) => Number(r.id));
  assert.deepEqual(ids, [0, 1, 2, 3], 'append mode wrote each row once');
});

void test('sinks.postgres: a missing table without create, and a row field the table lacks, are clear errors', { timeout: 60_000 }, async () => {
  const url = await freshDatabase('pg_errors');
  const missing = sinks.postgres({ url, table: 'nope', key: ['id'] });
  await assert.rejects(missing.open(context), (e) => isSluiceError(e) && e.code === 'SINK_FAILED' && /does not exist.*create: true/.test(e.message));
  await missing.close();
  await query(url, 'CREATE TABLE t (id bigint PRIMARY KEY, v bigint)');
  const sink = sinks.postgres({ url, table: 't', key: ['id'] });
  await sink.open(context);
  await sink.recover(0, []);
  await sink.write({ checkpoint: 1, records: [{ id: 1, v: 2, extra: 3 }], final: false, now: 0 });
  await assert.rejects(sink.commit(1), (e) => isSluiceError(e) && /field 'extra'/.test(e.message));
  await sink.close();
  assert.throws(() => sinks.postgres({ url: 'mysql://x', table: 't' }), /connection string/);
  assert.throws(() => sinks.postgres({ url, table: 't', key: [] }), /key must list/);
});
