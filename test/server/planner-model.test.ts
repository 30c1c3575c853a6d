// The planner's model against measured runs of a real pipeline on the embedded log:
//   0. a bounded run warms the JIT up (a live app the planner measures is warm);
//   1. a bounded run over a backlog measures the pipeline's real throughput (records / wall time);
//   2. the same pipeline runs unbounded while input arrives at a third of that rate; the planner
//      reads that run's profile and predicts the sustainable rate per core (1 / cost per record),
//      and, from the bounded run's cost per record, the paced run's utilization.
// Three such pairs; the medians of both predictions must fall within a factor of TOLERANCE of
// what was measured. The figures go to the test's diagnostics (`node --test` prints them), so a
// run shows how close the model came.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as tick } from 'node:timers/promises';
import { Sluice, Windows } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { Collector, planCapacity } from '../../src/server/index.ts';
import { waitUntil } from '../support/wait.ts';

/** Prediction / measurement must lie in [1 / TOLERANCE, TOLERANCE]: a shared, loaded machine varies this much between runs. */
const TOLERANCE = 2;
const BACKLOG = 150_000;
const PACED = 50_000;
const WARM_UP = 100_000;
const REPEATS = 3;

const encoder = new TextEncoder();

function batch(from: number, n: number): { key: Uint8Array; value: Uint8Array; timestamp: number }[] {
  const out = [];
  const now = Date.now();
  for (let i = from; i < from + n; i++) out.push({ key: encoder.encode(`u${i % 200}`), value: encoder.encode(JSON.stringify({ user: `u${i % 200}`, amount: i % 97, ts: 1_767_261_600_000 + i })), timestamp: now });
  return out;
}

/** The pipeline under test: a filter, a map, a keyed 10 s tumbling sum, a sink. */
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

void test('the planner predicts throughput and utilization of measured runs within the tolerance', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'planner-model-'));
  const collector = new Collector();
  const log = await Log.open(dir);
  try {
    const producer = await log.producer();
    // 0. A first run warms the JIT, as a live app the planner measures is warm.
    log.createTopic('warm', { partitions: 2 });
    for (let from = 0; from < WARM_UP; from += 10_000) await producer.send('warm', batch(from, 10_000));
    const warm = new Sluice({ name: 'warm', dataDir: dir });
    pipeline(warm, 'warm');
    await warm.run({ bounded: true });
    const runs: Measured[] = [];
    for (let r = 0; r < REPEATS; r++) runs.push(await measure(log, dir, producer, collector, r));
    await producer.close();
    for (const m of runs) {
      t.diagnostic(
        `bounded: ${Math.round(m.throughput)} records/s measured (${m.boundedCostUs.toFixed(2)} µs per record); paced at ${Math.round(m.rate)} records/s: ${m.pacedCostUs.toFixed(2)} µs per record, predicted ${Math.round(m.predicted)} records/s (ratio ${(m.predicted / m.throughput).toFixed(2)}); utilization measured ${m.utilization.toFixed(3)}, predicted ${m.predictedUtilization.toFixed(3)} (ratio ${(m.predictedUtilization / m.utilization).toFixed(2)})`,
      );
    }
    // Medians over the repeats: one run disturbed by the machine's other work does not decide.
    const throughputRatio = median(runs.map((m) => m.predicted)) / median(runs.map((m) => m.throughput));
    const utilizationRatio = median(runs.map((m) => m.predictedUtilization / m.utilization));
    t.diagnostic(`median ratios: sustainable rate predicted / measured ${throughputRatio.toFixed(2)}, utilization predicted / measured ${utilizationRatio.toFixed(2)} (tolerance: a factor of ${TOLERANCE})`);
    const within = (ratio: number) => ratio >= 1 / TOLERANCE && ratio <= TOLERANCE;
    assert.ok(within(throughputRatio), `sustainable rate: predicted / measured = ${throughputRatio.toFixed(2)}`);
    assert.ok(within(utilizationRatio), `utilization: predicted / measured = ${utilizationRatio.toFixed(2)}`);
    for (const m of runs) assert.equal(m.status, 'ok', 'a third of capacity is within it');
  } finally {
    collector.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
});

interface Measured {
  /** Bounded run: records / wall time, and its cost per record from its profile. */
  throughput: number;
  boundedCostUs: number;
  /** Paced run: its measured rate, cost per record, the planner's sustainable rate, measured and predicted utilization. */
  rate: number;
  pacedCostUs: number;
  predicted: number;
  utilization: number;
  predictedUtilization: number;
  status: string;
}

/** One bounded run over a backlog, then one paced run at a third of its throughput. */
async function measure(log: Log, dir: string, producer: Awaited<ReturnType<Log['producer']>>, collector: Collector, r: number): Promise<Measured> {
  log.createTopic(`backlog-${r}`, { partitions: 2 });
  for (let from = 0; from < BACKLOG; from += 10_000) await producer.send(`backlog-${r}`, batch(from, 10_000));
  const bounded = new Sluice({ name: `bounded-${r}`, dataDir: dir });
  pipeline(bounded, `backlog-${r}`);
  const t0 = performance.now();
  const summary = await bounded.run({ bounded: true });
  const throughput = summary.records / ((performance.now() - t0) / 1000);
  assert.equal(summary.records, BACKLOG);
  const boundedProfile = collector.profile(`bounded-${r}`);
  assert.ok(boundedProfile !== undefined && boundedProfile.records > 0, 'the bounded run was profiled');
  const boundedCostUs = (boundedProfile.busyMs * 1000) / boundedProfile.records;

  log.createTopic(`paced-${r}`, { partitions: 2 });
  const rate = throughput / 3;
  const paced = new Sluice({ name: `paced-${r}`, dataDir: dir });
  pipeline(paced, `paced-${r}`);
  const running = paced.run();
  const start = performance.now();
  let sent = 0;
  while (sent < PACED) {
    // The load generator: what the rate says should have arrived by now.
    const due = Math.min(PACED, Math.floor((rate * (performance.now() - start)) / 1000));
    if (due > sent) {
      await producer.send(`paced-${r}`, batch(sent, due - sent));
      sent = due;
    }
    await tick(5);
  }
  // Taken when the last records are read: the profile covers the run while input flowed.
  const profile = await waitUntil(() => {
    const p = collector.profile(`paced-${r}`);
    const read = collector.snapshot().jobs.find((j) => j.name === `paced-${r}`)?.last?.sources.reduce((a, s) => a + s.read, 0) ?? 0;
    return read >= PACED && p;
  }, 'the paced run to read every record');
  paced.stop();
  await running;
  const report = planCapacity(profile);
  return {
    throughput,
    boundedCostUs,
    rate: report.measured.rate,
    pacedCostUs: report.measured.costPerRecordUs!,
    predicted: report.capacity.perCore!,
    utilization: profile.busyMs / profile.sampleMs,
    predictedUtilization: (report.measured.rate * boundedCostUs) / 1e6,
    status: report.status,
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
