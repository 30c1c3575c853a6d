/**
 * The planner: capacity figures from a running app's measured profile (runtime/profile.ts),
 * for `sluice plan APP` and the dashboard's planner panel. The model is deliberately simple,
 * every figure traceable to a measurement (docs/architecture.md, "The planner"):
 *
 *   c       = (busy − commit time) / input records  (measured cost per record: decode, operators, fetch, all but checkpoints)
 *   f       = commit time / wall time            (checkpoints: a share of a core per second, whatever the rate)
 *   μ₁      = (1 − f) / c                        (sustainable rate on one core)
 *   μ       = (P − f) / c                        (P = threads running the tasks, at most cores and partitions)
 *   ρ(λ)    = (λ · c + f) / P                    (utilization at input rate λ)
 *   L(λ)    = L₀ / (1 − ρ(λ))                    (processing latency: M/M/1 response time, L₀ = measured p50 · (1 − ρ₀))
 *   λ > μ   → the backlog grows by λ − μ records every second; latency grows without bound
 *   records per window = λ_op · window length;  state: per-key state stays with the keys, state
 *   that holds records (joins, patterns, collect) grows with λ / λ₀
 *
 * It assumes cost per record does not change with the rate. Measured (test/server/planner-model.test.ts),
 * a lightly loaded app, whose rounds carry small batches, costs less per record than one at full
 * load: a profile taken at light load over-predicts the sustainable rate, one taken under load
 * over-predicts the utilization at lower rates (the safe side). Parallel tasks are assumed to
 * scale linearly (an upper bound: exchanges between threads cost something).
 */
import type { PlanOperator, Profile } from '../runtime/index.ts';

/** The utilization the advice aims for: headroom for bursts and catch-up after a restart. */
export const TARGET_UTILIZATION = 0.7;

export interface PlanOptions {
  /** What-if input rate, records per second (default: the measured rate). */
  rate?: number;
}

export interface CostLine {
  /** An operator's name, or `(decode)`, `(commit)`, `(other)`: fetching, watermarks, exchanges. */
  name: string;
  kind: string;
  /** Microseconds per input record. */
  costUs: number;
  /** Share of the loop's working time. */
  share: number;
}

export interface WindowLine {
  operator: string;
  /** Window length, ms (sessions: the gap, a lower bound of a session's length). */
  lengthMs: number;
  /** Windows a key holds at once (their span with lateness over the slide). */
  openPerKey: number;
  /** Records that fall into one window (all keys) at the rate asked about. */
  recordsPerWindow: number;
  /** Keys in the operator's state, and its bytes now and predicted at the rate asked about. */
  keys: number;
  bytesPerKey: number | null;
  bytesPerWindow: number | null;
  bytesAtRate: number | null;
}

export interface Advice {
  change: string;
  /** The predicted effect, in words with the figures. */
  effect: string;
  /** Sustainable input rate after the change, records/s. */
  sustainableRate: number;
  /** Utilization at the rate asked about after the change. */
  utilization: number;
}

export interface PlanReport {
  job: string;
  status: 'ok' | 'near-capacity' | 'over-capacity' | 'no-input';
  measured: {
    sampleMs: number;
    rate: number;
    records: number;
    /** All the loop's work over the input records, µs. */
    costPerRecordUs: number | null;
    /** The part that grows with the records (all but checkpoints), µs: the model's c. */
    perRecordUs: number | null;
    /** Share of a core the checkpoints take, whatever the rate: the model's f. */
    checkpointShare: number;
    utilization: number;
    /** Mean over source partitions of the time records waited on the pipeline, over wall time. */
    backpressure: number;
    latencyP50Ms: number | null;
    lag: number;
  };
  capacity: {
    cores: number;
    partitions: number;
    parallelism: number;
    /** Most parallelism that can help: min(cores, input partitions). */
    maxParallelism: number;
    perCore: number | null;
    sustainable: number | null;
  };
  at: {
    rate: number;
    utilization: number | null;
    /** Processing latency at that rate, ms; null when over capacity or without a latency measurement. */
    latencyMs: number | null;
    /** Over capacity: records per second the backlog grows by. */
    fallingBehindBy: number;
    /** Exactly-once output is visible at the checkpoint: up to this much after processing, ms. */
    visibilityMs: number;
  };
  costs: CostLine[];
  windows: WindowLine[];
  advice: Advice[];
}

