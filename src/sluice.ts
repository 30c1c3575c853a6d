/**
 * The app users create: the api-level builder plus what runs it (plan, runtime, backend).
 * It lives at the package root because it reaches every layer; `api/` never imports the runtime.
 */
import { channel } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { type AppOptions, AppBuilder } from './api/index.ts';
import type { LogBackend } from './backend/index.ts';
import { claimApp, isDiskFull, SluiceError } from './core/index.ts';
import { explainPlan, physicalPlan } from './plan/index.ts';
import { Job, type RunSummary, type WindowStoreView } from './runtime/index.ts';
import { type AppEvent, appChannel } from './runtime/metrics-events.ts';

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
  /** Records per fetch from each partition (default 1000); results never depend on it. */
  batchSize?: number;
  /**
   * Start from this savepoint (an id from `app.savepoint()` or `sluice savepoint create`) instead
   * of the last checkpoint; default `$SLUICE_FROM_SAVEPOINT` (set by `sluice run --from-savepoint`).
   */
  fromSavepoint?: string;
  /** Operators whose saved state to leave behind when the pipeline changed (default `$SLUICE_DROP_STATE`, comma-separated). */
  dropState?: string[];
  /**
   * Forget the app's committed offsets, state and checkpoints first (`sluice app reset`), so it
   * reads its input from the earliest offsets with empty state; default `$SLUICE_FROM_BEGINNING` = '1'.
   */
  fromBeginning?: boolean;
}

export const FROM_SAVEPOINT_ENV = 'SLUICE_FROM_SAVEPOINT';
export const DROP_STATE_ENV = 'SLUICE_DROP_STATE';
export const FROM_BEGINNING_ENV = 'SLUICE_FROM_BEGINNING';

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
 * the embedded log in `dataDir`. The test kit uses it to run pipeline modules as written.
 */
export function setDefaultBackend(factory: BackendFactory | undefined): void {
  defaultBackend = factory;
}

/**
 * A stream-processing app.
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
  #job: Job | undefined;
  #lastJob: Job | undefined;
  #stopRequested = false;

  constructor(options: SluiceOptions) {
    super(options);
    this.#backend = options.backend;
    this.#clock = options.clock ?? Date.now;
    this.#print = options.print;
    // metrics: announce the app, so `sluice run --ui` and dashboards find apps a module creates
    if (appChannel.hasSubscribers) appChannel.publish({ name: this.options.name, dataDir: this.options.dataDir, explain: () => this.explain() } satisfies AppEvent);
  }

  /** The physical plan as text: stages, their tasks, fused operators and exchanges. Runs nothing. */
  explain(): string {
    return explainPlan(physicalPlan(this.graph));
  }

  /**
   * Runs the pipeline. Bounded: until the input topics' current ends, then fires every window
   * and returns. Otherwise until `stop()`, SIGINT or SIGTERM, then commits and returns.
   */
  async run(options: RunOptions = {}): Promise<RunSummary> {
    if (this.#job) throw new SluiceError('INVALID_ARGUMENT', `app '${this.options.name}' is already running; call run() once`);
    const { name, dataDir } = this.options;
    // One instance of an app per data directory, whatever its state backend (apps given a log of their own, as the test kit's, excepted).
    const embedded = this.#backend === undefined && defaultBackend === undefined;
    const release = embedded ? claimApp(dataDir, name) : undefined;
    try {
      if (options.fromBeginning ?? process.env[FROM_BEGINNING_ENV] === '1') {
        if (!embedded) throw new SluiceError('INVALID_ARGUMENT', `fromBeginning resets app '${name}' on the embedded log; on another backend, reset its consumer group '${name}' there`);
        const { resetApp } = await import('./checkpoint/reset.ts');
        await resetApp(dataDir, name);
      }
      const summary = await this.#run(options);
      if (runChannel.hasSubscribers) runChannel.publish({ app: name, summary, outputs: this.graph.nodes.flatMap((n) => (n.kind === 'sink' ? [n.topic] : [])) } satisfies RunEndEvent);
      return summary;
    } finally {
      release?.();
    }
  }

  async #run(options: RunOptions): Promise<RunSummary> {
    const owned = this.#backend === undefined;
    const backend = this.#backend ?? (await openDefault(this.options.dataDir));
    const state = this.options.state === 'lmdb' ? await openLmdbState(this.options.dataDir, this.options.name) : undefined;
    const fromSavepoint = options.fromSavepoint ?? (process.env[FROM_SAVEPOINT_ENV] || undefined);
    const dropState = options.dropState ?? (process.env[DROP_STATE_ENV]?.split(',').filter(Boolean) || undefined);
    const job = new Job({
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
    });
    this.#job = job;
    this.#lastJob = job;
    const onSignal = (): void => job.stop();
    const release = async (): Promise<unknown> => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
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
      if (options.bounded) summary = await job.runBounded();
      else {
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
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

  /** A full disk becomes DISK_FULL: the failed step never committed, so nothing committed is lost. */
  #diskFull(error: unknown): unknown {
    if (!isDiskFull(error)) return error;
    const why = error instanceof Error ? error.message : String(error);
    return new SluiceError('DISK_FULL', `app '${this.options.name}' stopped: the disk is full (${why}); nothing committed is lost: free space and start it again to resume from its last checkpoint`, { cause: error });
  }

  /**
   * The named store of a windowed aggregate: the latest result of each window, while the app
   * runs and after it stopped.
   * @example
   * app.store('hourly-order-totals').get('customer-42'); // [{ key, start, end, value }, ...]
   */
  store<V = unknown>(name: string): WindowStoreView<V> {
    const job = this.#job ?? this.#lastJob;
    if (job === undefined) throw new SluiceError('INVALID_ARGUMENT', `store '${name}' exists once the app runs; call app.run() first`);
    return job.stores.get(name) as WindowStoreView<V>;
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
  }
}

/** The app's on-disk state, `<dataDir>/state/<app>/` (loaded on first use: apps on memory state never load lmdb). */
async function openLmdbState(dataDir: string, app: string) {
  const { LmdbStateBackend } = await import('./state/lmdb-backend.ts');
  return LmdbStateBackend.open(join(dataDir, 'state', app));
}

async function openDefault(dataDir: string): Promise<LogBackend> {
  if (defaultBackend !== undefined) return defaultBackend(dataDir);
  // Loaded on first use, so apps given a backend (and the test kit) never load the log's native parts.
  const { EmbeddedBackend } = await import('./backend/embedded.ts');
  return EmbeddedBackend.open(dataDir);
}
