// The dashboard draws a two-input operator with its two inputs: `sluice run --ui` serves a
// pipeline with a stream-table join, Debian's chromium (driven by playwright-core) loads the
// page, and the join's box has an edge from each real input, without the tagging maps, union
// and keyBy that bring them together in the plan.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { exitCode, sluice, start, tempDataDir } from '../cli/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const INDEX = new URL('../../src/index.ts', import.meta.url).href;

void test('the dashboard draws a join with its two inputs', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the dashboard test`);
  const dataDir = tempDataDir();
  await sluice(dataDir, ['topic', 'create', 'clicks', '--partitions', '2']);
  await sluice(dataDir, ['topic', 'create', 'users', '--partitions', '2', '--compact']);
  const module = join(dataDir, 'join.mts');
  writeFileSync(
    module,
    `import { Sluice } from '${INDEX}';
const app = new Sluice({ name: 'ui-join', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice', checkpointInterval: '100ms' });
const users = app.table<{ tier: string }>('users');
app.stream<{ user: string }>('clicks').keyBy((c) => c.user).join(users, (c, u) => ({ ...c, tier: u.tier }), { name: 'enrich' }).to('enriched');
users.filter((u) => u.tier === 'gold', { name: 'gold' }).to('gold-users');
await app.run();
`,
  );
  const child = start(dataDir, ['run', module, '--ui', '0']);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 15_000 });
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && url === undefined; i++) {
      url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url === undefined) await sleep(50);
    }
    assert.ok(url, `no dashboard URL on stderr:\n${stderr}`);
    const page = await browser.newPage();
    await page.goto(url, { timeout: 10_000 });
    const join = page.locator('#graph g.node.two-input[data-op="enrich"]');
    await join.waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#graph path[data-to="enrich"][data-side="left"]').count(), 1, 'an edge from the clicks side');
    assert.equal(await page.locator('#graph path[data-to="enrich"][data-side="right"]').count(), 1, 'an edge from the users table');
    for (const plumbing of ['enrich.left', 'enrich.right', 'enrich.inputs', 'enrich.key']) {
      assert.equal(await page.locator(`#graph g.node[data-op="${plumbing}"]`).count(), 0, `${plumbing} is not drawn`);
    }
    assert.equal(await page.locator('#graph g.node.stateful[data-op="users"]').count(), 1, 'the table is drawn as state');
    assert.match(await page.locator('#graph g.node[data-op="gold"]').innerHTML(), /table filter/);
  } finally {
    await browser.close();
    child.kill('SIGINT');
    assert.equal(await exitCode(child), 0, stderr);
  }
});
