import { SluiceError } from './errors.ts';

/** A duration: milliseconds, a string such as `'250ms'`, `'5s'`, `'1m'`, `'2h'`, `'1d'`, or an object. */
export type Duration =
  | number
  | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`
  | { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Converts a duration to milliseconds, rejecting anything that is not one.
 * @example toMillis('5m') // 300000
 */
export function toMillis(duration: Duration, what = 'duration'): number {
  let ms: number;
  if (typeof duration === 'number') {
    ms = duration;
  } else if (typeof duration === 'string') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(duration.trim());
    if (!match) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `${what}: '${duration}' is not a duration; write a number of milliseconds or a string such as '250ms', '5s', '1m', '2h', '1d'`,
      );
    }
    ms = Number(match[1]) * UNIT_MS[match[2]];
  } else if (duration !== null && typeof duration === 'object') {
    const { days = 0, hours = 0, minutes = 0, seconds = 0, milliseconds = 0 } = duration;
    ms = days * 86_400_000 + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + milliseconds;
  } else {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: expected a duration such as '5s' or 5000, got ${String(duration)}`);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: must be a finite, non-negative duration, got ${String(duration)}`);
  }
  return Math.round(ms);
}

export const MILLISECONDS = 1;
export const SECONDS = 1000;
export const MINUTES = 60_000;
export const HOURS = 3_600_000;
export const DAYS = 86_400_000;
