// The SQL dialect through app.sql(): what compiles and what each statement answers, the errors
// (line, column, what to write instead), and features refused by name rather than ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const SOURCE = `CREATE SOURCE ev (k TEXT, v DOUBLE, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (topic = 'ev');`;

async function rows(sql: string, input: Record<string, unknown>[], options: { partitions?: number } = {}): Promise<unknown[]> {
  const kit = new TestKit();
  kit.input('ev', input, { partitions: options.partitions ?? 1 });
  const app = kit.app({ name: 'lang' });
  const results = await app.sql(`${SOURCE}\n${sql}`);
  const query = results.at(-1)!;
  assert.ok(query.stream, 'the last statement is a query');
  query.stream.to('out');
  await app.run({ bounded: true });
  return kit.output('out');
}

async function fails(sql: string, pattern: RegExp, code: 'SQL_INVALID' | 'SQL_UNSUPPORTED' = 'SQL_INVALID'): Promise<void> {
  const app = new TestKit().app({ name: 'lang' });
  await assert.rejects(app.sql(`${SOURCE}\n${sql}`), (error: unknown) => {
    assert.ok(isSluiceError(error, code), `${String(error)} has code ${code}`);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

const t = (s: string) => Date.parse(`2024-01-01T${s}Z`);

test('app.sql without await: run() waits for it, and a query stream can be written anywhere', async () => {
  const kit = new TestKit();
  kit.input('ev', [{ k: 'a', v: 1, ts: t('10:00:00') }, { k: 'a', v: 2, ts: '2024-01-01T10:00:30Z' }, { k: 'b', v: 5, ts: '2024-01-01 10:01:30' }]);
  const app = kit.app({ name: 'noawait' });
  void app.sql(`${SOURCE}
    CREATE MATERIALIZED VIEW m AS SELECT k, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS e, SUM(v) AS s FROM ev GROUP BY k, TUMBLE(ts, INTERVAL '1' MINUTE);
    CREATE SINK out FROM m WITH (topic = 'sums');`);
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('sums'), [
    { k: 'a', e: '2024-01-01T10:01:00.000Z', s: 3 },
    { k: 'b', e: '2024-01-01T10:02:00.000Z', s: 5 },
  ]);
  assert.deepEqual(kit.output('noawait.view.m'), kit.output('sums'));
});

test('a failed app.sql makes run() fail with the SQL error', async () => {
  const app = new TestKit().app({ name: 'broken' });
  app.sql('SELECT FROM WHERE').catch(() => undefined);
  await assert.rejects(app.run({ bounded: true }), /line 1, column 13: syntax error at or near "WHERE"/);
});

test('projection: CASE, arithmetic, CAST, string and time functions, NULL handling', async () => {
  const out = await rows(
    `SELECT k, v * 2 + 1 AS w, CAST(v AS BIGINT) / 2 AS half, CASE WHEN v > 1 THEN 'big' WHEN v IS NULL THEN 'none' ELSE 'small' END AS size,
       lower(upper(k)) || '!' AS bang, ts - INTERVAL '90' SECOND AS before, date_trunc('hour', ts) AS hour, v BETWEEN 1 AND 2 AS mid, substring(k, 1, 1) AS first
     FROM ev WHERE k <> 'z';`,
    [{ k: 'ab', v: 3, ts: t('10:30:00') }, { k: 'z', v: 1, ts: t('10:00:00') }, { k: 'cd', v: null, ts: t('10:00:00.250') }],
  );
  assert.deepEqual(out, [
    { k: 'ab', w: 7, half: 1, size: 'big', bang: 'ab!', before: '2024-01-01T10:28:30.000Z', hour: '2024-01-01T10:00:00.000Z', mid: false, first: 'a' },
    { k: 'cd', w: null, half: null, size: 'none', bang: 'cd!', before: '2024-01-01T09:58:30.250Z', hour: '2024-01-01T10:00:00.000Z', mid: null, first: 'c' },
  ]);
});

test('a window table function without GROUP BY assigns each row its windows', async () => {
  const out = await rows(`SELECT k, window_start, window_end FROM HOP(ev, ts, INTERVAL '30' SECOND, INTERVAL '1' MINUTE);`, [{ k: 'a', v: 1, ts: t('10:00:40') }]);
  assert.deepEqual(out, [
    { k: 'a', window_start: '2024-01-01T10:00:00.000Z', window_end: '2024-01-01T10:01:00.000Z' },
    { k: 'a', window_start: '2024-01-01T10:00:30.000Z', window_end: '2024-01-01T10:01:30.000Z' },
  ]);
});

test('aggregates without GROUP BY are one running aggregate; allowed lateness as a source option', async () => {
  assert.deepEqual(await rows('SELECT COUNT(*) AS n, MAX(v) AS top FROM ev;', [{ k: 'a', v: 1, ts: t('10:00:00') }, { k: 'b', v: 4, ts: t('10:00:01') }]), [
    { n: 1, top: 1 },
    { n: 2, top: 4 },
  ]);
  const kit = new TestKit();
  kit.input('late', [{ v: 1, ts: t('10:00:10') }, { v: 1, ts: t('10:01:30') }, { v: 1, ts: t('10:00:20') }]);
  const app = kit.app({ name: 'late' });
  const [, q] = await app.sql(`CREATE SOURCE late (v BIGINT, ts TIMESTAMP) WITH (topic = 'late', timestamp = 'ts', allowed_lateness = '1m');
    SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) AS s, COUNT(*) AS n FROM late GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);`);
  q!.stream!.to('out');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('out'), [
    { s: '2024-01-01T10:00:00.000Z', n: 1 },
    { s: '2024-01-01T10:00:00.000Z', n: 2 },
    { s: '2024-01-01T10:01:00.000Z', n: 1 },
  ]);
});

test('SHOW, DESCRIBE and EXPLAIN answer with rows; EXPLAIN prints the plan as explain() does', async () => {
  const kit = new TestKit();
  const app = kit.app({ name: 'meta' });
  const results = await app.sql(`${SOURCE}
    CREATE VIEW big AS SELECT k, v FROM ev WHERE v > 10;
    SHOW SOURCES; SHOW VIEWS; DESCRIBE big;
    EXPLAIN SELECT k, COUNT(*) FROM ev GROUP BY k, TUMBLE(ts, INTERVAL '1' MINUTE);`);
  assert.deepEqual(results.map((r) => r.tag), ['CREATE SOURCE', 'CREATE VIEW', 'SHOW', 'SHOW', 'DESCRIBE', 'EXPLAIN']);
  assert.deepEqual(results[2]!.rows, [{ name: 'ev', topic: 'ev', event_time: 'ts', watermark_ms: 1000 }]);
  assert.deepEqual(results[4]!.rows, [
    { column: 'k', type: 'text', event_time: false },
    { column: 'v', type: 'double precision', event_time: false },
  ]);
  assert.match(results[5]!.message, /^stage 0 \(reads 'ev'; one task per partition\)/);
  assert.match(results[5]!.message, /stage 1 \(exchange by key from stage 0/);
  assert.match(results[5]!.message, /tumbling/);
  // A view without the event-time column has no event time to window by.
  await assert.rejects(app.sql("SELECT COUNT(*) FROM big GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);"), /big has no event time/);
});

test('errors name line and column and say what to write', async () => {
  await fails('SELECT k FROM nowhere;', /line 2, column 15: there is no source, table or view named nowhere \(there are: ev\); declare it with CREATE SOURCE nowhere/);
  await fails('SELECT k, COUNT(*) FROM ev GROUP BY TUMBLE(ts, INTERVAL \'1\' MINUTE);', /line 2, column 8: column k must appear in GROUP BY or be used in an aggregate function/);
  await fails('SELECT COUNT(*) FROM ev GROUP BY TUMBLE(k, INTERVAL \'1\' MINUTE);', /windows group by the event time, which for ev is ts; write TUMBLE\(ts, \.\.\.\)/);
  await fails('SELECT TUMBLE_START(ts, INTERVAL \'1\' MINUTE) FROM ev;', /TUMBLE_START\(\.\.\.\) needs the same window in GROUP BY/);
  await fails('SELECT k FROM ev WHERE COUNT(*) > 1;', /COUNT\(\) is an aggregate, which is not allowed here/);
  await fails("SELECT k + 1 FROM ev;", /operator \+ needs numbers, got TEXT and BIGINT/);
  await fails("SELECT k FROM ev GROUP BY k, HOP(ts, INTERVAL '1' MINUTE, INTERVAL '10' SECOND);", /HOP's slide \(60000 ms\) is longer than its size/);
  await fails("CREATE SOURCE x (a MONEY) WITH (topic = 'x');", /line 2, column 20: type MONEY is not supported; use one of/, 'SQL_UNSUPPORTED');
  await fails("CREATE SOURCE y (a TEXT) WITH (topic = 'y', colour = 'red');", /unknown source option colour/, 'SQL_UNSUPPORTED');
  await fails("SELECT k FROM ev GROUP BY k EMIT ON UPDATE;", /EMIT ON UPDATE is not supported/, 'SQL_UNSUPPORTED');
});

test('unsupported features are refused by name', async () => {
  const refused: [string, RegExp][] = [
    ['SELECT a.k FROM ev a JOIN ev b ON a.k = b.k;', /a join of two streams needs both a lower and an upper bound on their event times/],
    ['SELECT a.k FROM ev a NATURAL JOIN ev b;', /NATURAL JOIN is not supported; write JOIN \.\.\. ON a\.k = b\.k/],
    ['SELECT k FROM ev ORDER BY k;', /ORDER BY is not supported in a continuous query/],
    ['SELECT k FROM ev LIMIT 3;', /LIMIT and OFFSET are not supported/],
    ['SELECT DISTINCT k FROM ev;', /SELECT DISTINCT is not supported on streams; GROUP BY/],
    ['SELECT k FROM ev UNION SELECT k FROM ev;', /UNION \(without ALL.*write UNION ALL/],
    ['SELECT k, ROW_NUMBER() OVER (ORDER BY v) FROM ev;', /OVER \(\.\.\.\) is not supported/],
    ['SELECT now() FROM ev;', /now\(\) would make results depend on when they run/],
    ['SELECT a.k FROM ev a, ev b;', /a comma join \(FROM a, b\) is not supported/],
    ["INSERT INTO out SELECT * FROM ev;", /INSERT INTO is not supported; declare the output with CREATE SINK/],
    ['SELECT k FROM ev WHERE v IN (SELECT v FROM ev);', /subqueries in expressions are not supported/],
    ['SELECT md5(k) FROM ev;', /function md5\(\) is not supported/],
    ['SELECT SUM(DISTINCT v) FROM ev GROUP BY k;', /SUM\(DISTINCT \.\.\.\) is not supported/],
  ];
  for (const [sql, pattern] of refused) await fails(sql, pattern, 'SQL_UNSUPPORTED');
});

test('a record that does not fit its columns goes to the dead-letter topic, the rest is processed', async () => {
  const kit = new TestKit();
  kit.input('ev', [{ k: 'a', v: 'many', ts: t('10:00:00') }, { k: 'b', v: 2, ts: 'yesterday' }, { k: 'c', v: 3, ts: t('10:00:00') }]);
  const app = kit.app({ name: 'dlq' });
  const [, q] = await app.sql(`${SOURCE} SELECT k, v FROM ev;`);
  q!.stream!.to('out');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('out'), [{ k: 'c', v: 3 }]);
  const letters = kit.deadLetters('dlq');
  assert.equal(letters.length, 2);
  assert.match(JSON.stringify(letters), /column v: \\"many\\" is not a number/);
  assert.match(JSON.stringify(letters), /event-time column ts is \\"yesterday\\", not a timestamp/);
  // Where the record was: its topic, partition and offset.
  assert.match(JSON.stringify(letters), /column v: [^}]*"topic":"ev","partition":0,"offset":0/);
});

test('a query converts only the columns it reads: a bad value in another column fails nothing', async () => {
  const kit = new TestKit();
  kit.input('ev', [{ k: 'a', v: 'many', ts: t('10:00:00') }, { k: 'b', v: 2, ts: 'yesterday' }, { k: 'c', v: 3, ts: t('10:00:00') }, { k: 7, v: 'x', ts: t('10:00:01') }]);
  const app = kit.app({ name: 'unread' });
  const [, q, g] = await app.sql(`${SOURCE} SELECT upper(k) AS k FROM ev WHERE k <> 'z'; SELECT COUNT(*) AS n FROM ev GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);`);
  q!.stream!.to('out');
  g!.stream!.to('counts');
  await app.run({ bounded: true });
  // v is never read: 'many' and 'x' pass; the event time is always read (by the source both share), so 'yesterday' fails.
  assert.deepEqual(kit.output('out'), [{ k: 'A' }, { k: 'C' }, { k: '7' }]);
  assert.deepEqual(kit.output('counts'), [{ n: 3 }]);
  const letters = kit.deadLetters('unread');
  assert.equal(letters.length, 1);
  assert.ok(letters.every((l) => /event-time column ts is \\"yesterday\\"/.test(JSON.stringify(l))));
});

test('a column is found in a record ignoring case, record by record, whatever keys the record before had', async () => {
  const ts = t('10:00:00');
  const out = await rows(`SELECT k, v FROM ev WHERE v > 0;`, [
    { K: 'upper', V: 1, TS: ts },
    { K: 'upper again', V: 2, TS: ts },
    { k: 'lower', v: 3, ts },
    { k: 'no v', ts },
    { Ts: ts, V: 4, k: 'other order', extra: true },
    { k: 'first of two spellings', V: 5, v: 6, ts },
  ]);
  assert.deepEqual(out, [
    { k: 'upper', v: 1 },
    { k: 'upper again', v: 2 },
    { k: 'lower', v: 3 },
    { k: 'other order', v: 4 },
    { k: 'first of two spellings', v: 6 },
  ]);
});
