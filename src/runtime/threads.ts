/**
 * Parallelism on one machine: an app's tasks spread over worker threads, each thread a member of
 * the app's group running the tasks it is given, as processes do on Kafka (group-job.ts). Records
 * cross between threads through the same repartition topics, so a checkpoint is per thread: each
 * commits its tasks' output, state and offsets in one log transaction of its own (Kafka Streams'
 * model), and exactly-once holds per task.
 *
 * The main thread (`runOnThreads`) starts one worker per thread on the module that builds the app
 * (`src/thread-boot.mjs`, then `src/thread-entry.ts`, imports it again there), gives each a MessagePort, and on the embedded log is
 * the group's coordinator: once every thread joined, task t goes to thread t % threads. The group
 * has one generation: a thread that fails ends the run (the others are stopped after their
 * commit), and the next run restores every task from its last checkpoint. On Kafka each thread
 * joins the Kafka group itself, as a process would.
 *
 * Messages (structured clone): thread → main `join {tasks, producer}`, `done {summary}`,
 * `failed {error}`, `profile {request, sampleMs}` (thread 1 passes on `sluice plan`), and the
 * metrics thread-metrics.ts forwards; main → thread `assigned {generation}`, `stop`,
 * `profile-done {request, profile}`, `metrics-on`, `metrics-off`.
 */
import { isMainThread, type MessagePort, MessageChannel, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import { ERROR_CODES, type ErrorCode, SluiceError } from '../core/index.ts';
import type { GroupPort } from './group-job.ts';
import type { RunSummary } from './job.ts';
import type { Profiler } from './metrics.ts';
import { type Profile, sampleProfile } from './profile.ts';
import { type MetricsMessage, type MetricsSwitch, ThreadMetrics } from './thread-metrics.ts';

type Generation = Awaited<ReturnType<GroupPort['join']>>;

type ToMain =
  | { type: 'join'; tasks: number; producer: string }
  | { type: 'leave' }
  | { type: 'done'; summary: RunSummary }
  | { type: 'failed'; error: { code?: string; message: string } }
  | { type: 'profile'; request: number; sampleMs: number }
  | MetricsMessage;
type ToThread = { type: 'assigned'; generation: Generation } | { type: 'stop' } | { type: 'profile-done'; request: number; profile: Profile | undefined } | MetricsSwitch;

/** What a worker thread of an app knows about its place (absent on the main thread). */
export interface ThreadMember {
  readonly app: string;
  readonly index: number;
  readonly threads: number;
  readonly port: MessagePort;
  /** Whether the main thread listens to metrics from the start (its dashboard or Prometheus). */
  readonly metrics: boolean;
}

interface ThreadData {
  sluiceThread?: { app: string; index: number; threads: number; port: MessagePort; entry: string; plainImport: boolean; runOptions: object; metrics: boolean };
}

/** This thread's membership of app `name`'s run, when the thread was started by `runOnThreads` for it. */
export function threadMember(app: string): ThreadMember | undefined {
  if (isMainThread) return undefined;
  const data = (workerData as ThreadData | null)?.sluiceThread;
  return data?.app === app ? data : undefined;
}

/** The module a worker thread imports (the one that builds the app), how, and the launcher's run options, given by the main thread. */
export function threadEntry(): { entry: string; plainImport: boolean; runOptions: object } | undefined {
  const data = isMainThread ? undefined : (workerData as ThreadData | null)?.sluiceThread;
  return data === undefined ? undefined : { entry: data.entry, plainImport: data.plainImport, runOptions: data.runOptions };
}

/** The group as a worker thread sees it: the main thread assigns its tasks once. */
export class ThreadGroupPort implements GroupPort {
  readonly label: string;
  readonly #member: ThreadMember;
  readonly #tasks: number;
  readonly #producer: string;

  constructor(member: ThreadMember, tasks: number, producer: string) {
    this.#member = member;
    this.#tasks = tasks;
    this.#producer = producer;
    this.label = `thread ${member.index + 1} of ${member.threads}`;
  }

  join(): Promise<Generation> {
    const tasks = this.#tasks;
    const producer = this.#producer;
    return new Promise((resolve) => {
      const onMessage = (message: ToThread) => {
        if (message.type !== 'assigned') return;
        this.#member.port.off('message', onMessage);
        resolve(message.generation);
      };
      this.#member.port.on('message', onMessage);
      this.#send({ type: 'join', tasks, producer });
    });
  }

  /** One generation per run: the assignment never changes while it runs. */
  onChange(): void {}

  async leave(): Promise<void> {
    this.#send({ type: 'leave' });
  }

  #send(message: ToMain): void {
    this.#member.port.postMessage(message);
  }
}

