/**
 * Stepping, for tests: a job whose log is registered here with a driver (the test kit's) runs
 * an unbounded run only when stepped, one round per `step()`, instead of on its own, so tests
 * wait on rounds, never on time. The registry is keyed by the log backend the test owns.
 */
import type { LogBackend } from '../backend/index.ts';

/** What a driver can do with a job: one round at a time, and a commit. */
export interface SteppedJob {
  readonly name: string;
  /** One round: read what is there, process, propagate watermarks, commit if due. Resolves whether anything moved. */
  step(): Promise<boolean>;
  /** Commits now what the rounds so far did. */
  commit(): Promise<void>;
}

export interface JobDriver {
  attach(job: SteppedJob): void;
  detach(job: SteppedJob): void;
}

const drivers = new WeakMap<LogBackend, JobDriver>();

/** Jobs on `backend` run unbounded only when `driver` steps them (until `undefined` is set). */
export function driveJobsOn(backend: LogBackend, driver: JobDriver | undefined): void {
  if (driver === undefined) drivers.delete(backend);
  else drivers.set(backend, driver);
}

export function driverOf(backend: LogBackend): JobDriver | undefined {
  return drivers.get(backend);
}
