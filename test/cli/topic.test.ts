import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ok, sluice, tempDataDir } from './helpers.ts';

void describe('sluice topic', { concurrency: 2 }, () => {
  void test('create, list, describe and delete', async () => {
    const dir = tempDataDir();
    const created = await ok(dir, ['topic', 'create', 'events', '--partitions', '3']);
    assert.match(created, /created topic events with 3 partitions/);
    await ok(dir, ['topic', 'create', 'users', '--partitions', '2', '--compact', '--retention-ms', '7d', '--retention-bytes', '1048576', '--fsync', 'never']);

    const list = JSON.parse(await ok(dir, ['topic', 'list', '--json'])) as Array<Record<string, unknown>>;
    assert.deepEqual(
      list.map(({ name, partitions, compact, retentionMs, retentionBytes, fsync }) => ({ name, partitions, compact, retentionMs, retentionBytes, fsync })),
      [
        { name: 'events', partitions: 3, compact: false, retentionMs: -1, retentionBytes: -1, fsync: 'batch' },
        { name: 'users', partitions: 2, compact: true, retentionMs: 604_800_000, retentionBytes: 1_048_576, fsync: 'never' },
      ],
    );
    const table = (await ok(dir, ['topic', 'list'])).split('\n');
    assert.match(table[0], /^NAME\s+PARTITIONS\s+COMPACT\s+RETENTION\s+RETENTION BYTES\s+FSYNC$/);
    assert.match(table[1], /^events\s+3\s+no\s+unlimited\s+unlimited\s+batch$/);
    assert.match(table[2], /^users\s+2\s+yes\s+7d\s+1\.0 MiB\s+never$/);

    await ok(dir, ['produce', 'events'], '{"value":1,"partition":1}\n{"value":2,"partition":1}\n');
    const description = JSON.parse(await ok(dir, ['topic', 'describe', 'events', '--json']));
    assert.equal(description.name, 'events');
    assert.deepEqual(
      description.partitions.map(({ partition, firstOffset, nextOffset, lastStableOffset }: Record<string, number>) => [partition, firstOffset, nextOffset, lastStableOffset]),
      [
        [0, 0, 0, 0],
        [1, 0, 2, 2],
        [2, 0, 0, 0],
      ],
    );
    assert.ok(description.partitions[1].sizeBytes > 0);
    assert.equal(description.partitions[0].sizeBytes, 0);
    const text = (await ok(dir, ['topic', 'describe', 'events'])).split('\n');
    assert.match(text[0], /^topic events: 3 partitions, not compacted/);
    assert.match(text[1], /^PARTITION\s+FIRST OFFSET\s+NEXT OFFSET\s+LAST STABLE\s+SIZE\s+SEGMENTS$/);
    assert.match(text[3], /^\s+1\s+0\s+2\s+2\s+\d+ B\s+1$/);

    assert.match(await ok(dir, ['topic', 'delete', 'events']), /deleted topic events/);
    const after = JSON.parse(await ok(dir, ['topic', 'list', '--json'])) as Array<{ name: string }>;
    assert.deepEqual(
      after.map((t) => t.name),
      ['users'],
    );
    const missing = await sluice(dir, ['topic', 'describe', 'events']);
    assert.equal(missing.code, 1);
  });

  void test('compact runs on a compacted topic and refuses others', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'table', '--partitions', '1', '--compact']);
    await ok(dir, ['topic', 'create', 'plain', '--partitions', '1']);
    const compacted = JSON.parse(await ok(dir, ['topic', 'compact', 'table', '--json']));
    assert.equal(compacted.topic, 'table');
    assert.equal(typeof compacted.savedBytes, 'number');
    const refused = await sluice(dir, ['topic', 'compact', 'plain']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "error: topic 'plain' is not compacted; create it with --compact to compact it\n");
  });

  void test('--segment-bytes makes small segments; alter changes retention; compact covers the active segment (regression: it saved 0 B)', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'small', '--partitions', '1', '--compact', '--segment-bytes', '512']);
    const [meta] = JSON.parse(await ok(dir, ['topic', 'list', '--json'])) as Array<{ segmentBytes: number }>;
    assert.equal(meta.segmentBytes, 512);
    // produce writes a batch per 1000 lines, and a segment rolls between batches.
    const lines = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ key: `k${i % 4}`, value: i })).join('\n');
    await ok(dir, ['produce', 'small'], `${lines}\n`);
    const before = JSON.parse(await ok(dir, ['topic', 'describe', 'small', '--json']));
    assert.ok(before.partitions[0].segments >= 12, 'records roll into many small segments');
    assert.deepEqual(before.damage, []);
    const compacted = JSON.parse(await ok(dir, ['topic', 'compact', 'small', '--json']));
    assert.ok(compacted.savedBytes > 0);
    const after = JSON.parse(await ok(dir, ['topic', 'describe', 'small', '--json']));
    assert.ok(after.partitions[0].segments <= 3, `emptied segments merged away (${after.partitions[0].segments} left)`);
    const consumed = (await ok(dir, ['consume', 'small', '--from-beginning', '--timeout-ms', '200'])).trim().split('\n');
    assert.deepEqual(
      consumed.map((line) => JSON.parse(line).value),
      [11_996, 11_997, 11_998, 11_999],
    );

    // Compaction on a topic whose records all sit in its active segment.
    await ok(dir, ['topic', 'create', 'table', '--partitions', '1', '--compact']);
    await ok(dir, ['produce', 'table'], '{"key":"a","value":1}\n{"key":"a","value":2}\n{"key":"a","value":3}\n');
    assert.ok(JSON.parse(await ok(dir, ['topic', 'compact', 'table', '--json'])).savedBytes > 0);

    await ok(dir, ['topic', 'create', 'events', '--partitions', '1', '--segment-bytes', '1024']);
    await ok(dir, ['produce', 'events'], `${Array.from({ length: 5000 }, (_, i) => JSON.stringify({ value: `event-${i}` })).join('\n')}\n`);
    const full = JSON.parse(await ok(dir, ['topic', 'describe', 'events', '--json'])).partitions[0];
    const altered = await ok(dir, ['topic', 'alter', 'events', '--retention-bytes', '4096']);
    assert.match(altered, /^altered topic events \(.*retention bytes 4\.0 KiB.*\); retention deleted \d+ segments\n$/);
    const trimmed = JSON.parse(await ok(dir, ['topic', 'describe', 'events', '--json'])).partitions[0];
    assert.ok(trimmed.firstOffset > full.firstOffset && trimmed.sizeBytes < full.sizeBytes, 'the new retention freed space at once');
    assert.equal(trimmed.nextOffset, full.nextOffset);
    const json = JSON.parse(await ok(dir, ['topic', 'alter', 'events', '--retention-ms', '7d', '--json']));
    assert.deepEqual([json.config.retentionMs, json.config.retentionBytes], [604_800_000, 4096]);
    const nothing = await sluice(dir, ['topic', 'alter', 'events']);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /nothing to change for topic 'events': give --retention-ms, --retention-bytes or --max-message-bytes/);
    assert.equal((await sluice(dir, ['topic', 'alter', 'missing', '--retention-ms', '1'])).code, 1);
  });

  void test('describe reports damage it can see instead of healthy numbers', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'events', '--partitions', '1', '--segment-bytes', '1024']);
    await ok(dir, ['produce', 'events'], `${Array.from({ length: 4000 }, (_, i) => JSON.stringify({ value: `event-${i}` })).join('\n')}\n`);
    const [topicDir] = readdirSync(join(dir, 'topics'));
    const partitionDir = join(dir, 'topics', topicDir, '0');
    const logs = readdirSync(partitionDir).filter((f) => f.endsWith('.log')).sort();
    rmSync(join(partitionDir, logs[1]));
    const fd = openSync(join(partitionDir, logs[2]), 'r+');
    writeSync(fd, Buffer.from('XX'), 0, 2, 100);
    closeSync(fd);
    const text = await sluice(dir, ['topic', 'describe', 'events']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /damaged: 2 segments/);
    assert.match(text.stdout, /partition 0, offsets \d+ to \d+: the segment file is missing/);
    assert.match(text.stdout, /partition 0, offsets \d+ to \d+: unreadable batch at byte \d+/);
    const json = JSON.parse((await sluice(dir, ['topic', 'describe', 'events', '--json'])).stdout);
    assert.equal(json.damage.length, 2);
    const quick = JSON.parse((await sluice(dir, ['topic', 'describe', 'events', '--json', '--no-verify'])).stdout);
    assert.deepEqual(
      quick.damage.map((d: { problem: string }) => d.problem),
      ['the segment file is missing'],
    );
  });

  void test('errors are one line on stderr with exit code 1, usage errors exit 2', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);

    const exists = await sluice(dir, ['topic', 'create', 'events', '--partitions', '1']);
    assert.deepEqual([exists.code, exists.stdout], [1, '']);
    assert.equal(exists.stderr, "error: topic 'events' already exists; use `sluice topic describe events` to see it\n");

    const badName = await sluice(dir, ['topic', 'create', 'bad/name', '--partitions', '1']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /^error: 'bad\/name' is not a valid topic name: use 1 to 249 letters/);
    assert.doesNotMatch(badName.stderr, /\n\s+at /, 'no stack trace');

    const noTopic = await sluice(dir, ['topic', 'delete', 'nope']);
    assert.equal(noTopic.code, 1);
    assert.equal(noTopic.stderr, "error: topic 'nope' does not exist; create it with `sluice topic create nope --partitions N`\n");

    for (const partitions of ['0', '-2', '1.5', 'three']) {
      const bad = await sluice(dir, ['topic', 'create', 'x', '--partitions', partitions]);
      assert.equal(bad.code, 2, `--partitions ${partitions}`);
      assert.match(bad.stderr, /^error: option '-p, --partitions <n>' argument '.*' is invalid/);
    }
    const noPartitions = await sluice(dir, ['topic', 'create', 'x']);
    assert.equal(noPartitions.code, 2);
    assert.match(noPartitions.stderr, /required option '-p, --partitions <n>' not specified/);

    const badFsync = await sluice(dir, ['topic', 'create', 'x', '--partitions', '1', '--fsync', 'sometimes']);
    assert.equal(badFsync.code, 2);
    const unknown = await sluice(dir, ['topic', 'frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const names = JSON.parse(await ok(dir, ['topic', 'list', '--json'])) as Array<{ name: string }>;
    assert.deepEqual(
      names.map((t) => t.name),
      ['events'],
      'failed commands created nothing',
    );
  });

  void test('the data directory comes from --data-dir, else SLUICE_DATA_DIR; a missing one is an error', async () => {
    const dir = tempDataDir();
    const fromEnv = await sluice(undefined, ['topic', 'create', 'a', '--partitions', '1'], { env: { SLUICE_DATA_DIR: dir } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(await ok(dir, ['topic', 'list']), /^a\s+1/m);
    assert.ok(existsSync(join(dir, 'meta')));

    const missing = join(dir, 'does-not-exist');
    const listed = await sluice(missing, ['topic', 'list']);
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /^error: no Sluice data directory at .*does-not-exist; pass --data-dir/);
    assert.equal(existsSync(missing), false, 'reading commands do not create a data directory');
  });

  void test('help lists every command with examples', async () => {
    const top = await ok(undefined, ['--help']);
    for (const expected of ['topic', 'produce [options] <topic>', 'app', 'consume [options] <topic>', '--data-dir <dir>', 'SLUICE_DATA_DIR', '--json', 'Examples:']) {
      assert.ok(top.includes(expected), `sluice --help mentions ${expected}`);
    }
    const create = await ok(undefined, ['topic', 'create', '--help']);
    for (const expected of ['--partitions <n>', '--compact', '--retention-ms <ms>', '--retention-bytes <bytes>', '--segment-bytes <bytes>', '--fsync <policy>', 'Global Options:', 'Examples:']) {
      assert.ok(create.includes(expected), `topic create --help mentions ${expected}`);
    }
    const produce = await ok(undefined, ['produce', '--help']);
    assert.match(produce, /bare\s+value/);
    assert.match(produce, /Examples:/);
    const noCommand = await sluice(undefined, ['topic']);
    assert.equal(noCommand.code, 2);
    assert.match(noCommand.stderr, /Usage: sluice topic/);
  });
});
