// The join examples run as a user runs them: copied into a folder of their own outside the
// repository (sluice linked into its node_modules), input written with `sluice produce`, the
// pipeline started with `sluice run`, output read with `sluice consume`.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jsonLines, lines, sluice, tempDataDir } from '../cli/helpers.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const MIN = 60_000;

/** A user's folder holding the example, with sluice installed as a link. */
function userFolder(example: string): string {
  const dir = join(tempDataDir(), 'project');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'sluice'), 'dir');
  copyFileSync(join(PACKAGE_ROOT, 'examples', example), join(dir, example));
  return dir;
}

async function produce(dir: string, topic: string, partitions: number, values: { key: string; value: unknown }[]): Promise<void> {
  const result = await sluice(undefined, ['produce', topic, '--partitions', String(partitions)], { cwd: dir, input: lines(values) });
  assert.equal(result.code, 0, result.stderr);
}

async function consume(dir: string, topic: string): Promise<unknown[]> {
  const out = await sluice(undefined, ['consume', topic, '--from-beginning', '--timeout-ms', '500'], { cwd: dir });
  assert.equal(out.code, 0, out.stderr);
  return jsonLines(out.stdout).map((r) => r.value);
}

void test('examples/ad-clicks.ts: impressions and clicks by ad_id within plus or minus 10 minutes give each time-to-click', { timeout: 120_000 }, async () => {
  const dir = userFolder('ad-clicks.ts');
  const impressions = [
    { ad_id: 'ad-1', impression_id: 'i1', ts: T0 },
    { ad_id: 'ad-1', impression_id: 'i2', ts: T0 + 30 * MIN },
    { ad_id: 'ad-2', impression_id: 'i3', ts: T0 + 5 * MIN },
  ];
  const clicks = [
    { ad_id: 'ad-1', user: 'ann', ts: T0 + 2 * MIN }, // i1 after 2 minutes
    { ad_id: 'ad-1', user: 'bob', ts: T0 + 25 * MIN }, // i2 5 minutes before its impression
    { ad_id: 'ad-2', user: 'cid', ts: T0 + 16 * MIN }, // 11 minutes after i3: outside the interval
    { ad_id: 'ad-3', user: 'dan', ts: T0 + 1 * MIN }, // an ad never shown
  ];
  await produce(dir, 'impressions', 2, impressions.map((v) => ({ key: v.ad_id, value: v })));
  await produce(dir, 'clicks', 3, clicks.map((v) => ({ key: v.user, value: v })));
  const run = await sluice(undefined, ['run', 'ad-clicks.ts'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const results = (await consume(dir, 'time-to-click')) as { impression_id: string; user: string; time_to_click_ms: number }[];
  assert.deepEqual(
    results.map((r) => `${r.impression_id} ${r.user} ${r.time_to_click_ms}`).sort(),
    ['i1 ann 120000', 'i2 bob -300000'],
  );
});

void test('examples/unpaid-orders.ts: orders with no payment within 15 minutes, each once', { timeout: 120_000 }, async () => {
  const dir = userFolder('unpaid-orders.ts');
  const orders = [
    { order_id: 'o1', customer: 'ann', amount: 10, ts: T0 },
    { order_id: 'o2', customer: 'bob', amount: 20, ts: T0 + MIN },
    { order_id: 'o3', customer: 'cid', amount: 30, ts: T0 + 2 * MIN },
    { order_id: 'o4', customer: 'dan', amount: 40, ts: T0 + 3 * MIN },
  ];
  const payments = [
    { order_id: 'o1', amount: 10, ts: T0 + 14 * MIN }, // in time
    { order_id: 'o2', amount: 20, ts: T0 + 17 * MIN }, // 16 minutes: too late
    { order_id: 'o4', amount: 40, ts: T0 + 18 * MIN }, // exactly 15 minutes: in time (inclusive bound)
  ];
  await produce(dir, 'orders', 3, orders.map((v) => ({ key: v.order_id, value: v })));
  await produce(dir, 'payments', 2, payments.map((v) => ({ key: v.order_id, value: v })));
  const run = await sluice(undefined, ['run', 'unpaid-orders.ts'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const unpaid = (await consume(dir, 'unpaid-orders')) as { order_id: string; customer: string }[];
  assert.deepEqual(unpaid.map((o) => `${o.order_id} ${o.customer}`).sort(), ['o2 bob', 'o3 cid']);
});
