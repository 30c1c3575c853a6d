/**
 * The collector: subscribes to the runtime's diagnostics channels, feeds the Prometheus
 * metrics, and keeps what the dashboard shows: each job's plan, a one-second time series
 * (throughput, latency percentiles, watermarks, lag), recent commits and recent results, what
 * its push sources did (accepted, refused, dropped, shed, buffered), and the last seconds of
 * progress the planner reads (runtime/profile.ts, server/planner.ts).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type PushSourceEvent, pushSourceChannel } from '../api/index.ts';
import {
  type AppEvent,
  type CommitEvent,
  type JobEvent,
  type JobStartEvent,
  type RoundEvent,
  appChannel,
  commitChannel,
  jobChannel,
  loopThreads,
  type Profile,
  ProfileWindow,
  roundChannel,
} from '../runtime/index.ts';
import { health, type Health } from './health.ts';
import { type PlanReport, planCapacity } from './planner.ts';
import { PrometheusMetrics } from './prometheus.ts';
import { ResultTail, type TopicResults } from './results.ts';
import { percentiles, type SeriesPoint } from './series.ts';

/** Seconds of history the dashboard's charts hold. */
export const HISTORY_SECONDS = 300;
/** The planner measures over the last this many milliseconds of progress. */
export const PROFILE_WINDOW_MS = 10_000;

export interface JobView {
  name: string;
  running: boolean;
  startedAt: number;
  plan: JobStartEvent;
  last: RoundEvent | undefined;
  series: SeriesPoint[];
  commits: { time: number; durationMs: number; ok: boolean; written: number; error?: string }[];
  lastSuccess: number | null;
  lag: CommitEvent['lag'];
  results: TopicResults[];
  health: Health;
  /** The planner's figures at the measured rate (null before two progress events). */
  planner: PlanReport | null;
  /** The job's push sources (HTTP, MQTT): the last counts each reported. */
  pushSources: PushSourceEvent[];
}

interface JobState {
  start: JobStartEvent;
  running: boolean;
  last: RoundEvent | undefined;
  /** The round event at the previous tick, for per-second differences. */
  tickBase: RoundEvent | undefined;
  series: SeriesPoint[];
  committedSamples: number[];
  processedSamples: number[];
  commits: JobView['commits'];
  lastSuccess: number | null;
  lag: CommitEvent['lag'];
  results: ResultTail;
  /** The last `PROFILE_WINDOW_MS` of round events (and one before, the base), and the commits among them. */
  recentRounds: RoundEvent[];
  recentCommits: Pick<CommitEvent, 'job' | 'time' | 'heldMs' | 'ok' | 'lag'>[];
  pushSources: Map<string, PushSourceEvent>;
}

export class Collector {
  readonly prometheus: PrometheusMetrics;
  /** Apps constructed since the collector subscribed (their plans exist once their streams are declared). */
  readonly #apps: AppEvent[] = [];
  readonly #jobs = new Map<string, JobState>();
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly #handlers: [string, (message: unknown) => void][];

