// Regression: the demo's banner said 1500 events/s while the dashboard showed about 660/s: the
// clicks came from a fixed 300 users whose sessions could not supply them. The generator's
// ticks, on a simulated clock, now append the rate they are asked for.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DemoGenerator } from '../../examples/demo/generator.ts';

void test('the demo generator appends the events per second its banner announces', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-demo-rate-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const rate = 1500;
  const generator = await DemoGenerator.open({ dataDir, rate });
  try {
    const t0 = Date.now();
    // 25 simulated seconds (every user has come out of its first gap), then 10 measured ones.
    for (let tick = 0; tick < 250; tick++) await generator.tick(t0 + tick * 100);
    const before = generator.sent;
    for (let tick = 250; tick < 350; tick++) await generator.tick(t0 + tick * 100);
    const perSecond = (generator.sent - before) / 10;
    assert.ok(Math.abs(perSecond - rate) <= rate * 0.02, `the generator appended ${perSecond} events/s for a rate of ${rate}`);
  } finally {
    await generator.stop();
  }
});
