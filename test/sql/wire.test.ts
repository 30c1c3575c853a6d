// The Postgres wire protocol against real clients: node `pg` (the extended protocol, with
// parameters) and psql (the simple protocol) read a materialized view while its app runs and
// updates it; errors come back with their position; another address than loopback needs a password.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Sluice } from '../../src/index.ts';
import { SqlSession, startWireServer, type WireServer } from '../../src/sql/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const run = promisify(execFile);
const MINUTE = 60_000;
const base = Date.UTC(2024, 0, 1, 10);

const SQL = `
CREATE SOURCE page_views (page TEXT, event_time TIMESTAMP, WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND)
  WITH (topic = 'page_views', timestamp = 'event_time');
CREATE MATERIALIZED VIEW per_minute AS
  SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count
  FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);
CREATE MATERIALIZED VIEW totals AS SELECT page, COUNT(*) AS n FROM page_views GROUP BY page;
CREATE TABLE owners (page TEXT PRIMARY KEY, owner TEXT) WITH (topic = 'owners');
CREATE MATERIALIZED VIEW owned AS SELECT page, owner FROM owners WHERE owner <> 'nobody';`;

let kit: TestKit;
let app: Sluice;
let running: Promise<unknown>;
let server: WireServer;

function views(page: string, minute: number, count: number): { page: string; event_time: string }[] {
  return Array.from({ length: count }, (_v, i) => ({ page, event_time: new Date(base + minute * MINUTE + i * 1000).toISOString() }));
}

before(async () => {
  kit = new TestKit({ stepping: true });
  kit.input('page_views', [...views('/home', 0, 3), ...views('/cart', 0, 1), ...views('/home', 1, 10)]);
  owners([['/home', 'ann'], ['/cart', 'bob'], ['/about', 'nobody']]);
  app = kit.app({ name: 'wire', checkpointInterval: 1 });
  const session = new SqlSession(app);
  await session.execute(SQL);
  running = app.run();
  await kit.runUntilIdle();
  server = await startWireServer({ host: '127.0.0.1', port: 0, session, log: kit.backend });
});

after(async () => {
  await server.close();
  app.stop();
  await running;
});

test('node pg reads a view, with parameters, and sees it update while the app runs', async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'reader', database: 'sluice' });
  await client.connect();
  try {
    // The watermark (10:01:09 - 5 s) closed the 10:00 windows only.
    const first = await client.query('SELECT page, window_start, view_count FROM per_minute ORDER BY view_count DESC, page');
    assert.deepEqual(
      first.rows.map((r) => [r.page, (r.window_start as Date).toISOString(), Number(r.view_count)]),
      [
        ['/home', '2024-01-01T10:00:00.000Z', 3],
        ['/cart', '2024-01-01T10:00:00.000Z', 1],
      ],
    );
    const lookup = await client.query('SELECT view_count FROM per_minute WHERE page = $1 AND window_start = $2', ['/home', '2024-01-01 10:00:00+00']);
    assert.deepEqual(lookup.rows, [{ view_count: '3' }]);
    const running = await client.query('SELECT n FROM totals WHERE page = $1', ['/home']);
    assert.deepEqual(running.rows, [{ n: '13' }]);
    // More input: the 10:01 windows close, the running count moves on.
    kit.input('page_views', [...views('/home', 2, 10), ...views('/cart', 2, 2)]);
    await kit.runUntilIdle();
    const later = await client.query('SELECT page, view_count FROM per_minute WHERE window_start >= $1 ORDER BY page LIMIT 5', ['2024-01-01T10:01:00Z']);
    assert.deepEqual(later.rows, [{ page: '/home', view_count: '10' }]);
    assert.deepEqual((await client.query('SELECT n FROM totals WHERE page = $1', ['/home'])).rows, [{ n: '23' }]);
    await assert.rejects(client.query('SELECT nope FROM per_minute'), (error: Error & { position?: string; code?: string }) => {
      assert.match(error.message, /column nope does not exist in view per_minute/);
      assert.equal(error.position, '8');
      return true;
    });
    // Aggregates over a view are refused by name; the connection is usable after an error.
    await assert.rejects(client.query('SELECT COUNT(*) AS c FROM per_minute'), /COUNT\(\) is an aggregate, which is not allowed here/);
    assert.deepEqual((await client.query('SELECT 1 AS one')).rows, [{ one: '1' }]);
  } finally {
    await client.end();
  }
});

