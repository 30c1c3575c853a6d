import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSluiceError } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { powerLossCopy, readAll, record, values, withDir } from './helpers.ts';

function partitionDir(dataDir: string, topic: string, partition: number): string {
  const topicDir = readdirSync(join(dataDir, 'topics')).find((name) => name.startsWith(`${topic}.`));
  assert.ok(topicDir);
  return join(dataDir, 'topics', topicDir, String(partition));
}

function logFiles(dataDir: string, topic: string, partition: number): string[] {
  const dir = partitionDir(dataDir, topic, partition);
  return readdirSync(dir).filter((name) => name.endsWith('.log')).sort().map((name) => join(dir, name));
}

test('regression: a lost WAL (metadata behind its segments) keeps the intact batches past the committed end, across rolled segments', () =>
  withDir(async (dir) => {
    const live = join(dir, 'live');
    const log = await Log.open(live, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1, segmentBytes: 300 });
    const walAfterCreate = statSync(join(live, 'meta', 'meta.sqlite-wal')).size;
    for (let i = 0; i < 20; i++) await log.append('t', 0, [record(`v${i}`)]);
    assert.ok(logFiles(live, 't', 0).length > 3, 'the appends rolled several segments');
    // Every append's commit is lost: the metadata says the partition is empty.
    powerLossCopy(live, join(dir, 'after'), walAfterCreate);
    await log.close();
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(`${warning.code}: ${warning.message}`);
    process.on('warning', onWarning);
    const reopened = await Log.open(join(dir, 'after'), { maintenanceIntervalMs: 0 });
    try {
      assert.deepEqual(values(readAll(reopened, 't', 0)), Array.from({ length: 20 }, (_, i) => `v${i}`));
      const next = await reopened.append('t', 0, [record('after')]);
      assert.equal(next.baseOffset, 20, 'no offset is handed out twice');
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(warnings.some((w) => w.startsWith('SLUICE_RECORDS_RECOVERED') && /offsets 0 to 19/.test(w)), warnings.join('\n'));
    } finally {
      process.off('warning', onWarning);
      await reopened.close();
    }
  }));

test('regression: a truncated active segment is refused with DATA_LOST naming the range; accepted, a group past the cut reads the new records', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 2 });
    for (let i = 0; i < 10; i++) await log.append('t', 0, [record(`v${i}`)]);
    await log.append('t', 1, [record('other')]);
    log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 10 }]);
    await log.close();
    const [segment] = logFiles(dir, 't', 0);
    const sizes = statSync(segment).size / 10; // equal batches
    truncateSync(segment, sizes * 5);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      const refused = (e: Error) =>
        isSluiceError(e, 'DATA_LOST') && /partition t\/0: offsets 5 to 9 are committed but missing/.test(e.message) && /holds \d+ of the \d+ committed bytes/.test(e.message);
      assert.throws(() => log.read('t', 0, 0), refused);
      await assert.rejects(log.append('t', 0, [record('x')]), refused);
      assert.deepEqual(values(log.read('t', 1, 0).records), ['other'], 'other partitions stay usable');
      const reports = log.repair({ acceptDataLoss: true });
      assert.deepEqual(reports.find((r) => r.partition === 0)?.lost, [5, 10]);
      const appended = await log.append('t', 0, [record('new')]);
      assert.equal(appended.baseOffset, 10, 'the next offset did not move back');
      const from = log.committedOffset('g', 't', 0) ?? -1;
      assert.deepEqual(values(log.read('t', 0, from).records), ['new'], 'the group continues with the new record');
      assert.deepEqual(values(readAll(log, 't', 0)), ['v0', 'v1', 'v2', 'v3', 'v4', 'new']);
      assert.equal(log.read('t', 0, 7).nextOffset > 7, true, 'a read inside the gap moves on');
    } finally {
      await log.close();
    }
  }));

test('regression: a missing active segment file is refused, never recreated empty', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    for (let i = 0; i < 3; i++) await log.append('t', 0, [record(`v${i}`)]);
    await log.close();
    rmSync(logFiles(dir, 't', 0)[0]);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      assert.throws(() => log.endOffset('t', 0), (e: Error) => isSluiceError(e, 'DATA_LOST') && /offsets 0 to 2/.test(e.message) && /is missing/.test(e.message));
      log.repair({ acceptDataLoss: true });
      assert.equal((await log.append('t', 0, [record('new')])).baseOffset, 3);
    } finally {
      await log.close();
    }
  }));

test('a writer that died before its commit leaves its batch, which recovery keeps; a torn batch after it is cut', () =>
  withDir(async (dir) => {
    const live = join(dir, 'live');
    const after = join(dir, 'after');
    const log = await Log.open(live, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    await log.append('t', 0, [record('a')]);
    await log.append('t', 0, [record('b')]);
    // The metadata as of 'b' (its WAL whole), the segment as of after 'c' plus half a batch.
    powerLossCopy(live, after, Number.MAX_SAFE_INTEGER);
    await log.append('t', 0, [record('c')]);
    await log.append('t', 0, [record('torn')]);
    await log.close();
    const [source] = logFiles(live, 't', 0);
    const [target] = logFiles(after, 't', 0);
    const bytes = readFileSync(source);
    writeFileSync(target, bytes.subarray(0, bytes.length - 5));
    const reopened = await Log.open(after, { maintenanceIntervalMs: 0 });
    try {
      assert.deepEqual(values(readAll(reopened, 't', 0)), ['a', 'b', 'c']);
      assert.equal((await reopened.append('t', 0, [record('d')])).baseOffset, 3);
      assert.deepEqual(values(readAll(reopened, 't', 0)), ['a', 'b', 'c', 'd']);
    } finally {
      await reopened.close();
    }
  }));

test('regression: a batch length of 2^31 or more in a segment is CORRUPT_RECORD, not a raw ERR_OUT_OF_RANGE', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1 });
    for (let i = 0; i < 10; i++) await log.append('t', 0, [record(`v${i}`)]);
    await log.close();
    const [segment] = logFiles(dir, 't', 0);
    const bytes = readFileSync(segment);
    const batch = bytes.length / 10;
    for (const length of [0x8000_0000, 0xffff_fff0]) {
      const damaged = Buffer.from(bytes);
      damaged.writeUInt32BE(length, batch * 5 + 4); // the sixth batch's length field
      writeFileSync(segment, damaged);
      log = await Log.open(dir, { maintenanceIntervalMs: 0 });
      try {
        assert.deepEqual(values(log.read('t', 0, 0, { maxRecords: 5 }).records), ['v0', 'v1', 'v2', 'v3', 'v4']);
        assert.throws(
          () => readAll(log, 't', 0),
          (e: Error) => isSluiceError(e, 'CORRUPT_RECORD') && new RegExp(`impossible batch length ${length}`).test(e.message),
        );
        assert.ok(log.checkTopic('t').some((d) => /unreadable batch at byte/.test(d.problem)));
      } finally {
        await log.close();
      }
    }
  }));
