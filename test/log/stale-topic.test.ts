import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, record, values, withDir } from './helpers.ts';

// Appends use this process's view of a topic without reading the metadata; the writer checks it
// under the lock. Two Logs on one directory stand for two processes (each has its own view).

test('an append after another process re-created the topic goes to the new topic, not the old files', () =>
  withDir(async (dir) => {
    const writer = await Log.open(dir, { maintenanceIntervalMs: 0 });
    const admin = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      writer.createTopic('t', { partitions: 1 });
      await writer.append('t', 0, [record('old')]);
      admin.deleteTopic('t');
      admin.createTopic('t', { partitions: 1 });
      const appended = await writer.append('t', 0, [record('new')]);
      assert.equal(appended.baseOffset, 0, 'the re-created topic starts at offset 0');
      assert.deepEqual(values(readAll(admin, 't', 0)), ['new']);
      const produced = await writer.produce('t', [{ ...record('keyless'), partition: 0 }]);
      assert.equal(produced[0].baseOffset, 1);
      admin.deleteTopic('t');
      await assert.rejects(writer.append('t', 0, [record('gone')]), (e: Error) => isSluiceError(e, 'TOPIC_NOT_FOUND'));
    } finally {
      await writer.close();
      await admin.close();
    }
  }));

test('an append checks records against a record size limit another process changed, lowered or raised', () =>
  withDir(async (dir) => {
    const writer = await Log.open(dir, { maintenanceIntervalMs: 0 });
    const admin = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      writer.createTopic('t', { partitions: 1, maxMessageBytes: 1000 });
      const big = { key: null, value: utf8('x'.repeat(500)), timestamp: 0 };
      await writer.append('t', 0, [big]);
      admin.alterTopic('t', { maxMessageBytes: 100 });
      await assert.rejects(writer.append('t', 0, [big]), (e: Error) => isSluiceError(e, 'INVALID_ARGUMENT') || /max message bytes/.test(e.message));
      await assert.rejects(writer.produce('t', [big]), /max message bytes/);
      admin.alterTopic('t', { maxMessageBytes: 10_000 });
      const bigger = { key: null, value: utf8('y'.repeat(5000)), timestamp: 0 };
      assert.equal((await writer.append('t', 0, [bigger])).baseOffset, 1);
      assert.equal((await writer.produce('t', [bigger]))[0].baseOffset, 2);
      assert.equal(readAll(admin, 't', 0).length, 3);
    } finally {
      await writer.close();
      await admin.close();
    }
  }));
