/**
 * Regression: a second instance of an app on the same data directory fenced the first with a
 * stack trace (memory state; lmdb state refused with STATE_IN_USE). Any app takes its lock
 * (`<dataDir>/apps/<app>/owner.json`) when it runs: a second instance, `sluice app reset` and
 * `sluice savepoint create` on an app that is not running are answered at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCode, lines, ok, sluice, start, tempDataDir } from './helpers.ts';

const RELAY = new URL('./fixtures/relay-app.ts', import.meta.url).pathname;

/** Waits until the app has copied `n` into `relayed`: it is running (a condition, not a sleep). */
async function relayed(dir: string, n: number): Promise<void> {
  await ok(dir, ['produce', 'input'], lines([{ n }]));
  const out = await ok(dir, ['consume', 'relayed', '--from-beginning', '--max', String(n)]);
  assert.equal(out.trim().split('\n').length, n);
}

void test('a second instance of a running app is refused at once with APP_RUNNING naming the pid', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'input', '--partitions', '2']);
  // Created up front, so reading it never races the app creating it.
  await ok(dir, ['topic', 'create', 'relayed', '--partitions', '2']);
  const first = start(dir, ['run', RELAY]);
  let firstErr = '';
  first.stderr.setEncoding('utf8').on('data', (chunk: string) => (firstErr += chunk));
  await relayed(dir, 1);

  const second = await sluice(dir, ['run', RELAY]);
  assert.equal(second.code, 1);
  assert.equal(
    second.stderr,
    `error: app 'relay' is running in ${dir} (process ${first.pid}); one instance of an app runs per data directory: stop that instance (Ctrl-C, or kill ${first.pid}) first, then start this one\n`,
  );
  const reset = await sluice(dir, ['app', 'reset', 'relay']);
  assert.equal(reset.code, 1);
  assert.match(reset.stderr, new RegExp(`^error: app 'relay' is running in .* \\(process ${first.pid}\\);.*then reset it\\n$`));

  // The first instance was not disturbed: it still runs, and stops cleanly.
  await relayed(dir, 2);
  first.kill('SIGTERM');
  assert.equal(await exitCode(first), 0, firstErr);
  assert.match(firstErr, /done relay: 2 records in, 2 results out to relayed/);

  // Not running: savepoint create answers at once (it would wait for the app's answer otherwise).
  const savepoint = await sluice(dir, ['savepoint', 'create', 'relay', '--timeout-ms', '600000']);
  assert.equal(savepoint.code, 1);
  assert.equal(savepoint.stderr, `error: no process runs app 'relay' in ${dir}; savepoints are taken while it runs: start it with \`sluice run FILE\`, then ask again\n`);
  assert.match(await ok(dir, ['app', 'reset', 'relay']), /^reset relay: forgot 2 committed offsets/);
});

void test("a killed instance's lock is taken over by the next run", { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'input', '--partitions', '1']);
  await ok(dir, ['topic', 'create', 'relayed', '--partitions', '1']);
  const first = start(dir, ['run', RELAY]);
  await relayed(dir, 1);
  first.kill('SIGKILL');
  await exitCode(first);
  const next = await sluice(dir, ['run', RELAY], { env: { SLUICE_BOUNDED: '1' } });
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /^started relay\ndone relay: /);
});
