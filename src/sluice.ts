/**
 * The app users create: the api-level builder plus what runs it (plan, runtime, backend).
 * It lives at the package root because it reaches every layer; `api/` never imports the runtime.
 */
import { channel } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { type AppOptions, AppBuilder } from './api/index.ts';
import type { LogBackend } from './backend/index.ts';
import { type Codec, claimApp, isDiskFull, type KafkaConfig, SluiceError } from './core/index.ts';
import { explainPlan, physicalPlan } from './plan/index.ts';
import { Job, type RunSummary, type StoreRegistry, WindowStoreView } from './runtime/index.ts';
import { type GroupPort, GroupJob } from './runtime/group-job.ts';
import { forwardMetrics } from './runtime/thread-metrics.ts';
import { reportToMain, runOnThreads, ThreadGroupPort, type ThreadMember, threadMember, threadProfiler } from './runtime/threads.ts';
import { type AppEvent, appChannel } from './runtime/metrics-events.ts';
import type { SqlResult, SqlSession } from './sql/index.ts';

/** Options of `app.sql(text, options)`. */
export interface SqlOptions {
  /** How a SQL source's or sink's topic values are encoded; default JSON. Given in the first `sql()` call. */
  codec?: (topic: string) => Codec | undefined;
  /** Plan a join with a per-window MAX of the same rows as a top-per-window aggregate (default true); see docs/sql.md. Given in the first `sql()` call. */
  topPerWindow?: boolean;
}

/** Options of `new Sluice({...})`: the app options, plus an explicit backend and clock (the test kit passes both). */
export interface SluiceOptions extends AppOptions {
  /** The log to run on; default the embedded log in `dataDir`. */
  backend?: LogBackend;
  /** Processing-time clock, epoch ms; default `Date.now`. */
  clock?: () => number;
  /** Where `print()` writes; default stdout. */
  print?: (line: string) => void;
}

export interface RunOptions {
  /** Process what the input topics hold now, fire every window, commit and return. */
  bounded?: boolean;
  /**
   * With `bounded`: stop each source partition at its first record with event time later than
   * this (epoch ms; that record is the next run's first), and fire what is complete by then: the
   * state as of a past time (event sourcing). Tables answer queries as of `until` while it runs.
   * @example await app.run({ bounded: true, until: Date.parse('2026-03-01T12:00:00Z') });
   */
  until?: number;
  /** Records per fetch from each partition (default 1000); results never depend on it. */
  batchSize?: number;
  /** Start from this savepoint (an id from `app.savepoint()` or `sluice savepoint create`) instead of the last checkpoint. */
  fromSavepoint?: string;
  /** Operators whose saved state to leave behind when the pipeline changed (with `fromSavepoint`). */
  dropState?: string[];
  /**
   * An unbounded run stops after a final checkpoint on SIGINT (Ctrl-C) or SIGTERM, as
   * `app.stop()` does; default false, so a library user's own handlers stay in charge. For a
   * program started with `node pipeline.ts`. Under `sluice run` the command handles signals for
   * every app the module runs, and this option is not needed. A bounded run ignores it (a
   * signal ends the process; the next run resumes from the last checkpoint).
   * @example await app.run({ stopOnSignals: true });
   */
  stopOnSignals?: boolean;
  /**
   * Forget the app's committed offsets, state and checkpoints first (`sluice app reset`), so it
   * reads its input from the earliest offsets with empty state (`sluice run --from-beginning`).
   */
  fromBeginning?: boolean;
}

/**
 * The link between a launcher (`sluice run FILE`) and the apps of the module it loads: run
 * options it adds, and the running apps it stops on a signal. It lives on `globalThis`, because
 * the launcher loads the module through its own loader, so the module may hold a second copy of
 * this file. Not part of the package's API.
 */