export function planCapacity(profile: Profile, options: PlanOptions = {}): PlanReport {
  const seconds = profile.sampleMs / 1000;
  const measuredRate = seconds > 0 ? profile.records / seconds : 0;
  const rate = options.rate ?? measuredRate;
  const partitions = inputPartitions(profile);
  const parallelism = Math.max(1, Math.min(profile.threads, profile.cores, partitions));
  const maxParallelism = Math.max(1, Math.min(profile.cores, partitions));
  const backpressure = profile.sources.length === 0 || profile.sampleMs <= 0 ? 0 : profile.sources.reduce((a, s) => a + s.waitedMs, 0) / profile.sources.length / profile.sampleMs;
  const utilization0 = profile.sampleMs > 0 ? profile.busyMs / profile.sampleMs / parallelism : 0;
  const visibilityMs = profile.guarantee === 'exactly-once' ? profile.checkpointIntervalMs + (profile.commits > 0 ? profile.commitMs / profile.commits : 0) : 0;
  const measured = { sampleMs: profile.sampleMs, rate: measuredRate, records: profile.records, utilization: utilization0, backpressure, latencyP50Ms: profile.processedP50Ms, lag: profile.lag };
  if (profile.records === 0) {
    return {
      job: profile.job,
      status: 'no-input',
      measured: { ...measured, costPerRecordUs: null, perRecordUs: null, checkpointShare: profile.sampleMs > 0 ? profile.commitMs / profile.sampleMs : 0 },
      capacity: { cores: profile.cores, partitions, parallelism, maxParallelism, perCore: null, sustainable: null },
      at: { rate, utilization: null, latencyMs: null, fallingBehindBy: 0, visibilityMs },
      costs: [],
      windows: windows(profile, rate, measuredRate),
      advice: [],
    };
  }
  const costUs = (profile.busyMs * 1000) / profile.records;
  const model = costModel(profile);
  const perCore = model.sustainable(1);
  const sustainable = model.sustainable(parallelism);
  const utilization = model.utilization(rate, parallelism);
  // Zero-load latency from the measured one; a sample at full load says little about it.
  const zeroLoad = profile.processedP50Ms === null ? null : profile.processedP50Ms * Math.max(0.05, 1 - Math.min(utilization0, 1));
  const latencyMs = zeroLoad === null || utilization >= 1 ? null : zeroLoad / (1 - utilization);
  const falling = backpressure >= 0.5 && options.rate === undefined;
  const status = utilization >= 1 || falling ? 'over-capacity' : utilization > TARGET_UTILIZATION ? 'near-capacity' : 'ok';
  const costs = costLines(profile, costUs);
  return {
    job: profile.job,
    status,
    measured: { ...measured, costPerRecordUs: costUs, perRecordUs: model.perRecordUs, checkpointShare: model.checkpointShare },
    capacity: { cores: profile.cores, partitions, parallelism, maxParallelism, perCore, sustainable },
    at: { rate, utilization, latencyMs, fallingBehindBy: Math.max(0, rate - sustainable), visibilityMs },
    costs,
    windows: windows(profile, rate, measuredRate),
    advice: status === 'ok' ? [] : advise(profile, { rate: Math.max(rate, measuredRate), model, perCore, parallelism, partitions, costs }),
  };
}

/** The model's two measured parameters and what follows from them (see the file's comment). */
interface CostModel {
  /** c: µs per input record, checkpoints left out. */
  perRecordUs: number;
  /** f: share of a core the checkpoints take. */
  checkpointShare: number;
  /** Input records per second `parallelism` cores sustain. */
  sustainable(parallelism: number): number;
  utilization(rate: number, parallelism: number): number;
}

function costModel(profile: Profile, perRecordUs = (Math.max(0, profile.busyMs - profile.commitMs) * 1000) / profile.records, checkpointShare = profile.commitMs / profile.sampleMs): CostModel {
  return {
    perRecordUs,
    checkpointShare,
    sustainable: (p) => (perRecordUs > 0 ? (Math.max(0, p - checkpointShare) * 1e6) / perRecordUs : Number.POSITIVE_INFINITY),
    utilization: (rate, p) => ((rate * perRecordUs) / 1e6 + checkpointShare) / p,
  };
}

/** Partitions of the app's input: the fewest over its source stages (each partition is one task). */
function inputPartitions(profile: Profile): number {
  const sources = profile.stages.filter((s) => s.topic !== undefined);
  return sources.length === 0 ? 1 : Math.min(...sources.map((s) => s.tasks));
}

