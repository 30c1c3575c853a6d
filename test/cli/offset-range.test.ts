import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok, sluice, tempDataDir } from './helpers.ts';

const values = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line).value);

test('regression: a group offset past the end is OFFSET_OUT_OF_RANGE, and --reset-offsets earliest|latest chooses where to start', async () => {
  const dir = tempDataDir();
  await ok(dir, ['produce', 'events'], '1\n2\n3\n');
  assert.deepEqual(values(await ok(dir, ['consume', 'events', '--group', 'g', '--max', '3'])), [1, 2, 3]);
  await ok(dir, ['topic', 'delete', 'events']);
  await ok(dir, ['produce', 'events'], '"new"\n');
  const refused = await sluice(dir, ['consume', 'events', '--group', 'g', '--timeout-ms', '200']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: group 'g' committed offset 3 on events\/0, past its end \(next offset 1\); start it again with `sluice consume events --group g --reset-offsets earliest` \(or latest\)/);
  assert.equal(refused.stdout, '');
  assert.deepEqual(values(await ok(dir, ['consume', 'events', '--group', 'g', '--reset-offsets', 'earliest', '--timeout-ms', '200'])), ['new']);
  // The reset position was committed: the group goes on from there.
  await ok(dir, ['produce', 'events'], '"newer"\n');
  assert.deepEqual(values(await ok(dir, ['consume', 'events', '--group', 'g', '--timeout-ms', '200'])), ['newer']);
});

test('regression: --offset past the end says so instead of waiting silently', async () => {
  const dir = tempDataDir();
  await ok(dir, ['produce', 'events'], '1\n2\n');
  const result = await sluice(dir, ['consume', 'events', '--offset', '5']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: --offset 5 is past the end of events\/0: its next offset is 2; give an offset up to 2, or --from-beginning/);
  assert.deepEqual(values(await ok(dir, ['consume', 'events', '--offset', '1', '--timeout-ms', '200'])), [2]);
});
