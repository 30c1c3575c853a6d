import assert from 'node:assert/strict';
import { openSync, readdirSync, statSync, truncateSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSluiceError, partitionForKey, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, record, values, withDir, withLog } from './helpers.ts';

function segmentFiles(dir: string, topic: string, partition: number, ext = '.log'): string[] {
  const topicDir = readdirSync(join(dir, 'topics')).find((d) => d.startsWith(`${topic}.`)) as string;
  const partitionDir = join(dir, 'topics', topicDir, String(partition));
  return readdirSync(partitionDir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(partitionDir, f));
}

test('records come back in order with keys, values, headers, timestamps and contiguous offsets', () =>
  withLog(async (log) => {
    log.createTopic('events', { partitions: 1 });
    await log.append('events', 0, [
      { key: utf8('k'), value: utf8('v1'), timestamp: 10, headers: { trace: utf8('abc') } },
      { key: null, value: null, timestamp: 11 },
    ]);
    await log.append('events', 0, [record('v3', null, 12)]);
    const { records, nextOffset } = log.read('events', 0, 0);
    assert.equal(nextOffset, 3);
    assert.deepEqual(records.map((r) => r.offset), [0, 1, 2]);
    assert.deepEqual(values(records), ['v1', null, 'v3']);
    assert.deepEqual(records.map((r) => r.timestamp), [10, 11, 12]);
    assert.equal(Buffer.from(records[0].headers?.trace as Uint8Array).toString(), 'abc');
    assert.equal(records[1].key, null);
    assert.deepEqual(values(log.read('events', 0, 1).records), [null, 'v3']);
    assert.deepEqual(log.read('events', 0, 3).records, []);
  }));

test('keyed records land on murmur2(key) % partitions; explicit partitions are honoured', () =>
  withLog(async (log) => {
    log.createTopic('keyed', { partitions: 50 });
    await log.produce('keyed', [record('x', 'foobar'), { ...record('y'), partition: 7 }]);
    assert.equal(partitionForKey(utf8('foobar'), 50), 16);
    assert.deepEqual(values(log.read('keyed', 16, 0).records), ['x']);
    assert.deepEqual(values(log.read('keyed', 7, 0).records), ['y']);
    await assert.rejects(log.produce('keyed', [{ ...record('z'), partition: 50 }]), (e) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
  }));

test('bad topic names, partition counts and missing topics are clear errors', () =>
  withLog(async (log) => {
    assert.throws(() => log.createTopic('bad name', { partitions: 1 }), (e) => isSluiceError(e, 'INVALID_TOPIC_NAME') && /letters, digits/.test(e.message));
    assert.throws(() => log.createTopic('ok', { partitions: 0 }), (e) => isSluiceError(e, 'INVALID_ARGUMENT') && /at least 1/.test(e.message));
    assert.throws(() => log.read('missing', 0, 0), (e) => isSluiceError(e, 'TOPIC_NOT_FOUND') && /sluice topic create missing/.test(e.message));
    log.createTopic('t', { partitions: 1 });
    assert.throws(() => log.createTopic('t', { partitions: 1 }), (e) => isSluiceError(e, 'TOPIC_EXISTS'));
    assert.throws(() => log.read('t', 3, 0), (e) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
    log.deleteTopic('t');
    assert.deepEqual(log.listTopics(), []);
    log.createTopic('t', { partitions: 2 });
    assert.equal(log.endOffset('t', 0), 0, 'a re-created topic starts empty');
  }));

test('segments roll by size and reads cross them; data survives reopening', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('rolled', { partitions: 1, segmentBytes: 2048 });
    for (let i = 0; i < 100; i++) await log.append('rolled', 0, [record(`value-${i}`.padEnd(40, '.'), null, i)]);
    assert.ok(log.describeTopic('rolled').partitions[0].segments > 3);
    await log.close();
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    const all = readAll(log, 'rolled', 0);
    assert.equal(all.length, 100);
    assert.deepEqual(all.map((r) => r.offset), Array.from({ length: 100 }, (_, i) => i));
    assert.equal(log.read('rolled', 0, 57, { maxRecords: 1 }).records[0].offset, 57);
    await log.close();
  }));