function costLines(profile: Profile, costUs: number): CostLine[] {
  const perRecord = (ms: number) => (ms * 1000) / profile.records;
  const share = (ms: number) => (profile.busyMs > 0 ? ms / profile.busyMs : 0);
  const lines: CostLine[] = profile.operators.filter((op) => op.busyMs > 0).map((op) => ({ name: op.name, kind: op.kind, costUs: perRecord(op.busyMs), share: share(op.busyMs) }));
  // Sources decode inside their task's fused run, so decoding is mostly counted at its first operator.
  if (profile.decodeMs > 0) lines.push({ name: '(decode)', kind: 'source', costUs: perRecord(profile.decodeMs), share: share(profile.decodeMs) });
  lines.push({ name: '(commit)', kind: 'checkpoints (a share of time per second, not per record)', costUs: perRecord(profile.commitMs), share: share(profile.commitMs) });
  const counted = lines.reduce((a, l) => a + l.costUs, 0);
  lines.push({ name: '(other)', kind: 'fetch, watermarks, exchanges', costUs: Math.max(0, costUs - counted), share: Math.max(0, 1 - lines.reduce((a, l) => a + l.share, 0)) });
  return lines.sort((a, b) => b.costUs - a.costUs);
}

/** Operators whose state holds records (it grows with the rate), not one accumulator per key and window. */
function holdsRecords(op: PlanOperator): boolean {
  return op.kind === 'windowJoin' || op.kind === 'intervalJoin' || op.kind === 'pattern' || (op.kind === 'window' && / collect\b/.test(op.detail));
}

function windows(profile: Profile, rate: number, measuredRate: number): WindowLine[] {
  const out: WindowLine[] = [];
  const seconds = profile.sampleMs / 1000;
  const scale = measuredRate > 0 ? rate / measuredRate : 1;
  for (const stage of profile.stages) {
    for (const op of stage.ops) {
      if (op.window === undefined) continue;
      const shape = windowShape(op.window, op.latenessMs ?? 0);
      if (shape === undefined) continue;
      const cost = profile.operators.find((o) => o.stage === stage.id && o.index === op.index);
      const opRate = cost === undefined || seconds <= 0 ? 0 : (cost.in / seconds) * scale;
      const state = profile.state.find((s) => s.operator === op.name);
      const keys = state?.entries ?? 0;
      const bytes = state?.bytes ?? null;
      out.push({
        operator: op.name,
        lengthMs: shape.lengthMs,
        openPerKey: shape.openPerKey,
        recordsPerWindow: shape.records ?? (opRate * shape.lengthMs) / 1000,
        keys,
        bytesPerKey: bytes === null || keys === 0 ? null : bytes / keys,
        bytesPerWindow: bytes === null ? null : bytes / shape.openPerKey,
        bytesAtRate: bytes === null ? null : holdsRecords(op) ? bytes * scale : bytes,
      });
    }
  }
  return out;
}

/** A window's length, how many a key holds at once (kept `lateness` past their end), and for count windows their records. */
function windowShape(window: NonNullable<PlanOperator['window']>, latenessMs: number): { lengthMs: number; openPerKey: number; records?: number } | undefined {
  switch (window.kind) {
    case 'tumbling':
      return { lengthMs: window.sizeMs, openPerKey: Math.ceil((window.sizeMs + latenessMs) / window.sizeMs) };
    case 'hopping':
      return { lengthMs: window.sizeMs, openPerKey: Math.ceil((window.sizeMs + latenessMs) / window.slideMs) };
    case 'sliding':
      return { lengthMs: window.lookbackMs, openPerKey: 1 };
    case 'session':
      return { lengthMs: window.gapMs, openPerKey: 1 };
    case 'count-tumbling':
      return { lengthMs: 0, openPerKey: 1, records: window.size };
    case 'count-sliding':
      return { lengthMs: 0, openPerKey: Math.ceil(window.size / window.slide), records: window.size };
    case 'global':
      return undefined;
  }
}

interface AdviceInput {
  rate: number;
  model: CostModel;
  perCore: number;
  parallelism: number;
  partitions: number;
  costs: CostLine[];
}