/**
 * Who answers a profile request (`sluice plan`) in a worker thread: the first thread asks the
 * main thread, which measures every thread's merged metrics; the others leave it to the first.
 */
export function threadProfiler(member: ThreadMember): Profiler | null {
  if (member.index !== 0) return null;
  let next = 0;
  return (sampleMs) =>
    new Promise((resolve) => {
      const request = next++;
      const onMessage = (message: ToThread) => {
        if (message.type !== 'profile-done' || message.request !== request) return;
        member.port.off('message', onMessage);
        resolve(message.profile);
      };
      member.port.on('message', onMessage);
      member.port.postMessage({ type: 'profile', request, sampleMs } satisfies ToMain);
    });
}

/** Tells the main thread how this thread's run ended, and calls `stop` when the main thread asks. */
export function reportToMain(member: ThreadMember, stop: () => void): { done(summary: RunSummary): void; failed(error: unknown): void } {
  const onMessage = (message: ToThread) => {
    if (message.type === 'stop') stop();
  };
  member.port.on('message', onMessage);
  const send = (message: ToMain) => {
    member.port.off('message', onMessage);
    member.port.postMessage(message);
    // Let the thread end once its work is done: an open port would keep it alive.
    member.port.unref();
  };
  return {
    done: (summary) => send({ type: 'done', summary }),
    failed: (error) => send({ type: 'failed', error: { message: error instanceof Error ? error.message : String(error), ...(error instanceof SluiceError ? { code: error.code } : {}) } }),
  };
}

export interface ThreadsOptions {
  app: string;
  threads: number;
  /** The module that builds the app and runs it (the pipeline file). */
  entry: string;
  /**
   * The threads import `entry` as Node loads it (a worker inherits the main thread's Node flags),
   * rather than through `sluice run`'s loader (tsx, which transforms every module again in each
   * thread: seconds of start-up). True when the main thread loaded the entry itself (`node FILE`).
   */
  plainImport: boolean;
  /** On the embedded log the main thread assigns tasks; on Kafka the threads join Kafka's group. */
  coordinate: boolean;
  /** The launcher's run options (`sluice run --kafka`, say), for the threads' launcher. */
  runOptions: object;
}

export interface ThreadsRun {
  /** Asks every thread to stop after a final checkpoint. */
  stop(): void;
  /** Resolves with the threads' summaries added up; rejects with the first thread's failure. */
  readonly done: Promise<RunSummary>;
}

// At the package root: it loads the pipeline module as `sluice run` does (cli/pipeline-loader.ts).
const THREAD_ENTRY = new URL('../thread-boot.mjs', import.meta.url);

