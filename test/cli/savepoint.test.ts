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

/** The app's stderr so far, and its exit code once it has ended: what a failure should show. */
function watch(child: ChildProcessWithoutNullStreams): () => string {
  let stderr = '';
  let ended: number | null | undefined;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  void exitCode(child).then((code) => (ended = code));
  return () => `app ${ended === undefined ? 'still running' : `exited ${ended}`}; its stderr: ${stderr}`;
}

/** `promise`, or a failure saying what never came once `boundMs` has passed (only so a hang fails with its story). */
async function within<T>(promise: Promise<T>, boundMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${boundMs} ms for ${what()}`)), boundMs);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
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
    const counted = (n: number) => within(Promise.race([output.waitFor(n), exitCode(running).then(() => assert.fail(`${n} counts never came: ${app()}`))]), 90_000, () => `${n} counts (${output.records.length} came; ${app()})`);
    await counted(5);
    const created = await sluice(dataDir, ['savepoint', 'create', 'counter', '--json']);
    assert.equal(created.code, 0, `${created.stderr}\n${app()}`);
    const { id } = JSON.parse(created.stdout) as { id: string };
    assert.match(id, /^sp-\d+-\d+$/);
    // More input after the savepoint, then a clean stop.
    assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines(5, 8) })).code, 0);
    await counted(8);
    assert.equal(await exitCode(follower), 0);
    running.kill('SIGTERM');
    const code = await within(exitCode(running), 60_000, () => `the app to exit on SIGTERM (${app()})`);
    assert.equal(code, 0, `SIGTERM: final checkpoint, exit 0 (${app()})`);
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
