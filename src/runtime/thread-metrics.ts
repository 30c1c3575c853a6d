/**
 * Metrics of a run on several threads, seen from the main thread as one job's. Diagnostics
 * channels are per thread: each worker's job publishes its own start, round and commit events,
 * which nobody on the main thread (the dashboard's collector, Prometheus, `sluice plan`) would see.
 * So a worker forwards them to the main thread over its port while the main thread asks for
 * them, and the main thread publishes them on its own channels merged into one job: a round
 * event adds up every thread's latest counters (the threads run disjoint tasks), and carries
 * each thread's loop time, so the planner counts every thread's work and the dashboard shows
 * each thread's load.
 *
 * Messages: worker → main `{ type: 'metrics', channel, event }`; main → worker
 * `{ type: 'metrics-on' | 'metrics-off' }`. A worker keeps its job's last start event and sends
 * it when asked, so a later listener (a `sluice plan` request) still learns the job's plan.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { MessagePort } from 'node:worker_threads';
import { type CommitEvent, commitChannel, type JobEvent, type JobStartEvent, jobChannel, type OperatorProgress, type OperatorState, type RoundEvent, roundChannel, type StageWatermark } from './metrics-events.ts';

export type MetricsMessage = { type: 'metrics'; channel: 'job'; event: JobEvent } | { type: 'metrics'; channel: 'round'; event: RoundEvent } | { type: 'metrics'; channel: 'commit'; event: CommitEvent };
export type MetricsSwitch = { type: 'metrics-on' } | { type: 'metrics-off' };

/** Worker side: forwards this thread's job events to the main thread while it asks for them. */
export function forwardMetrics(port: MessagePort, on: boolean): () => void {
  let start: JobStartEvent | undefined;
  let forwarding = false;
  const post = (message: MetricsMessage) => port.postMessage(message);
  const onJob = (m: unknown) => {
    const event = m as JobEvent;
    if (event.type === 'start') start = event;
    if (forwarding) post({ type: 'metrics', channel: 'job', event });
  };
  const onRound = (m: unknown) => post({ type: 'metrics', channel: 'round', event: m as RoundEvent });
  const onCommit = (m: unknown) => post({ type: 'metrics', channel: 'commit', event: m as CommitEvent });
  const begin = () => {
    if (forwarding) return;
    forwarding = true;
    if (start !== undefined) post({ type: 'metrics', channel: 'job', event: start });
    subscribe(roundChannel.name as string, onRound);
    subscribe(commitChannel.name as string, onCommit);
  };
  const end = () => {
    if (!forwarding) return;
    forwarding = false;
    unsubscribe(roundChannel.name as string, onRound);
    unsubscribe(commitChannel.name as string, onCommit);
  };
  const onMessage = (message: MetricsSwitch | { type: string }) => {
    if (message.type === 'metrics-on') begin();
    else if (message.type === 'metrics-off') end();
  };
  subscribe(jobChannel.name as string, onJob);
  port.on('message', onMessage);
  if (on) begin();
  return () => {
    end();
    unsubscribe(jobChannel.name as string, onJob);
    port.off('message', onMessage);
  };
}

