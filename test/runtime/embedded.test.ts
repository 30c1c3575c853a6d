// The engine on the embedded log: exactly-once commits through log transactions (output and
// group offsets together), read_committed output, and a restart that continues.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import type { LogBackend } from '../../src/backend/index.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';
import { waitUntil } from '../support/wait.ts';

async function readAll(backend: LogBackend, topic: string): Promise<number[]> {
  const out: number[] = [];
  // The app creates its sink topic when it starts.
  const partitions = await backend.partitions(topic).catch(() => 0);
  for (let p = 0; p < partitions; p++) {
    let offset = 0;
    for (;;) {
      const { records, nextOffset } = await backend.fetch(topic, p, offset, 1000);
      out.push(...records.map((r) => jsonCodec.decode(r.value!) as number));
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
  }
  return out;
}

/** The output's values in numeric order, once at least `count` are readable (read_committed). */
async function outputOnceReadable(backend: LogBackend, count: number): Promise<number[]> {
  const values = await waitUntil(async () => {
    const out = await readAll(backend, 'squares');
    return out.length >= count && out;
  }, `${count} committed records in 'squares'`);
  return values.sort((a, b) => a - b);
}

async function produce(backend: LogBackend, values: number[]): Promise<void> {
  const writer = await backend.openWriter();
  await writer.send('numbers', values.map((v) => ({ key: null, value: jsonCodec.encode(v), timestamp: Date.now() })));
  await writer.close();
}

void test('unbounded exactly-once run on the embedded log: output appears on commit, a restart continues', async () => {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'engine-'));
  const backend = await EmbeddedBackend.open(dataDir);
  try {
    await backend.ensureTopic('numbers', 2);
    await produce(backend, [1, 2, 3]);
    const build = () => {
      const app = new Sluice({ name: 'squares', backend, checkpointInterval: 20 });
      app.stream<number>('numbers').map((n) => n * n).to('squares');
      return app;
    };
    const app = build();
    const running = app.run();
    assert.deepEqual(await outputOnceReadable(backend, 3), [1, 4, 9]);
    await produce(backend, [4]);
    assert.deepEqual(await outputOnceReadable(backend, 4), [1, 4, 9, 16]);
    app.stop();
    await running;
    assert.deepEqual(await outputOnceReadable(backend, 4), [1, 4, 9, 16], 'nothing written twice');
    const committed = await backend.committedOffsets('squares', 'numbers');
    assert.equal([...committed.values()].reduce((a, b) => a + b, 0), 4);

    await produce(backend, [5]);
    const summary = await build().run({ bounded: true });
    assert.equal(summary.records, 1);
    assert.deepEqual(await outputOnceReadable(backend, 5), [1, 4, 9, 16, 25]);
  } finally {
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
