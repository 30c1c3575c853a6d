// SQL joins against DuckDB computing the same query in batch over the same events: interval
// joins (INNER, LEFT, FULL, random bounds) and temporal joins (DuckDB's ASOF JOIN) with a
// tumbling count per joined column, on random out-of-order input over several partitions (out
// of order by less than the watermark bound, so no record is late and the streaming result is
// the batch result), also with a checkpoint and restore at a random point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { type GoldenCase, type GoldenInput, runStraight, runWithRestore } from './golden-run.ts';

const BOUND_MS = 2000;

interface Event {
  id: number;
  k: string | null;
  ts: number;
  partition: number;
}

/** Events in roughly increasing time, each out of order by at most BOUND_MS, ids from `first`. */
function eventsFrom(first: number, keys: (string | null)[]) {
  return fc
    .array(fc.record({ k: fc.constantFrom(...keys), jitter: fc.integer({ min: 0, max: BOUND_MS }), partition: fc.integer({ min: 0, max: 2 }), step: fc.integer({ min: 0, max: 300 }) }), { minLength: 3, maxLength: 30 })
    .map((list) => {
      let t = 10_000;
      return list.map(({ k, jitter, partition, step }, i) => {
        t += step;
        return { id: first + i, k, ts: t + jitter, partition } satisfies Event;
      });
    });
}

