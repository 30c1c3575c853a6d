/**
 * What `sluice run` does around the module it loads, which the library leaves to it: start
 * from a savepoint (`--from-savepoint`, `--drop-state`) or from the beginning (`--from-beginning`),
 * or their environment variables, and
 * stop every unbounded app the module runs on SIGINT or SIGTERM, after a final checkpoint.
 * Outside a run (the module not yet running an app, or in a bounded run) a signal ends the
 * process as usual; exactly-once output loses nothing either way, the next run resumes from
 * the last checkpoint.
 */
import { type KafkaConfig, SluiceError } from '../core/index.ts';
import { setLauncher } from '../sluice.ts';

/** The savepoint to start from when `--from-savepoint` is not given. */
export const FROM_SAVEPOINT_ENV = 'SLUICE_FROM_SAVEPOINT';
/** Operators (comma-separated) whose saved state to leave behind when `--drop-state` is not given. */
export const DROP_STATE_ENV = 'SLUICE_DROP_STATE';
/** '1': reset the apps first and read their input again (`--from-beginning`). */
export const FROM_BEGINNING_ENV = 'SLUICE_FROM_BEGINNING';

export interface LaunchOptions {
  fromSavepoint?: string | undefined;
  dropState?: string | undefined;
  fromBeginning?: boolean | undefined;
  /** `--kafka`: every app of the module runs on this cluster instead of the embedded log. */
  kafka?: KafkaConfig | undefined;
  /** `--parallelism`: worker threads per app. */
  parallelism?: number | undefined;
  /** The module `load` imports (worker threads load it again). */
  entry?: string | undefined;
}

/** Runs `load` (the module's import) with the savepoint options and the signal handling in place. */
export async function launch(options: LaunchOptions, load: () => Promise<void>): Promise<void> {
  const fromSavepoint = options.fromSavepoint ?? (process.env[FROM_SAVEPOINT_ENV] || undefined);
  const dropState = (options.dropState ?? process.env[DROP_STATE_ENV])?.split(',').filter(Boolean);
  if (dropState !== undefined && dropState.length > 0 && fromSavepoint === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', '--drop-state goes with --from-savepoint ID');
  }
  const fromBeginning = options.fromBeginning ?? process.env[FROM_BEGINNING_ENV] === '1';
  if (fromBeginning && fromSavepoint !== undefined) {
    throw new SluiceError('INVALID_ARGUMENT', '--from-beginning and --from-savepoint each choose where to start: give one of them');
  }
  const running = new Set<{ stop(): void }>();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    removeHandlers();
    if (running.size === 0) {
      // No app to stop cleanly: the signal does what it would have done without us.
      process.kill(process.pid, signal);
      return;
    }
    stopping = true;
    process.stderr.write(`sluice: ${signal}: stopping after a final checkpoint (again to end at once)\n`);
    for (const app of running) app.stop();
  };
  const removeHandlers = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  setLauncher({
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    runOptions: { ...(options.kafka === undefined ? {} : { kafka: options.kafka }), ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }), ...(fromBeginning ? { fromBeginning } : {}), ...(fromSavepoint === undefined ? {} : { fromSavepoint }), ...(dropState === undefined || dropState.length === 0 ? {} : { dropState }) },
    started(app) {
      running.add(app);
      if (stopping) app.stop();
      return () => running.delete(app);
    },
  });
  try {
    await load();
  } finally {
    setLauncher(undefined);
    removeHandlers();
  }
}
