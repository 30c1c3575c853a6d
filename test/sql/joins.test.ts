// SQL joins: what each kind of join compiles to (EXPLAIN shows the DSL's join), and every join
// Sluice cannot run refused by name, at its line and column, saying what to write instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const DDL = `CREATE SOURCE clicks (user_id TEXT, url TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (topic = 'clicks');
CREATE SOURCE views (user_id TEXT, url TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (topic = 'views');
CREATE SOURCE plain (user_id TEXT, n BIGINT) WITH (topic = 'plain');
CREATE TABLE users (id TEXT PRIMARY KEY, tier TEXT, updated_at TIMESTAMP, WATERMARK FOR updated_at AS updated_at) WITH (topic = 'users');
CREATE TABLE tiers (tier TEXT, label TEXT, PRIMARY KEY (tier)) WITH (topic = 'tiers');
CREATE TABLE pairs (a TEXT, b TEXT, v BIGINT, PRIMARY KEY (a, b)) WITH (topic = 'pairs');`;

async function fails(sql: string, pattern: RegExp, code: 'SQL_INVALID' | 'SQL_UNSUPPORTED' = 'SQL_UNSUPPORTED'): Promise<void> {
  const app = new TestKit().app({ name: 'joins' });
  await assert.rejects(app.sql(`${DDL}\n${sql}`), (error: unknown) => {
    assert.ok(isSluiceError(error), `a SluiceError for ${sql}`);
    assert.equal(error.code, code, `${sql}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.match(error.message, /^line 7, column \d+: /, 'the position is in the statement');
    return true;
  });
}

async function explain(sql: string): Promise<string> {
  const app = new TestKit().app({ name: 'joins' });
  const results = await app.sql(`${DDL}\nEXPLAIN ${sql}`);
  return results.at(-1)!.message;
}

