// Scale-out on the real broker: two `sluice run FILE --kafka` processes of one app share its
// tasks through the app's consumer group; the keyBy crosses between them through the
// repartition topic, watermarks too (a window fires only when every upstream task's marker
// passed it), and the read_committed output has every window exactly once with the batch value.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { waitUntil } from '../support/wait.ts';
import { backend, committedValues, KEEP, pipelineDir, produce, produceToEvery, RunProcess, skip } from './helpers.ts';

const PARTITIONS = 6;
const T0 = 1_700_000_000_000;

interface Click {
  url: string;
  action: string;
  ts: number;
}

void test('two processes of one app on Kafka share its 6 tasks and give every window exactly once', { skip, timeout: 240_000 }, async () => {
  const kafka = backend();
  const id = randomUUID().slice(0, 8);
  const input = `clicks-in-${id}`;
  const output = `clicks-out-${id}`;
  // Event times from 2023: Kafka's time retention (7 days) would delete them at its next check.
  await kafka.createTopic(input, PARTITIONS, KEEP);
  await kafka.createTopic(output, PARTITIONS, KEEP);
  const dir = pipelineDir(`import { Sluice, Watermarks, TumblingWindow, MINUTES } from 'sluice';
const app = new Sluice({ name: 'clicks-${id}', checkpointInterval: '200ms' });
app.stream<{ url: string; action: string; ts: number }>('${input}', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness('5s') })
  .filter((e) => e.action === 'click')
  .keyBy((e) => e.url)
  .window(TumblingWindow.of(1, MINUTES))
  .count()
  .to('${output}');
await app.run();
`);
  const a = new RunProcess(dir);
  await waitUntil(() => a.tasksWith(1)?.length === PARTITIONS, 'the first process running all 6 tasks', { boundMs: 120_000 });
  const b = new RunProcess(dir);
  const shared = await waitUntil(() => {
    const ta = a.tasksWith(2);
    const tb = b.tasksWith(2);
    return ta !== undefined && tb !== undefined && ta.length + tb.length === PARTITIONS && { ta, tb };
  }, 'both processes in one generation of 2 members', { boundMs: 120_000 });
  assert.ok(shared.ta.length > 0 && shared.tb.length > 0, `each runs a part: ${JSON.stringify(shared)}`);
  assert.deepEqual([...shared.ta, ...shared.tb].sort(), [0, 1, 2, 3, 4, 5], 'the tasks are split, each to one process');

  // Clicks on many urls in every partition (keyed by user, so the keyBy by url crosses between processes).
  const clicks: Click[] = Array.from({ length: 3000 }, (_, i) => ({ url: `/p${(i * 7) % 23}`, action: i % 5 === 0 ? 'view' : 'click', ts: T0 + i * 1000 }));
  await produce(kafka, input, clicks, (c) => `user-${c.ts % 97}`, (c) => c.ts);
  // A late view in every partition moves each source watermark past the last window.
  const end = T0 + 3000 * 1000 + 120_000;
  await produceToEvery(kafka, input, PARTITIONS, () => ({ url: '/end', action: 'view', ts: end }), end);

  const expected = new Map<string, number>();
  for (const c of clicks) {
    if (c.action !== 'click') continue;
    const id = `${c.url}@${Math.floor(c.ts / 60_000) * 60_000}`;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  type Result = { key: string; start: number; value: number };
  await waitUntil(async () => (await committedValues<Result>(kafka, output)).length >= expected.size, `${expected.size} windows in '${output}'`, { boundMs: 120_000 });
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  assert.equal(await a.exited, 0, a.stderr);
  assert.equal(await b.exited, 0, b.stderr);

  const seen = new Map<string, number>();
  for (const r of await committedValues<Result>(kafka, output)) {
    const id = `${r.key}@${r.start}`;
    assert.equal(r.value, expected.get(id), `window ${id} has the batch value`);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  for (const id of expected.keys()) assert.equal(seen.get(id), 1, `window ${id} exactly once`);
  assert.equal(seen.size, expected.size);
  // Both read part of the input (their summaries count what each read).
  assert.ok((a.recordsIn() ?? 0) > 0 && (b.recordsIn() ?? 0) > 0, `each process read records: ${a.recordsIn()} and ${b.recordsIn()}`);
});
