// What each guarantee makes visible when: exactly-once output appears when its checkpoint
// commits; at-least-once output appears at once, before any checkpoint; at-most-once output
// follows its checkpoint (offsets first). Checkpoints here are an hour apart, so only the
// final one on stop happens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import type { LogBackend } from '../../src/backend/index.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';
import { withDir } from '../log/helpers.ts';

async function visible(backend: LogBackend, topic: string): Promise<number> {
  const partitions = await backend.partitions(topic).catch(() => 0);
  let n = 0;
  for (let p = 0; p < partitions; p++) n += (await backend.endOffsets(topic))[p];
  return n;
}

for (const guarantee of ['exactly-once', 'at-least-once', 'at-most-once'] as const) {
  void test(`${guarantee}: output ${guarantee === 'at-least-once' ? 'is visible before' : 'waits for'} its checkpoint`, { timeout: 30_000 }, () =>
    withDir(async (dataDir) => {
      const backend = await EmbeddedBackend.open(dataDir);
      await backend.ensureTopic('numbers', 1);
      const writer = await backend.openWriter();
      await writer.send('numbers', [1, 2, 3].map((v) => ({ key: null, value: jsonCodec.encode(v), timestamp: v })));
      await writer.close();
      const app = new Sluice({ name: `g-${guarantee}`, dataDir, backend, guarantee, checkpointInterval: '1h' });
      app.stream<number>('numbers').map((n) => n * 10).to('tens');
      const running = app.run();
      // Give the app time to read and process the three records.
      let seen = 0;
      for (let i = 0; i < 40 && seen < 3; i++) {
        await sleep(50);
        seen = await visible(backend, 'tens');
      }
      if (guarantee === 'at-least-once') assert.equal(seen, 3, 'visible without a checkpoint');
      else assert.equal(seen, 0, 'nothing visible before the checkpoint');
      app.stop();
      await running;
      assert.equal(await visible(backend, 'tens'), 3 + (guarantee === 'exactly-once' ? 1 : 0), 'all there after the final checkpoint (plus the commit marker)');
      await backend.close();
    }));
}