export interface Launcher {
  /** Defaults for every run: where to start from (`sluice run --from-savepoint`). */
  readonly runOptions: Pick<RunOptions, 'fromSavepoint' | 'dropState' | 'fromBeginning'> & { kafka?: KafkaConfig; parallelism?: number };
  /** The module the launcher loaded: what worker threads load again (parallelism). */
  readonly entry?: string;
  /** The launcher loaded `entry` with a plain `import()` (no loader of its own): so do the threads. Default false: `sluice run`'s loader. */
  readonly plainImport?: boolean;
  /** An unbounded run started; the launcher may call `stop()`. Returns what to call when it ended. */
  started(app: { readonly name: string; stop(): void }): () => void;
}

const LAUNCHER = Symbol.for('sluice.launcher');

/** Installs (or, with `undefined`, removes) the launcher of this process. */
export function setLauncher(launcher: Launcher | undefined): void {
  (globalThis as { [LAUNCHER]?: Launcher })[LAUNCHER] = launcher;
}

function currentLauncher(): Launcher | undefined {
  return (globalThis as { [LAUNCHER]?: Launcher })[LAUNCHER];
}

/** `sluice:run`: an app's `run()` returned; `sluice run` prints its summary. */
export const runChannel = channel('sluice:run');

export interface RunEndEvent {
  app: string;
  summary: RunSummary;
  /** The topics the app's sinks write to. */
  outputs: string[];
}

type BackendFactory = (dataDir: string) => Promise<LogBackend>;
let defaultBackend: BackendFactory | undefined;

/**
 * Sets how apps without a `backend` option open their log; `undefined` restores the default,
 * the embedded log in `dataDir`. Exported by `sluice/testing`: the test kit uses it to run
 * pipeline modules as written.
 */
export function setDefaultBackend(factory: BackendFactory | undefined): void {
  defaultBackend = factory;
}

/**
 * A stream-processing app: its methods build the pipeline (a logical graph, nothing runs), and
 * `run()` runs it. Process concerns stay with the caller: `run()` installs no signal handler
 * unless asked (`stopOnSignals`) and reads no environment variable; `sluice run FILE` handles
 * signals and `--from-savepoint` for the apps of the module it runs.
 * @example
 * const app = new Sluice({ name: 'clicks', dataDir: './.sluice' });
 * app.stream<{ url: string; action: string; ts: number }>('events', { timestamp: (e) => e.ts })
 *   .filter((e) => e.action === 'click')
 *   .keyBy((e) => e.url)
 *   .window(TumblingWindow.of(5, MINUTES))
 *   .count()
 *   .to('clicks-per-url');
 * await app.run({ bounded: true });
 */
export class Sluice extends AppBuilder {
  readonly #backend: LogBackend | undefined;
  readonly #clock: () => number;
  readonly #print: ((line: string) => void) | undefined;
  #job: Job | GroupJob | undefined;
  /** The stores of the run in progress, once its job is open. */
  #stores: StoreRegistry | undefined;
  #stopRequested = false;
  /** The threads of a run on several threads, while it runs. */
  #threadsRun: { stop(): void } | undefined;
  /** The SQL session of `sql()`, once used (the parser loads on first use). */
  #sqlSession: SqlSession | undefined;
  /** The `sql()` calls in order; `run()` waits for them, so a script need not be awaited before it. */
  #sqlDone: Promise<void> = Promise.resolve();
  #sqlFailure: unknown;

  constructor(options: SluiceOptions) {
    super(options);
    this.#backend = options.backend;
    this.#clock = options.clock ?? Date.now;
    this.#print = options.print;
    // metrics: announce the app, so `sluice run --ui` and dashboards find apps a module creates
    if (appChannel.hasSubscribers) {
      const event: AppEvent = {
        name: this.options.name,
        dataDir: this.options.dataDir,
        explain: () => this.explain(),
        stores: () => this.#storeNames(),
        store: (name) => this.store(name),
        tables: () => this.tableNames(),
        table: (name) => this.table(name),
      };
      appChannel.publish(event);
    }
  }

