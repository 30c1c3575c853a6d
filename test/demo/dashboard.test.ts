// The demo in a real browser: `examples/demo/main.ts` runs as a child process (generator,
// pipelines, server on a free loopback port); Debian's chromium, driven by playwright-core,
// loads the dashboard and checks that the graph and charts render and that the throughput
// figure is above zero and moves. Leaves a screenshot in test-artifacts/dashboard.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

// Page-side checks are strings: they run in the browser, where the DOM types live.

const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../', import.meta.url).pathname;

void test('the demo dashboard renders the graph and charts, with a live throughput figure', { timeout: 45_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the dashboard test`);
  const dataDir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-demo-'));
  const demo = spawn(process.execPath, [join(ROOT, 'examples/demo/main.ts'), '--port', '0', '--rate', '1200'], {
    cwd: ROOT,
    env: { ...process.env, SLUICE_DATA_DIR: dataDir, NO_COLOR: '1' },
  });
  const exited = once(demo, 'close');
  let output = '';
  demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    timeout: 15_000,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo printed no dashboard URL in 15 s:\n${output}`)), 15_000);
      const look = () => {
        const m = /Dashboard: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      demo.stdout.on('data', look);
      demo.on('close', () => reject(new Error(`the demo exited early:\n${output}`)));
      look();
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url, { timeout: 10_000 });

    // The pipeline graph: one box per operator of the demo's plan, edges between them.
    // Waits go through locators: the dashboard's Content Security Policy refuses evaluated strings.
    await page.locator('#graph svg g.node').nth(19).waitFor({ timeout: 10_000 });
    assert.ok((await page.locator('#graph svg path').count()) >= 20);
    assert.equal(await page.locator('#graph g.node[data-op="clicks-per-page"]').count(), 1);
    // Regression: the union of the fraud pipelines and its sink run in both inputs' stages, and were drawn twice.
    const boxes = page.locator('#graph g.node');
    const names: Array<string | null> = [];
    for (let i = 0, n = await boxes.count(); i < n; i++) names.push(await boxes.nth(i).getAttribute('data-op'));
    assert.deepEqual(names.filter((name, i) => names.indexOf(name) !== i), [], 'each operator is drawn once');
    assert.equal(await page.locator('#graph g.node.sink', { hasText: 'fraud-alerts' }).count(), 1);
    // Four uPlot charts, with data.
    await page.locator('.uplot canvas').nth(3).waitFor({ timeout: 10_000 });
    const figure = async () => Number((await page.locator('#fig-in').innerText()).replace(/,/g, ''));
    await page.locator('#fig-in', { hasText: /[1-9]/ }).waitFor({ timeout: 10_000 });
    const first = await figure();
    const seen = new Set([first]);
    for (let i = 0; i < 8 && seen.size < 2; i++) {
      await page.waitForTimeout(1000);
      seen.add(await figure());
    }
    assert.ok(first > 0, `throughput ${first}`);
    assert.ok(seen.size >= 2, `the throughput figure stayed at ${first}`);
    assert.equal(await page.locator('#status').innerText(), 'live');

    // The planner panel: capacity from the measured cost per record, then a what-if rate far past it.
    await page.locator('#plan-per-core', { hasText: /[1-9]/ }).waitFor({ timeout: 15_000 });
    const perCore = Number((await page.locator('#plan-per-core').innerText()).replace(/,/g, ''));
    const sustainable = Number((await page.locator('#plan-sustainable').innerText()).replace(/,/g, ''));
    assert.ok(perCore > 0 && sustainable >= perCore, `sustainable ${sustainable} records/s, per core ${perCore}`);
    assert.ok((await page.locator('#plan-costs tbody tr').count()) >= 3, 'a cost line per busy operator, decode, commit and the rest');
    assert.match(await page.locator('#plan-backpressure').innerText(), /^\d+%$/);
    assert.ok((await page.locator('#plan-windows li').count()) >= 1, 'the demo windows are planned');
    await page.locator('#plan-rate').fill(String(Math.ceil(sustainable * 20)));
    await page.locator('#planner[data-status="over-capacity"]').waitFor({ timeout: 5_000 });
    await page.locator('#plan-advice li').first().waitFor({ timeout: 5_000 });
    assert.match(await page.locator('#plan-at').innerText(), /falling behind by [\d,]+ records\/s/);
    assert.match(await page.locator('#plan-advice').innerText(), /halving it raises the sustainable rate per core/);
    // Give the first 10 s windows time to fire, so the screenshot shows results (bounded: not asserted).
    await page.locator('#top li').first().waitFor({ timeout: 14_000 }).catch(() => undefined);
    assert.deepEqual(errors, [], 'no script errors on the page');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts/dashboard.png'), fullPage: true });
  } finally {
    await browser.close();
    if (demo.exitCode === null) demo.kill('SIGINT');
    const [code] = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, `the demo stops cleanly on SIGINT:\n${output}`);
  }
});
