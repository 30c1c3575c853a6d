import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { exitCode, jsonLines, lineCollector, lines, ok, sluice, start, tempDataDir } from './helpers.ts';

const values = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ value: from + i, partition: 0 }));

void describe('sluice consume with groups and following', { concurrency: 2 }, () => {
  void test('a group commits what it printed and the next consumer continues there', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'g', '--partitions', '1']);
    await ok(dir, ['produce', 'g'], lines(values(1, 5)));

    const first = jsonLines(await ok(dir, ['consume', 'g', '--group', 'audit', '--max', '2']));
    assert.deepEqual(
      first.map((r) => r.value),
      [1, 2],
    );
    const second = jsonLines(await ok(dir, ['consume', 'g', '--group', 'audit', '--timeout-ms', '200']));
    assert.deepEqual(
      second.map((r) => r.value),
      [3, 4, 5],
    );
    assert.equal(await ok(dir, ['consume', 'g', '--group', 'audit', '--timeout-ms', '100']), '', 'nothing left for the group');

    await ok(dir, ['produce', 'g'], lines(values(6, 6)));
    const third = jsonLines(await ok(dir, ['consume', 'g', '--group', 'audit', '--timeout-ms', '200']));
    assert.deepEqual(
      third.map((r) => [r.offset, r.value]),
      [[5, 6]],
    );
    // Another group has its own position: earliest when it has none.
    const other = jsonLines(await ok(dir, ['consume', 'g', '--group', 'other', '--max', '6']));
    assert.equal(other.length, 6);

    // A topic deleted and created again: the group's old position is past its end, an error
    // (OFFSET_OUT_OF_RANGE) until told where to start, as Kafka without auto.offset.reset.
    await ok(dir, ['topic', 'delete', 'g']);
    await ok(dir, ['topic', 'create', 'g', '--partitions', '1']);
    await ok(dir, ['produce', 'g'], lines(values(100, 101)));
    const refused = await sluice(dir, ['consume', 'g', '--group', 'audit', '--timeout-ms', '200']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /past its end .*--reset-offsets earliest/);
    const recreated = jsonLines(await ok(dir, ['consume', 'g', '--group', 'audit', '--reset-offsets', 'earliest', '--timeout-ms', '200']));
    assert.deepEqual(
      recreated.map((r) => [r.offset, r.value]),
      [
        [0, 100],
        [1, 101],
      ],
    );
  });

  void test('a follower started before produce sees records another process writes, and commits when stopped', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'live', '--partitions', '3']);
    const follower = start(dir, ['consume', 'live', '--group', 'watchers']);
    const output = lineCollector(follower);
    let stderr = '';
    follower.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    await ok(dir, ['produce', 'live'], lines([{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3 }]));
    await output.waitFor(3);
    await ok(dir, ['produce', 'live'], lines([{ key: 'd', value: 4 }]));
    await output.waitFor(4);
    assert.deepEqual(output.records.map((r) => r.value).sort(), [1, 2, 3, 4]);
    follower.kill('SIGTERM');
    const code = await exitCode(follower);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');

    // The group's committed position is past everything the follower printed.
    assert.equal(await ok(dir, ['consume', 'live', '--group', 'watchers', '--timeout-ms', '150']), '');
    await ok(dir, ['produce', 'live'], lines([{ key: 'e', value: 5 }]));
    const next = jsonLines(await ok(dir, ['consume', 'live', '--group', 'watchers', '--timeout-ms', '200']));
    assert.deepEqual(
      next.map((r) => r.value),
      [5],
    );
  });

  void test('a follower without a group follows from the beginning until interrupted', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'tail', '--partitions', '2']);
    await ok(dir, ['produce', 'tail'], lines([{ value: 'old', partition: 1 }]));
    const follower = start(dir, ['consume', 'tail', '--from-beginning']);
    const output = lineCollector(follower);
    await output.waitFor(1);
    await ok(dir, ['produce', 'tail'], lines([{ value: 'new', partition: 0 }]));
    await output.waitFor(2);
    follower.kill('SIGINT');
    const code = await exitCode(follower);
    assert.equal(code, 0);
    assert.deepEqual(
      output.records.map((r) => [r.partition, r.offset, r.value]),
      [
        [1, 0, 'old'],
        [0, 0, 'new'],
      ],
    );
  });

  void test('--timeout-ms counts from the last record, and --max stops a follower', async () => {
    const dir = tempDataDir();
    await ok(dir, ['topic', 'create', 'slow', '--partitions', '1']);
    const follower = start(dir, ['consume', 'slow', '--group', 'g', '--max', '2', '--timeout-ms', '20000']);
    const output = lineCollector(follower);
    await ok(dir, ['produce', 'slow'], lines(values(1, 1)));
    await output.waitFor(1);
    await ok(dir, ['produce', 'slow'], lines(values(2, 3)));
    const code = await exitCode(follower);
    assert.equal(code, 0);
    assert.deepEqual(
      output.records.map((r) => r.value),
      [1, 2],
    );
    const rest = jsonLines(await ok(dir, ['consume', 'slow', '--group', 'g', '--timeout-ms', '200']));
    assert.deepEqual(
      rest.map((r) => r.value),
      [3],
    );
  });
});

void test('a consumer whose reader goes away (| head) stops quietly', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'many', '--partitions', '1']);
  await ok(dir, ['produce', 'many'], lines(Array.from({ length: 5000 }, (_, i) => ({ value: i, partition: 0 }))));
  const follower = start(dir, ['consume', 'many', '--from-beginning']);
  let stderr = '';
  follower.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await once(follower.stdout, 'data');
  follower.stdout.destroy();
  const code = await exitCode(follower);
  assert.equal(code, 0);
  assert.equal(stderr, '');
});
