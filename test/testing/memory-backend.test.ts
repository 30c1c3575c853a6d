// The in-memory LogBackend: partitions and offsets, keyed placement as Kafka's, transactions
// with read_committed visibility, fencing, and consumer-group offsets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromUtf8, isSluiceError, partitionForKey, utf8 } from '../../src/core/index.ts';
import { MemoryBackend } from '../../src/testing/index.ts';

const rec = (value: string, key: string | null = null) => ({ key: key === null ? null : utf8(key), value: utf8(value), timestamp: 1 });
const values = async (b: MemoryBackend, topic: string, p: number) => (await b.fetch(topic, p, 0, 100)).records.map((r) => fromUtf8(r.value!));

void test('appends get offsets per partition; keyed records go where Kafka puts them; unkeyed spread', async () => {
  const b = new MemoryBackend();
  assert.equal(await b.ensureTopic('t', 3), 3);
  assert.equal(await b.ensureTopic('t', 5), 3);
  const w = await b.openWriter();
  await w.send('t', [rec('a', 'user-1'), rec('b', 'user-1'), rec('x'), rec('y'), rec('z')]);
  const p = partitionForKey(utf8('user-1'), 3);
  assert.deepEqual((await values(b, 't', p)).slice(0, 2), ['a', 'b']);
  assert.deepEqual(await b.endOffsets('t'), [0, 1, 2].map((i) => (i === p ? 2 : 0) + 1));
  const page = await b.fetch('t', p, 1, 1);
  assert.equal(page.records[0].offset, 1);
  assert.equal(page.nextOffset, 2);
  await assert.rejects(b.partitions('missing'), (e: unknown) => isSluiceError(e, 'TOPIC_NOT_FOUND'));
  await assert.rejects(w.send('t', [{ ...rec('q'), partition: 9 }]), (e: unknown) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
});

void test('a transaction is invisible to read_committed readers until it commits, and gone if aborted', async () => {
  const b = new MemoryBackend();
  await b.ensureTopic('t', 1);
  const tx = await b.openWriter({ transactionalId: 'app' });
  const plain = await b.openWriter();
  await tx.beginTransaction();
  await tx.send('t', [{ ...rec('t1'), partition: 0 }]);
  await plain.send('t', [{ ...rec('p1'), partition: 0 }]);
  await tx.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 7 }]);
  // The open transaction holds the last stable offset back, so p1 is not readable yet either.
  assert.deepEqual(await b.endOffsets('t'), [0]);
  assert.deepEqual(await values(b, 't', 0), []);
  assert.equal((await b.committedOffsets('app', 'in')).size, 0);
  await tx.commitTransaction();
  assert.deepEqual(await values(b, 't', 0), ['t1', 'p1']);
  assert.deepEqual([...(await b.committedOffsets('app', 'in'))], [[0, 7]]);

  await tx.beginTransaction();
  await tx.send('t', [{ ...rec('t2'), partition: 0 }]);
  await tx.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 9 }]);
  await tx.abortTransaction();
  await plain.send('t', [{ ...rec('p2'), partition: 0 }]);
  assert.deepEqual(await values(b, 't', 0), ['t1', 'p1', 'p2']);
  assert.deepEqual([...(await b.committedOffsets('app', 'in'))], [[0, 7]]);
  assert.deepEqual(b.readUncommitted('t', 0).map((r) => fromUtf8(r.value!)), ['t1', 'p1', 'p2']);
});

void test('a new writer with the same transactional id fences the old one and aborts what it left open', async () => {
  const b = new MemoryBackend();
  await b.ensureTopic('t', 1);
  const old = await b.openWriter({ transactionalId: 'app' });
  await old.beginTransaction();
  await old.send('t', [{ ...rec('zombie'), partition: 0 }]);
  const fresh = await b.openWriter({ transactionalId: 'app' });
  assert.deepEqual(await b.endOffsets('t'), [1]);
  await assert.rejects(old.commitTransaction(), (e: unknown) => isSluiceError(e, 'PRODUCER_FENCED'));
  await fresh.beginTransaction();
  await fresh.send('t', [{ ...rec('ok'), partition: 0 }]);
  await fresh.commitTransaction();
  assert.deepEqual(await values(b, 't', 0), ['ok']);
  await assert.rejects(old.send('t', [rec('late')]), (e: unknown) => isSluiceError(e, 'PRODUCER_FENCED'));
  const noId = await b.openWriter();
  await assert.rejects(noId.beginTransaction(), (e: unknown) => isSluiceError(e, 'INVALID_TXN_STATE'));
});

void test('waitForData resolves on new data, and on timeout otherwise', async () => {
  const b = new MemoryBackend();
  await b.ensureTopic('t', 1);
  const started = Date.now();
  await b.waitForData('t', 0, 0, 30);
  assert.ok(Date.now() - started >= 25);
  const waiting = b.waitForData('t', 0, 0, 10_000);
  const w = await b.openWriter();
  await w.send('t', [rec('a')]);
  await waiting;
  assert.deepEqual(await values(b, 't', 0), ['a']);
});
