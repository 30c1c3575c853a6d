// `sluice savepoint create|list` against a running `sluice run`, SIGTERM stopping it cleanly
// (exit 0), and `sluice run --from-savepoint` starting from what the savepoint holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitCode, sluice, start, tempDataDir } from './helpers.ts';

const APP = new URL('./fixtures/counter-app.ts', import.meta.url).pathname;

async function counts(dataDir: string): Promise<{ k: string; n: number }[]> {
  const out = await sluice(dataDir, ['consume', 'counts', '--from-beginning', '--timeout-ms', '300', '--json']);
  return out.stdout.trim() === '' ? [] : out.stdout.trim().split('\n').map((line) => JSON.parse(line).value);
}

void test('savepoint create on a running app, SIGTERM exits 0, run --from-savepoint resumes from it', { timeout: 90_000 }, async () => {
  const dataDir = tempDataDir();
  const lines = (from: number, to: number) => Array.from({ length: to - from }, () => JSON.stringify({ k: 'a' })).join('\n');
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', '1'])).code, 0);
  assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines(0, 5) })).code, 0);
  const running = start(dataDir, ['run', APP]);
  for (let i = 0; i < 300 && (await counts(dataDir)).length < 5; i++) await sleep(50);
  const created = await sluice(dataDir, ['savepoint', 'create', 'counter', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };
  assert.match(id, /^sp-\d+-\d+$/);
  // More input after the savepoint, then a clean stop.
  assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines(5, 8) })).code, 0);
  for (let i = 0; i < 300 && (await counts(dataDir)).length < 8; i++) await sleep(50);
  running.kill('SIGTERM');
  assert.equal(await exitCode(running), 0, 'SIGTERM: final checkpoint, exit 0');
  assert.deepEqual((await counts(dataDir)).map((c) => c.n), [1, 2, 3, 4, 5, 6, 7, 8]);

  const listed = await sluice(dataDir, ['savepoint', 'list', 'counter']);
  assert.match(listed.stdout, new RegExp(id));
  // From the savepoint: the three records after it are processed again on the saved count (5).
  const resumed = await sluice(dataDir, ['run', APP, '--from-savepoint', id], { env: { SLUICE_BOUNDED: '1' } });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual((await counts(dataDir)).map((c) => c.n).slice(8), [6, 7, 8]);

  const missing = await sluice(dataDir, ['run', APP, '--from-savepoint', 'sp-0-0'], { env: { SLUICE_BOUNDED: '1' } });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /has no savepoint 'sp-0-0'; it has: sp-/);
  const noApp = await sluice(dataDir, ['savepoint', 'create', 'nobody', '--timeout-ms', '500']);
  assert.notEqual(noApp.code, 0);
  assert.match(noApp.stderr, /app 'nobody' has never run/);
});