/** Starts `threads` worker threads running app `app` from `entry`, each with its share of the tasks. */
export function runOnThreads(options: ThreadsOptions): ThreadsRun {
  const { app, threads, entry } = options;
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  const joined = new Map<number, { tasks: number; producer: string }>();
  const total: RunSummary = { records: 0, deadLetters: 0, late: 0, written: 0 };
  const metrics = new ThreadMetrics(threads);
  const forwarding = new MetricsDemand(ports, ThreadMetrics.wanted());
  let stopped = false;
  let failure: SluiceError | undefined;
  let finished = 0;
  const done = new Promise<RunSummary>((resolve, reject) => {
    const settle = () => {
      if (finished < threads) return;
      if (failure !== undefined) reject(failure);
      else resolve(total);
    };
    const stopAll = () => {
      for (const port of ports) port.postMessage({ type: 'stop' } satisfies ToThread);
    };
    for (let index = 0; index < threads; index++) {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1);
      let reported = false;
      const onMessage = (message: ToMain) => {
        switch (message.type) {
          case 'join':
            joined.set(index, { tasks: message.tasks, producer: message.producer });
            if (options.coordinate && joined.size === threads) assign(ports, joined);
            break;
          case 'done':
            reported = true;
            total.records += message.summary.records;
            total.deadLetters += message.summary.deadLetters;
            total.late += message.summary.late;
            total.written += message.summary.written;
            break;
          case 'failed':
            reported = true;
            failure ??= new SluiceError(codeOf(message.error.code), `app '${app}' thread ${index + 1} of ${threads}: ${message.error.message}`);
            // The others stop after their next commit: what they did is kept, the failed thread's tasks resume from their checkpoint.
            stopAll();
            break;
          case 'metrics':
            metrics.receive(index, message);
            break;
          case 'profile':
            void measureThreads(app, metrics, forwarding, message.sampleMs).then((profile) => port1.postMessage({ type: 'profile-done', request: message.request, profile } satisfies ToThread));
            break;
          case 'leave':
            break;
        }
      };
      port1.on('message', onMessage);
      const worker = new Worker(THREAD_ENTRY, {
        workerData: { sluiceThread: { app, index, threads, port: port2, entry, plainImport: options.plainImport, runOptions: options.runOptions, metrics: forwarding.always } } satisfies ThreadData,
        transferList: [port2],
        // The module reads the same arguments in every thread.
        argv: process.argv.slice(2),
      });
      worker.on('error', (error) => {
        failure ??= new SluiceError('PIPELINE_FAILED', `app '${app}' thread ${index + 1} of ${threads} failed: ${error.message}`, { cause: error });
        stopAll();
      });
      worker.on('exit', (code) => {
        // What the thread posted just before it ended may not have been delivered yet.
        for (let queued = receiveMessageOnPort(port1); queued !== undefined; queued = receiveMessageOnPort(port1)) onMessage(queued.message as ToMain);
        port1.close();
        if (!reported && failure === undefined) {
          failure = new SluiceError('PIPELINE_FAILED', `app '${app}' thread ${index + 1} of ${threads} exited (code ${code}) before its run ended`);
          stopAll();
        }
        finished++;
        settle();
      });
      workers.push(worker);
    }
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const port of ports) port.postMessage({ type: 'stop' } satisfies ToThread);
    },
    done,
  };
}

/** Whether the threads forward their metrics: always when someone listened at the start, else while a profile is measured. */
class MetricsDemand {
  readonly always: boolean;
  readonly #ports: readonly MessagePort[];
  #measuring = 0;

  constructor(ports: readonly MessagePort[], always: boolean) {
    this.#ports = ports;
    this.always = always;
  }

  begin(): void {
    if (this.#measuring++ === 0 && !this.always) this.#send({ type: 'metrics-on' });
  }

  end(): void {
    if (--this.#measuring === 0 && !this.always) this.#send({ type: 'metrics-off' });
  }

  #send(message: MetricsSwitch): void {
    for (const port of this.#ports) port.postMessage(message satisfies ToThread);
  }
}

/** A profile over every thread, from their merged metrics on this thread (thread-metrics.ts). */
async function measureThreads(app: string, metrics: ThreadMetrics, forwarding: MetricsDemand, sampleMs: number): Promise<Profile | undefined> {
  forwarding.begin();
  try {
    const start = await metrics.started;
    return await sampleProfile(app, start.stages, { guarantee: start.guarantee, checkpointIntervalMs: start.checkpointIntervalMs }, sampleMs);
  } finally {
    forwarding.end();
  }
}

/** Task t to thread t % threads; every thread learns every member and producer. */
function assign(ports: readonly MessagePort[], joined: ReadonlyMap<number, { tasks: number; producer: string }>): void {
  const counts = new Set([...joined.values()].map((j) => j.tasks));
  const tasks = [...counts][0] ?? 1;
  const threads = ports.length;
  const members = [...joined.keys()].sort((a, b) => a - b).map((i) => `thread-${i + 1}`);
  const producers = [...joined.values()].map((j) => j.producer);
  ports.forEach((port, index) => {
    const mine = Array.from({ length: tasks }, (_, t) => t).filter((t) => t % threads === index);
    const generation: Generation = { generationId: 1, tasks: mine, members, producers };
    port.postMessage({ type: 'assigned', generation } satisfies ToThread);
  });
}

/** A thread's error code as it was, when it is one of ours. */
function codeOf(code: string | undefined): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code ?? '') ? (code as ErrorCode) : 'PIPELINE_FAILED';
}