test('maxRecords is honoured inside a batch, and the next read continues after it', () =>
  withLog(async (log) => {
    log.createTopic('t', { partitions: 1 });
    await log.append('t', 0, ['a', 'b', 'c', 'd', 'e'].map((v) => record(v)));
    const first = log.read('t', 0, 0, { maxRecords: 2 });
    assert.deepEqual(values(first.records), ['a', 'b']);
    assert.equal(first.nextOffset, 2);
    assert.deepEqual(values(log.read('t', 0, first.nextOffset, { maxRecords: 2 }).records), ['c', 'd']);
  }));

test('reading from a timestamp finds the first record at or after it', () =>
  withLog(async (log) => {
    log.createTopic('timed', { partitions: 1, segmentBytes: 4096 });
    for (let i = 0; i < 300; i++) await log.append('timed', 0, [record(`v${i}`, null, 1000 + i * 10)]);
    assert.equal(log.offsetForTimestamp('timed', 0, 0), 0);
    assert.equal(log.offsetForTimestamp('timed', 0, 1000 + 123 * 10), 123);
    assert.equal(log.offsetForTimestamp('timed', 0, 1000 + 123 * 10 - 5), 123);
    assert.equal(log.offsetForTimestamp('timed', 0, 999_999), 300);
  }));

test('retention deletes whole closed segments by size and by time', () =>
  withLog(async (log) => {
    log.createTopic('sized', { partitions: 1, segmentBytes: 1024, retentionBytes: 3000 });
    for (let i = 0; i < 200; i++) await log.append('sized', 0, [record(`v${i}`.padEnd(50, '.'), null, i)]);
    assert.ok(log.enforceRetention('sized') > 0);
    const [partition] = log.describeTopic('sized').partitions;
    assert.ok(partition.firstOffset > 0 && partition.sizeBytes <= 3000 + 1024);
    assert.throws(() => log.read('sized', 0, 0), (e) => isSluiceError(e, 'OFFSET_OUT_OF_RANGE'));
    assert.equal(readAll(log, 'sized', 0).at(-1)?.offset, 199);

    log.createTopic('aged', { partitions: 1, segmentBytes: 1024, retentionMs: 60_000 });
    const now = Date.now();
    for (let i = 0; i < 100; i++) await log.append('aged', 0, [record(`old${i}`.padEnd(50, '.'), null, now - 3_600_000)]);
    for (let i = 0; i < 5; i++) await log.append('aged', 0, [record(`new${i}`, null, now)]);
    log.enforceRetention('aged');
    assert.ok(readAll(log, 'aged', 0).length < 105);
    assert.equal(values(readAll(log, 'aged', 0)).at(-1), 'new4');
  }));

test('compaction keeps the last record per key and drops old tombstones, offsets unchanged', () =>
  withLog(async (log) => {
    log.createTopic('table', { partitions: 1, compact: true, segmentBytes: 512, deleteRetentionMs: 0 });
    for (let round = 0; round < 20; round++) {
      for (const key of ['a', 'b', 'c']) await log.append('table', 0, [record(`${key}${round}`, key, 1)]);
    }
    await log.append('table', 0, [{ key: utf8('b'), value: null, timestamp: 1 }]);
    for (let i = 0; i < 10; i++) await log.append('table', 0, [record(`d${i}`, 'd', 1)]);
    const before = readAll(log, 'table', 0);
    assert.ok(log.compact('table') > 0);
    const after = readAll(log, 'table', 0);
    assert.ok(after.length < before.length);
    const latest = new Map<string, { offset: number; value: string | null }>();
    for (const r of before) latest.set(Buffer.from(r.key as Uint8Array).toString(), { offset: r.offset, value: values([r])[0] });
    const survivors = new Map(after.map((r) => [Buffer.from(r.key as Uint8Array).toString(), r]));
    assert.equal(survivors.get('a')?.offset, latest.get('a')?.offset);
    assert.equal(values([survivors.get('a') as { value: Uint8Array }])[0], 'a19');
    assert.equal(survivors.has('b'), false, 'the tombstone and the values it deleted are gone');
    for (let i = 1; i < after.length; i++) assert.ok(after[i].offset > after[i - 1].offset);
    assert.throws(() => log.compact('missing'), (e) => isSluiceError(e, 'TOPIC_NOT_FOUND'));
  }));