/** Upserts (and with a null owner, tombstones) of the owners table, keyed by page. */
function owners(rows: [string, string | null][]): void {
  const bytes = (v: string) => new TextEncoder().encode(v);
  kit.backend.createTopicSync('owners', 1);
  kit.backend.appendSync('owners', rows.map(([page, owner]) => ({ key: bytes(page), value: owner === null ? null : bytes(JSON.stringify({ page, owner })), timestamp: 0, partition: 0 })), null);
}

test('node pg reads a table and a view of it: upserts replace rows, tombstones delete them', async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'reader', database: 'sluice' });
  await client.connect();
  try {
    const read = async (sql: string) => (await client.query(sql)).rows.map((r) => `${r.page}=${r.owner}`);
    assert.deepEqual(await read('SELECT page, owner FROM owners ORDER BY page'), ['/about=nobody', '/cart=bob', '/home=ann']);
    assert.deepEqual(await read('SELECT * FROM owned ORDER BY page'), ['/cart=bob', '/home=ann']);
    owners([['/home', 'cy'], ['/cart', null], ['/about', 'dee']]);
    await kit.runUntilIdle();
    assert.deepEqual(await read("SELECT page, owner FROM owners WHERE page = '/home'"), ['/home=cy']);
    assert.deepEqual(await read('SELECT page, owner FROM owners ORDER BY page'), ['/about=dee', '/home=cy']);
    assert.deepEqual(await read('SELECT * FROM owned ORDER BY page'), ['/about=dee', '/home=cy']);
  } finally {
    await client.end();
  }
});

test('psql describes the catalog: \\d lists sources, tables and views, \\d NAME their columns', async () => {
  const psql = async (command: string) => (await run('psql', ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'reader', '-d', 'sluice', '-X', '-c', command], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } })).stdout;
  const list = await psql('\\d');
  for (const [name, type] of [['page_views', 'source'], ['per_minute', 'materialized view'], ['owners', 'table'], ['owned', 'materialized view']]) {
    assert.match(list, new RegExp(`public \\| ${name} +\\| ${type} +\\| sluice`));
  }
  assert.match(await psql('\\dt'), /owners \| table[\s\S]*\(1 row\)/);
  assert.match(await psql('\\dm'), /\(3 rows\)/);
  const table = await psql('\\d owners');
  assert.match(table, /Table "public.owners"/);
  assert.match(table, /page +\| text +\| +\| not null/);
  const view = await psql('\\d per_minute');
  assert.match(view, /Materialized view "public.per_minute"/);
  assert.match(view, /window_start \| timestamp with time zone/);
  assert.match(view, /view_count +\| bigint/);
  const source = await psql('\\d page_views');
  assert.match(source, /Foreign table "public.page_views"/);
  assert.match(source, /FDW options: \(topic 'page_views'\)/);
  await assert.rejects(psql('\\d nothing'), (error: Error & { stderr?: string }) => /Did not find any relation named "nothing"/.test(error.stderr ?? ''));
});

test('psql reads a view, lists views and describes one', async () => {
  const psql = (sql: string) => run('psql', ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'reader', '-d', 'sluice', '-X', '-A', '-t', '-F', ',', '-c', sql], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  const { stdout } = await psql('SELECT page, view_count FROM per_minute ORDER BY page, window_start');
  assert.deepEqual(stdout.trim().split('\n'), ['/cart,1', '/home,3', '/home,10']);
  assert.equal((await psql('SHOW VIEWS')).stdout.trim().split('\n').length, 3);
  assert.match((await psql('DESCRIBE per_minute')).stdout, /window_start,timestamp with time zone/);
  await assert.rejects(psql('SELECT * FROM missing_view'), (error: Error & { stderr?: string }) => {
    assert.match(error.stderr ?? '', /there is no materialized view or table named missing_view/);
    return true;
  });
});

test('an address other than loopback needs a password, and the password is checked', async () => {
  const session = new SqlSession(kit.app({ name: 'wire-other' }));
  await assert.rejects(startWireServer({ host: '0.0.0.0', port: 0, session, log: kit.backend }), /needs a password/);
  const guarded = await startWireServer({ host: '127.0.0.1', port: 0, password: 's3cret', session, log: kit.backend });
  try {
    const wrong = new pg.Client({ host: '127.0.0.1', port: guarded.port, user: 'u', password: 'nope' });
    await assert.rejects(wrong.connect(), /password authentication failed/);
    const right = new pg.Client({ host: '127.0.0.1', port: guarded.port, user: 'u', password: 's3cret' });
    await right.connect();
    assert.deepEqual((await right.query('SELECT 2 AS two')).rows, [{ two: '2' }]);
    await right.end();
  } finally {
    await guarded.close();
  }
});
