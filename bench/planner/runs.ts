/**
 * The planner's model against measured runs (shared by `npm run bench -- planner` and
 * test/server/planner-model.test.ts). Each repeat, on the embedded log in `dir`:
 *   A. a bounded run over a backlog, profiled: the planner's input;
 *   B. a second bounded run over another backlog: its measured throughput (records / wall time)
 *      against the sustainable rate the planner predicts from A;
 *   C. the pipeline unbounded while input arrives at a third of B's throughput: its measured
 *      utilization (busy / wall) against λ·c + f, with c, the cost per record, from A (f, the
 *      checkpoints' share of a core, from C: a bounded run's one final checkpoint is no steady rate).
 * A warm-up run comes first: a live app the planner measures is warm.
 */
import assert from 'node:assert/strict';
import { setTimeout as tick } from 'node:timers/promises';
import { Sluice, Windows } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import type { Profile } from '../../src/runtime/index.ts';
import { Collector, planCapacity } from '../../src/server/index.ts';

export interface PlannerRunSizes {
  /** Records of each bounded run's backlog. */
  backlog: number;
  /** Records the paced run reads. */
  paced: number;
  /** Records of the warm-up run. */
  warmUp: number;
  repeats: number;
}

const encoder = new TextEncoder();
type Producer = Awaited<ReturnType<Log['producer']>>;

function batch(from: number, n: number): { key: Uint8Array; value: Uint8Array; timestamp: number }[] {
  const out = [];
  const now = Date.now();
  for (let i = from; i < from + n; i++) out.push({ key: encoder.encode(`u${i % 200}`), value: encoder.encode(JSON.stringify({ user: `u${i % 200}`, amount: i % 97, ts: 1_767_261_600_000 + i })), timestamp: now });
  return out;
}

/** The pipeline measured: a filter, a map, a keyed 10 s tumbling sum, a sink. */
function pipeline(app: Sluice, topic: string): void {
  app
    .stream<{ user: string; amount: number; ts: number }>(topic, { timestamp: (e) => e.ts })
    .filter((e) => e.amount >= 0)
    .map((e) => ({ user: e.user, cents: e.amount * 100 }))
    .keyBy((e) => e.user)
    .window(Windows.tumbling('10s'))
    .sum((e) => e.cents, { name: 'sums' })
    .to(`${topic}-sums`);
}

/** Runs the warm-up and `repeats` times A, B and C in `dir`, a fresh data directory. */
export async function measurePlanner(dir: string, sizes: PlannerRunSizes): Promise<Measured[]> {
  const collector = new Collector();
  const log = await Log.open(dir);
  try {
    const producer = await log.producer();
    log.createTopic('warm', { partitions: 2 });
    for (let from = 0; from < sizes.warmUp; from += 10_000) await producer.send('warm', batch(from, Math.min(10_000, sizes.warmUp - from)));
    const warm = new Sluice({ name: 'warm', dataDir: dir });
    pipeline(warm, 'warm');
    await warm.run({ bounded: true });
    const runs: Measured[] = [];
    for (let r = 0; r < sizes.repeats; r++) runs.push(await measure(log, dir, producer, collector, r, sizes));
    await producer.close();
    return runs;
  } finally {
    collector.close();
    await log.close();
  }
}

export interface Measured {
  /** B: measured records / wall time; the planner's sustainable rate from A's profile. */
  throughput: number;
  predictedThroughput: number;
  /** C: its measured rate and utilization; the planner's utilization at that rate from A's profile. */
  rate: number;
  utilization: number;
  predictedUtilization: number;
  /** C's own profile, reported: cost per record and sustainable rate predicted from light load. */
  pacedCostUs: number;
  pacedPredicted: number;
  status: string;
}

/** A bounded run over a fresh backlog topic; its throughput and profile. */
async function boundedRun(log: Log, dir: string, producer: Producer, collector: Collector, name: string, sizes: PlannerRunSizes): Promise<{ throughput: number; profile: Profile }> {
  log.createTopic(name, { partitions: 2 });
  for (let from = 0; from < sizes.backlog; from += 10_000) await producer.send(name, batch(from, Math.min(10_000, sizes.backlog - from)));
  const app = new Sluice({ name, dataDir: dir });
  pipeline(app, name);
  const t0 = performance.now();
  const summary = await app.run({ bounded: true });
  const throughput = summary.records / ((performance.now() - t0) / 1000);
  assert.equal(summary.records, sizes.backlog);
  const profile = collector.profile(name);
  assert.ok(profile !== undefined && profile.records > 0, `the bounded run ${name} was profiled`);
  return { throughput, profile };
}

/** Runs A, B and C of one repeat. */
async function measure(log: Log, dir: string, producer: Producer, collector: Collector, r: number, sizes: PlannerRunSizes): Promise<Measured> {
  const a = await boundedRun(log, dir, producer, collector, `a-${r}`, sizes);
  const b = await boundedRun(log, dir, producer, collector, `b-${r}`, sizes);
  const model = planCapacity(a.profile);

  const name = `c-${r}`;
  log.createTopic(name, { partitions: 2 });
  const rate = b.throughput / 3;
  const paced = new Sluice({ name, dataDir: dir });
  pipeline(paced, name);
  const running = paced.run();
  const start = performance.now();
  let sent = 0;
  while (sent < sizes.paced) {
    // The load generator: what the rate says should have arrived by now.
    const due = Math.min(sizes.paced, Math.floor((rate * (performance.now() - start)) / 1000));
    if (due > sent) {
      await producer.send(name, batch(sent, due - sent));
      sent = due;
    }
    await tick(5);
  }
  // Taken when the last records are read: the profile covers the run while input flowed.
  const profile = await pollUntil(() => {
    const p = collector.profile(name);
    const read = collector.snapshot().jobs.find((j) => j.name === name)?.last?.sources.reduce((x, s) => x + s.read, 0) ?? 0;
    return read >= sizes.paced && p;
  });
  paced.stop();
  await running;
  const report = planCapacity(profile);
  return {
    throughput: b.throughput,
    predictedThroughput: model.capacity.sustainable!,
    rate: report.measured.rate,
    utilization: profile.busyMs / profile.sampleMs,
    // ρ = λ·c + f with c from A and f, the checkpoints' share, from C itself: a short bounded run's
    // one final checkpoint says little about the checkpoints of a steady run.
    predictedUtilization: (report.measured.rate * model.measured.perRecordUs!) / 1e6 + report.measured.checkpointShare,
    pacedCostUs: report.measured.costPerRecordUs!,
    pacedPredicted: report.capacity.sustainable!,
    status: report.status,
  };
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Polls `check` every 10 ms until it gives a value (the paced run reads its last records). */
async function pollUntil<T>(check: () => T | false | undefined): Promise<T> {
  for (;;) {
    const value = check();
    if (value !== false && value !== undefined) return value;
    await tick(10);
  }
}