async function duckdb(tables: Record<string, { columns: string; rows: string[] }>, sql: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    for (const [name, t] of Object.entries(tables)) {
      await db.run(`CREATE TABLE ${name} (${t.columns})`);
      if (t.rows.length > 0) await db.run(`INSERT INTO ${name} VALUES ${t.rows.join(', ')}`);
    }
    const reader = await db.runAndReadAll(sql);
    return reader
      .getRows()
      .map((r) => JSON.stringify(r.map((v) => (v === null ? null : typeof v === 'bigint' ? Number(v) : v))))
      .sort();
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

const quoted = (k: string | null) => (k === null ? 'NULL' : `'${k}'`);

function sluiceRows(lines: string[], columns: string[]): string[] {
  return lines
    .map((line) => {
      const { value } = JSON.parse(line) as { value: Record<string, unknown> };
      return JSON.stringify(columns.map((c) => (typeof value[c] === 'string' && /^\d{4}-/.test(value[c] as string) ? Date.parse(value[c] as string) : value[c])));
    })
    .sort();
}

const join = fc.record({
  kind: fc.constantFrom('JOIN', 'LEFT JOIN', 'FULL JOIN'),
  lower: fc.integer({ min: -3000, max: 500 }),
  width: fc.integer({ min: 0, max: 5000 }),
});

test('SQL interval joins equal DuckDB over the same random out-of-order events', async () => {
  await fc.assert(
    fc.asyncProperty(eventsFrom(1, ['x', 'y', null]), eventsFrom(1001, ['x', 'y', 'w']), join, fc.double({ min: 0, max: 1, noNaN: true }), async (a, b, j, cutAt) => {
      const upper = j.lower + j.width;
      const on = `a.k = b.k AND b.ts BETWEEN a.ts + INTERVAL '${j.lower} milliseconds' AND a.ts + INTERVAL '${upper} milliseconds'`;
      const sql = `CREATE SOURCE a (id BIGINT, k TEXT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '${BOUND_MS} milliseconds') WITH (topic = 'a');
CREATE SOURCE b (id BIGINT, k TEXT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '${BOUND_MS} milliseconds') WITH (topic = 'b');
CREATE MATERIALIZED VIEW pairs AS SELECT a.id AS a_id, b.id AS b_id FROM a ${j.kind} b ON ${on};
CREATE SINK pairs_out FROM pairs WITH (topic = 'pairs');`;
      const input: GoldenInput[] = [
        ...a.map((e) => ({ topic: 'a', partition: e.partition, value: { id: e.id, k: e.k, ts: e.ts } })),
        ...b.map((e) => ({ topic: 'b', partition: e.partition, value: { id: e.id, k: e.k, ts: e.ts } })),
      ];
      const rows = (list: Event[]) => list.map((e) => `(${e.id}, ${quoted(e.k)}, ${e.ts})`);
      const expected = await duckdb(
        { a: { columns: 'id BIGINT, k VARCHAR, ts BIGINT', rows: rows(a) }, b: { columns: 'id BIGINT, k VARCHAR, ts BIGINT', rows: rows(b) } },
        `SELECT a.id, b.id FROM a ${j.kind} b ON a.k = b.k AND b.ts BETWEEN a.ts + ${j.lower} AND a.ts + ${upper}`,
      );
      const c: GoldenCase = { name: 'interval', sql, input, expected: [] };
      assert.deepEqual(sluiceRows(await runStraight(c), ['a_id', 'b_id']), expected, 'one bounded run');
      const cut = Math.floor(cutAt * input.length);
      assert.deepEqual(sluiceRows(await runWithRestore(c, cut), ['a_id', 'b_id']), expected, `checkpoint after ${cut} records, then restore`);
    }),
    { numRuns: 15 },
  );
});

test('SQL temporal joins and a tumbling count over them equal DuckDB ASOF joins over the same random events', async () => {
  // Table versions: distinct times, so which version is valid at a time is never a tie.
  const versions = eventsFrom(1, ['x', 'y', 'z']).map((list) => list.map((e, i) => ({ ...e, ts: e.ts * 10 + i, tier: `t${e.id % 3}` })));
  const clicks = eventsFrom(1001, ['x', 'y', 'z', 'w', null]).map((list) => list.map((e) => ({ ...e, ts: e.ts * 10 })));
  await fc.assert(
    fc.asyncProperty(versions, clicks, fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), async (users, events, left, cutAt) => {
      const bound = BOUND_MS * 10;
      const kind = left ? 'LEFT JOIN' : 'JOIN';
      const sql = `CREATE TABLE users (id TEXT, tier TEXT, updated_at BIGINT, PRIMARY KEY (id), WATERMARK FOR updated_at AS updated_at - INTERVAL '${bound} milliseconds') WITH (topic = 'users');
CREATE SOURCE clicks (cid BIGINT, user_id TEXT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '${bound} milliseconds') WITH (topic = 'clicks');
CREATE MATERIALIZED VIEW enriched AS SELECT c.cid, u.tier, u.updated_at FROM clicks c ${kind} users FOR SYSTEM_TIME AS OF c.ts AS u ON c.user_id = u.id;
CREATE MATERIALIZED VIEW per_tier AS SELECT u.tier, TUMBLE_START(c.ts, INTERVAL '5' SECOND) AS ws, COUNT(*) AS n
  FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts u ON c.user_id = u.id GROUP BY u.tier, TUMBLE(c.ts, INTERVAL '5' SECOND);
CREATE SINK enriched_out FROM enriched WITH (topic = 'enriched');
CREATE SINK per_tier_out FROM per_tier WITH (topic = 'per-tier');`;
      // A key's versions stay in one partition, in time order there, as a compacted topic keeps them.
      const partitionOf: Record<string, number> = { x: 0, y: 1, z: 2 };
      const sorted = [...users].sort((p, q) => p.ts - q.ts);
      const input: GoldenInput[] = [
        ...sorted.map((u) => ({ topic: 'users', partition: partitionOf[u.k!]!, key: u.k!, value: { id: u.k, tier: u.tier, updated_at: u.ts } })),
        ...events.map((e) => ({ topic: 'clicks', partition: e.partition, value: { cid: e.id, user_id: e.k, ts: e.ts } })),
      ];
      const tables = {
        users: { columns: 'id VARCHAR, tier VARCHAR, updated_at BIGINT', rows: users.map((u) => `(${quoted(u.k)}, '${u.tier}', ${u.ts})`) },
        clicks: { columns: 'cid BIGINT, user_id VARCHAR, ts BIGINT', rows: events.map((e) => `(${e.id}, ${quoted(e.k)}, ${e.ts})`) },
      };
      const asof = `FROM clicks c ASOF ${left ? 'LEFT ' : ''}JOIN users u ON c.user_id = u.id AND c.ts >= u.updated_at`;
      const enriched = await duckdb(tables, `SELECT c.cid, u.tier, u.updated_at ${asof}`);
      const perTier = await duckdb(tables, `SELECT u.tier, (c.ts // 5000) * 5000 AS ws, count(*) ${asof.replace('ASOF LEFT', 'ASOF')} GROUP BY ALL`);
      const c: GoldenCase = { name: 'temporal', sql, input, expected: [] };
      const check = (lines: string[], what: string) => {
        assert.deepEqual(sluiceRows(lines.filter((l) => l.startsWith('{"topic":"enriched"')), ['cid', 'tier', 'updated_at']), enriched, `${what}: the joined rows`);
        assert.deepEqual(sluiceRows(lines.filter((l) => l.startsWith('{"topic":"per-tier"')), ['tier', 'ws', 'n']), perTier, `${what}: the counts per tier and window`);
      };
      check(await runStraight(c), 'one bounded run');
      const cut = Math.floor(cutAt * input.length);
      check(await runWithRestore(c, cut), `checkpoint after ${cut} records, then restore`);
    }),
    { numRuns: 15 },
  );
});
