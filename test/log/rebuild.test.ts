import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromUtf8, isSluiceError } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, record, values, withDir } from './helpers.ts';

function loseMetadata(dir: string): void {
  for (const name of ['meta.sqlite', 'meta.sqlite-wal', 'meta.sqlite-shm']) rmSync(join(dir, 'meta', name), { force: true });
}

function topicDirOf(dir: string, topic: string): string {
  const name = readdirSync(join(dir, 'topics')).find((n) => n.startsWith(`${topic}.`));
  assert.ok(name, `a directory for ${topic}`);
  return join(dir, 'topics', name);
}

async function collectWarnings<T>(body: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => warnings.push(`${warning.code}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    const result = await body();
    await new Promise((resolve) => setImmediate(resolve));
    return { result, warnings };
  } finally {
    process.off('warning', onWarning);
  }
}

test('regression: a lost meta/meta.sqlite is rebuilt on open from topic.json and the segment files, with a warning', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('events', { partitions: 2, retentionMs: 86_400_000, segmentBytes: 300 });
    for (let i = 0; i < 30; i++) await log.append('events', i % 2, [record(`v${i}`)]);
    log.alterTopic('events', { retentionBytes: 1 << 30 });
    await log.close();
    assert.equal(JSON.parse(readFileSync(join(topicDirOf(dir, 'events'), 'topic.json'), 'utf8')).retentionBytes, 1 << 30, 'alter updated topic.json');
    loseMetadata(dir);
    const { result: reopened, warnings } = await collectWarnings(() => Log.open(dir, { maintenanceIntervalMs: 0 }));
    log = reopened;
    try {
      assert.ok(warnings.some((w) => w.startsWith('SLUICE_METADATA_REBUILT') && /'events'/.test(w)), warnings.join('\n'));
      const topic = log.topic('events');
      assert.equal(topic.partitions, 2);
      assert.equal(topic.retentionMs, 86_400_000);
      assert.equal(topic.retentionBytes, 1 << 30);
      assert.deepEqual(values(readAll(log, 'events', 0)), Array.from({ length: 15 }, (_, i) => `v${i * 2}`));
      assert.deepEqual(values(readAll(log, 'events', 1)), Array.from({ length: 15 }, (_, i) => `v${i * 2 + 1}`));
      assert.equal((await log.append('events', 0, [record('next')])).baseOffset, 15, 'no offset is handed out twice');
      const other = log.createTopic('other', { partitions: 1 });
      assert.ok(other.config.id > topic.id, 'a new topic gets an id of its own');
    } finally {
      await log.close();
    }
  }));

test('regression: topic create refuses to touch segment files the metadata does not know, pointing to sluice log repair', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('events', { partitions: 1 });
    log.createTopic('other', { partitions: 1 });
    await log.append('events', 0, [record('kept')]);
    log.deleteTopic('other');
    // The metadata loses the topic (an older copy restored) while its files stay.
    log.createTopic('other', { partitions: 1 });
    await log.close();
    const topicDir = topicDirOf(dir, 'events');
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'meta', 'meta.sqlite'));
    db.prepare('DELETE FROM kv WHERE k = ?').run(JSON.stringify(['topic', 'events']));
    db.close();
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      assert.throws(
        () => log.createTopic('events', { partitions: 1 }),
        (e: Error) => isSluiceError(e, 'TOPIC_EXISTS') && e.message.includes(topicDir) && /sluice log repair/.test(e.message),
      );
      assert.deepEqual(log.rebuildTopics().map((t) => t.name), ['events']);
      assert.deepEqual(values(readAll(log, 'events', 0)), ['kept']);
    } finally {
      await log.close();
    }
  }));

test('topic create refuses an older topic directory without topic.json, saying it cannot be rebuilt', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('events', { partitions: 1 });
    await log.append('events', 0, [record('kept')]);
    await log.close();
    const topicDir = topicDirOf(dir, 'events');
    rmSync(join(topicDir, 'topic.json'));
    loseMetadata(dir);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      assert.throws(
        () => log.createTopic('events', { partitions: 1 }),
        (e: Error) => isSluiceError(e, 'TOPIC_EXISTS') && e.message.includes(topicDir) && /no topic.json/.test(e.message),
      );
      assert.deepEqual(readdirSync(join(dir, 'topics')), [topicDir.split('/').pop()], 'nothing new was made');
    } finally {
      await log.close();
    }
  }));

test('rebuild picks the newest complete compaction generation and ignores a killed run and .cleaning leftovers', () =>
  withDir(async (dir) => {
    let log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    log.createTopic('table', { partitions: 1, compact: true, segmentBytes: 200 });
    for (let round = 0; round < 5; round++) for (const key of ['a', 'b', 'c']) await log.append('table', 0, [record(`${key}${round}`, key)]);
    log.compact('table', { rollActive: true });
    await log.append('table', 0, [record('d0', 'd')]);
    await log.close();
    const partitionDir = join(topicDirOf(dir, 'table'), '0');
    const files = readdirSync(partitionDir);
    const compacted = files.find((name) => /\.g\d+\.log$/.test(name));
    assert.ok(compacted, `compaction wrote a generation (${files.join(', ')})`);
    // A later run killed before its commit: its marker and output are left; so is an old-style .cleaning file.
    const base = compacted.slice(0, 20);
    copyFileSync(join(partitionDir, compacted), join(partitionDir, `${base}.g999.log`));
    writeFileSync(join(partitionDir, 'compacting.999.999999.x'), '');
    writeFileSync(join(partitionDir, `${base}.log.cleaning`), 'junk');
    loseMetadata(dir);
    log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      const latest = new Map<string, string>();
      for (const r of readAll(log, 'table', 0)) latest.set(fromUtf8(r.key as Uint8Array), fromUtf8(r.value as Uint8Array));
      assert.deepEqual(Object.fromEntries(latest), { a: 'a4', b: 'b4', c: 'c4', d: 'd0' });
      assert.equal((await log.append('table', 0, [record('e0', 'e')])).baseOffset, 16);
      const left = readdirSync(partitionDir);
      assert.ok(!left.some((name) => name.includes('.g999.') || name.startsWith('compacting.') || name.endsWith('.cleaning')), left.join(', '));
    } finally {
      await log.close();
    }
  }));