/** Main side: the threads' events, published on this thread's channels as one job's. */
export class ThreadMetrics {
  readonly #threads: number;
  readonly #starts = new Map<number, JobStartEvent>();
  readonly #rounds = new Map<number, RoundEvent>();
  readonly #lags = new Map<number, CommitEvent['lag']>();
  readonly #stopped = new Set<number>();
  #start: JobStartEvent | undefined;
  #started: (start: JobStartEvent) => void = () => {};
  /** The job's merged start event, once every thread sent its own. */
  readonly started = new Promise<JobStartEvent>((resolve) => (this.#started = resolve));
  #error: string | undefined;

  constructor(threads: number) {
    this.#threads = threads;
  }

  /** Whether anyone on this thread listens (the threads are asked to forward only then). */
  static wanted(): boolean {
    return jobChannel.hasSubscribers || roundChannel.hasSubscribers || commitChannel.hasSubscribers;
  }

  receive(thread: number, message: MetricsMessage): void {
    if (message.channel === 'job') this.#job(thread, message.event);
    else if (message.channel === 'round') this.#round(thread, message.event);
    else this.#commit(thread, message.event);
  }

  #job(thread: number, event: JobEvent): void {
    if (event.type === 'start') {
      this.#starts.set(thread, event);
      // One start for the job, once every thread has started.
      if (this.#start === undefined && this.#starts.size === this.#threads) {
        this.#start = mergedStart([...this.#starts.values()]);
        jobChannel.publish(this.#start);
        this.#started(this.#start);
        // A thread that went idle before the others started may send no more rounds: its progress so far.
        const last = [...this.#rounds.values()].sort((a, b) => b.time - a.time)[0];
        if (last !== undefined) this.#publishRound({ ...last, processedLatencyMs: [] });
      }
      return;
    }
    this.#stopped.add(thread);
    this.#error ??= event.error;
    if (this.#start !== undefined && this.#stopped.size === this.#threads) jobChannel.publish({ type: 'stop', job: event.job, time: event.time, ...(this.#error === undefined ? {} : { error: this.#error }) });
  }

  #round(thread: number, event: RoundEvent): void {
    this.#rounds.set(thread, event);
    if (this.#start !== undefined) this.#publishRound(event);
  }

  #publishRound(latest: RoundEvent): void {
    roundChannel.publish(mergedRound(latest, [...this.#rounds.entries()].sort(([a], [b]) => a - b), this.#threads));
  }

  #commit(thread: number, event: CommitEvent): void {
    if (event.ok) this.#lags.set(thread, event.lag);
    if (this.#start !== undefined) commitChannel.publish({ ...event, lag: [...this.#lags.values()].flat() });
  }
}

/** Every thread holds the whole plan (its stages list all tasks; it runs those assigned to it). */
function mergedStart(starts: JobStartEvent[]): JobStartEvent {
  return { ...starts[0]!, time: Math.min(...starts.map((s) => s.time)) };
}

/** Every thread's latest counters added up, `latest` the event that just came (its latency samples are new). */
function mergedRound(latest: RoundEvent, rounds: [number, RoundEvent][], threads: number): RoundEvent {
  const events = rounds.map(([, e]) => e);
  const operators = new Map<string, OperatorProgress>();
  for (const op of events.flatMap((e) => e.operators)) {
    const id = `${op.stage}|${op.index}`;
    const seen = operators.get(id);
    if (seen === undefined) operators.set(id, { ...op });
    else {
      seen.in += op.in;
      seen.out += op.out;
      seen.busyMs += op.busyMs;
      if (op.partialMatches !== undefined) seen.partialMatches = (seen.partialMatches ?? 0) + op.partialMatches;
      if (op.bufferedEvents !== undefined) seen.bufferedEvents = (seen.bufferedEvents ?? 0) + op.bufferedEvents;
    }
  }
  // Every thread lists every task; those it does not run stay at zero (and -Infinity): per partition, the one that moved is its owner's.
  const sources = new Map<string, RoundEvent['sources'][number]>();
  for (const src of events.flatMap((e) => e.sources)) {
    const id = `${src.topic}|${src.partition}`;
    const seen = sources.get(id);
    if (seen === undefined || src.read > seen.read) sources.set(id, src);
  }
  const stages = new Map<number, StageWatermark>();
  for (const st of events.flatMap((e) => e.stages)) {
    const seen = stages.get(st.stage);
    if (seen === undefined) stages.set(st.stage, { ...st, inputs: [...st.inputs] });
    else {
      seen.watermark = Math.min(seen.watermark, st.watermark);
      for (const input of st.inputs) {
        const i = seen.inputs.findIndex((s) => s.stage === input.stage && s.partition === input.partition);
        if (i < 0) seen.inputs.push(input);
        else if (input.watermark > seen.inputs[i]!.watermark) seen.inputs[i] = input;
      }
    }
  }
  const state = new Map<string, OperatorState>();
  for (const st of events.flatMap((e) => e.state)) {
    const seen = state.get(st.operator);
    if (seen === undefined) state.set(st.operator, { ...st });
    else {
      seen.entries += st.entries;
      seen.bytes += st.bytes;
    }
  }
  const sum = (f: (e: RoundEvent) => number) => events.reduce((a, e) => a + f(e), 0);
  const perThread = Array.from({ length: threads }, (_, i) => {
    const e = rounds.find(([t]) => t === i)?.[1];
    return { busyMs: e?.loop.busyMs ?? 0, wallMs: e?.loop.wallMs ?? 0 };
  });
  return {
    job: latest.job,
    time: latest.time,
    sources: [...sources.values()],
    operators: [...operators.values()],
    stages: [...stages.values()].sort((a, b) => a.stage - b.stage),
    lateRecords: sum((e) => e.lateRecords),
    deadLetters: sum((e) => e.deadLetters),
    written: sum((e) => e.written),
    loop: { wallMs: Math.max(...events.map((e) => e.loop.wallMs)), idleMs: sum((e) => e.loop.idleMs), busyMs: sum((e) => e.loop.busyMs), rounds: sum((e) => e.loop.rounds), threads: perThread },
    state: [...state.values()],
    processedLatencyMs: latest.processedLatencyMs,
  };
}
