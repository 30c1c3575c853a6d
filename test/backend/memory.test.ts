// The in-memory backend's compacted topics: compacted as the embedded log compacts closed segments, offsets never move.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { fromUtf8, utf8 } from '../../src/core/index.ts';

const rec = (key: string | null, value: string) => ({ key: key === null ? null : utf8(key), value: utf8(value), timestamp: 0 });
const read = (backend: MemoryBackend, topic: string) => backend.fetchSync(topic, 0, 0, 100).records.map((r) => [r.offset, r.key === null ? null : fromUtf8(r.key), fromUtf8(r.value!)]);

void test('a compacted topic keeps the last committed record of each key; an open transaction hides nothing older', async () => {
  // Every write is a segment's worth: each one starts a pass.
  const backend = new MemoryBackend({ compactedSegmentBytes: 1 });
  await backend.ensureTopic('table', 1, { compact: true });
  await backend.ensureTopic('plain', 1);
  const plain = await backend.openWriter();
  await plain.send('table', [rec('a', 'a1'), rec('b', 'b1'), rec('a', 'a2'), rec(null, 'x')]);
  await plain.send('plain', [rec('a', 'a1'), rec('a', 'a2')]);
  assert.deepEqual(read(backend, 'table'), [[1, 'b', 'b1'], [2, 'a', 'a2'], [3, null, 'x']], 'unkeyed records stay');
  assert.equal(read(backend, 'plain').length, 2, 'a topic not compacted keeps every record');

  const txn = await backend.openWriter({ transactionalId: 't' });
  await txn.beginTransaction();
  await txn.send('table', [rec('a', 'a3'), rec('b', 'b2')]);
  assert.deepEqual(read(backend, 'table'), [[1, 'b', 'b1'], [2, 'a', 'a2'], [3, null, 'x']], 'the committed records stay while the transaction is open');
  await txn.abortTransaction();
  assert.equal(backend.readUncommitted('table', 0).length, 3, 'aborted records go');
  await txn.beginTransaction();
  await txn.send('table', [rec('a', 'a4')]);
  await txn.commitTransaction();
  assert.deepEqual(read(backend, 'table'), [[1, 'b', 'b1'], [3, null, 'x'], [7, 'a', 'a4']]);
  assert.deepEqual(await backend.endOffsets('table'), [9], 'offsets never move: removed records leave gaps');
});

void test('records written since the last pass stay readable until a segment of bytes follows them', async () => {
  const backend = new MemoryBackend({ compactedSegmentBytes: 9 });
  await backend.ensureTopic('table', 1, { compact: true });
  const writer = await backend.openWriter();
  await writer.send('table', [rec('a', 'a1'), rec('a', 'a2')]); // 6 bytes (keys and values): no pass yet
  assert.deepEqual(read(backend, 'table'), [[0, 'a', 'a1'], [1, 'a', 'a2']]);
  await writer.send('table', [rec('a', 'a3')]); // 9 bytes: a pass
  assert.deepEqual(read(backend, 'table'), [[2, 'a', 'a3']]);
});
