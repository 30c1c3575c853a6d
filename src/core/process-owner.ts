/**
 * Telling whether a process that owns something (an open transaction) is still alive.
 * A pid alone can be reused, so the owner is its pid plus its start time from /proc.
 */
import { readFileSync } from 'node:fs';

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
