/**
 * Regressions: `sluice run examples/clicks.ts` printed nothing, and re-running a bounded app
 * silently processed 0 records because its group's offsets are kept. The run prints its
 * summary; `sluice app reset APP` and `sluice run FILE --from-beginning` process the input again
 * from the earliest offsets with empty state.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonLines, lines, ok, sluice, tempDataDir } from './helpers.ts';

const CLICKS = new URL('../../examples/clicks.ts', import.meta.url).pathname;
const COUNTER = new URL('./fixtures/counter-app.ts', import.meta.url).pathname;
const BOUNDED = { env: { SLUICE_BOUNDED: '1' } };

void test('sluice run prints the run summary: records in, results out and where, dead letters', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '3']);
  const input = [
    { url: '/a', action: 'click', ts: 1000 },
    { url: '/a', action: 'click', ts: 2000 },
    { url: '/b', action: 'view', ts: 3000 },
    { url: '/b', action: 'click', ts: 400_000 },
  ];
  await ok(dir, ['produce', 'events'], lines(input));
  const run = await sluice(dir, ['run', CLICKS]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^started [a-z]*\ndone clicks: 4 records in, 2 results out to clicks-per-url, (0 late, )?0 dead letters\n/);
  assert.match(run.stderr, /sluice consume clicks-per-url --from-beginning --timeout-ms 1000/);
  // Nothing new: said so, with the way to read the input again.
  const again = await sluice(dir, ['run', CLICKS, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual({ ...summary, late: undefined }, { app: 'clicks', records: 0, written: 0, late: undefined, deadLetters: 0, outputs: ['clicks-per-url'] });
});

/** The counts the counter app wrote, in order. */
async function counts(dir: string): Promise<number[]> {
  return jsonLines(await ok(dir, ['consume', 'counts', '--from-beginning', '--timeout-ms', '300'])).map((r) => (r.value as { n: number }).n);
}

void test('app reset and run --from-beginning process the input again with empty state (lmdb and topic checkpoints)', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'input', '--partitions', '1']);
  await ok(dir, ['produce', 'input'], lines([{ k: 'a' }, { k: 'a' }, { k: 'a' }]));
  const first = await sluice(dir, ['run', COUNTER], BOUNDED);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^started [a-z]*\ndone counter: 3 records in, 3 results out to counts/);
  assert.deepEqual(await counts(dir), [1, 2, 3]);
  assert.ok(existsSync(join(dir, 'state', 'counter')), 'the lmdb state is on disk');

  const second = await sluice(dir, ['run', COUNTER], BOUNDED);
  assert.match(second.stderr, /^started [a-z]*\ndone counter: 0 records in.*\n {2}nothing new to read: .*--from-beginning.*sluice app reset counter/);

  const replay = await sluice(dir, ['run', COUNTER, '--from-beginning'], BOUNDED);
  assert.equal(replay.code, 0, replay.stderr);
  assert.match(replay.stderr, /^started [a-z]*\ndone counter: 3 records in, 3 results out/);
  assert.deepEqual(await counts(dir), [1, 2, 3, 1, 2, 3], 'the state started empty');

  const reset = JSON.parse(await ok(dir, ['app', 'reset', 'counter', '--json']));
  assert.deepEqual(reset, { app: 'counter', offsets: 1, checkpoints: false, state: true });
  assert.equal(existsSync(join(dir, 'state', 'counter')), false);
  const afterReset = await sluice(dir, ['run', COUNTER], BOUNDED);
  assert.match(afterReset.stderr, /^started [a-z]*\ndone counter: 3 records in, 3 results out/);
  assert.deepEqual(await counts(dir), [1, 2, 3, 1, 2, 3, 1, 2, 3]);
});

void test('app reset of a memory-state app deletes its checkpoints topic; --from-beginning and --from-savepoint exclude each other', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);
  await ok(dir, ['produce', 'events'], lines([{ url: '/a', action: 'click', ts: 1000 }]));
  await ok(dir, ['run', CLICKS]);
  const text = await ok(dir, ['app', 'reset', 'clicks']);
  assert.equal(text, 'reset clicks: forgot 1 committed offset, its checkpoints, no state on disk; its next run reads its input from the earliest offsets\n');
  const topics = JSON.parse(await ok(dir, ['topic', 'list', '--json'])) as Array<{ name: string }>;
  assert.ok(!topics.some((t) => t.name === 'clicks.checkpoints'));
  const rerun = await sluice(dir, ['run', CLICKS]);
  assert.match(rerun.stderr, /^started [a-z]*\ndone clicks: 1 record in, 1 result out/);
  const both = await sluice(dir, ['run', CLICKS, '--from-beginning', '--from-savepoint', 'sp-1-1']);
  assert.equal(both.code, 1);
  assert.equal(both.stderr, 'error: --from-beginning and --from-savepoint each choose where to start: give one of them\n');
});