  /** The physical plan as text: stages, their tasks, fused operators and exchanges. Runs nothing. */
  explain(): string {
    return explainPlan(physicalPlan(this.graph));
  }

  /**
   * Runs SQL statements against this app: `CREATE SOURCE`, `CREATE MATERIALIZED VIEW`,
   * `CREATE SINK` and queries add to its pipeline (compiled onto the same DSL graph), `SHOW`,
   * `DESCRIBE` and `EXPLAIN` answer with rows. Resolves to one result per statement; a query's
   * result carries its rows as a stream. `run()` waits for every `sql()` before it starts.
   * @example
   * await app.sql(`
   *   CREATE SOURCE page_views (page TEXT, event_time TIMESTAMP,
   *     WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND) WITH (topic = 'page_views');
   *   CREATE MATERIALIZED VIEW views_per_minute AS
   *     SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count
   *     FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);
   *   CREATE SINK views_out FROM views_per_minute WITH (topic = 'views-per-minute');`);
   * await app.run({ bounded: true });
   */
  sql(text: string, options: SqlOptions = {}): Promise<SqlResult[]> {
    const run = this.#sqlDone.then(async () => {
      if (this.#job) throw new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}' is running; run its SQL before app.run()`);
      if (this.#sqlSession === undefined) {
        const { SqlSession } = await import('./sql/index.ts');
        this.#sqlSession = new SqlSession(this, { ...(options.codec === undefined ? {} : { codec: options.codec }), ...(options.topPerWindow === undefined ? {} : { topPerWindow: options.topPerWindow }) });
      } else if (options.codec !== undefined || options.topPerWindow !== undefined) {
        throw new SluiceError('INVALID_ARGUMENT', 'sql() takes its codec and topPerWindow options in its first call, which starts the app\'s SQL session');
      }
      return this.#sqlSession.execute(text);
    });
    this.#sqlDone = run.then(
      () => undefined,
      (error: unknown) => {
        this.#sqlFailure ??= error;
      },
    );
    return run;
  }

  /**
   * Runs the pipeline. Bounded: until the input topics' current ends, then fires every window
   * and returns. Otherwise until `stop()` (or a signal, with `stopOnSignals`), then commits and returns.
   * @example
   * process.once('SIGINT', () => app.stop()); // or: app.run({ stopOnSignals: true })
   * const summary = await app.run();
   */
  async run(options: RunOptions = {}): Promise<RunSummary> {
    if (this.#job) throw new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}' is already running; call run() once`);
    await this.#sqlDone;
    if (this.#sqlFailure !== undefined) throw this.#sqlFailure;
    const { name, dataDir } = this.options;
    // A worker thread of a run on several threads: the main thread holds the app and reset it if asked.
    const member = threadMember(name);
    if (member !== undefined) return this.#runMember(member, options);
    // One instance of an app per data directory, whatever its state backend (apps given a log of their own, as the test kit's, and apps on Kafka excepted).
    const embedded = this.#backend === undefined && defaultBackend === undefined && this.#kafka() === undefined;
    const release = embedded ? claimApp(dataDir, name) : undefined;
    try {
      if (options.fromBeginning ?? currentLauncher()?.runOptions.fromBeginning) {
        if (!embedded) throw new SluiceError('INVALID_ARGUMENT', `fromBeginning resets app '${name}' on the embedded log; on another backend, reset its consumer group '${name}' there`);
        const { resetApp } = await import('./checkpoint/reset.ts');
        await resetApp(dataDir, name);
      }
      const threads = await this.#threads(options);
      const summary = threads > 1 ? await this.#runThreads(threads, options) : await this.#run(options);
      if (runChannel.hasSubscribers) runChannel.publish({ app: name, summary, outputs: this.graph.nodes.flatMap((n) => (n.kind === 'sink' ? [n.topic] : [])) } satisfies RunEndEvent);
      return summary;
    } finally {
      release?.();
    }
  }

  async #run(options: RunOptions): Promise<RunSummary> {
    const launcher = currentLauncher();
    if (options.until !== undefined && (options.bounded !== true || typeof options.until !== 'number' || !Number.isFinite(options.until))) {
      throw new SluiceError('INVALID_ARGUMENT', `until: ${String(options.until)} must be an event time (epoch ms) of a bounded run; write app.run({ bounded: true, until: Date.parse('2026-03-01T12:00:00Z') })`);
    }
    const owned = this.#backend === undefined;
    const kafka = this.#kafka();
    const backend = this.#backend ?? (kafka === undefined ? await openDefault(this.options.dataDir) : await openKafka(kafka));
    const state = this.options.state === 'lmdb' ? await openLmdbState(this.options.dataDir, this.options.name) : undefined;
    const fromSavepoint = options.fromSavepoint ?? launcher?.runOptions.fromSavepoint;
    const dropState = options.dropState ?? launcher?.runOptions.dropState;
    const jobOptions = {
      name: this.options.name,
      dataDir: this.options.dataDir,
      ...(state === undefined ? {} : { state }),
      ...(fromSavepoint === undefined ? {} : { fromSavepoint }),
      ...(dropState === undefined ? {} : { dropState }),
      graph: this.graph,
      backend,
      guarantee: this.options.guarantee,
      onError: this.options.onError,
      checkpointIntervalMs: this.options.checkpointIntervalMs,
      clock: this.#clock,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(this.#print === undefined ? {} : { print: this.#print }),
    };
    // On Kafka every process of the app joins its consumer group and runs the tasks assigned to it.
    const member = threadMember(this.options.name);
    const job =
      backend.kind === 'kafka'
        ? new GroupJob({ ...jobOptions, openGroup: (tasks, producer) => joinKafkaGroup(backend, this.options.name, tasks, producer), purge: (offsets) => (backend as import('./backend/kafka/index.ts').KafkaBackend).deleteRecordsBefore(offsets) })
        : member !== undefined
          ? new GroupJob({ ...jobOptions, control: member.index === 0, profiler: threadProfiler(member), openGroup: async (tasks, producer) => new ThreadGroupPort(member, tasks, producer) })
          : new Job(jobOptions);
    this.#job = job;
    const stopping: (() => void)[] = [];
    const release = async (): Promise<unknown> => {
      for (const end of stopping) end();
      // Before the state closes: store views and tables refuse queries from now on.
      this.#stores = undefined;
      this.builder.tables = undefined;
      this.#job = undefined;
      this.#stopRequested = false;
      // Close everything, in order, even if a step fails; report the first failure.
      let failure: unknown;
      for (const close of [() => job.close(), () => state?.close(), () => (owned ? backend.close() : undefined)]) {
        try {
          await close();
        } catch (error) {
          failure ??= error;
        }
      }
      return failure;
    };
    let summary: RunSummary;
    try {
      await job.open();
      this.#stores = job.stores;
      this.builder.tables = (name) => job.stores.tables(name);
      if (options.bounded) summary = await job.runBounded(options.until);
      else {
        if (launcher !== undefined) stopping.push(launcher.started({ name: this.options.name, stop: () => job.stop() }));
        else if (options.stopOnSignals === true) stopping.push(stopOnSignals(() => job.stop()));
        if (this.#stopRequested) job.stop();
        summary = await job.runUnbounded();
      }
    } catch (error) {
      // A close error after a failure (an abort on a full disk, say) must not hide that failure.
      await release();
      throw this.#diskFull(error);
    }
    const closeError = await release();
    if (closeError !== undefined) throw this.#diskFull(closeError);
    return summary;
  }

  /** The Kafka cluster the app runs on: its own `kafka` option, else the launcher's (`sluice run --kafka`); none for an app given a backend. */
  #kafka(): KafkaConfig | undefined {
    if (this.#backend !== undefined) return undefined;
    return this.options.kafka ?? currentLauncher()?.runOptions.kafka;
  }

  /** A full disk becomes DISK_FULL: the failed step never committed, so nothing committed is lost. */
  #diskFull(error: unknown): unknown {
    if (!isDiskFull(error)) return error;
    const why = error instanceof Error ? error.message : String(error);
    return new SluiceError('DISK_FULL', `app '${this.options.name}' stopped: the disk is full (${why}); nothing committed is lost: free space and start it again to resume from its last checkpoint`, { cause: error });
  }

  /**
   * How many threads run the app: `parallelism` (the app's, or `sluice run --parallelism`), at
   * most one per task (source partition). Several threads need what each can restore on its own.
   */
  async #threads(options: RunOptions): Promise<number> {
    const asked = currentLauncher()?.runOptions.parallelism ?? this.options.parallelism;
    if (asked <= 1) return 1;
    const { name } = this.options;
    const refuse = (why: string) => {
      throw new SluiceError('INVALID_ARGUMENT', `app '${name}' with parallelism ${asked}: ${why}`);
    };
    if (this.#backend !== undefined || defaultBackend !== undefined) refuse('an app given its own backend runs on one thread; leave parallelism at 1');
    if (this.options.state === 'lmdb') refuse("each thread's state travels with its tasks in topic '" + name + ".checkpoints'; use state 'memory' (lmdb state runs on one thread)");
    if ((options.fromSavepoint ?? currentLauncher()?.runOptions.fromSavepoint) !== undefined) refuse('savepoints restore on one thread; start from it with parallelism 1');
    if (options.until !== undefined) refuse('until runs on one thread; leave parallelism at 1');
    const kafka = this.#kafka();
    const backend = kafka === undefined ? await openDefault(this.options.dataDir) : await openKafka(kafka);
    try {
      let tasks = 1;
      for (const stage of physicalPlan(this.graph).stages) if (stage.entry.kind === 'source') tasks = Math.max(tasks, await backend.partitions(stage.entry.topic).catch(() => 1));
      return Math.min(asked, tasks);
    } finally {
      await backend.close();
    }
  }

  /** The main thread of a run on several threads: starts them and waits for them (stop() stops them all). */
  async #runThreads(threads: number, options: RunOptions): Promise<RunSummary> {
    const launcher = currentLauncher();
    const entry = launcher?.entry ?? process.argv[1];
    if (entry === undefined) throw new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}': parallelism needs the module that builds the app (run it with node FILE or sluice run FILE)`);
    // The threads start where this run does (the main thread reset the app if asked), on the same cluster.
    const { fromBeginning: _done, ...runOptions } = launcher?.runOptions ?? {};
    // `node FILE`: the main thread's own module, loaded by Node as the threads will load it.
    const plainImport = launcher?.entry === undefined || launcher.plainImport === true;
    const run = runOnThreads({ app: this.options.name, threads, entry, plainImport, coordinate: this.#kafka() === undefined, runOptions });
    const stop = () => run.stop();
    const ended: (() => void)[] = [];
    if (!options.bounded) {
      if (launcher !== undefined) ended.push(launcher.started({ name: this.options.name, stop }));
      else if (options.stopOnSignals === true) ended.push(stopOnSignals(stop));
    }
    this.#threadsRun = run;
    if (this.#stopRequested) stop();
    try {
      return await run.done;
    } finally {
      this.#threadsRun = undefined;
      this.#stopRequested = false;
      for (const end of ended) end();
    }
  }

  /** A worker thread's run: its share of the tasks, its end reported to the main thread. */
  async #runMember(member: ThreadMember, options: RunOptions): Promise<RunSummary> {
    const report = reportToMain(member, () => this.stop());
    const stopForwarding = forwardMetrics(member.port, member.metrics);
    try {
      const summary = await this.#run(options);
      stopForwarding();
      report.done(summary);
      return summary;
    } catch (error) {
      stopForwarding();
      report.failed(error);
      throw error;
    }
  }

  /**
   * A queryable store: a windowed aggregate made queryable with `{ name, queryable: true }` or
   * `.materialize(name)`, read from the operator's state while the app runs (see WindowStoreView).
   * A name alone only names a stage.
   * @example
   * orders.keyBy((o) => o.customer).window(Windows.tumbling('1h'))
   *   .aggregate(() => 0, (key, order, total) => total + order.total, { name: 'hourly-order-totals', queryable: true });
   * const totals = app.store<number>('hourly-order-totals');
   * // while app.run() runs, e.g. in an HTTP handler:
   * totals.get('customer-42'); // [{ key, start, end, value }, ...]
   */
  store<V = unknown>(name: string): WindowStoreView<V> {
    if (!this.#storeNames().includes(name)) {
      const stores = this.#storeNames().map((n) => `'${n}'`);
      const named = this.graph.nodes.find((n) => n.name === name);
      const fix =
        named?.kind === 'window'
          ? `stage '${name}' is named, which only gives its state a stable name; add queryable: true to its options, or call .materialize('${name}') on its results`
          : `make a windowed aggregate queryable with { name: '${name}', queryable: true } or .materialize('${name}')`;
      throw new SluiceError('INVALID_ARGUMENT', `no store named '${name}' (stores: ${stores.join(', ') || 'none'}); ${fix}`);
    }
    return new WindowStoreView<V>(name, () => {
      if (this.#stores === undefined) {
        throw new SluiceError('STORE_UNAVAILABLE', `store '${name}' answers while app '${this.options.name}' runs: from when app.run() has restored its state until it returns`);
      }
      return this.#stores.operators(name);
    });
  }

  #storeNames(): string[] {
    return this.graph.nodes.flatMap((n) => (n.kind === 'window' && n.store !== undefined ? [n.store] : []));
  }

  /**
   * Takes a savepoint of the running app after its current round; resolves to its id, for
   * `run({ fromSavepoint })` or `sluice run --from-savepoint`.
   * @example const id = await app.savepoint();
   */
  savepoint(): Promise<string> {
    if (this.#job === undefined) return Promise.reject(new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}' is not running; savepoints are taken while it runs`));
    return this.#job.savepoint();
  }

  /** Stops an unbounded `run()` after its current round and a final commit. */
  stop(): void {
    this.#stopRequested = true;
    this.#job?.stop();
    this.#threadsRun?.stop();
  }
}

