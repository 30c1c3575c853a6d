import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { SegmentFile } from '../../src/log/segment-files.ts';
import { committedNext, powerLossCopy, readAll, record, watchWalSyncs, withDir } from './helpers.ts';

test('a closing segment is synced at its roll unless the syncs of this process covered every committed byte', () =>
  withDir(async (dir) => {
    const file = SegmentFile.open(dir, 0, 0, undefined, true);
    assert.ok(file);
    const other = SegmentFile.open(dir, 0, 0, undefined, false);
    assert.ok(other);
    try {
      const bytes = new Uint8Array(1000).fill(7);
      file.prepareAppend(0);
      file.writeBatches(0, [bytes], bytes.length, []);
      assert.equal(file.syncCommitted(1000), true, 'written and not synced: the roll syncs');
      assert.equal(file.syncCommitted(1000), false, 'that sync covered it');

      file.writeBatches(1000, [bytes], bytes.length, []);
      const pending = file.syncAsync();
      file.writeBatches(2000, [bytes], bytes.length, []);
      await pending;
      assert.equal(file.syncCommitted(3000), true, 'the last write came after the sync started');
      file.writeBatches(3000, [bytes], bytes.length, []);
      await file.syncAsync();
      assert.equal(file.syncCommitted(4000), false, 'a completed sync started after the last write covers it');
      assert.equal(file.syncCommitted(3500), true, 'a committed end other than this process wrote: not known durable');

      file.forgetOwnWrites();
      assert.equal(file.syncCommitted(4000), true, 'after a failed commit nothing is assumed');
      assert.equal(file.syncCommitted(4000), true, 'still not known to be this process’s committed write');

      file.writeBatches(4000, [bytes], bytes.length, []);
      await file.syncAsync();
      other.prepareAppend(5000);
      other.writeBatches(5000, [bytes], bytes.length, []);
      assert.equal(file.syncCommitted(6000), true, 'another writer wrote the last bytes');
    } finally {
      file.close();
      other.close();
    }
  }));

test('group commit across segment rolls: concurrent producers get every record once, in order, and each acknowledgement follows a durable metadata commit', () =>
  withDir(async (dir) => {
    const log = await Log.open(join(dir, 'live'), { maintenanceIntervalMs: 0 });
    const walPath = join(dir, 'live', 'meta', 'meta.sqlite-wal');
    const wal = watchWalSyncs(walPath);
    const groups: number[] = [];
    // Counts how the rolls went (the real method runs): a roll after the group syncs covered the segment must not sync again.
    const rolls = { synced: 0, skipped: 0 };
    const syncCommitted = SegmentFile.prototype.syncCommitted;
    SegmentFile.prototype.syncCommitted = function (this: SegmentFile, bytes: number) {
      const synced = syncCommitted.call(this, bytes);
      rolls[synced ? 'synced' : 'skipped']++;
      return synced;
    };
    const onGroup = (message: unknown) => groups.push((message as { batches: number }).batches);
    subscribe('sluice:log:group-written', onGroup);
    try {
      log.createTopic('t', { partitions: 1, fsync: 'batch', segmentBytes: 8 * 1024 });
      wal.synced();
      const producers = 24;
      const appendsEach = 12;
      const acked: Array<{ value: string; offset: number }> = [];
      let ackedEnd = 0;
      await Promise.all(
        Array.from({ length: producers }, async (_, p) => {
          for (let i = 0; i < appendsEach; i++) {
            const values = [0, 1, 2, 3, 4].map((r) => `p${p}-a${i}-r${r}`);
            const result = await log.append('t', 0, values.map((value) => record(value)));
            for (const [r, value] of values.entries()) acked.push({ value, offset: result.baseOffset + r });
            ackedEnd = Math.max(ackedEnd, result.lastOffset + 1);
            if (i % 4 !== 3) continue;
            // An acknowledged end must survive a power loss that keeps only the synced WAL.
            powerLossCopy(join(dir, 'live'), join(dir, `after-${p}-${i}`), wal.bytes);
            assert.ok(committedNext(join(dir, `after-${p}-${i}`, 'meta'), 't') >= result.lastOffset + 1, `append ${i} of producer ${p} was acknowledged before its metadata commit was durable`);
          }
        }),
      );
      const description = log.describeTopic('t').partitions[0];
      assert.ok(description.segments > 5, `the segment rolled (${description.segments} segments)`);
      assert.ok(groups.some((batches) => batches > 1), 'appends shared groups');
      assert.equal(rolls.skipped, description.segments - 1, 'every roll found the closing segment durable already');
      assert.equal(rolls.synced, 0, 'no roll blocked on a sync');
      const records = readAll(log, 't', 0);
      assert.equal(records.length, producers * appendsEach * 5);
      assert.deepEqual(
        records.map((r) => r.offset),
        records.map((_, i) => i),
        'offsets are contiguous across the rolls',
      );
      const byOffset = new Map(records.map((r) => [r.offset, fromUtf8(r.value as Uint8Array)]));
      for (const { value, offset } of acked) assert.equal(byOffset.get(offset), value, `offset ${offset} holds what its append was told`);
      assert.equal(ackedEnd, records.length);
    } finally {
      SegmentFile.prototype.syncCommitted = syncCommitted;
      wal.stop();
      unsubscribe('sluice:log:group-written', onGroup);
      await log.close();
    }
  }));
