// A run on several worker threads is measured as one job: the dashboard's metrics count every
// thread's records and show each thread's loop and load, and `sluice plan` measures all threads (their
// tasks add up to the input's partitions), not the one thread that read the request.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import type { PlanReport } from '../../src/server/index.ts';
import { exitCode, sluice, start, tempDataDir } from '../cli/helpers.ts';
import { waitUntil } from '../support/wait.ts';
import { parsePrometheus, total } from './prometheus-text.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;
const PARTITIONS = 4;

/** A running count per key (memory state: threads refuse lmdb), over a topic of four partitions. */
function counterModule(dataDir: string, name: string): string {
  const path = join(dataDir, `${name}.mts`);
  writeFileSync(
    path,
    `import { Sluice } from '${INDEX}';
const app = new Sluice({ name: '${name}', dataDir: process.env.SLUICE_DATA_DIR, checkpointInterval: '50ms' });
app.stream<{ k: string }>('input').keyBy((e) => e.k).process<{ k: string; n: number }>({
  processElement(e, ctx) {
    const n = ctx.state.value<number>('n');
    n.update((n.value() ?? 0) + 1);
    ctx.emit({ k: e.k, n: n.value()! });
  },
}, { name: 'counter' }).to('counts');
await app.run();
`,
  );
  return path;
}

function keyed(n: number, from = 0): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ key: `k${(from + i) % 40}`, value: { k: `k${(from + i) % 40}` } })).join('\n');
}

void test('the dashboard of a run on two threads counts every thread and shows each thread\'s loop', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', String(PARTITIONS)])).code, 0);
  assert.equal((await sluice(dataDir, ['produce', 'input'], { input: keyed(400) })).code, 0);
  const child = start(dataDir, ['run', counterModule(dataDir, 'threads-ui'), '--ui', '0', '--parallelism', '2']);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const url = await waitUntil(() => /dashboard: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1], 'the dashboard URL on stderr');
    let counted = 0;
    await waitUntil(async () => {
      const samples = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
      counted = total(samples, 'sluice_records_in_total', { pipeline: 'threads-ui', topic: 'input' });
      return counted >= 400;
    }, 'all 400 records counted in sluice_records_in_total, read by both threads');
    assert.equal(counted, 400);
    const job = await waitUntil(async () => {
      const view = (await (await fetch(`${url}/api/jobs/threads-ui`)).json()) as { plan: { stages: { topic?: string; tasks: number }[] }; last?: { loop: { threads?: { busyMs: number }[] }; stages: { watermark: number | null }[] } };
      return view.last?.loop.threads?.length === 2 && view;
    }, 'a progress event with both threads');
    assert.equal(job.plan.stages.find((s) => s.topic === 'input')?.tasks, PARTITIONS, 'the source stage has every partition as a task');
    assert.ok(job.last!.loop.threads!.every((t) => t.busyMs > 0), 'each thread did some work');
    assert.ok(job.last!.stages.every((s) => typeof s.watermark === 'number' && Number.isFinite(s.watermark)), `every stage's watermark moved: ${JSON.stringify(job.last!.stages)}`);
    const samples = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    for (const thread of ['0', '1']) assert.ok(total(samples, 'sluice_thread_busy_seconds_total', { pipeline: 'threads-ui', thread }) > 0, `thread ${thread}'s busy time is exported`);
    // Each second of history has one load per thread, and the page draws them.
    await waitUntil(async () => {
      const view = (await (await fetch(`${url}/api/jobs/threads-ui`)).json()) as { series: { threads: number[] }[] };
      return view.series.some((p) => p.threads.length === 2 && p.threads.every((load) => load >= 0 && load <= 1));
    }, 'a second of history with the load of both threads');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 15_000 });
    try {
      const page = await browser.newPage();
      await page.goto(url, { timeout: 10_000 });
      await page.locator('#threads-load li[data-thread="1"]').waitFor({ timeout: 15_000 });
      assert.equal(await page.locator('#threads-load li').count(), 2, 'one line per thread');
      assert.match(await page.locator('#threads-load li[data-thread="0"]').innerText(), /^thread 0: \d+% busy$/);
      const legend = await page.locator('#chart-threads .u-legend').innerText();
      assert.ok(legend.includes('thread 0') && legend.includes('thread 1'), `the chart has a line per thread: ${legend}`);
    } finally {
      await browser.close();
    }
  } finally {
    child.kill('SIGINT');
    assert.equal(await exitCode(child), 0, stderr);
  }
});

void test('sluice plan measures every thread of a run on two threads', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  assert.equal((await sluice(dataDir, ['topic', 'create', 'input', '--partitions', String(PARTITIONS)])).code, 0);
  const child = start(dataDir, ['run', counterModule(dataDir, 'threads-plan'), '--parallelism', '2']);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    await waitUntil(async () => (await sluice(dataDir, ['topic', 'list', '--json'])).stdout.includes('threads-plan.control'), 'the app to start');
    let done = false;
    let from = 0;
    const producing = (async () => {
      while (!done) {
        assert.equal((await sluice(dataDir, ['produce', 'input'], { input: keyed(2000, from) })).code, 0);
        from += 2000;
      }
    })();
    let plan: Awaited<ReturnType<typeof sluice>>;
    try {
      plan = await sluice(dataDir, ['plan', 'threads-plan', '--sample-ms', '2500', '--json']);
    } finally {
      done = true;
      await producing;
    }
    assert.equal(plan.code, 0, plan.stderr);
    const report = JSON.parse(plan.stdout) as PlanReport;
    assert.ok(report.measured.records > 0, `records in the sample: ${report.measured.records}`);
    assert.equal(report.capacity.partitions, PARTITIONS);
    // Up to rounding: the rate is records over seconds.
    assert.ok(Math.abs(report.measured.rate * (report.measured.sampleMs / 1000) - report.measured.records) < 1e-6 * report.measured.records, 'the rate is the sample\'s records over its time');
    assert.equal(report.capacity.parallelism, Math.min(2, availableParallelism(), PARTITIONS));
    assert.ok(report.costs.some((c) => c.name === 'counter'), 'the process operator has a cost line');
  } finally {
    child.kill('SIGINT');
    assert.equal(await exitCode(child), 0, stderr);
  }
});
