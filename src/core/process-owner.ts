/**
 * Telling whether a process that owns something (an open transaction, an app's state, a
 * running app) is still alive, and owner files that record it. A pid alone can be reused, so
 * the owner is its pid plus its start time from /proc.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SluiceError } from './errors.ts';

/** The start time of process `pid` (clock ticks since boot), or '' where /proc is not available. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces, so count after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export const SELF_START = processStartTime(process.pid) ?? '';

export function isProcessAlive(pid: number, startTime: string): boolean {
  if (pid === process.pid) return startTime === SELF_START;
  const current = processStartTime(pid);
  if (current !== undefined) return startTime === '' || current === startTime;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who owns something on disk: a process, told apart from a later one with the same pid by its start time. */
export interface ProcessOwner {
  pid: number;
  start: string;
}

/**
 * The live owner recorded in the owner file at `path`, or undefined when there is none, or it
 * is dead (a crashed owner is taken over), or the file was left half written by a process that died.
 */
export function liveOwner(path: string): ProcessOwner | undefined {
  let owner: ProcessOwner;
  try {
    owner = JSON.parse(readFileSync(path, 'utf8')) as ProcessOwner;
  } catch {
    return undefined;
  }
  if (typeof owner?.pid !== 'number' || typeof owner.start !== 'string') return undefined;
  return isProcessAlive(owner.pid, owner.start) ? owner : undefined;
}

/**
 * Takes ownership through the owner file at `path` (created exclusively, so two claimants
 * cannot both win); a dead owner's file is taken over. `busy` makes the error for a live owner.
 * Returns the release, which removes the file only while this process still owns it.
 */
export function claimOwnership(path: string, busy: (owner: ProcessOwner | undefined) => Error): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, start: SELF_START } satisfies ProcessOwner), { flag: 'wx' });
      return () => releaseOwnership(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = liveOwner(path);
    if (owner !== undefined) throw busy(owner);
    rmSync(path, { force: true });
  }
  // Another claimant took the stale file over between our two attempts.
  throw busy(liveOwner(path));
}

function releaseOwnership(path: string): void {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as ProcessOwner;
    if (owner.pid === process.pid && owner.start === SELF_START) unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Where a running app records its process: `<dataDir>/apps/<app>/owner.json`. */
export function appOwnerPath(dataDir: string, app: string): string {
  return join(dataDir, 'apps', app, 'owner.json');
}

/** The process running `app` on `dataDir`, if one does. */
export function runningApp(dataDir: string, app: string): ProcessOwner | undefined {
  return liveOwner(appOwnerPath(dataDir, app));
}

/**
 * Takes the app's lock: one instance of an app runs per data directory (a second would fence
 * the first's transactions and write state its checkpoints do not name). `doing` says what the
 * caller is about to do, for the refusal. Returns the release.
 */
export function claimApp(dataDir: string, app: string, doing = 'start this one'): () => void {
  return claimOwnership(appOwnerPath(dataDir, app), (owner) => {
    const who = owner === undefined ? 'another process' : owner.pid === process.pid ? `this process (pid ${owner.pid})` : `process ${owner.pid}`;
    return new SluiceError('APP_RUNNING', `app '${app}' is running in ${dataDir} (${who}); one instance of an app runs per data directory: stop that instance (Ctrl-C, or kill ${owner?.pid ?? 'it'}) first, then ${doing}`);
  });
}
