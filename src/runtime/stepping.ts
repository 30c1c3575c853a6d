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

interface StepRequest {
  commit: boolean;
  resolve: (moved: boolean) => void;
  reject: (error: unknown) => void;
}

/** A stepped job's requests, served one at a time by its run, so rounds never overlap. */
export class StepQueue {
  #requests: StepRequest[] = [];
  #wake: (() => void) | undefined;

  /** Asks for a round (or, with `commit`, a commit); resolves whether anything moved. */
  request(commit: boolean): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#requests.push({ commit, resolve, reject });
      this.wake();
    });
  }

  /** Wakes a waiting `serve()` (to see a stop). */
  wake(): void {
    this.#wake?.();
  }

  /** Serves requests until `stopped()`; a failing round rejects its request and ends the run. */
  async serve(stopped: () => boolean, round: () => Promise<boolean>, commit: () => Promise<void>): Promise<void> {
    try {
      while (!stopped()) {
        const request = this.#requests.shift();
        if (request === undefined) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        try {
          if (request.commit) await commit();
          request.resolve(request.commit ? true : await round());
        } catch (error) {
          request.reject(error);
          throw error;
        }
      }
    } finally {
      this.end();
    }
  }

  /** Requests left when the run ends resolve as "nothing moved". */
  end(): void {
    for (const request of this.#requests) request.resolve(false);
    this.#requests = [];
  }

  /** The job closed before serving them. */
  reject(error: unknown): void {
    for (const request of this.#requests) request.reject(error);
    this.#requests = [];
  }
}
