import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { test } from 'node:test';
import { Log } from '../../src/log/index.ts';
import { committedNext, powerLossCopy, record, watchWalSyncs, withDir } from './helpers.ts';

test('regression: under fsync batch an append is acknowledged only once the metadata commit naming its end is durable (power loss drops the unsynced WAL)', () =>
  withDir(async (dir) => {
    const log = await Log.open(join(dir, 'live'), { maintenanceIntervalMs: 0 });
    const walPath = join(dir, 'live', 'meta', 'meta.sqlite-wal');
    const wal = watchWalSyncs(walPath);
    try {
      log.createTopic('t', { partitions: 2 });
      // The creation committed with synchronous=FULL: the WAL is durable up to here.
      wal.synced();
      let acked = [0, 0];
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all([
          log.append('t', 0, [record(`a${round}`)]),
          log.append('t', 1, [record(`b${round}`), record(`c${round}`)]),
        ]);
        acked = [results[0].lastOffset + 1, results[1].lastOffset + 1];
      }
      powerLossCopy(join(dir, 'live'), join(dir, 'after'), wal.bytes);
      assert.equal(committedNext(join(dir, 'after', 'meta'), 't', 0), acked[0], 'partition 0 keeps every acknowledged record');
      assert.equal(committedNext(join(dir, 'after', 'meta'), 't', 1), acked[1], 'partition 1 keeps every acknowledged record');
    } finally {
      wal.stop();
      await log.close();
    }
  }));

test('group commit: concurrent appends to many partitions share WAL syncs', () =>
  withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    let syncs = 0;
    const onSynced = () => syncs++;
    subscribe('sluice:log:wal-synced', onSynced);
    try {
      log.createTopic('t', { partitions: 8 });
      const appends = [];
      for (let i = 0; i < 400; i++) appends.push(log.append('t', i % 8, [record(String(i))]));
      await Promise.all(appends);
      assert.ok(syncs > 0, 'the WAL was synced');
      assert.ok(syncs < 400, `fewer WAL syncs (${syncs}) than appends (400)`);
    } finally {
      unsubscribe('sluice:log:wal-synced', onSynced);
      await log.close();
    }
  }));