/** What would bring utilization at `rate` under the target, each with its predicted effect. */
function advise(profile: Profile, a: AdviceInput): Advice[] {
  const out: Advice[] = [];
  const { model } = a;
  const needed = Math.ceil(model.utilization(a.rate, 1) / TARGET_UTILIZATION);
  const rounded = (n: number) => Math.round(n).toLocaleString('en-US');
  if (needed > a.parallelism) {
    const reachable = Math.min(needed, profile.cores, a.partitions);
    if (reachable > a.parallelism) {
      out.push({
        change: `parallelism ${reachable} (tasks on ${reachable} threads or processes; it is ${a.parallelism})`,
        effect: `sustainable ${rounded(model.sustainable(reachable))} records/s, utilization ${pct(model.utilization(a.rate, reachable))} at ${rounded(a.rate)} records/s`,
        sustainableRate: model.sustainable(reachable),
        utilization: model.utilization(a.rate, reachable),
      });
    }
    if (needed > a.partitions) {
      const parallel = Math.min(needed, profile.cores);
      out.push({
        change: `${needed} input partitions (there are ${a.partitions}; a partition is one task, so parallelism stops there)`,
        effect: `with parallelism ${parallel}: sustainable ${rounded(model.sustainable(parallel))} records/s, utilization ${pct(model.utilization(a.rate, parallel))}${needed > profile.cores ? `; ${needed} cores are needed, this machine has ${profile.cores}` : ''}`,
        sustainableRate: model.sustainable(parallel),
        utilization: model.utilization(a.rate, parallel),
      });
    } else if (needed > profile.cores) {
      out.push({
        change: `${needed} cores (this machine has ${profile.cores}): run the app on more machines (Kafka scale-out)`,
        effect: `sustainable ${rounded(model.sustainable(needed))} records/s at parallelism ${needed}`,
        sustainableRate: model.sustainable(needed),
        utilization: model.utilization(a.rate, needed),
      });
    }
  }
  const top = a.costs[0];
  if (top !== undefined && top.share > 0.05) {
    // Halving one part of the cost: the rest stays. Checkpoints are a share of time, the rest a cost per record.
    const halved = top.name === '(commit)' ? costModel(profile, model.perRecordUs, model.checkpointShare / 2) : costModel(profile, model.perRecordUs - top.costUs / 2, model.checkpointShare);
    const perCore = halved.sustainable(1);
    const what = top.name === '(commit)' ? 'checkpoint less often, or cheaper (lmdb state writes only what changed)' : top.name === '(decode)' ? 'decode less (a smaller record format, or fewer fields)' : top.name === '(other)' ? 'cut the per-round work (larger batches)' : `optimize operator '${top.name}' (${top.kind})`;
    out.push({
      change: `${what}: it takes ${pct(top.share)} of the time (${top.costUs.toFixed(2)} µs per record)`,
      effect: `halving it raises the sustainable rate per core from ${rounded(a.perCore)} to ${rounded(perCore)} records/s`,
      sustainableRate: halved.sustainable(a.parallelism),
      utilization: halved.utilization(a.rate, a.parallelism),
    });
  }
  return out;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The report as text, for `sluice plan`. */
export function formatPlan(r: PlanReport): string {
  const n = (x: number | null, digits = 0) => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
  const bytes = (b: number | null) => (b === null ? '-' : b < 1024 ? `${Math.round(b)} B` : b < 1 << 20 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / (1 << 20)).toFixed(1)} MiB`);
  const lines = [
    `${r.job}: ${r.status}`,
    `measured over ${n(r.measured.sampleMs / 1000, 1)} s: ${n(r.measured.rate)} records/s, ${n(r.measured.perRecordUs, 2)} µs per record and checkpoints ${pct(r.measured.checkpointShare)} of a core, utilization ${pct(r.measured.utilization)}, backpressure ${pct(r.measured.backpressure)}, processing p50 ${n(r.measured.latencyP50Ms, 1)} ms, lag ${n(r.measured.lag)} records`,
    `capacity: ${n(r.capacity.perCore)} records/s per core; ${n(r.capacity.sustainable)} records/s at parallelism ${r.capacity.parallelism} (${r.capacity.partitions} input partitions, ${r.capacity.cores} cores: up to parallelism ${r.capacity.maxParallelism})`,
    `at ${n(r.at.rate)} records/s: ${r.at.utilization === null ? 'no measurement' : `utilization ${pct(r.at.utilization)}, `}${r.at.fallingBehindBy > 0 ? `falling behind by ${n(r.at.fallingBehindBy)} records/s` : `processing latency ${r.at.latencyMs === null ? '-' : `${n(r.at.latencyMs, 1)} ms`}`}${r.at.visibilityMs > 0 ? `, output visible up to ${n(r.at.visibilityMs)} ms later (exactly-once checkpoint)` : ''}`,
  ];
  if (r.costs.length > 0) {
    lines.push('cost per record:');
    for (const c of r.costs) lines.push(`  ${c.name.padEnd(28)} ${c.costUs.toFixed(2).padStart(9)} µs  ${pct(c.share).padStart(4)}  ${c.kind}`);
  }
  if (r.windows.length > 0) {
    lines.push('windows:');
    for (const w of r.windows) lines.push(`  ${w.operator}: ${n(w.recordsPerWindow)} records per window, ${n(w.keys)} keys, ${bytes(w.bytesPerKey)} per key, ${bytes(w.bytesPerWindow)} per window (${w.openPerKey} open per key), state ${bytes(w.bytesAtRate)} at this rate`);
  }
  if (r.advice.length > 0) {
    lines.push('what helps:');
    for (const a of r.advice) lines.push(`  - ${a.change}\n    ${a.effect}`);
  }
  return `${lines.join('\n')}\n`;
}
