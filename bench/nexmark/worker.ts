/**
 * One query's measurements in a process of its own, so its peak memory is its own: generate
 * the input, warm both up, then alternate timed runs of Sluice and the hand-written loop
 * (checksums from the first of each), then the latency run. Prints one JSON line. With
 * parallelism N > 1, each round also runs Sluice on N threads, and its one-thread run uses
 * the same backend and partitions (the embedded log, N input partitions).
 * Run by main.ts: `node bench/nexmark/worker.ts '<options as JSON>'`.
 */
import { sameChecksum, type Checksum } from './checksum.ts';
import { type CodecMode, encodeInput } from './codecs.ts';
import { NexmarkGenerator } from './generator.ts';
import { type LatencyResult, measureLatency } from './latency.ts';
import { queryNamed } from './queries/index.ts';
import { type Input, type LogKind, runHandwritten, runSluice } from './run.ts';
import { median, peakRssMb } from './stats.ts';

export interface WorkerOptions {
  query: string;
  events: number;
  seed: number;
  mode: CodecMode;
  runs: number;
  /** Events/s of the latency run; 0 skips it. */
  rate: number;
  latencySeconds: number;
  commitMs: number;
  log: LogKind;
  parallelism: number;
}

/** Sluice on N worker threads, beside its one-thread run on the same log and partitions. */
export interface ParallelResult {
  parallelism: number;
  ms: number[];
  cpuMs: number[];
  checksum: Checksum;
}

export interface WorkerResult {
  query: string;
  events: number;
  mode: CodecMode;
  log: LogKind;
  sluiceMs: number[];
  handwrittenMs: number[];
  /** CPU milliseconds of the same runs. */
  sluiceCpuMs: number[];
  handwrittenCpuMs: number[];
  sluiceChecksum: Checksum;
  handwrittenChecksum: Checksum;
  match: boolean;
  inputRssMb: number;
  rssMb: number;
  latency: LatencyResult | null;
  parallel: ParallelResult | null;
}

const LATENCY_SPEEDUP = 20;

const options = JSON.parse(process.argv[2]) as WorkerOptions;
const query = queryNamed(options.query);
const events = new NexmarkGenerator({ seed: options.seed }).events(options.events);
const input: Input = { mode: options.mode, events, values: encodeInput(options.mode, events) };
const inputRssMb = peakRssMb();

// Warm-up on a slice, so neither side pays for compiling alone.
const warm: Input = { mode: input.mode, events: events.slice(0, 50_000), values: input.values.slice(0, 50_000) };
runHandwritten(query, warm);
const { parallelism } = options;
// One thread reads the same partitions as the threads do, so the ratio is about threads alone.
const onOne = parallelism > 1 ? { log: options.log, partitions: parallelism } : { log: options.log };
const onThreads = { log: options.log, partitions: parallelism, parallelism };
await runSluice(query, warm, onOne);
if (parallelism > 1) await runSluice(query, warm, onThreads);

const sluiceMs: number[] = [];
const handwrittenMs: number[] = [];
const sluiceCpuMs: number[] = [];
const handwrittenCpuMs: number[] = [];
let sluiceChecksum: Checksum | undefined;
let handwrittenChecksum: Checksum | undefined;
const parallelMs: number[] = [];
const parallelCpuMs: number[] = [];
let parallelChecksum: Checksum | undefined;
let rssMb = 0;
for (let r = 0; r < options.runs; r++) {
  const s = await runSluice(query, input, onOne);
  sluiceMs.push(s.ms);
  sluiceCpuMs.push(s.cpuMs);
  sluiceChecksum ??= s.checksum;
  // Peak so far: the input plus one full Sluice run (the hand-written loop has only warmed up).
  if (r === 0) rssMb = peakRssMb();
  const h = runHandwritten(query, input);
  handwrittenMs.push(h.ms);
  handwrittenCpuMs.push(h.cpuMs);
  handwrittenChecksum ??= h.checksum;
  if (parallelism > 1) {
    const p = await runSluice(query, input, onThreads);
    parallelMs.push(p.ms);
    parallelCpuMs.push(p.cpuMs);
    parallelChecksum ??= p.checksum;
  }
}

// Below saturation: at most half of the measured Sluice rate.
let latency: LatencyResult | null = null;
if (options.rate > 0) {
  const sluiceEps = (options.events / median(sluiceMs)) * 1000;
  const rate = Math.max(1000, Math.min(options.rate, Math.floor(sluiceEps / 2 / 1000) * 1000));
  const count = Math.floor(rate * options.latencySeconds);
  // Event time runs LATENCY_SPEEDUP times faster than the wall clock here, so windows close
  // often enough in a few seconds to give windowed queries a distribution, not one sample.
  const fast = new NexmarkGenerator({ seed: options.seed, tps: rate / LATENCY_SPEEDUP }).events(count);
  const fastInput: Input = { mode: options.mode, events: fast, values: encodeInput(options.mode, fast) };
  latency = await measureLatency(query, fastInput, { rate, events: count, commitMs: options.commitMs });
}

const result: WorkerResult = {
  query: query.name,
  events: options.events,
  mode: options.mode,
  log: options.log,
  sluiceMs,
  handwrittenMs,
  sluiceCpuMs,
  handwrittenCpuMs,
  sluiceChecksum: sluiceChecksum!,
  handwrittenChecksum: handwrittenChecksum!,
  match: sameChecksum(sluiceChecksum!, handwrittenChecksum!) && (parallelChecksum === undefined || sameChecksum(parallelChecksum, handwrittenChecksum!)),
  inputRssMb,
  rssMb,
  latency,
  parallel: parallelChecksum === undefined ? null : { parallelism, ms: parallelMs, cpuMs: parallelCpuMs, checksum: parallelChecksum },
};
console.log(JSON.stringify(result));
