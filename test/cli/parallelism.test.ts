// `sluice run FILE --parallelism N` (and the app's `parallelism` option): the tasks run on worker
// threads, records cross between them by key, and the results are the batch answer, once, in a
// first run and in a second that resumes; SIGINT stops every thread after a final checkpoint;
// what threads cannot do is refused by name.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCode, ok, sluice, start, tempDataDir } from './helpers.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;
const USERS = 23;

interface Click {
  user: string;
  ts: number;
}

/** Clicks out of order by less than the watermark's bound (5 s), so no window loses one. */
function clicks(from: number, n: number): Click[] {
  return Array.from({ length: n }, (_, i) => ({ user: `u${(from + i) % USERS}`, ts: (from + i) * 100 + (((from + i) * 7919) % 40) * 100 }));
}

function produce(dataDir: string, list: Click[]): Promise<string> {
  return ok(dataDir, ['produce', 'clicks'], `${list.map((c) => JSON.stringify({ key: c.user, value: c, timestamp: c.ts })).join('\n')}\n`);
}

/** Per user and 10 s window: the count, computed straight from the clicks. */
function batchCounts(list: Click[], upTo: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of list) {
    const start = Math.floor(c.ts / 10_000) * 10_000;
    if (start + 10_000 > upTo) continue;
    const id = `${c.user}@${start}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function module(dataDir: string, options = ''): string {
  const path = join(dataDir, 'per-user.mts');
  writeFileSync(
    path,
    `import { Sluice, Watermarks, Windows } from '${INDEX}';
const app = new Sluice({ name: 'per-user', dataDir: process.env.SLUICE_DATA_DIR, checkpointInterval: '100ms'${options} });
app.stream<{ user: string; ts: number }>('clicks', { timestamp: (c) => c.ts, watermark: Watermarks.boundedOutOfOrderness('5s') })
  .filter((c) => c.ts >= 0)
  .keyBy((c) => c.user)
  .window(Windows.tumbling('10s'))
  .count()
  .to('counts');
const summary = await app.run(process.env.SLUICE_BOUNDED === '1' ? { bounded: true } : {});
console.log('records', summary.records);
`,
  );
  return path;
}

async function committedCounts(dataDir: string): Promise<Map<string, number[]>> {
  const out = await ok(dataDir, ['consume', 'counts', '--from-beginning', '--timeout-ms', '300']);
  const seen = new Map<string, number[]>();
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const { key, start, value } = JSON.parse(line).value as { key: string; start: number; value: number };
    const id = `${key}@${start}`;
    seen.set(id, [...(seen.get(id) ?? []), value]);
  }
  return seen;
}

function assertOnce(seen: Map<string, number[]>, expected: Map<string, number>, what: string): void {
  for (const [id, count] of expected) assert.deepEqual(seen.get(id), [count], `${what}: window ${id} once, with its batch count`);
  assert.equal(seen.size, expected.size, `${what}: no other windows`);
}

void test('sluice run --parallelism 3: every window of the batch answer once', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'clicks', '--partitions', '4']);
  const first = clicks(0, 3000);
  await produce(dataDir, first);
  const path = module(dataDir);
  const run1 = await sluice(dataDir, ['run', path, '--parallelism', '3'], { env: { SLUICE_BOUNDED: '1' } });
  assert.equal(run1.code, 0, run1.stderr);
  assert.match(run1.stderr, /thread 3 of 3\) runs tasks \[2\] of 4/);
  assert.match(run1.stdout, /records 3000/);
  assertOnce(await committedCounts(dataDir), batchCounts(first, Number.POSITIVE_INFINITY), 'first run');
});

// The second run restores each task from the first run's final checkpoint, which every thread
// writes even when its last round had committed everything already.
void test('sluice run --parallelism: a second bounded run resumes where the first stopped', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'clicks', '--partitions', '4']);
  const first = clicks(0, 3000);
  await produce(dataDir, first);
  const path = module(dataDir);
  assert.equal((await sluice(dataDir, ['run', path, '--parallelism', '3'], { env: { SLUICE_BOUNDED: '1' } })).code, 0);
  const second = clicks(3000, 2000);
  await produce(dataDir, second);
  const run2 = await sluice(dataDir, ['run', path, '--parallelism', '2'], { env: { SLUICE_BOUNDED: '1' } });
  assert.equal(run2.code, 0, run2.stderr);
  assert.match(run2.stdout, /records 2000/, "the second run reads only the new input");
  assert.match(run2.stderr, / 0 late/, run2.stderr);
  // A bounded run fires every window: the second run's windows start again empty from its input.
  const all = await committedCounts(dataDir);
  const expected = batchCounts(first, Number.POSITIVE_INFINITY);
  for (const [id, count] of batchCounts(second, Number.POSITIVE_INFINITY)) expected.set(`${id}#2`, count);
  for (const [id, list] of all) {
    const wantFirst = expected.get(id);
    const wantSecond = expected.get(`${id}#2`);
    assert.deepEqual(list, [wantFirst, wantSecond].filter((n) => n !== undefined), `window ${id}: once per run that saw it`);
  }
});

void test('the parallelism option of new Sluice() runs the threads; SIGINT stops them all after a final checkpoint, exit 0', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'clicks', '--partitions', '2']);
  const list = clicks(0, 1000);
  await produce(dataDir, list);
  const child = start(dataDir, ['run', module(dataDir, ', parallelism: 2')]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const running = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if ((stderr.match(/runs tasks/g) ?? []).length === 2) resolve();
    });
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  await running;
  // The input's windows are complete up to the watermark: wait until the threads wrote them, then stop.
  const upTo = Math.max(...list.map((c) => c.ts)) - 5000;
  const expected = batchCounts(list, upTo);
  for (;;) {
    const seen = await committedCounts(dataDir);
    if ([...expected.keys()].every((id) => seen.has(id))) break;
    assert.equal(child.exitCode, null, `the run ended early: ${stderr}`);
  }
  child.kill('SIGINT');
  assert.equal(await exitCode(child), 0, stderr);
  assert.match(stdout, /records 1000/);
  const seen = await committedCounts(dataDir);
  for (const [id, count] of expected) assert.deepEqual(seen.get(id), [count], `window ${id} once`);
});

void test('parallelism: what runs on one thread only is refused by name; so is a thread count that is not one', { timeout: 60_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'clicks', '--partitions', '2']);
  await produce(dataDir, clicks(0, 10));
  const lmdb = await sluice(dataDir, ['run', module(dataDir, ", state: 'lmdb'"), '--parallelism', '2'], { env: { SLUICE_BOUNDED: '1' } });
  assert.notEqual(lmdb.code, 0);
  assert.match(lmdb.stderr, /parallelism 2: .*use state 'memory'/);
  const zero = await sluice(dataDir, ['run', module(dataDir), '--parallelism', '0'], { env: { SLUICE_BOUNDED: '1' } });
  assert.notEqual(zero.code, 0);
  assert.match(zero.stderr, /--parallelism 0: 0 is not a thread count/);
  // Checkpointed per task by a run on threads, the app refuses to run on one thread.
  assert.equal((await sluice(dataDir, ['run', module(dataDir), '--parallelism', '2'], { env: { SLUICE_BOUNDED: '1' } })).code, 0);
  const single = await sluice(dataDir, ['run', module(dataDir)], { env: { SLUICE_BOUNDED: '1' } });
  assert.notEqual(single.code, 0);
  assert.match(single.stderr, /was checkpointed per task .* run it so again \(sluice run FILE --parallelism 2\)/);
});
