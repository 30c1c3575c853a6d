// The crash test on the real broker: a windowed aggregation and a running average over a
// 6-partition topic, run by 3 `sluice run --kafka` processes in one consumer group while input
// arrives; one is killed with SIGKILL mid-run and another joins later, twice. Read committed,
// every window appears exactly once with the value a batch computation gives, and every
// running-average update exactly once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { waitUntil } from '../support/wait.ts';
import { backend, committedValues, KEEP, pipelineDir, produce, produceToEvery, RunProcess, skip } from './helpers.ts';

const PARTITIONS = 6;
const KEYS = 24;
const EVENTS = 3000;
const KILLS = 2;

interface Event {
  k: string;
  g: string;
  v: number;
  ts: number;
}

void test('3 processes in one group, one SIGKILLed mid-run and another joining later (twice): every window and running-average update exactly once', { skip, timeout: 600_000 }, async () => {
  const kafka = backend();
  const id = randomUUID().slice(0, 8);
  const input = `crash-in-${id}`;
  const windowsTopic = `crash-windows-${id}`;
  const averagesTopic = `crash-averages-${id}`;
  // Event times near the epoch: Kafka's time retention would delete them at its next check.
  for (const topic of [input, windowsTopic, averagesTopic]) await kafka.createTopic(topic, PARTITIONS, KEEP);
  const dir = pipelineDir(`import { Sluice, Watermarks, Windows } from 'sluice';
const app = new Sluice({ name: 'crashy-${id}', checkpointInterval: '100ms' });
const input = app.stream<{ k: string; g: string; v: number; ts: number }>('${input}', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness(0) });
input
  .keyBy((e) => e.g)
  .window(Windows.tumbling(1000))
  .aggregate(() => ({ c: 0, s: 0 }), (_key, e, acc) => ({ c: acc.c + 1, s: acc.s + e.v }), { name: 'totals' })
  .to('${windowsTopic}');
input
  .keyBy((e) => e.k, { name: 'by-key-for-average' })
  .process<{ k: string; n: number; avg: number }>(
    {
      processElement(e, ctx) {
        const state = ctx.state.value<{ n: number; sum: number }>('running');
        const current = state.value() ?? { n: 0, sum: 0 };
        const next = { n: current.n + 1, sum: current.sum + e.v };
        state.update(next);
        ctx.emit({ k: e.k, n: next.n, avg: next.sum / next.n });
      },
    },
    { name: 'running-average' },
  )
  .to('${averagesTopic}');
await app.run();
`);
  // Input keyed by k (each key's records in log order in one partition, so its running averages
  // are a batch fact); the windows group by g, which crosses between processes.
  const events: Event[] = Array.from({ length: EVENTS }, (_, i) => ({ k: `k${i % KEYS}`, g: `g${(i * 5) % 7}`, v: (i * 7) % 13, ts: i * 10 }));
  const flush = EVENTS * 10 + 10_000;
  const expectedWindows = new Map<string, { c: number; s: number }>();
  const averages = new Map<string, number[]>();
  const runs = new Map<string, { n: number; sum: number }>();
  for (const e of events) {
    const w = `${e.g}@${Math.floor(e.ts / 1000) * 1000}`;
    const acc = expectedWindows.get(w) ?? { c: 0, s: 0 };
    expectedWindows.set(w, { c: acc.c + 1, s: acc.s + e.v });
    const run = runs.get(e.k) ?? { n: 0, sum: 0 };
    const next = { n: run.n + 1, sum: run.sum + e.v };
    runs.set(e.k, next);
    averages.set(e.k, [...(averages.get(e.k) ?? []), next.sum / next.n]);
  }
  // The flush events (one per partition, key 'end', v 0) move every watermark past the last window.
  averages.set('end', new Array<number>(PARTITIONS).fill(0));
  const expectedUpdates = [...averages.values()].reduce((n, list) => n + list.length, 0);

  const running = [new RunProcess(dir), new RunProcess(dir), new RunProcess(dir)];
  const killed: RunProcess[] = [];
  // On failure, what every process said (the generations it ran, its errors).
  let progress = '';
  const said = () => [progress, ...[...killed, ...running].map((p, i) => `--- process ${i} (pid ${p.child.pid}):\n${p.stderr}`)].join('\n');
  try {
  await waitUntil(() => running.every((p) => (p.tasksWith(3)?.length ?? 0) === 2), 'three processes with 2 tasks each', { boundMs: 180_000 });

  let produced = 0;
  const feeding = (async () => {
    while (produced < EVENTS) {
      const chunk = events.slice(produced, produced + 20);
      await produce(kafka, input, chunk, (e) => e.k, (e) => e.ts);
      produced += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await produceToEvery(kafka, input, PARTITIONS, () => ({ k: 'end', g: 'end', v: 0, ts: flush }), flush);
  })();

  for (let kill = 0; kill < KILLS; kill++) {
    // Kill one at a random moment once the group committed more output in this generation.
    const before = (await committedValues(kafka, averagesTopic)).length;
    await waitUntil(async () => produced >= EVENTS || (await committedValues(kafka, averagesTopic)).length > before, 'more committed output', { boundMs: 180_000 });
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
    const victim = running.splice(Math.floor(Math.random() * running.length), 1)[0];
    victim.child.kill('SIGKILL');
    await victim.exited;
    killed.push(victim);
    // The group notices (session timeout), the others take its tasks; then another process joins.
    await waitUntil(() => running.every((p) => (p.tasksWith(2)?.length ?? 0) === 3), 'two processes with 3 tasks each after the kill', { boundMs: 180_000 });
    running.push(new RunProcess(dir));
    await waitUntil(() => running.every((p) => (p.tasksWith(3)?.length ?? 0) === 2), 'three processes again after one joined', { boundMs: 180_000 });
  }
  await feeding;

  type Window = { key: string; start: number; value: { c: number; s: number } };
  type Update = { k: string; n: number; avg: number };
  // A kill mid-commit leaves a transaction open until Kafka's transaction timeout aborts it: the bound covers it.
  await waitUntil(
    async () => {
      const counts = [(await committedValues(kafka, windowsTopic)).length, (await committedValues(kafka, averagesTopic)).length];
      progress = `committed ${counts[0]} of ${expectedWindows.size} windows, ${counts[1]} of ${expectedUpdates} updates`;
      return counts[0] >= expectedWindows.size && counts[1] >= expectedUpdates;
    },
    'every window and every update committed',
    { boundMs: 240_000 },
  );
  for (const p of running) p.child.kill('SIGTERM');
  for (const p of running) assert.equal(await p.exited, 0, p.stderr);

  const seenWindows = new Map<string, number>();
  for (const r of await committedValues<Window>(kafka, windowsTopic)) {
    const w = `${r.key}@${r.start}`;
    assert.deepEqual(r.value, expectedWindows.get(w), `window ${w} has the batch value`);
    seenWindows.set(w, (seenWindows.get(w) ?? 0) + 1);
  }
  for (const w of expectedWindows.keys()) assert.equal(seenWindows.get(w), 1, `window ${w} exactly once`);

  const seenUpdates = new Map<string, number>();
  for (const u of await committedValues<Update>(kafka, averagesTopic)) {
    assert.equal(u.avg, averages.get(u.k)?.[u.n - 1], `update ${u.n} of ${u.k} has the batch value`);
    seenUpdates.set(`${u.k}#${u.n}`, (seenUpdates.get(`${u.k}#${u.n}`) ?? 0) + 1);
  }
  for (const [k, list] of averages) for (let n = 1; n <= list.length; n++) assert.equal(seenUpdates.get(`${k}#${n}`), 1, `update ${n} of ${k} exactly once`);
  assert.equal(killed.length, KILLS);
  } catch (error) {
    if (error instanceof Error) error.message += `\n${said()}`;
    throw error;
  }
});
