import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8, isSluiceError, utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, record, withDir } from './helpers.ts';

function partitionDir(log: Log, dir: string, topic: string): string {
  return join(dir, 'topics', `${topic}.${log.describeTopic(topic).config.id}`, '0');
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function flipBit(path: string, byte: number, bit: number): void {
  const fd = openSync(path, 'r+');
  const buffer = Buffer.alloc(1);
  readSync(fd, buffer, 0, 1, byte);
  buffer[0] ^= 1 << bit;
  writeSync(fd, buffer, 0, 1, byte);
  closeSync(fd);
}

/** Collects the codes of process warnings while `body` runs. */
async function warnings(body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error & { code?: string }) => seen.push(`${warning.code}: ${warning.message}`);
  process.on('warning', listener);
  try {
    await body();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

test('a flipped bit anywhere in an offset or time index: every record still reads, and the index is rebuilt with a warning (regression: it made the partition unreadable)', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1, segmentBytes: 20_000 });
    for (let i = 0; i < 400; i++) await log.append('t', 0, [record(`value-${i}`.padEnd(60, '.'), null, 1000 + i)]);
    const pdir = partitionDir(log, dir, 't');
    await log.close();
    const indexes = readdirSync(pdir).filter((f) => f.endsWith('index')).sort();
    assert.ok(indexes.length >= 4, 'offset and time indexes of several segments');
    const messages: string[] = [];
    for (const name of indexes) {
      const size = statSync(join(pdir, name)).size;
      assert.ok(size >= 16, `${name} has entries`);
      // Offset index entries are `u32 relative offset | u32 position`, time index ones `f64 time | u32 relative offset`.
      const flips: Array<[number, number]> = name.endsWith('.timeindex')
        ? [
            [size - 1, 0],
            [size - 12 + 7, 0],
            [size - 12 + 1, 4],
            [12 + 3, 1],
          ]
        : [
            [size - 5, 0],
            [size - 1, 3],
            [size - 8, 2],
            [8 + 1, 0],
          ];
      for (const [byte, bit] of flips) {
        flipBit(join(pdir, name), byte, bit);
        const seen = await warnings(async () => {
          log = await Log.open(dir, { maintenanceIntervalMs: 0 });
          const all = readAll(log, 't', 0);
          assert.equal(all.length, 400, `every record reads after a flip in ${name} at byte ${byte}`);
          for (const [i, r] of all.entries()) assert.equal(fromUtf8(r.value as Uint8Array).replace(/\.+$/, ""), `value-${i}`);
          for (const offset of [0, 57, 133, 250, 399]) assert.equal(log.read('t', 0, offset, { maxRecords: 1 }).records[0].offset, offset);
          for (const ts of [1000, 1100, 1333, 1399]) assert.equal(log.offsetForTimestamp('t', 0, ts), ts - 1000);
          await log.close();
        });
        messages.push(...seen.filter((m) => m.startsWith('SLUICE_INDEX_REBUILT')));
      }
    }
    assert.ok(messages.some((m) => /where (offset \d+|no batch) starts/.test(m)), 'an index that disagrees with its segment is found when used');
    assert.ok(messages.some((m) => /out of order|inconsistent/.test(m)), 'an index that disagrees with itself is found when loaded');
  }));

test('a missing or damaged segment is reported by checkTopic, and the error names the range and never says to delete the topic', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('t', { partitions: 1, segmentBytes: 2000 });
    for (let i = 0; i < 100; i++) await log.append('t', 0, [record(`value-${i}`.padEnd(40, '.'))]);
    assert.deepEqual(log.checkTopic('t'), []);
    const pdir = partitionDir(log, dir, 't');
    await log.close();
    const logs = readdirSync(pdir).filter((f) => f.endsWith('.log')).sort();
    flipBit(join(pdir, logs[1]), 300, 3);
    rmSync(join(pdir, logs[2]));
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    const damage = log.checkTopic('t');
    assert.deepEqual(
      damage.map((d) => [d.file.endsWith(logs[1]) ? 1 : d.file.endsWith(logs[2]) ? 2 : -1, /unreadable batch at byte \d+/.test(d.problem) || d.problem === 'the segment file is missing']),
      [
        [1, true],
        [2, true],
      ],
    );
    assert.throws(
      () => readAll(log, 't', 0),
      (e) => isSluiceError(e, 'CORRUPT_RECORD') && /read on from offset \d+/.test(e.message) && !/delete the topic/.test(e.message),
    );
    assert.throws(
      () => log.read('t', 0, damage[1].firstOffset),
      (e) => isSluiceError(e, 'CORRUPT_RECORD') && e.message.includes('is missing') && e.message.includes(`read on from offset ${damage[1].nextOffset}`),
    );
    assert.ok(log.read('t', 0, damage[1].nextOffset).records.length > 0, 'the rest of the partition stays readable');
    await log.close();
  }));

test('a reader holds a bounded number of open files, however many segments it reads and however often compaction replaces them (regression: 3 fds per segment forever)', () =>
  withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0, maxOpenSegments: 16 });
    log.createTopic('t', { partitions: 1, segmentBytes: 256, compact: true, fsync: 'never' });
    const baseline = openFds();
    for (let i = 0; i < 300; i++) await log.append('t', 0, [{ key: utf8(`k${i % 10}`), value: utf8(`v${i}`), timestamp: i }]);
    assert.ok(log.describeTopic('t').partitions[0].segments >= 100, 'many segments');
    // Another reader in the same process (the first log appended): both share nothing, each is bounded.
    const reader = await Log.open(dir, { maintenanceIntervalMs: 0, maxOpenSegments: 16 });
    const limit = baseline + 2 * (16 * 3) + 16; // two logs' caches, plus the reader's metadata database
    let peak = 0;
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 20; i++) await log.append('t', 0, [{ key: utf8(`k${i % 10}`), value: utf8(`r${round}-${i}`), timestamp: i }]);
      assert.equal(readAll(reader, 't', 0).length > 0, true);
      peak = Math.max(peak, openFds());
      log.compact('t');
      readAll(reader, 't', 0);
      peak = Math.max(peak, openFds());
    }
    assert.ok(peak <= limit, `open files stayed bounded (peak ${peak}, limit ${limit}, baseline ${baseline})`);
    await reader.close();
    await log.close();
  }));
