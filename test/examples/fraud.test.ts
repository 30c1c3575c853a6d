// examples/fraud.ts run as a user runs it: a child process on the embedded log, input produced
// beforehand (three partitions, out of order within the watermark bound), alerts read back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { jsonCodec, utf8 } from '../../src/core/index.ts';
import { partitionForKey } from '../../src/core/murmur2.ts';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/fraud.ts', import.meta.url));

interface Event {
  type: 'login' | 'purchase';
  user: string;
  card: string;
  country: string;
  amount: number;
  ts: number;
}

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

/** Ordinary traffic, plus each rule's fraud once. */
function input(): Event[] {
  const out: Event[] = [];
  // 30 users, a card each, a purchase every 3 minutes at home: no rule fires.
  for (let i = 0; i < 600; i++) {
    const u = i % 30;
    out.push({ type: 'purchase', user: `u${u}`, card: `c${u}`, country: 'FR', amount: 20 + (i % 7), ts: T0 + i * 6000 });
  }
  for (let u = 0; u < 30; u++) out.push({ type: 'login', user: `u${u}`, card: '', country: 'FR', amount: 0, ts: T0 + u * 1000 });
  // Rule 1: u3 logs in from FR, buys from BR two minutes later.
  out.push({ type: 'purchase', user: 'u3', card: 'c3', country: 'BR', amount: 25, ts: T0 + 3000 + 120_000 });
  // Rule 2: card c7 pays 5 times in 25 s (one burst: one alert, though it holds two runs of 4).
  for (let k = 0; k < 5; k++) out.push({ type: 'purchase', user: 'u7', card: 'c7', country: 'FR', amount: 21, ts: T0 + 600_000 + k * 5000 });
  // Rule 3: card c9 pays 950 once.
  out.push({ type: 'purchase', user: 'u9', card: 'c9', country: 'FR', amount: 950, ts: T0 + 900_000 });
  // Arrival order: sorted by time, then swapped in pairs (out of order by at most 2 s).
  out.sort((a, b) => a.ts - b.ts);
  for (let i = 0; i + 1 < out.length; i += 2) if (out[i + 1].ts - out[i].ts <= 2000) [out[i], out[i + 1]] = [out[i + 1], out[i]];
  return out;
}

void test('examples/fraud.ts raises each of the three fraud rules once, as written, on the embedded log', async () => {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'fraud-'));
  try {
    const setup = await EmbeddedBackend.open(dataDir);
    await setup.ensureTopic('events', 3);
    const writer = await setup.openWriter();
    const byPartition = [0, 1, 2].map(() => [] as Event[]);
    for (const e of input()) byPartition[partitionForKey(utf8(e.user), 3)].push(e);
    for (let p = 0; p < 3; p++) await writer.send('events', byPartition[p].map((e) => ({ key: utf8(e.user), value: jsonCodec.encode(e), timestamp: e.ts, partition: p })));
    await writer.close();
    await setup.close();

    const { stdout } = await run(process.execPath, [example], { env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_EXPLAIN: '1' } });
    assert.match(stdout, /foreign-purchase: pattern begin login -> followedBy buy \(within 300000ms, skip noSkip, event time\)/);
    assert.match(stdout, /card-bursts: pattern begin tx\{4\} \(within 60000ms, skip skipPastLastEvent, event time\)/);

    const backend = await EmbeddedBackend.open(dataDir);
    try {
      const alerts: { rule: string; user: string; card: string }[] = [];
      for (let p = 0; p < (await backend.partitions('fraud-alerts')); p++) {
        const { records } = await backend.fetch('fraud-alerts', p, 0, 10_000);
        for (const r of records) if (r.value) alerts.push(jsonCodec.decode(r.value) as { rule: string; user: string; card: string });
      }
      const seen = alerts.map((a) => `${a.rule} ${a.user} ${a.card}`).sort();
      assert.deepEqual(seen, ['burst u7 c7', 'foreign-purchase u3 c3', 'outsized u9 c9']);
    } finally {
      await backend.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
