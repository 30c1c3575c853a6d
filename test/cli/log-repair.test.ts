import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sluice, tempDataDir } from './helpers.ts';

function segment(dir: string, topic: string): string {
  const topicDir = readdirSync(join(dir, 'topics')).find((name) => name.startsWith(`${topic}.`));
  assert.ok(topicDir);
  const partition = join(dir, 'topics', topicDir, '0');
  return join(partition, readdirSync(partition).find((name) => name.endsWith('.log')) as string);
}

test('a deleted meta/meta.sqlite comes back from the files on the next command, with a warning', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);
  await ok(dir, ['produce', 'events'], '1\n2\n3\n');
  rmSync(join(dir, 'meta'), { recursive: true, force: true });
  const list = await sluice(dir, ['topic', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^events\s+1\s/m);
  assert.match(list.stderr, /did not know topic 'events' found on disk: rebuilt from their files/);
  const consumed = await ok(dir, ['consume', 'events', '--from-beginning', '--timeout-ms', '200']);
  assert.deepEqual(consumed.trim().split('\n').map((line) => JSON.parse(line).value), [1, 2, 3]);
  const create = await sluice(dir, ['topic', 'create', 'events', '--partitions', '1']);
  assert.match(create.stderr, /topic 'events' already exists/);
  assert.match(await ok(dir, ['log', 'repair']), /nothing to repair/);
});

test('sluice log repair: a truncated segment is refused (exit 1, DATA_LOST) until --accept-data-loss, and offsets are not reused', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);
  for (const n of [1, 2, 3]) await ok(dir, ['produce', 'events'], `${n}\n`);
  const file = segment(dir, 'events');
  truncateSync(file, statSync(file).size - 10);
  const consume = await sluice(dir, ['consume', 'events', '--from-beginning', '--timeout-ms', '200']);
  assert.equal(consume.code, 1);
  assert.match(consume.stderr, /partition events\/0: offsets 2 to 2 are committed but missing.*sluice log repair --accept-data-loss/);
  const refused = await sluice(dir, ['log', 'repair']);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /refused partition events\/0/);
  assert.match(await ok(dir, ['log', 'repair', '--accept-data-loss']), /cut events\/0: offsets 2 to 2 were missing; the partition goes on at 3/);
  await ok(dir, ['produce', 'events'], '4\n');
  const after = await ok(dir, ['consume', 'events', '--from-beginning', '--timeout-ms', '200']);
  assert.deepEqual(after.trim().split('\n').map((line) => [JSON.parse(line).offset, JSON.parse(line).value]), [[0, 1], [1, 2], [3, 4]]);
  assert.match(await ok(dir, ['log', 'repair']), /nothing to repair/);
});