test('consumer group offsets are stored durably per group and partition', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 2 });
    log.commitOffsets('g1', [{ topic: 't', partition: 0, offset: 5 }, { topic: 't', partition: 1, offset: 9 }]);
    log.commitOffsets('g2', [{ topic: 't', partition: 0, offset: 1 }]);
    await log.close();
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.equal(log.committedOffset('g1', 't', 1), 9);
    assert.equal(log.committedOffset('g2', 't', 1), undefined);
    assert.deepEqual(log.committedOffsets('g1').map((o) => o.offset), [5, 9]);
    await log.close();
  }));

test('an idempotent retry is not written twice; gaps and fenced epochs are refused', () =>
  withLog(async (log) => {
    log.createTopic('idem', { partitions: 1 });
    const producer = await log.producer();
    const [first] = await producer.send('idem', [{ ...record('a'), partition: 0 }]);
    // Re-send the same batch with the same sequence, as a client retrying after a lost ack would.
    const internals = producer as unknown as { sequences: Map<string, number> };
    internals.sequences.set('idem\u00000', 0);
    const [retry] = await producer.send('idem', [{ ...record('a'), partition: 0 }]);
    assert.equal(retry.duplicate, true);
    assert.equal(retry.baseOffset, first.baseOffset);
    assert.deepEqual(values(readAll(log, 'idem', 0)), ['a']);
    internals.sequences.set('idem\u00000', 5);
    await assert.rejects(producer.send('idem', [{ ...record('b'), partition: 0 }]), (e) => isSluiceError(e, 'OUT_OF_ORDER_SEQUENCE'));
    await producer.close();
  }));

test('transactions: read_committed stops at the last stable offset, skips aborted records, commits offsets atomically', () =>
  withLog(async (log) => {
    log.createTopic('out', { partitions: 2 });
    const producer = await log.producer({ transactionalId: 'app' });
    await producer.beginTransaction();
    await producer.send('out', [{ ...record('t1-p0'), partition: 0 }, { ...record('t1-p1'), partition: 1 }]);
    await log.append('out', 0, [record('plain-after-open-txn')]);
    assert.equal(log.endOffset('out', 0, 'read_committed'), 0, 'an open transaction holds the stable offset');
    assert.deepEqual(log.read('out', 0, 0, { isolation: 'read_committed' }).records, []);
    assert.equal(log.read('out', 0, 0, { isolation: 'read_uncommitted' }).records.length, 2);
    await producer.abortTransaction();
    assert.deepEqual(values(readAll(log, 'out', 0, 'read_committed')), ['plain-after-open-txn']);
    assert.deepEqual(values(readAll(log, 'out', 1, 'read_committed')), []);

    await producer.beginTransaction();
    await producer.send('out', [{ ...record('t2-p0'), partition: 0 }, { ...record('t2-p1'), partition: 1 }]);
    await producer.sendOffsetsToTransaction('app', [{ topic: 'in', partition: 0, offset: 42 }]);
    assert.equal(log.committedOffset('app', 'in', 0), undefined, 'offsets wait for the commit');
    await producer.commitTransaction();
    assert.equal(log.committedOffset('app', 'in', 0), 42);
    assert.deepEqual(values(readAll(log, 'out', 0, 'read_committed')), ['plain-after-open-txn', 't2-p0']);
    assert.deepEqual(values(readAll(log, 'out', 1, 'read_committed')), ['t2-p1']);
    await assert.rejects(producer.send('out', [record('outside')]), (e) => isSluiceError(e, 'INVALID_TXN_STATE'));
  }));

test('a new producer with the same transactional id fences the old one and aborts its open transaction', () =>
  withLog(async (log) => {
    log.createTopic('out', { partitions: 1 });
    const old = await log.producer({ transactionalId: 'app' });
    await old.beginTransaction();
    await old.send('out', [record('zombie')]);
    const fresh = await log.producer({ transactionalId: 'app' });
    assert.equal(fresh.epoch, old.epoch + 1);
    assert.equal(log.endOffset('out', 0, 'read_committed'), log.endOffset('out', 0));
    assert.deepEqual(readAll(log, 'out', 0, 'read_committed'), []);
    await assert.rejects(old.commitTransaction(), (e) => isSluiceError(e, 'PRODUCER_FENCED'));
  }));

