// Regression: the demo's burst rule fired for 398 of its 400 cards, since each card paid about 38
// times a minute. Now cards pay in turn, about every 45 s, so only the rare tested card bursts:
// two simulated minutes of demo input through the demo's pipelines give few fraud alerts, and
// the window and pattern versions of the burst rule agree on which cards burst.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DemoGenerator } from '../../examples/demo/generator.ts';
import { definePipelines } from '../../examples/demo/pipelines.ts';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';

void test('fraud alerts in the demo are rare, and both burst rules find the same bursts', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-demo-fraud-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const generator = await DemoGenerator.open({ dataDir, rate: 1500 });
  const t0 = Date.now();
  try {
    for (let tick = 0; tick < 1200; tick++) await generator.tick(t0 + tick * 100);
  } finally {
    await generator.stop();
  }
  const app = new Sluice({ name: 'demo-fraud', dataDir });
  definePipelines(app);
  await app.run({ bounded: true });

  const backend = await EmbeddedBackend.open(dataDir);
  const alerts: { kind: string; card: string }[] = [];
  let payments = 0;
  try {
    for (let p = 0; p < (await backend.partitions('fraud-alerts')); p++) {
      const { records } = await backend.fetch('fraud-alerts', p, 0, 100_000);
      for (const r of records) if (r.value) alerts.push(jsonCodec.decode(r.value) as { kind: string; card: string });
    }
    for (let p = 0; p < (await backend.partitions('transactions')); p++) payments += (await backend.endOffsets('transactions'))[p];
  } finally {
    await backend.close();
  }
  const cards = (kind: string) => new Set(alerts.filter((a) => a.kind === kind).map((a) => a.card));
  // About 250 payments a second for 120 s: tested bursts (3 in 10,000) and outsized amounts (3 in 10,000).
  assert.ok(payments > 20_000, `${payments} payments`);
  assert.ok(alerts.length < payments / 500, `${alerts.length} alerts for ${payments} payments`);
  assert.ok(cards('burst-pattern').size > 0, 'some tested card burst');
  // A burst of 5 at one instant falls in one clock minute, so the window rule sees it too.
  assert.deepEqual([...cards('burst')].sort(), [...cards('burst-pattern')].sort());
});
