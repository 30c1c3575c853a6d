import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { fromUtf8, utf8 } from '../../src/core/index.ts';
import { withDir } from '../log/helpers.ts';

test('the embedded backend reads committed data, commits offsets, and writes transactionally', () =>
  withDir(async (dir) => {
    const backend = await EmbeddedBackend.open(dir);
    try {
      assert.equal(await backend.ensureTopic('in', 2), 2);
      assert.equal(await backend.ensureTopic('in', 5), 2, 'an existing topic keeps its partitions');
      const plain = await backend.openWriter();
      await plain.send('in', [{ key: null, value: utf8('a'), timestamp: 1, partition: 1 }]);
      assert.deepEqual(await backend.endOffsets('in'), [0, 1]);

      await backend.ensureTopic('out', 1);
      const writer = await backend.openWriter({ transactionalId: 'app' });
      await writer.beginTransaction();
      await writer.send('out', [{ key: utf8('k'), value: utf8('v'), timestamp: 2 }]);
      await writer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 1, offset: 1 }]);
      assert.deepEqual((await backend.fetch('out', 0, 0, 10)).records, [], 'invisible before commit');
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map());
      await writer.commitTransaction();
      const { records, nextOffset } = await backend.fetch('out', 0, 0, 10);
      assert.deepEqual(records.map((r) => fromUtf8(r.value as Uint8Array)), ['v']);
      assert.equal(nextOffset, 2, 'the commit marker is skipped');
      assert.deepEqual(await backend.committedOffsets('app', 'in'), new Map([[1, 1]]));

      const waiting = backend.waitForData('in', 0, 0, 5000);
      await plain.send('in', [{ key: null, value: utf8('b'), timestamp: 3, partition: 0 }]);
      await waiting;
      assert.equal((await backend.fetch('in', 0, 0, 10)).records.length, 1);
      await writer.close();
      await plain.close();
    } finally {
      await backend.close();
    }
  }));