test('each join compiles onto the DSL join of its kind', async () => {
  assert.match(await explain("SELECT c.url FROM clicks c JOIN views v ON c.user_id = v.user_id AND v.ts BETWEEN c.ts - INTERVAL '1' MINUTE AND c.ts"), /interval join/i);
  assert.match(await explain('SELECT c.url, u.tier FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts u ON c.user_id = u.id'), /stream-table inner join \(the version at each record's event time/);
  assert.match(await explain('SELECT p.user_id, t.label FROM plain p LEFT JOIN tiers FOR SYSTEM_TIME AS OF PROCTIME() AS t ON p.user_id = t.tier'), /stream-table left join/);
  assert.match(await explain('SELECT u.id, t.label FROM users u JOIN tiers t ON u.tier = t.tier'), /foreign/i);
});

test('joins Sluice cannot run are refused by name, with what to write instead', async () => {
  await fails('SELECT c.url FROM clicks c JOIN users u ON c.user_id = u.id;', /a regular join of a stream with a table \(u\) is not supported.*FOR SYSTEM_TIME AS OF c\.ts/);
  await fails('SELECT c.url FROM users u JOIN clicks c ON c.user_id = u.id;', /put the stream first/);
  await fails('SELECT c.url FROM clicks c JOIN views FOR SYSTEM_TIME AS OF c.ts v ON c.user_id = v.user_id;', /FOR SYSTEM_TIME AS OF reads a table's versions, and v is a stream/);
  await fails('SELECT c.url FROM clicks c JOIN users FOR SYSTEM_TIME AS OF PROCTIME() u ON c.user_id = u.id;', /u keeps versions by event time.*AS OF c\.ts/);
  await fails('SELECT p.n FROM plain p JOIN tiers FOR SYSTEM_TIME AS OF p.n t ON p.user_id = t.tier;', /AS OF reads the stream's event time, and p has none/);
  await fails('SELECT c.url FROM clicks c JOIN tiers FOR SYSTEM_TIME AS OF c.ts t ON c.user_id = t.tier;', /t keeps no versions \(it has no event time\)/);
  await fails('SELECT c.url FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts + 1 u ON c.user_id = u.id;', /AS OF takes a column of the stream, not an expression/);
  await fails('SELECT c.url FROM clicks c JOIN users FOR SYSTEM_TIME AS OF c.ts u ON c.url = u.tier;', /looks rows up by the table's primary key \(id\)/);
  await fails('SELECT c.url FROM clicks c FULL JOIN users FOR SYSTEM_TIME AS OF c.ts u ON c.user_id = u.id;', /FULL JOIN is not supported in a temporal join/);
  await fails('SELECT c.url FROM clicks c LEFT JOIN views v ON c.user_id = v.user_id AND v.ts BETWEEN c.ts AND c.ts + INTERVAL \'1\' MINUTE AND v.url <> c.url;', /conditions in ON other than key equalities and time bounds are not supported in LEFT interval joins/);
  await fails("SELECT c.url FROM clicks c JOIN views v ON c.user_id = v.user_id AND v.ts >= c.ts;", /needs both a lower and an upper bound/);
  await fails("SELECT c.url FROM clicks c JOIN views v ON v.ts BETWEEN c.ts AND c.ts + INTERVAL '1' MINUTE;", /a join needs an equality of a column of each side in ON/);
  await fails("SELECT c.url FROM clicks c JOIN plain p ON c.user_id = p.user_id AND c.ts = c.ts;", /p has none/);
  await fails("SELECT url FROM clicks c JOIN views v ON c.user_id = v.user_id AND v.ts BETWEEN c.ts AND c.ts + INTERVAL '1' MINUTE;", /column url is ambiguous; write c\.url or v\.url/, 'SQL_INVALID');
  await fails("SELECT c.url FROM clicks c JOIN views v ON c.user_id = v.ts AND v.ts BETWEEN c.ts AND c.ts + INTERVAL '1' MINUTE;", /the join compares TEXT with TIMESTAMP; CAST one side/, 'SQL_INVALID');
  await fails("SELECT c.url FROM clicks c JOIN clicks c ON c.user_id = c.user_id;", /both sides of the join are named c; give one an alias/, 'SQL_INVALID');
  await fails('SELECT c.url FROM clicks c CROSS JOIN views v;', /CROSS JOIN\) is not supported/);
  await fails('SELECT c.url FROM clicks c JOIN views v USING (user_id);', /USING \(\.\.\.\) is not supported/);
  await fails("SELECT t.* FROM TUMBLE(clicks, ts, INTERVAL '1' MINUTE) t JOIN views v ON t.user_id = v.user_id;", /window table functions in a join \(window joins\) are not supported yet/);
  await fails('SELECT u.id FROM users u FULL JOIN tiers t ON u.tier = t.tier;', /FULL JOIN on a foreign key is not supported/);
  await fails('SELECT p.v FROM pairs p JOIN users u ON p.a = u.tier;', /matches the right table's whole primary key \(id\)/);
  await fails('SELECT tier, COUNT(*) FROM users GROUP BY tier;', /GROUP BY and aggregates over a table .* are not supported yet/);
  await fails("SELECT u.id FROM users u LEFT JOIN tiers t ON u.tier = t.tier AND t.label <> 'x';", /conditions in ON besides the keys are not supported in LEFT joins of tables; move them to WHERE/);
});

test('CREATE TABLE needs a primary key of its columns; a source has none', async () => {
  const app = () => new TestKit().app({ name: 'tables' });
  await assert.rejects(app().sql("CREATE TABLE t (id TEXT) WITH (topic = 't');"), /line 1, column 1: a table needs a primary key/);
  await assert.rejects(app().sql("CREATE TABLE t (id TEXT, PRIMARY KEY (nope)) WITH (topic = 't');"), /PRIMARY KEY names nope, which is not a column/);
  await assert.rejects(app().sql("CREATE TABLE t (id TEXT PRIMARY KEY, PRIMARY KEY (id)) WITH (topic = 't');"), /a table has one primary key/);
  await assert.rejects(app().sql("CREATE TABLE t (id TEXT PRIMARY KEY) WITH (topic = 't', versions = '1h');"), /versions are kept by event time; declare the table's event time/);
  await assert.rejects(app().sql("CREATE SOURCE s (id TEXT PRIMARY KEY) WITH (topic = 's');"), /a source is an append-only stream without a primary key; declare a changelog table with CREATE TABLE s/);
  const results = await app().sql("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT) WITH (topic = 't'); SHOW TABLES; DESCRIBE t;");
  assert.deepEqual(results[1]!.rows, [{ name: 't', topic: 't', primary_key: 'id', event_time: null }]);
  assert.deepEqual(results[2]!.rows!.map((r) => r.column), ['id', 'name']);
});
