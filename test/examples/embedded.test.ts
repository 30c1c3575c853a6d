// The section 5 program run exactly as a user runs it: a child process executing
// examples/clicks.ts on the embedded log in SLUICE_DATA_DIR, input produced beforehand,
// output read back with read_committed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { fromUtf8, jsonCodec } from '../../src/core/index.ts';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/clicks.ts', import.meta.url));

void test('examples/clicks.ts runs as written on the embedded log and writes keyed window counts', async () => {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'clicks-'));
  try {
    const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
    const events = Array.from({ length: 300 }, (_, i) => ({ url: `/p${i % 3}`, action: i % 4 === 0 ? 'view' : 'click', ts: T0 + i * 2000 }));
    const setup = await EmbeddedBackend.open(dataDir);
    await setup.ensureTopic('events', 3);
    const writer = await setup.openWriter();
    await writer.send('events', events.map((e) => ({ key: null, value: jsonCodec.encode(e), timestamp: e.ts })));
    await writer.close();
    await setup.close();

    await run(process.execPath, [example], { env: { ...process.env, SLUICE_DATA_DIR: dataDir } });

    const backend = await EmbeddedBackend.open(dataDir);
    try {
      const got = new Map<string, number>();
      const partitions = await backend.partitions('clicks-per-url');
      for (let p = 0; p < partitions; p++) {
        const { records } = await backend.fetch('clicks-per-url', p, 0, 10_000);
        for (const r of records) {
          const result = jsonCodec.decode(r.value!) as { key: string; start: number; value: number };
          assert.equal(fromUtf8(r.key!), result.key);
          got.set(`${result.key}|${result.start}`, result.value);
        }
      }
      const want = new Map<string, number>();
      for (const e of events) {
        if (e.action !== 'click') continue;
        const id = `${e.url}|${Math.floor(e.ts / 300_000) * 300_000}`;
        want.set(id, (want.get(id) ?? 0) + 1);
      }
      assert.deepEqual(got, want);
      // The app's group committed every source offset.
      const committed = await backend.committedOffsets('clicks', 'events');
      assert.deepEqual([...committed.values()].reduce((a, b) => a + b, 0), events.length);
    } finally {
      await backend.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
