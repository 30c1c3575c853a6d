// What sources.http did under a producer faster than the pipeline is counted in /metrics and shown
// on the dashboard: records accepted, requests refused with 429, the buffer against its bound
// (onFull 'block'), and records dropped (onFull 'drop'). The dashboard is loaded in Debian's chromium.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { Sluice, sinks, sources } from '../../src/index.ts';
import { startServer } from '../../src/server/index.ts';
import { waitUntil } from '../support/wait.ts';
import { parsePrometheus, type Sample, total } from './prometheus-text.ts';

const CHROMIUM = '/usr/bin/chromium';

async function scrape(url: string): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(`${url}/metrics`)).text());
}

/** `requests` POSTs of 10 records each, 8 at a time, not retried: each answer's status and body. */
async function flood(url: string, requests: number): Promise<{ status: number; body: { accepted?: number; dropped?: number } }[]> {
  let next = 0;
  const answers: { status: number; body: { accepted?: number; dropped?: number } }[] = [];
  const worker = async () => {
    while (next < requests) {
      const r = next++;
      const body = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: r * 10 + i })).join('\n');
      const res = await fetch(url, { method: 'POST', body });
      answers.push({ status: res.status, body: (await res.json()) as { accepted?: number; dropped?: number } });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return answers;
}

void test('sources.http counts what it did in /metrics and on the dashboard: accepted, refused (429), buffered, dropped', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the dashboard test`);
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'push-sources-'));
  const server = await startServer({ port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 15_000 });
  try {
    const block = sources.http({ port: 0, path: '/block', buffer: 20, onFull: 'block' });
    const drop = sources.http({ port: 0, path: '/drop', buffer: 20, onFull: 'drop' });
    const app = new Sluice({ name: 'push-metrics', dataDir: join(dir, 'data'), checkpointInterval: '20ms' });
    const slow = { concurrency: 1, capacity: 4 };
    const delay = <T>(e: T) => new Promise<T>((resolve) => setTimeout(() => resolve(e), 3));
    app.source(block, { name: 'blocking-in' }).mapAsync(delay, slow).to(sinks.file({ path: join(dir, 'block.jsonl') }));
    app.source(drop, { name: 'dropping-in' }).mapAsync(delay, slow).to(sinks.file({ path: join(dir, 'drop.jsonl') }));
    const running = app.run();
    try {
      const blockPort = await waitUntil(() => block.port, 'the blocking source listening');
      const dropPort = await waitUntil(() => drop.port, 'the dropping source listening');
      const [blocked, dropped] = await Promise.all([flood(`http://127.0.0.1:${blockPort}/block`, 40), flood(`http://127.0.0.1:${dropPort}/drop`, 40)]);
      const refusals = blocked.filter((a) => a.status === 429).length;
      const droppedRecords = dropped.reduce((n, a) => n + (a.body.dropped ?? 0), 0);
      assert.ok(refusals > 0, 'the blocking source refused some requests');
      assert.ok(droppedRecords > 0, 'the dropping source dropped some records');

      const job = { pipeline: 'push-metrics' };
      const samples = await waitUntil(async () => {
        const s = await scrape(server.url);
        const counted = total(s, 'sluice_push_source_refused_requests_total', { ...job, source: 'blocking-in' }) === refusals && total(s, 'sluice_push_source_records_total', { ...job, source: 'dropping-in', outcome: 'dropped' }) === droppedRecords;
        return counted && s;
      }, 'the refusals and drops in /metrics');
      assert.equal(total(samples, 'sluice_push_source_records_total', { ...job, source: 'blocking-in', outcome: 'accepted' }), block.stats.accepted);
      assert.equal(total(samples, 'sluice_push_source_records_total', { ...job, source: 'dropping-in', outcome: 'accepted' }), drop.stats.accepted);
      assert.equal(total(samples, 'sluice_push_source_buffer_capacity_records', { ...job, source: 'blocking-in' }), 20);
      assert.ok(total(samples, 'sluice_push_source_buffered_records', { ...job, source: 'blocking-in' }) <= 20);

      const page = await browser.newPage();
      await page.goto(server.url, { timeout: 10_000 });
      const row = page.locator('#push-table tbody tr', { hasText: 'dropping-in' });
      await row.waitFor({ timeout: 15_000 });
      await waitUntil(async () => (await row.locator('td').nth(4).textContent()) === String(droppedRecords), 'the dashboard showing the drops');
      const blockingRow = page.locator('#push-table tbody tr', { hasText: 'blocking-in' });
      assert.equal(await blockingRow.locator('td').nth(3).textContent(), String(refusals), 'the refusals on the dashboard');
      assert.match((await blockingRow.locator('td').nth(2).textContent()) ?? '', /of 20 \(max \d+\)/);
    } finally {
      app.stop();
      await running;
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