  constructor(options: { clock?: () => number; tickMs?: number } = {}) {
    this.#clock = options.clock ?? Date.now;
    this.prometheus = new PrometheusMetrics(this.#clock);
    this.#handlers = [
      [appChannel.name as string, guard((m) => this.#app(m as AppEvent))],
      [jobChannel.name as string, guard((m) => this.#job(m as JobEvent))],
      [roundChannel.name as string, guard((m) => this.#round(m as RoundEvent))],
      [commitChannel.name as string, guard((m) => this.#commit(m as CommitEvent))],
      [pushSourceChannel.name as string, guard((m) => this.#pushSource(m as PushSourceEvent))],
    ];
    for (const [name, handler] of this.#handlers) subscribe(name, handler);
    this.#timer = setInterval(() => this.tick(), options.tickMs ?? 1000);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    for (const [name, handler] of this.#handlers) unsubscribe(name, handler);
  }

  jobNames(): string[] {
    return [...this.#jobs.keys()];
  }

  /** What the dashboard shows of every job. */
  snapshot(): { time: number; jobs: JobView[] } {
    const now = this.#clock();
    const jobs = [...this.#jobs.values()].map((s): JobView => ({
      name: s.start.job,
      running: s.running,
      startedAt: s.start.time,
      plan: s.start,
      last: s.last,
      series: s.series,
      commits: s.commits,
      lastSuccess: s.lastSuccess,
      lag: s.lag,
      results: s.results.view(),
      health: health(s.start, s.series, s.last, now),
      planner: plannerReport(s),
      pushSources: [...s.pushSources.values()],
    }));
    return { time: now, jobs };
  }

  /** The measured profile of a job over the last seconds, or undefined (no such job, or no progress yet). */
  profile(job: string): Profile | undefined {
    const s = this.#jobs.get(job);
    return s === undefined ? undefined : profileOf(s);
  }

  /** Closes one second of history for every running job (also called by tests). */
  tick(): void {
    const now = this.#clock();
    for (const s of this.#jobs.values()) {
      if (!s.running && s.tickBase === s.last) continue;
      const point = seriesPoint(now, s, s.tickBase, s.last);
      s.series.push(point);
      if (s.series.length > HISTORY_SECONDS) s.series.shift();
      s.tickBase = s.last;
      s.committedSamples = [];
      s.processedSamples = [];
    }
  }

  #app(e: AppEvent): void {
    this.#apps.push(e);
  }

  /** The app of that name announced last (a module may build an app again under the same name). */
  /** Every app announced in this process, in creation order. */
  appEvents(): readonly AppEvent[] {
    return this.#apps;
  }

  app(name: string): AppEvent | undefined {
    return this.#apps.findLast((a) => a.name === name);
  }

  /** The apps seen, with their plans as text (or why there is none yet). */
  apps(): { name: string; dataDir: string; explain: string }[] {
    return this.#apps.map((a) => {
      let explain: string;
      try {
        explain = a.explain();
      } catch (error) {
        explain = error instanceof Error ? error.message : String(error);
      }
      return { name: a.name, dataDir: a.dataDir, explain };
    });
  }

  #job(e: JobEvent): void {
    if (e.type === 'stop') {
      const s = this.#jobs.get(e.job);
      if (s) s.running = false;
      return;
    }
    this.prometheus.reset(e.job);
    const previous = this.#jobs.get(e.job);
    this.#jobs.set(e.job, {
      start: e,
      running: true,
      last: undefined,
      tickBase: undefined,
      series: previous?.series ?? [],
      committedSamples: [],
      processedSamples: [],
      commits: [],
      lastSuccess: null,
      lag: [],
      results: previous?.results ?? new ResultTail(),
      recentRounds: [],
      recentCommits: [],
      pushSources: new Map(),
    });
  }

  #round(e: RoundEvent): void {
    this.prometheus.round(e);
    const s = this.#jobs.get(e.job);
    if (s === undefined) return;
    s.last = e;
    for (const ms of e.processedLatencyMs) s.processedSamples.push(ms);
    s.recentRounds.push(e);
    // Keep one event older than the window: the base the window's differences start from.
    while (s.recentRounds.length > 2 && s.recentRounds[1].time < e.time - PROFILE_WINDOW_MS) s.recentRounds.shift();
  }

  #pushSource(e: PushSourceEvent): void {
    this.prometheus.pushSource(e);
    this.#jobs.get(e.app)?.pushSources.set(e.source, e);
  }

  #commit(e: CommitEvent): void {
    this.prometheus.commit(e);
    const s = this.#jobs.get(e.job);
    if (s === undefined) return;
    let written = 0;
    for (const n of Object.values(e.written)) written += n;
    s.commits.push({ time: e.time, durationMs: e.durationMs, ok: e.ok, written, ...(e.error === undefined ? {} : { error: e.error }) });
    s.recentCommits.push({ job: e.job, time: e.time, heldMs: e.heldMs, ok: e.ok, lag: e.lag });
    const since = s.recentRounds[0]?.time ?? e.time;
    while (s.recentCommits.length > 0 && s.recentCommits[0].time < since) s.recentCommits.shift();
    if (s.commits.length > 50) s.commits.shift();
    if (!e.ok) return;
    s.lastSuccess = e.time;
    s.lag = e.lag;
    for (const ms of e.committedLatencyMs) s.committedSamples.push(ms);
    s.results.add(e.output);
  }
}

function profileOf(s: JobState): Profile | undefined {
  const window = new ProfileWindow(s.start.job, s.start.stages, { guarantee: s.start.guarantee, checkpointIntervalMs: s.start.checkpointIntervalMs });
  for (const e of s.recentRounds) window.round(e);
  const first = s.recentRounds[0]?.time ?? Number.POSITIVE_INFINITY;
  for (const c of s.recentCommits) if (c.time > first) window.commit(c);
  return window.profile();
}

function plannerReport(s: JobState): PlanReport | null {
  const profile = profileOf(s);
  return profile === undefined ? null : planCapacity(profile);
}

/** A subscriber runs inside the job's call: a bug here must never stop the pipeline. */
function guard(handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch (error) {
      process.emitWarning(`sluice metrics collector: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

function seriesPoint(now: number, s: JobState, base: RoundEvent | undefined, last: RoundEvent | undefined): SeriesPoint {
  const seconds = base && last ? Math.max(0.001, (last.time - base.time) / 1000) : 1;
  const sum = (e: RoundEvent | undefined, f: (e: RoundEvent) => number): number => (e === undefined ? 0 : f(e));
  const inTotal = (e: RoundEvent) => e.sources.reduce((a, x) => a + x.read, 0);
  const watermarks: SeriesPoint['watermarks'] = {};
  for (const src of last?.sources ?? []) watermarks[`${src.topic}/${src.partition}`] = Number.isFinite(src.watermark) ? src.watermark : null;
  const operators: SeriesPoint['operators'] = {};
  const busy: SeriesPoint['busy'] = {};
  const partialMatches: Record<string, number> = {};
  for (const op of last?.operators ?? []) {
    const before = base?.operators.find((o) => o.stage === op.stage && o.index === op.index);
    operators[`${op.stage}.${op.index}`] = base === last ? 0 : (op.in - (before?.in ?? 0)) / seconds;
    busy[`${op.stage}.${op.index}`] = base === last ? 0 : (op.busyMs - (before?.busyMs ?? 0)) / 1000 / seconds;
    if (op.partialMatches !== undefined) partialMatches[`${op.stage}.${op.index}`] = op.partialMatches;
  }
  const committed = percentiles(s.committedSamples);
  const processed = percentiles(s.processedSamples);
  const threads = threadLoads(base, last);
  return {
    time: now,
    inPerSec: base === last ? 0 : (sum(last, inTotal) - sum(base, inTotal)) / seconds,
    outPerSec: base === last ? 0 : (sum(last, (e) => e.written) - sum(base, (e) => e.written)) / seconds,
    p50: committed[0],
    p99: committed[1],
    processedP50: processed[0],
    processedP99: processed[1],
    lag: s.lag.reduce((a, l) => a + l.records, 0),
    late: sum(last, (e) => e.lateRecords),
    deadLetters: sum(last, (e) => e.deadLetters),
    watermarks,
    operators,
    busy,
    threads,
    ...(Object.keys(partialMatches).length > 0 ? { partialMatches } : {}),
  };
}

/** Each thread's busy share between two progress events: its work time over its wall time (a run on one thread is one thread). */
function threadLoads(base: RoundEvent | undefined, last: RoundEvent | undefined): number[] {
  if (last === undefined) return [];
  const loops = (e: RoundEvent | undefined) => (e === undefined ? [] : loopThreads(e.loop));
  // No progress event in this second: like the other rates, nothing measured is 0.
  if (base === last) return loops(last).map(() => 0);
  const before = loops(base);
  return loops(last).map((t, i) => {
    const wall = t.wallMs - (before[i]?.wallMs ?? 0);
    return wall <= 0 ? 0 : Math.min(1, Math.max(0, (t.busyMs - (before[i]?.busyMs ?? 0)) / wall));
  });
}
