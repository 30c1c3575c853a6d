import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8, isSluiceError, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, record, withDir, withLog } from './helpers.ts';

function keyed(key: string, value: string, timestamp = 0) {
  return { key: utf8(key), value: utf8(value), timestamp };
}

test('compaction merges the segments it empties (regression: a 114 KiB compacted topic kept 470 segments, 468 empty)', () =>
  withLog(async (log, dir) => {
    log.createTopic('table', { partitions: 1, compact: true, segmentBytes: 1024, fsync: 'never' });
    for (let i = 0; i < 600; i++) await log.append('table', 0, [keyed(`k${i % 5}`, `v${i}`)]);
    const before = log.describeTopic('table').partitions[0];
    assert.ok(before.segments > 50);
    const oldest = readAll(log, 'table', 0)[0].offset;
    assert.ok(log.compact('table', { rollActive: true }) > 0);
    const after = log.describeTopic('table').partitions[0];
    assert.ok(after.segments <= 3, `the emptied segments are gone (${after.segments} left)`);
    assert.equal(after.nextOffset, before.nextOffset, 'the next offset never moves');
    assert.equal(after.firstOffset, before.firstOffset);
    const left = readAll(log, 'table', 0);
    assert.deepEqual(
      left.map((r) => fromUtf8(r.value as Uint8Array)),
      ['v595', 'v596', 'v597', 'v598', 'v599'],
    );
    for (let i = 1; i < left.length; i++) assert.ok(left[i].offset > left[i - 1].offset, 'offsets ascend');
    // A reader positioned inside a merged-away segment continues at the next existing offset.
    const page = log.read('table', 0, oldest + 3);
    assert.ok(page.records.length > 0 && page.records[0].offset > oldest + 3);
    assert.equal(page.records[0].offset, left.find((r) => r.offset > oldest + 3)?.offset);
    // The log goes on from the same next offset, and compacting again changes nothing more.
    const appended = await log.append('table', 0, [keyed('k9', 'new')]);
    assert.equal(appended.baseOffset, before.nextOffset);
    assert.equal(log.compact('table'), 0);
    const pdir = join(dir, 'topics', `table.${log.describeTopic('table').config.id}`, '0');
    assert.equal(readdirSync(pdir).filter((f) => f.endsWith('.log')).length, log.describeTopic('table').partitions[0].segments);
  }));

test('repeated compaction of a growing table keeps the segment count small and values exact', () =>
  withLog(async (log) => {
    log.createTopic('table', { partitions: 1, compact: true, segmentBytes: 2048, fsync: 'never' });
    const expected = new Map<string, string>();
    for (let round = 0; round < 15; round++) {
      for (let i = 0; i < 60; i++) {
        const key = `key-${(round * 13 + i * 7) % 50}`;
        expected.set(key, `${round}/${i}`);
        await log.append('table', 0, [keyed(key, `${round}/${i}`)]);
      }
      log.compact('table');
    }
    log.compact('table', { rollActive: true });
    const latest = new Map(readAll(log, 'table', 0).map((r) => [fromUtf8(r.key as Uint8Array), fromUtf8(r.value as Uint8Array)]));
    assert.deepEqual(latest, expected);
    assert.ok(log.describeTopic('table').partitions[0].segments <= 4);
  }));

test('on-demand compaction rolls the active segment first (regression: a topic held only in its active segment saved 0 B)', () =>
  withLog(async (log) => {
    log.createTopic('table', { partitions: 1, compact: true });
    for (let i = 0; i < 100; i++) await log.append('table', 0, [keyed(`k${i % 3}`, `v${i}`)]);
    assert.equal(log.compact('table'), 0, 'the background pass leaves the active segment alone');
    assert.ok(log.compact('table', { rollActive: true }) > 0);
    assert.deepEqual(
      readAll(log, 'table', 0).map((r) => fromUtf8(r.value as Uint8Array)),
      ['v97', 'v98', 'v99'],
    );
    assert.equal((await log.append('table', 0, [keyed('k0', 'after')])).baseOffset, 100);
  }));

test('alterTopic changes retention of an existing topic, and retention applies it', () =>
  withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('events', { partitions: 1, segmentBytes: 512 });
    for (let i = 0; i < 100; i++) await log.append('events', 0, [record(`value-${i}`.padEnd(40, '.'))]);
    // Another process's view: it opened the partition before the change.
    const other = await Log.open(dir, { maintenanceIntervalMs: 0 });
    assert.equal(other.enforceRetention('events'), 0);
    const altered = log.alterTopic('events', { retentionBytes: 1024 });
    assert.equal(altered.retentionBytes, 1024);
    assert.equal(log.topic('events').retentionBytes, 1024);
    assert.ok(other.enforceRetention('events') > 0, 'a process that opened the topic before sees the new retention');
    assert.ok(log.describeTopic('events').partitions[0].sizeBytes <= 1024 + 512);
    assert.throws(() => log.alterTopic('events', { retentionMs: -5 }), (e) => isSluiceError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => log.alterTopic('missing', { retentionMs: 5 }), (e) => isSluiceError(e, 'TOPIC_NOT_FOUND'));
    await other.close();
    await log.close();
  }));
