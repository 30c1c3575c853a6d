/**
 * Interval literals: `INTERVAL '5' SECOND`, `INTERVAL '1 minute'`, `INTERVAL '00:01:30'`,
 * in milliseconds. Months and years have no fixed length, so they are refused.
 */

/** Postgres' interval field bits (datetime.h), as the parser puts them in an interval's typmod. */
const FIELD_BITS: [number, string][] = [
  [1 << 1, 'month'],
  [1 << 2, 'year'],
  [1 << 3, 'day'],
  [1 << 10, 'hour'],
  [1 << 11, 'minute'],
  [1 << 12, 'second'],
];

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** The smallest unit a typmod names (`INTERVAL '90' SECOND` -> second), or undefined for none. */
export function unitOfTypmod(typmod: number | undefined): string | undefined {
  if (typmod === undefined || typmod < 0 || typmod === 0x7fff) return undefined;
  let unit: string | undefined;
  for (const [bit, name] of FIELD_BITS) if ((typmod & bit) !== 0) unit = name;
  return unit;
}

/** Milliseconds of an interval's text, with the unit written after the literal (if any); a string describing the problem when it cannot be read. */
export function intervalMs(text: string, unit?: string): number | string {
  const trimmed = text.trim().toLowerCase();
  if (unit === 'month' || unit === 'year' || /\b(mon|mons|month|months|year|years|y)\b/.test(trimmed)) {
    return 'months and years have no fixed length; write the interval in days, hours, minutes or seconds';
  }
  if (unit !== undefined && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * UNIT_MS[unit]!;
  // 'hh:mm:ss[.fff]' or 'mm:ss'
  const clock = /^(-)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$/.exec(trimmed);
  if (clock !== null) {
    const [h, m, s] = clock[4] === undefined ? [0, Number(clock[2]), Number(clock[3])] : [Number(clock[2]), Number(clock[3]), Number(clock[4])];
    return (clock[1] ? -1 : 1) * ((h * 60 + m) * 60 + s) * 1000;
  }
  // '1 minute', '1 day 2 hours', '90s', '5 seconds'
  let total = 0;
  let rest = trimmed;
  const part = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]+)?/;
  if (rest === '') return `'${text}' is not an interval`;
  while (rest.trim() !== '') {
    const m = part.exec(rest);
    if (m === null) return `'${text}' is not an interval; write for example INTERVAL '5' SECOND or INTERVAL '1 minute'`;
    const name = m[2] ?? unit;
    const ms = name === undefined ? undefined : UNIT_MS[name];
    if (ms === undefined) return `'${text}' is not an interval: '${m[2] ?? ''}' is not a unit; write for example INTERVAL '5' SECOND or INTERVAL '1 minute'`;
    total += Number(m[1]) * ms;
    rest = rest.slice(m[0].length);
  }
  return total;
}
