// `sluice savepoint create|list` against a running `sluice run`, SIGTERM stopping it cleanly
// (exit 0), and `sluice run --from-savepoint` starting from what the savepoint holds.
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { test } from 'node:test';
import { claimApp } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { waitUntil } from '../support/wait.ts';
import { exitCode, lineCollector, sluice, start, tempDataDir } from './helpers.ts';

const APP = new URL('./fixtures/counter-app.ts', import.meta.url).pathname;

async function counts(dataDir: string): Promise<{ k: string; n: number }[]> {
  const out = await sluice(dataDir, ['consume', 'counts', '--from-beginning', '--timeout-ms', '300', '--json']);
  return out.stdout.trim() === '' ? [] : out.stdout.trim().split('\n').map((line) => JSON.parse(line).value);
}

/** The app as a failure should show it: still running or how it exited, and its stderr so far. */
function watch(child: ChildProcessWithoutNullStreams): { ended: () => boolean; code: () => number | null | undefined; story: () => string } {
  let stderr = '';
  let ended: number | null | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  void exitCode(child).then((code) => (ended = code));
  return {
    ended: () => ended !== undefined,
    code: () => ended,
    story: () => `app ${ended === undefined ? 'still running' : `exited ${ended}`}; its stderr: ${stderr}`,
  };
}

void test('savepoint create on a running app, SIGTERM exits 0, run --from-savepoint resumes from it', { timeout: 240_000 }, async () => {
  const dataDir = tempDataDir();
  const lines = (from: number, to: number) => Array.from({ length: to - from }, () => JSON.stringify({ k: 'a' })).join('\n');
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', '1'])).code, 0);
  assert.equal((await sluice(dataDir, ['topic', 'create', 'counts', '--partitions', '1'])).code, 0);
  assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines(0, 5) })).code, 0);
  const running = start(dataDir, ['run', APP]);
  const app = watch(running);
  // One follower of the output (committed records only) for the whole run, instead of a process per look.
  const follower = start(dataDir, ['consume', 'counts', '--from-beginning', '--max', '8']);
  const output = lineCollector(follower);
  try {
    // Waits for n counts, and fails with the app's story when it ended first or never got there.
    const counted = async (n: number) => {
      await waitUntil(() => output.records.length >= n || app.ended(), `${n} counts`, { boundMs: 90_000 }).catch((error: Error) => assert.fail(`${error.message}: ${output.records.length} came; ${app.story()}`));
      assert.ok(output.records.length >= n, `${n} counts never came (${output.records.length} did): ${app.story()}`);
    };
    await counted(5);
    const created = await sluice(dataDir, ['savepoint', 'create', 'counter', '--json']);
    assert.equal(created.code, 0, `${created.stderr}\n${app.story()}`);
    const { id } = JSON.parse(created.stdout) as { id: string };
    assert.match(id, /^sp-\d+-\d+$/);
    // More input after the savepoint, then a clean stop.
    assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines(5, 8) })).code, 0);
    await counted(8);
    assert.equal(await exitCode(follower), 0);
    running.kill('SIGTERM');
    await waitUntil(() => app.ended(), 'the app to exit on SIGTERM', { boundMs: 60_000 }).catch((error: Error) => assert.fail(`${error.message}: ${app.story()}`));
    assert.equal(app.code(), 0, `SIGTERM: final checkpoint, exit 0 (${app.story()})`);
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
  } finally {
    running.kill('SIGKILL');
    follower.kill('SIGKILL');
  }
});

void test('savepoint create while the app is starting (its lock taken, its control topic not yet there) waits for it to answer', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', '1'])).code, 0);
  // This process is the app between taking its lock and opening its control topic.
  const release = claimApp(dataDir, 'early');
  const asking = sluice(dataDir, ['savepoint', 'create', 'early', '--json', '--timeout-ms', '60000']);
  const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
  try {
    await waitUntil(() => log.listTopics().some((t) => t.name === 'early.control') && log.endOffset('early.control', 0) > 0, 'the savepoint request in early.control');
  } finally {
    await log.close();
  }
  release();
  const app = new Sluice({ name: 'early', dataDir, state: 'lmdb', checkpointInterval: '50ms' });
  app.stream<{ k: string }>('input').to('copied');
  const running = app.run();
  try {
    const created = await asking;
    assert.equal(created.code, 0, created.stderr);
    assert.match((JSON.parse(created.stdout) as { id: string }).id, /^sp-\d+-\d+$/);
  } finally {
    app.stop();
    await running;
  }
});
