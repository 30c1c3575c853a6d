// Building apart from running: run() leaves signals and the environment to its caller (`sluice
// run` handles both, see test/cli/launcher.test.ts), stops on SIGINT/SIGTERM only when asked to
// with stopOnSignals, and the test-only setDefaultBackend lives in sluice/testing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { jsonCodec } from '../../src/core/index.ts';
import * as root from '../../src/index.ts';
import * as testing from '../../src/testing/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const FIXTURE = new URL('./fixtures/signal-app.ts', import.meta.url).pathname;

async function dataDirWithNumbers(): Promise<string> {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'signals-'));
  const log = await EmbeddedBackend.open(dataDir);
  try {
    await log.ensureTopic('numbers', 1);
    const writer = await log.openWriter();
    await writer.send('numbers', [1, 2, 3].map((n) => ({ key: null, value: jsonCodec.encode(n), timestamp: 0 })));
    await writer.close();
  } finally {
    await log.close();
  }
  return dataDir;
}

/** Starts the fixture, waits for `ready`, sends `signal`; resolves to how it ended and what it printed. */
async function signalled(stopOnSignals: boolean, signal: NodeJS.Signals) {
  const dataDir = await dataDirWithNumbers();
  const child = spawn(process.execPath, [FIXTURE, dataDir], { env: { ...process.env, STOP_ON_SIGNALS: stopOnSignals ? '1' : '0' } });
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve();
    });
    void closed.then(() => reject(new Error(`the app ended before it was ready: ${stderr}`)));
  });
  child.kill(signal);
  const [code, by] = await closed;
  return { code, by, stdout, stderr, dataDir };
}

async function committed(dataDir: string): Promise<number> {
  const log = await EmbeddedBackend.open(dataDir);
  try {
    return (await log.committedOffsets('signals', 'numbers')).get(0) ?? 0;
  } finally {
    await log.close();
  }
}

void test('with stopOnSignals, SIGINT (and SIGTERM) stop an unbounded run after a final checkpoint', { timeout: 60_000 }, async () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const run = await signalled(true, signal);
    assert.equal(run.code, 0, `${signal}: ${run.stderr}`);
    assert.match(run.stdout, /stopped after 3 records/);
    assert.equal(await committed(run.dataDir), 3, 'the final checkpoint committed the offsets');
  }
});

void test('without stopOnSignals, run() installs no signal handler: SIGINT ends the process as it would any program', { timeout: 60_000 }, async () => {
  const run = await signalled(false, 'SIGINT');
  assert.equal(run.by, 'SIGINT', `the process ended by the signal, not by the app: ${run.stderr}`);
  assert.doesNotMatch(run.stdout, /stopped/);
  // The checkpoint interval (10 s) had not come: nothing was committed, so nothing is lost either.
  assert.equal(await committed(run.dataDir), 0);
});

void test('run() adds signal listeners only with stopOnSignals, and removes them when it returns', { timeout: 30_000 }, async () => {
  const listeners = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  const before = listeners();
  for (const stopOnSignals of [false, true]) {
    const kit = new TestKit();
    kit.input('numbers', [1]);
    const app = kit.app({ name: `listeners-${stopOnSignals}` });
    const seen: number[][] = [];
    app
      .stream<number>('numbers')
      .map((n) => {
        seen.push(listeners());
        return n;
      })
      .to('out');
    const running = app.run({ stopOnSignals });
    // The map runs inside the first round; stop once it has.
    while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
    app.stop();
    await running;
    assert.deepEqual(seen[0], stopOnSignals ? before.map((n) => n + 1) : before);
    assert.deepEqual(listeners(), before);
  }
});

void test('regression: run() no longer reads SLUICE_FROM_SAVEPOINT or SLUICE_DROP_STATE (they belong to sluice run)', async () => {
  process.env.SLUICE_FROM_SAVEPOINT = 'sp-0-0';
  process.env.SLUICE_DROP_STATE = 'old-window';
  try {
    const kit = new TestKit();
    kit.input('numbers', [1, 2]);
    const app = kit.app({ name: 'env', dataDir: await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'env-')) });
    app.stream<number>('numbers').to('out');
    const summary = await app.run({ bounded: true });
    assert.equal(summary.records, 2);
  } finally {
    delete process.env.SLUICE_FROM_SAVEPOINT;
    delete process.env.SLUICE_DROP_STATE;
  }
});

void test('setDefaultBackend is exported by sluice/testing, not by the package root', () => {
  assert.equal('setDefaultBackend' in root, false);
  assert.equal(typeof testing.setDefaultBackend, 'function');
});
