import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { unpack } from 'msgpackr';
import { Log } from '../../src/log/index.ts';
import { powerLossCopy, readAll, record, values, withDir } from './helpers.ts';

/** The committed next offset of a partition, read straight from a metadata file (no recovery). */
function committedNext(metaDir: string, topic: string, partition: number): number {
  const db = new DatabaseSync(join(metaDir, 'meta.sqlite'));
  try {
    const row = db.prepare('SELECT v FROM kv WHERE k = ?').get(JSON.stringify(['part', topic, partition])) as { v: Uint8Array } | undefined;
    assert.ok(row, 'the partition is in the metadata');
    return (unpack(row.v) as { next: number }).next;
  } finally {
    db.close();
  }
}

/** The WAL's size now: after a commit made with synchronous=FULL, all of it is durable. */
function walSize(dataDir: string): number {
  return statSync(join(dataDir, 'meta', 'meta.sqlite-wal')).size;
}

test('regression: under fsync batch every acknowledged append survives a power loss that drops every unsynced WAL commit, across group commits and rolled segments, and no offset is handed out twice', () =>
  withDir(async (dir) => {
    const live = join(dir, 'live');
    const log = await Log.open(live, { maintenanceIntervalMs: 0 });
    const acked: string[][] = [[], []];
    try {
      log.createTopic('t', { partitions: 2, segmentBytes: 2000 });
      // The creation committed with synchronous=FULL; no append commit after it is synced.
      const synced = walSize(live);
      for (let round = 0; round < 20; round++) {
        // Several appends per partition at once: they share groups (one lock, one fsync).
        const appends = [];
        for (let i = 0; i < 4; i++) {
          for (const partition of [0, 1]) {
            const value = `p${partition}-r${round}-${i}`;
            appends.push(log.append('t', partition, [record(value)]).then(() => value));
          }
        }
        for (const value of await Promise.all(appends)) acked[value.startsWith('p0') ? 0 : 1].push(value);
      }
      const dirs = readdirSync(join(live, 'topics'));
      assert.ok(readdirSync(join(live, 'topics', dirs[0], '0')).filter((f) => f.endsWith('.log')).length > 2, 'the appends rolled segments');
      // Copied while open: closing the last connection would checkpoint the WAL into the database.
      powerLossCopy(live, join(dir, 'after'), synced);
    } finally {
      await log.close();
    }
    for (const partition of [0, 1]) {
      assert.equal(committedNext(join(dir, 'after', 'meta'), 't', partition), 0, 'the power loss took every append commit from the metadata');
    }
    const reopened = await Log.open(join(dir, 'after'), { maintenanceIntervalMs: 0 });
    try {
      for (const partition of [0, 1]) {
        const read = readAll(reopened, 't', partition);
        assert.deepEqual(read.map((r) => r.offset), Array.from({ length: 80 }, (_, i) => i), `partition ${partition} keeps every offset`);
        assert.deepEqual(values(read).sort(), [...acked[partition]].sort(), `partition ${partition} keeps every acknowledged record`);
        assert.equal((await reopened.append('t', partition, [record('next')])).baseOffset, 80, 'no offset is handed out twice');
      }
    } finally {
      await reopened.close();
    }
  }));

test('regression: after a power loss that drops unsynced commits, a committed transaction stays committed and an open one is aborted, its offsets never reused', () =>
  withDir(async (dir) => {
    const live = join(dir, 'live');
    const log = await Log.open(live, { maintenanceIntervalMs: 0 });
    try {
      log.createTopic('t', { partitions: 1 });
      await log.append('t', 0, [record('plain-0')]);
      const producer = await log.producer({ transactionalId: 'tx' });
      await producer.beginTransaction();
      await producer.send('t', [{ ...record('committed'), partition: 0 }]);
      await producer.commitTransaction();
      const synced = walSize(live); // the commit was synced, and every commit before it
      await producer.beginTransaction();
      await producer.send('t', [{ ...record('open'), partition: 0 }]);
      await log.append('t', 0, [record('plain-1')]);
      powerLossCopy(live, join(dir, 'after'), synced);
      await producer.close();
    } finally {
      await log.close();
    }
    const reopened = await Log.open(join(dir, 'after'), { maintenanceIntervalMs: 0 });
    try {
      assert.deepEqual(values(readAll(reopened, 't', 0, 'read_committed')), ['plain-0', 'committed', 'plain-1']);
      const next = await reopened.append('t', 0, [record('after')]);
      assert.equal(next.baseOffset, 5, 'after plain-0, committed, its marker, open and plain-1');
    } finally {
      await reopened.close();
    }
  }));

test('group commit: concurrent appends to many partitions share groups (one lock and one fsync each)', () =>
  withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    let groups = 0;
    const onGroup = () => groups++;
    subscribe('sluice:log:group-written', onGroup);
    try {
      log.createTopic('t', { partitions: 8 });
      const appends = [];
      for (let i = 0; i < 400; i++) appends.push(log.append('t', i % 8, [record(String(i))]));
      await Promise.all(appends);
      assert.ok(groups > 0, 'groups were written');
      assert.ok(groups < 400, `fewer groups (${groups}) than appends (400)`);
    } finally {
      unsubscribe('sluice:log:group-written', onGroup);
      await log.close();
    }
  }));