test('a prepared transaction survives its producer and the next instance commits it', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('out', { partitions: 1 });
    const producer = await log.producer({ transactionalId: 'ckpt' });
    await producer.beginTransaction();
    await producer.send('out', [record('prepared')]);
    const id = await producer.prepareTransaction();
    await log.close();
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.deepEqual(readAll(log, 'out', 0, 'read_committed'), [], 'still undecided after reopening');
    const next = await log.producer({ transactionalId: 'ckpt' });
    assert.equal(next.pendingPrepared, id);
    await assert.rejects(next.beginTransaction(), (e) => isSluiceError(e, 'INVALID_TXN_STATE'));
    await next.completePrepared(true);
    assert.deepEqual(values(readAll(log, 'out', 0, 'read_committed')), ['prepared']);
    await log.close();
  }));

test('regression: a torn committed tail is refused (DATA_LOST), and once accepted the next offset does not move back', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    for (let i = 0; i < 10; i++) await log.append('t', 0, [record(`v${i}`)]);
    await log.close();
    const [segment] = segmentFiles(dir, 't', 0);
    truncateSync(segment, statSync(segment).size - 7); // the last batch loses its end
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.throws(
      () => log.read('t', 0, 0),
      (e: Error) => isSluiceError(e, 'DATA_LOST') && /t\/0: offsets 9 to 9 are committed but missing/.test(e.message) && /sluice log repair --accept-data-loss/.test(e.message),
    );
    const [report] = log.repair({ acceptDataLoss: true });
    assert.deepEqual(report.lost, [9, 10]);
    assert.deepEqual(values(readAll(log, 't', 0)), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
    await log.append('t', 0, [record('after')]);
    assert.deepEqual(readAll(log, 't', 0).map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 'offset 9 is never handed out again');
    await log.close();
  }));

test('missing indexes are rebuilt on open', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    for (let i = 0; i < 200; i++) await log.append('t', 0, [record(`value-${i}`.padEnd(60, '.'), null, i)]);
    await log.close();
    for (const file of [...segmentFiles(dir, 't', 0, '.index'), ...segmentFiles(dir, 't', 0, '.timeindex')]) rmSync(file);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.equal(log.read('t', 0, 150, { maxRecords: 1 }).records[0].offset, 150);
    assert.equal(log.offsetForTimestamp('t', 0, 120), 120);
    assert.ok(statSync(segmentFiles(dir, 't', 0, '.index')[0]).size > 0, 'index written again');
    await log.close();
  }));

test('a corrupt batch in the middle of a segment is an error naming the file and offset, never data', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    for (let i = 0; i < 10; i++) await log.append('t', 0, [record(`value-${i}`)]);
    await log.close();
    const [segment] = segmentFiles(dir, 't', 0);
    const fd = openSync(segment, 'r+');
    writeSync(fd, Buffer.from('XX'), 0, 2, 200); // inside the third or fourth batch
    closeSync(fd);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.throws(
      () => readAll(log, 't', 0),
      (e) => isSluiceError(e, 'CORRUPT_RECORD') && e.message.includes(segment) && /at byte \d+/.test(e.message),
    );
    await log.close();
  }));

test('a waiting reader wakes when data arrives, and times out when none does', () =>
  withLog(async (log) => {
    log.createTopic('t', { partitions: 1 });
    assert.equal(await log.waitForData('t', 0, 0, 30), false);
    const waiting = log.waitForData('t', 0, 0, 5000);
    const appended = new Promise((resolve) => setTimeout(() => resolve(log.append('t', 0, [record('hello')])), 20));
    assert.equal(await waiting, true);
    await appended;
  }));

test('group commit: concurrent appends share fsyncs and all land', () =>
  withLog(async (log) => {
    log.createTopic('gc', { partitions: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append('gc', 0, [record(`r${i}`)])));
    assert.deepEqual(results.map((r) => r.baseOffset).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(readAll(log, 'gc', 0).length, 200);
  }));
