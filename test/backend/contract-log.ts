// The contract, part 1: topics and partitions, append and fetch, offsets and timestamps,
// consumer-group offsets, waitForData.
import assert from 'node:assert/strict';
import { fromUtf8, partitionForKey, utf8 } from '../../src/core/index.ts';
import { committedText, type ContractSuite, readCommitted, rec, rejectsWith, text, within } from './contract-helpers.ts';

export function logContract(suite: ContractSuite): void {
  suite.test('topics: ensureTopic creates once and returns the partition count; a missing topic is TOPIC_NOT_FOUND', async ({ backend }) => {
      assert.equal(await backend.ensureTopic('orders', 3), 3);
      assert.equal(await backend.ensureTopic('orders', 5), 3, 'an existing topic keeps its partitions');
      assert.equal(await backend.ensureTopic('single'), 1, 'one partition by default');
      assert.equal(await backend.ensureTopic('changelog', 2, { compact: true }), 2);
      assert.equal(await backend.partitions('orders'), 3);
      assert.deepEqual(await backend.startOffsets('orders'), [0, 0, 0]);
      assert.deepEqual(await backend.endOffsets('orders'), [0, 0, 0]);
      await rejectsWith(backend.partitions('missing'), 'TOPIC_NOT_FOUND', 'partitions of a missing topic');
      await rejectsWith(() => backend.endOffsets('missing'), 'TOPIC_NOT_FOUND', 'endOffsets of a missing topic');
      await rejectsWith(() => backend.fetch('missing', 0, 0, 10), 'TOPIC_NOT_FOUND', 'fetch from a missing topic');
      const writer = await backend.openWriter();
      await rejectsWith(() => writer.send('missing', [rec('a')]), 'TOPIC_NOT_FOUND', 'send to a missing topic');
      await writer.close();
    });

  suite.test('topics: bad names and partition counts are refused; so are partitions that do not exist', async ({ backend }) => {
      for (const bad of [0, -1, 1.5]) await rejectsWith(() => backend.ensureTopic('t', bad), 'INVALID_ARGUMENT', `${bad} partitions`);
      for (const bad of ['', 'a b', 'a/b', '..']) await rejectsWith(() => backend.ensureTopic(bad, 1), 'INVALID_TOPIC_NAME', `topic name '${bad}'`);
      await backend.ensureTopic('t', 2);
      await rejectsWith(() => backend.fetch('t', 2, 0, 10), 'PARTITION_NOT_FOUND', 'fetch from partition 2 of 2');
      const writer = await backend.openWriter();
      await rejectsWith(() => writer.send('t', [rec('ok', { partition: 0 }), rec('bad', { partition: 2 })]), 'PARTITION_NOT_FOUND', 'send to partition 2 of 2');
      assert.deepEqual(await backend.endOffsets('t'), [0, 0], 'a send with a bad partition appends none of its records');
      await writer.close();
    });

  suite.test('append and fetch: offsets count from 0 per partition; key, value, timestamp and headers come back as sent', async ({ backend }) => {
      await backend.ensureTopic('t', 2);
      const writer = await backend.openWriter();
      await writer.send('t', [rec('a', { partition: 0 }), rec('b', { partition: 1 }), rec('c', { partition: 0 })]);
      await writer.send('t', [
        { key: utf8('k'), value: null, timestamp: 5, partition: 0 },
        { key: null, value: new Uint8Array(0), timestamp: 6, partition: 0, headers: { trace: utf8('x-1'), empty: new Uint8Array(0) } },
      ]);
      assert.deepEqual(await backend.endOffsets('t'), [4, 1]);
      const { records } = await readCommitted(backend, 't', 0);
      assert.deepEqual(records.map((r) => r.offset), [0, 1, 2, 3]);
      assert.deepEqual(text(records.slice(0, 2)), ['a', 'c']);
      assert.equal(fromUtf8(records[2].key!), 'k');
      assert.equal(records[2].value, null, 'a null value (tombstone) stays null');
      assert.equal(records[3].key, null, 'a null key stays null');
      assert.deepEqual(records[3].value, new Uint8Array(0), 'an empty value is not null');
      assert.deepEqual(Object.keys(records[3].headers ?? {}).sort(), ['empty', 'trace']);
      assert.equal(fromUtf8(records[3].headers!.trace), 'x-1');
      assert.deepEqual(records[3].headers!.empty, new Uint8Array(0));
      assert.deepEqual(text((await readCommitted(backend, 't', 1)).records), ['b']);
      await writer.close();
    });

  suite.test('append: keyed records go to murmur2(key) % partitions, as Kafka places them; unkeyed ones land somewhere, each once', async ({ backend }) => {
      await backend.ensureTopic('t', 4);
      const writer = await backend.openWriter();
      const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
      await writer.send('t', keys.map((key) => rec(key, { key })));
      for (let i = 0; i < 30; i++) await writer.send('t', [rec(`u${i}`)]);
      const unkeyed: string[] = [];
      for (let p = 0; p < 4; p++) {
        for (const r of (await readCommitted(backend, 't', p)).records) {
          if (r.key === null) unkeyed.push(fromUtf8(r.value!));
          else assert.equal(partitionForKey(r.key, 4), p, `key ${fromUtf8(r.key)} in partition ${p}`);
        }
      }
      assert.deepEqual(unkeyed.sort(), Array.from({ length: 30 }, (_, i) => `u${i}`).sort());
      await writer.close();
    });

  suite.test('append: unkeyed records of one send spread over every partition (a sink writes one send per checkpoint)', async ({ backend }) => {
      await backend.ensureTopic('spread', 3);
      const writer = await backend.openWriter();
      await writer.send('spread', Array.from({ length: 300 }, (_, i) => rec(`u${i}`)));
      const counts = [];
      for (let p = 0; p < 3; p++) counts.push((await readCommitted(backend, 'spread', p)).records.length);
      assert.deepEqual(counts, [100, 100, 100]);
      await writer.close();
    });

  suite.test('append: the log keeps its own copy of the bytes; a sender reusing its buffer changes nothing stored', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const writer = await backend.openWriter();
      const value = utf8('before');
      const key = utf8('k');
      await writer.send('t', [{ key, value, timestamp: 1, partition: 0 }]);
      value.fill(0);
      key.fill(0);
      const [stored] = (await readCommitted(backend, 't', 0)).records;
      assert.equal(fromUtf8(stored.value!), 'before');
      assert.equal(fromUtf8(stored.key!), 'k');
      await writer.close();
    });

  suite.test('fetch: pages of at most maxRecords, from any offset, end where the partition ends', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const writer = await backend.openWriter();
      const all = Array.from({ length: 25 }, (_, i) => `v${i}`);
      // Several batches, so pages cut through batches as well as between them.
      for (let i = 0; i < all.length; i += 7) await writer.send('t', all.slice(i, i + 7).map((v) => rec(v, { partition: 0 })));
      for (const page of [1, 3, 7, 100]) assert.deepEqual(await committedText(backend, 't', 0, page), all, `pages of ${page}`);
      const middle = await backend.fetch('t', 0, 10, 2);
      assert.deepEqual(middle.records.map((r) => r.offset), [10, 11]);
      assert.equal(middle.nextOffset, 12);
      const atEnd = await backend.fetch('t', 0, 25, 10);
      assert.deepEqual(atEnd, { records: [], nextOffset: 25 }, 'a fetch at the end returns nothing and stays there');
      await writer.close();
    });

  suite.test('fetch: reads of one partition at different offsets asked at once each get their own answer (two sources on one topic)', async ({ backend }) => {
      await backend.ensureTopic('t', 2);
      const writer = await backend.openWriter();
      await writer.send('t', Array.from({ length: 10 }, (_, i) => rec(`v${i}`, { partition: 0 })));
      await writer.send('t', [rec('w0', { partition: 1 })]);
      const [low, high, other] = await Promise.all([backend.fetch('t', 0, 0, 3), backend.fetch('t', 0, 6, 3), backend.fetch('t', 1, 0, 3)]);
      assert.deepEqual(low.records.map((r) => r.offset), [0, 1, 2]);
      assert.deepEqual(high.records.map((r) => r.offset), [6, 7, 8]);
      assert.deepEqual(text(other.records), ['w0']);
      await writer.close();
    });

  suite.test('timestamps: each record keeps its own, in any order, from 0 to far future', async ({ backend }) => {
      await backend.ensureTopic('t', 1);
      const writer = await backend.openWriter();
      const stamps = [1_700_000_000_000, 0, 1_699_999_999_999, 5, 8_640_000_000_000_000, 1_700_000_000_123];
      await writer.send('t', stamps.slice(0, 3).map((timestamp, i) => rec(`r${i}`, { partition: 0, timestamp })));
      await writer.send('t', stamps.slice(3).map((timestamp, i) => rec(`s${i}`, { partition: 0, timestamp })));
      const { records } = await readCommitted(backend, 't', 0, 2);
      assert.deepEqual(records.map((r) => r.timestamp), stamps);
      await writer.close();
    });

  suite.test('group offsets: committed per group, topic and partition; the last commit wins; unknown groups have none', async ({ backend }) => {
      await backend.ensureTopic('a', 2);
      await backend.ensureTopic('b', 1);
      assert.deepEqual(await backend.committedOffsets('g1', 'a'), new Map());
      await backend.commitOffsets('g1', [
        { topic: 'a', partition: 0, offset: 3 },
        { topic: 'a', partition: 1, offset: 7 },
        { topic: 'b', partition: 0, offset: 1 },
      ]);
      await backend.commitOffsets('g2', [{ topic: 'a', partition: 0, offset: 9 }]);
      await backend.commitOffsets('g1', [{ topic: 'a', partition: 0, offset: 4 }]);
      assert.deepEqual(await backend.committedOffsets('g1', 'a'), new Map([[0, 4], [1, 7]]));
      assert.deepEqual(await backend.committedOffsets('g1', 'b'), new Map([[0, 1]]));
      assert.deepEqual(await backend.committedOffsets('g2', 'a'), new Map([[0, 9]]));
      assert.deepEqual(await backend.committedOffsets('g2', 'b'), new Map());
      assert.deepEqual(await backend.committedOffsets('g3', 'a'), new Map());
      await rejectsWith(() => backend.commitOffsets('', [{ topic: 'a', partition: 0, offset: 1 }]), 'INVALID_ARGUMENT', 'an empty group name');
    });

  suite.test('waitForData: resolves when a record arrives at the offset waited on, at once when one is there, and after the timeout otherwise', async ({ backend }) => {
      await backend.ensureTopic('t', 2);
      const writer = await backend.openWriter();
      // Nothing comes: the wait ends by its timeout (bounded, not timed).
      await within(backend.waitForData('t', 0, 0, 20), 'waitForData with a 20 ms timeout on an empty partition did not resolve');
      const waiting = backend.waitForData('t', 1, 0, 60_000);
      await writer.send('t', [rec('a', { partition: 1 })]);
      await within(waiting, 'waitForData did not resolve when a record arrived');
      await within(backend.waitForData('t', 1, 0, 60_000), 'waitForData did not resolve at once for a record already there');
      const next = backend.waitForData('t', 1, 1, 60_000);
      await writer.send('t', [rec('b', { partition: 1 })]);
      await within(next, 'waitForData at offset 1 did not resolve when offset 1 arrived');
      await writer.close();
    });
}
