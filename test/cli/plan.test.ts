// `sluice plan APP` against a running `sluice run`: the app measures itself while input flows
// and answers through its control topic; the report has the measured cost and capacity, and a
// what-if rate far past capacity comes back over capacity with advice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanReport } from '../../src/server/index.ts';
import { waitUntil } from '../support/wait.ts';
import { exitCode, sluice, start, tempDataDir } from './helpers.ts';

const APP = new URL('./fixtures/counter-app.ts', import.meta.url).pathname;

/** Asks for a plan while `sluice produce` keeps input flowing, so the sample sees records. */
async function planWhileProducing(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ k: `k${i % 50}` })).join('\n');
  let done = false;
  const producing = (async () => {
    while (!done) assert.equal((await sluice(dataDir, ['produce', 'input'], { input: lines })).code, 0);
  })();
  try {
    return await sluice(dataDir, ['plan', 'counter', '--sample-ms', '2500', '--json', ...args]);
  } finally {
    done = true;
    await producing;
  }
}

void test('sluice plan measures a running app and predicts a what-if rate', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', '2'])).code, 0);
  const none = await sluice(dataDir, ['plan', 'counter']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /app 'counter' has never run/);
  const running = start(dataDir, ['run', APP]);
  try {
    // The app is up once it has answered something: its control topic exists from its start.
    await waitUntil(async () => (await sluice(dataDir, ['topic', 'list', '--json'])).stdout.includes('counter.control'), 'the app to start');
    const measured = await planWhileProducing(dataDir, []);
    assert.equal(measured.code, 0, measured.stderr);
    const report = JSON.parse(measured.stdout) as PlanReport;
    assert.equal(report.job, 'counter');
    assert.ok(report.measured.records > 0, `records in the sample: ${report.measured.records}`);
    assert.ok(report.measured.costPerRecordUs !== null && report.measured.costPerRecordUs > 0);
    assert.equal(report.capacity.partitions, 2);
    assert.ok(report.capacity.perCore !== null && report.capacity.perCore > 0);
    assert.ok(report.costs.some((c) => c.name === 'counter'), 'the process operator has a cost line');

    const whatIf = await planWhileProducing(dataDir, ['--rate', String(Math.ceil(report.capacity.perCore! * 50))]);
    assert.equal(whatIf.code, 0, whatIf.stderr);
    const over = JSON.parse(whatIf.stdout) as PlanReport;
    assert.equal(over.status, 'over-capacity');
    assert.ok(over.at.fallingBehindBy > 0);
    assert.ok(over.advice.length > 0);

    const text = await sluice(dataDir, ['plan', 'counter', '--sample-ms', '500', '--rate', '1']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^counter: /);
    const bad = await sluice(dataDir, ['plan', 'counter', '--rate', 'fast']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected records per second/);
  } finally {
    running.kill('SIGTERM');
    assert.equal(await exitCode(running), 0);
  }
});
