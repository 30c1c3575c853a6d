/**
 * Exactly-once end-to-end latency at a fixed input rate.
 *
 * The pipeline runs unbounded in a worker process (emitting one output per input). This process
 * appends the input: every millisecond or so, the events due by then at `rate` per second, with
 * `t` = timestamp = `Date.now()` at the append call; and reads the output topic read_committed
 * (waiting on the log's notification, at most 5 ms between looks). An output's latency is the
 * time this reader first saw it minus its input's `t`: it includes waiting for the checkpoint,
 * the commit itself, and the reader's wake-up. The first `warmup` seconds are not counted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../../src/log/index.ts';
import type { AppCase } from './app-worker.ts';
import { startWorker } from './child.ts';
import { type Interval, type Output, PARTITIONS, prng, quantile } from './pipeline.ts';

export interface LatencyOptions {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  keys: number;
  /** Outputs per update of a key: 1 measures every input; n > 1 measures every n-th update of each key. */
  emitEvery: number;
}

export interface LatencyResult {
  state: 'memory' | 'lmdb';
  interval: Interval;
  /** Inputs appended per second in the measured window (the target is `rate`). */
  achievedRate: number;
  measured: number;
  /** Inputs of the window whose output never showed up (should be 0). */
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Least-squares slope of latency over input time, ms per s: clearly above 0 means the pipeline fell behind the input. */
  trendMsPerS: number;
  /** CPU of this process (producer and reader) and of the pipeline's, in cores, over the run. */
  driverCores: number;
  pipelineCores: number;
  commits: number;
  commitMeanMs: number;
  commitMaxMs: number;
  rssMb: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function measureLatency(log: Log, dataDir: string, state: 'memory' | 'lmdb', interval: Interval, o: LatencyOptions): Promise<LatencyResult> {
  const name = `latency-${state}-${interval}`;
  const input = `${name}.in`;
  const output = `${name}.out`;
  log.createTopic(input, { partitions: PARTITIONS });
  const worker = startWorker('./app-worker.ts', { name, dataDir, input, output, state, checkpointInterval: interval, emitEvery: o.emitEvery } satisfies AppCase);
  await worker.next('ready'); // the job created the output topic

  const t0 = Date.now() + 50;
  const from = t0 + o.warmupSeconds * 1000;
  const to = from + o.seconds * 1000;
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let reading = true;
  const readers = Array.from({ length: PARTITIONS }, async (_, p) => {
    let offset = 0;
    while (reading) {
      const { records, nextOffset } = log.read(output, p, offset, { isolation: 'read_committed', maxRecords: 10_000 });
      const now = Date.now();
      for (const r of records) {
        const { t } = JSON.parse(decoder.decode(r.value!)) as Output;
        if (t >= from && t < to) {
          latencies.push(now - t);
          sentAt.push(t);
        }
      }
      offset = nextOffset;
      if (records.length === 0) await log.waitForData(output, p, offset, 5, { isolation: 'read_committed' });
    }
  });

  const random = prng(3);
  let produced = 0;
  let inWindow = 0;
  await sleep(Math.max(0, t0 - Date.now()));
  const cpu0 = process.cpuUsage();
  for (let now = Date.now(); now < to; now = Date.now()) {
    const due = Math.floor(((now - t0) * o.rate) / 1000);
    if (due > produced) {
      const records = [];
      for (; produced < due; produced++) {
        const k = `u${Math.floor(random() * o.keys)}`;
        records.push({ key: encoder.encode(JSON.stringify(k)), value: encoder.encode(JSON.stringify({ k, v: produced % 1000, t: now })), timestamp: now });
      }
      if (now >= from) inWindow += records.length;
      await log.produce(input, records);
    }
    await sleep(1);
  }
  // Every input of the window must come out; give the pipeline time to catch up.
  for (const deadline = Date.now() + 30_000; latencies.length < inWindow && Date.now() < deadline; ) await sleep(20);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Date.now() - t0;
  worker.child.kill('SIGTERM');
  const done = await worker.next<{ commits: number; commitMeanMs: number; commitMaxMs: number; rssMb: number; cpuMs: number; readyAt: number; endedAt: number }>('done');
  reading = false;
  await Promise.all(readers);
  const sorted = Float64Array.from(latencies).sort();
  return {
    state,
    interval,
    achievedRate: inWindow / o.seconds,
    measured: sorted.length,
    missing: Math.max(0, inWindow - sorted.length),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: quantile(sorted, 1),
    trendMsPerS: slope(sentAt, latencies) * 1000,
    driverCores: (cpu.user + cpu.system) / 1000 / wallMs,
    pipelineCores: done.cpuMs / (done.endedAt - done.readyAt),
    commits: done.commits,
    commitMeanMs: done.commitMeanMs,
    commitMaxMs: done.commitMaxMs,
    rssMb: done.rssMb,
  };
}

/** Least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}
