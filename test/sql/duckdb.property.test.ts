// Windowed aggregates in SQL against DuckDB: the same query, computed by DuckDB in batch over
// the same events, on random out-of-order input over several partitions (out of order by less
// than the watermark bound, so no record is late and the streaming result is the batch result),
// also with a checkpoint and restore at a random point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { type GoldenCase, type GoldenInput, runStraight, runWithRestore } from './golden-run.ts';

interface Event {
  k: string;
  v: number;
  ts: number;
  partition: number;
}

const BOUND_MS = 3000;

const events = fc
  .array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd'), v: fc.integer({ min: -50, max: 100 }), jitter: fc.integer({ min: 0, max: BOUND_MS }), partition: fc.integer({ min: 0, max: 2 }), step: fc.integer({ min: 0, max: 700 }) }), { minLength: 1, maxLength: 60 })
  .map((list) => {
    let t = 10_000;
    return list.map(({ k, v, jitter, partition, step }) => {
      t += step;
      return { k, v, ts: t + jitter, partition } satisfies Event;
    });
  });

const shape = fc.oneof(
  fc.record({ kind: fc.constant('tumble' as const), size: fc.constantFrom(1000, 2000, 5000) }),
  fc.record({ kind: fc.constant('hop' as const), slide: fc.constantFrom(1000, 2000), times: fc.constantFrom(1, 2, 3) }),
);

function sluiceSql(s: { kind: 'tumble'; size: number } | { kind: 'hop'; slide: number; times: number }): string {
  const window = s.kind === 'tumble' ? `TUMBLE(ts, INTERVAL '${s.size} milliseconds')` : `HOP(ts, INTERVAL '${s.slide} milliseconds', INTERVAL '${s.slide * s.times} milliseconds')`;
  const start = s.kind === 'tumble' ? `TUMBLE_START(ts, INTERVAL '${s.size} milliseconds')` : `HOP_START(ts, INTERVAL '${s.slide} milliseconds', INTERVAL '${s.slide * s.times} milliseconds')`;
  return `CREATE SOURCE events (k TEXT, v BIGINT, ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL '${BOUND_MS} milliseconds') WITH (topic = 'events');
CREATE MATERIALIZED VIEW agg AS
  SELECT k, ${start} AS ws, COUNT(*) AS n, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi, AVG(v) AS mean, COUNT(DISTINCT v) AS distinct_v,
    SUM(CASE WHEN v > 0 THEN v ELSE 0 END) AS positive
  FROM events GROUP BY k, ${window};
CREATE SINK agg_out FROM agg WITH (topic = 'agg');`;
}

function duckSql(s: { kind: 'tumble'; size: number } | { kind: 'hop'; slide: number; times: number }): string {
  const windows =
    s.kind === 'tumble'
      ? `SELECT k, v, (ts // ${s.size}) * ${s.size} AS ws FROM events`
      : `SELECT k, v, unnest(generate_series((ts // ${s.slide}) * ${s.slide} - ${s.slide * (s.times - 1)}, (ts // ${s.slide}) * ${s.slide}, ${s.slide})) AS ws FROM events`;
  return `WITH w AS (${windows})
    SELECT k, ws, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean, count(DISTINCT v) AS distinct_v,
      sum(CASE WHEN v > 0 THEN v ELSE 0 END) AS positive
    FROM w GROUP BY k, ws`;
}

type Row = [string, number, number, number, number, number, string, number, number];

function normalize(rows: Row[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

const round = (x: number) => Number(x).toFixed(6);

async function duckdb(list: Event[], sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run('CREATE TABLE events (k VARCHAR, v BIGINT, ts BIGINT)');
    await db.run(`INSERT INTO events VALUES ${list.map((e) => `('${e.k}', ${e.v}, ${e.ts})`).join(', ')}`);
    const reader = await db.runAndReadAll(sql);
    return reader.getRows().map((r) => [String(r[0]), Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5]), round(Number(r[6])), Number(r[7]), Number(r[8])] as Row);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

function sluiceRows(lines: string[]): Row[] {
  return lines.map((line) => {
    const { value: v } = JSON.parse(line) as { value: Record<string, any> };
    return [v.k, Date.parse(v.ws), v.n, v.total, v.lo, v.hi, round(v.mean), v.distinct_v, v.positive] as Row;
  });
}

test('SQL windowed aggregates equal DuckDB over the same random out-of-order events', async () => {
  await fc.assert(
    fc.asyncProperty(events, shape, fc.double({ min: 0, max: 1, noNaN: true }), async (list, s, cutAt) => {
      const input: GoldenInput[] = list.map((e) => ({ topic: 'events', partition: e.partition, value: { k: e.k, v: e.v, ts: e.ts } }));
      const c: GoldenCase = { name: 'duckdb', sql: sluiceSql(s), input, expected: [] };
      const expected = normalize(await duckdb(list, duckSql(s)));
      assert.deepEqual(normalize(sluiceRows(await runStraight(c))), expected, 'one bounded run');
      const cut = Math.floor(cutAt * list.length);
      assert.deepEqual(normalize(sluiceRows(await runWithRestore(c, cut))), expected, `checkpoint after ${cut} records, then restore`);
    }),
    { numRuns: 25 },
  );
});