/** Calls `stop` on the first SIGINT or SIGTERM (a second one ends the process as usual); returns the undo. */
function stopOnSignals(stop: () => void): () => void {
  const onSignal = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** The app's on-disk state, `<dataDir>/state/<app>/` (loaded on first use: apps on memory state never load lmdb). */
async function openLmdbState(dataDir: string, app: string) {
  const { LmdbStateBackend } = await import('./state/lmdb-backend.ts');
  return LmdbStateBackend.open(join(dataDir, 'state', app));
}

/** Joins the app's consumer group on Kafka; the backend's transactional offset commits carry the membership's generation. */
async function joinKafkaGroup(backend: LogBackend, app: string, tasks: number, producer: string): Promise<GroupPort> {
  const { KafkaGroupMember } = await import('./backend/kafka/group.ts');
  const kafka = backend as import('./backend/kafka/index.ts').KafkaBackend;
  const member = new KafkaGroupMember(kafka, app, { tasks, producer });
  kafka.groupMembership = (group) => member.membership(group);
  return member;
}

/** The Kafka backend (loaded on first use: apps on the embedded log never load the Kafka client). */
async function openKafka(config: KafkaConfig): Promise<LogBackend> {
  const { KafkaBackend } = await import('./backend/kafka/index.ts');
  return new KafkaBackend(config);
}

async function openDefault(dataDir: string): Promise<LogBackend> {
  if (defaultBackend !== undefined) return defaultBackend(dataDir);
  // Loaded on first use, so apps given a backend (and the test kit) never load the log's native parts.
  const { EmbeddedBackend } = await import('./backend/embedded.ts');
  return EmbeddedBackend.open(dataDir);
}
