// `sluice sql` as a user runs it, from a folder outside the repository: `sluice produce` feeds a
// topic, `sluice sql -f FILE.sql --bounded` runs the material's queries, the prompt answers
// piped statements (errors under the offending token), and `--listen` serves psql.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { exitCode, ok, sluice, start, tempDataDir } from '../cli/helpers.ts';
import { waitUntil } from '../support/wait.ts';

const SQL = `-- page views per minute, as the material writes them
CREATE SOURCE page_views (user_id TEXT, page TEXT, event_time TIMESTAMP,
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND)
WITH (topic = 'page_views', format = 'json', timestamp = 'event_time');

CREATE MATERIALIZED VIEW views_per_minute AS
SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count
FROM page_views
GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);

CREATE SINK out FROM views_per_minute WITH (topic = 'views-per-minute');
`;

const EVENTS = [
  { user_id: 'u1', page: '/home', event_time: '2024-01-01T10:00:01Z' },
  { user_id: 'u2', page: '/home', event_time: '2024-01-01T10:00:31Z' },
  { user_id: 'u3', page: '/cart', event_time: '2024-01-01T10:00:45Z' },
  { user_id: 'u4', page: '/home', event_time: '2024-01-01T10:01:10Z' },
]
  .map((e) => JSON.stringify(e))
  .join('\n');

function consumed(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { value: unknown }).value);
}

test('sluice sql -f FILE.sql --bounded runs the material query over what the topic holds', async () => {
  const dir = tempDataDir();
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'pageviews.sql'), SQL);
  await ok(data, ['produce', 'page_views'], EVENTS);
  const run = await sluice(data, ['sql', '-f', 'pageviews.sql', '--bounded'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /done pageviews: 4 records in/);
  const out = consumed(await ok(data, ['consume', 'views-per-minute', '--from-beginning', '--timeout-ms', '500']));
  assert.deepEqual(
    out.sort((a: any, b: any) => `${a.window_start}${a.page}`.localeCompare(`${b.window_start}${b.page}`)),
    [
      { page: '/cart', window_start: '2024-01-01T10:00:00.000Z', view_count: 1 },
      { page: '/home', window_start: '2024-01-01T10:00:00.000Z', view_count: 2 },
      { page: '/home', window_start: '2024-01-01T10:01:00.000Z', view_count: 1 },
    ],
  );
});

test('a SQL error in a file names the file, line and column, with a caret under the token', async () => {
  const dir = tempDataDir();
  writeFileSync(join(dir, 'bad.sql'), "CREATE SOURCE s (a TEXT) WITH (topic = 's');\nSELECT a,\n  COUNT(*) FROM s GROUP BY b;\n");
  const run = await sluice(join(dir, 'data'), ['sql', '-f', 'bad.sql'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /bad\.sql:3:28: column b does not exist in s; its columns are a/);
  assert.match(run.stderr, / {2}COUNT\(\*\) FROM s GROUP BY b;\n {29}\^/);
  const unsupported = await sluice(join(dir, 'data'), ['sql', '-f', 'u.sql'], { cwd: dir });
  assert.equal(unsupported.code, 1);
  writeFileSync(join(dir, 'u.sql'), "CREATE SOURCE s (a TEXT) WITH (topic = 's');\nSELECT a FROM s ORDER BY a;\n");
  const refused = await sluice(join(dir, 'data'), ['sql', '-f', 'u.sql'], { cwd: dir });
  assert.match(refused.stderr, /u\.sql:2:26: ORDER BY is not supported in a continuous query/);
});

test('the prompt answers piped statements: DDL, a bounded SELECT as a table, errors under the token', async () => {
  const dir = tempDataDir();
  const data = join(dir, 'data');
  await ok(data, ['produce', 'page_views'], EVENTS);
  const input = `${SQL.split('CREATE MATERIALIZED')[0]}
SELECT page, COUNT(*) AS views
FROM page_views GROUP BY page;
SELECT pag FROM page_views;
SHOW SOURCES;
`;
  const run = await sluice(data, ['sql'], { input, cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /CREATE SOURCE: source page_views reads topic page_views/);
  // The running count's last value per page.
  assert.match(run.stdout, / page {2}\| views\n-+\+-+\n \/home \| {5}3\n \/cart \| {5}1\n\(2 rows\)/);
  assert.match(run.stdout, / page_views \| page_views \| event_time/);
  assert.match(run.stderr, / {2}SELECT pag FROM page_views\n {9}\^\nerror: line 1, column 8: column pag does not exist/);
});

test('sluice sql -f FILE.sql --listen serves the view to psql while it runs', async () => {
  const dir = tempDataDir();
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'pageviews.sql'), SQL);
  await ok(data, ['produce', 'page_views'], EVENTS);
  const child = start(data, ['sql', '-f', 'pageviews.sql', '--listen', '127.0.0.1:0'], {}, dir);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const port = Number((await waitUntil(() => /listening on 127\.0\.0\.1:(\d+)/.exec(stderr), 'the server to listen'))[1]);
    const psql = () =>
      promisify(execFile)('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'me', '-X', '-A', '-t', '-F', ',', '-c', 'SELECT page, view_count FROM views_per_minute ORDER BY page'], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
    // The app commits its first checkpoint within its interval; the view shows what it committed.
    const rows = await waitUntil(async () => {
      const { stdout } = await psql();
      return stdout.trim() === '/cart,1\n/home,2' && stdout;
    }, 'psql to read the closed windows');
    assert.ok(rows);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exitCode(child), 0, stderr);
  }
});
