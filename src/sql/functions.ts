/**
 * Scalar functions: string, number and time functions of the Postgres dialect. A function
 * returns NULL when an argument is NULL (as Postgres' strict functions do), except COALESCE-like
 * ones, which live in expr.ts.
 */
import { sqlError, unsupported } from './errors.ts';
import type { Compiled, SqlType } from './types.ts';

interface FunctionDef {
  /** Accepted argument counts. */
  arity: number[];
  type: SqlType | ((args: Compiled[]) => SqlType);
  fn: (...args: any[]) => unknown;
}

const MS: Record<string, number> = { millisecond: 1, milliseconds: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

function truncate(unit: string, ms: number): number {
  const u = unit.toLowerCase();
  const d = new Date(ms);
  if (u === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (u === 'year') return Date.UTC(d.getUTCFullYear(), 0, 1);
  // Weeks start on Monday, as in Postgres; the epoch was a Thursday.
  if (u === 'week') return ms - ((((ms - 4 * 86_400_000) % 604_800_000) + 604_800_000) % 604_800_000);
  const size = MS[u];
  if (size === undefined) throw new Error(`date_trunc: unit '${unit}' is not one of second, minute, hour, day, week, month, year`);
  return Math.floor(ms / size) * size;
}

function extract(field: string, ms: number): number {
  const d = new Date(ms);
  switch (field.toLowerCase()) {
    case 'epoch':
      return ms / 1000;
    case 'year':
      return d.getUTCFullYear();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'second':
      return d.getUTCSeconds() + d.getUTCMilliseconds() / 1000;
    case 'millisecond':
    case 'milliseconds':
      return d.getUTCSeconds() * 1000 + d.getUTCMilliseconds();
    case 'dow':
      return d.getUTCDay();
    case 'doy':
      return Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    default:
      throw new Error(`extract: field '${field}' is not one of epoch, year, month, day, hour, minute, second, millisecond, dow, doy`);
  }
}

const sameAsFirst = (args: Compiled[]): SqlType => args[0]?.type ?? 'null';
const text = (v: unknown): string => (typeof v === 'object' ? JSON.stringify(v) : String(v));

const FUNCTIONS: Record<string, FunctionDef> = {
  lower: { arity: [1], type: 'text', fn: (s) => text(s).toLowerCase() },
  upper: { arity: [1], type: 'text', fn: (s) => text(s).toUpperCase() },
  length: { arity: [1], type: 'bigint', fn: (s) => [...text(s)].length },
  char_length: { arity: [1], type: 'bigint', fn: (s) => [...text(s)].length },
  character_length: { arity: [1], type: 'bigint', fn: (s) => [...text(s)].length },
  // SUBSTRING(s FROM a FOR b) arrives as substring(s, a, b): 1-based, as in SQL.
  substring: { arity: [2, 3], type: 'text', fn: (s, from, count) => [...text(s)].slice(Math.max(0, from - 1), count === undefined ? undefined : Math.max(0, from - 1 + count)).join('') },
  substr: { arity: [2, 3], type: 'text', fn: (s, from, count) => [...text(s)].slice(Math.max(0, from - 1), count === undefined ? undefined : Math.max(0, from - 1 + count)).join('') },
  btrim: { arity: [1], type: 'text', fn: (s) => text(s).trim() },
  ltrim: { arity: [1], type: 'text', fn: (s) => text(s).trimStart() },
  rtrim: { arity: [1], type: 'text', fn: (s) => text(s).trimEnd() },
  replace: { arity: [3], type: 'text', fn: (s, a, b) => text(s).split(text(a)).join(text(b)) },
  position: { arity: [2], type: 'bigint', fn: (needle, s) => text(s).indexOf(text(needle)) + 1 },
  strpos: { arity: [2], type: 'bigint', fn: (s, needle) => text(s).indexOf(text(needle)) + 1 },
  split_part: { arity: [3], type: 'text', fn: (s, sep, i) => text(s).split(text(sep))[i - 1] ?? '' },
  starts_with: { arity: [2], type: 'boolean', fn: (s, prefix) => text(s).startsWith(text(prefix)) },
  left: { arity: [2], type: 'text', fn: (s, n) => [...text(s)].slice(0, n).join('') },
  right: { arity: [2], type: 'text', fn: (s, n) => [...text(s)].slice(-n).join('') },
  abs: { arity: [1], type: sameAsFirst, fn: Math.abs },
  round: { arity: [1, 2], type: (args) => (args.length === 2 ? 'double' : sameAsFirst(args)), fn: (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d },
  floor: { arity: [1], type: sameAsFirst, fn: Math.floor },
  ceil: { arity: [1], type: sameAsFirst, fn: Math.ceil },
  ceiling: { arity: [1], type: sameAsFirst, fn: Math.ceil },
  trunc: { arity: [1], type: sameAsFirst, fn: Math.trunc },
  sqrt: { arity: [1], type: 'double', fn: Math.sqrt },
  power: { arity: [2], type: 'double', fn: (a, b) => a ** b },
  exp: { arity: [1], type: 'double', fn: Math.exp },
  ln: { arity: [1], type: 'double', fn: Math.log },
  log: { arity: [1], type: 'double', fn: Math.log10 },
  sign: { arity: [1], type: sameAsFirst, fn: Math.sign },
  mod: { arity: [2], type: sameAsFirst, fn: (a, b) => (b === 0 ? null : a % b) },
  date_trunc: { arity: [2], type: 'timestamp', fn: (unit, ts) => truncate(text(unit), ts) },
  date_part: { arity: [2], type: 'double', fn: (field, ts) => extract(text(field), ts) },
  extract: { arity: [2], type: 'double', fn: (field, ts) => extract(text(field), ts) },
  to_timestamp: { arity: [1], type: 'timestamp', fn: (seconds) => seconds * 1000 },
  epoch_ms: { arity: [1], type: 'bigint', fn: (ts) => ts },
};

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max']);
const WINDOWS = new Set(['tumble', 'hop', 'session']);
const WINDOW_BOUNDS = new Set(['tumble_start', 'tumble_end', 'hop_start', 'hop_end', 'session_start', 'session_end', 'tumble_rowtime', 'hop_rowtime', 'session_rowtime']);

/** Calls scalar function `name`; refuses unknown functions, and aggregates or windows where they do not belong, by name. */
export function callFunction(name: string, args: Compiled[], sql: string, at: number): Compiled {
  if (AGGREGATES.has(name)) throw sqlError(sql, at, `${name.toUpperCase()}() is an aggregate, which is not allowed here; aggregates go in the select list or HAVING of a query with GROUP BY`);
  if (WINDOWS.has(name)) throw sqlError(sql, at, `${name.toUpperCase()}(...) is a window; put it in GROUP BY, such as GROUP BY page, ${name.toUpperCase()}(event_time, INTERVAL '1' MINUTE)`);
  if (WINDOW_BOUNDS.has(name)) throw sqlError(sql, at, `${name.toUpperCase()}(...) needs the same window in GROUP BY, such as GROUP BY ${name.split('_')[0]!.toUpperCase()}(event_time, INTERVAL '1' MINUTE)`);
  if (name === 'now' || name === 'current_timestamp' || name === 'random') {
    throw unsupported(sql, at, `${name}() would make results depend on when they run; use the event-time column (or compute the value before producing)`);
  }
  if (name === 'concat') return strictAll(args, (...vs) => vs.filter((v) => v != null).map(text).join(''), 'text', false);
  if (name === 'concat_ws') return strictAll(args, (sep, ...vs) => vs.filter((v) => v != null).map(text).join(text(sep)), 'text', false);
  const def = FUNCTIONS[name];
  if (def === undefined) throw unsupported(sql, at, `function ${name}() is not supported; see the supported functions in docs/sql.md`);
  if (!def.arity.includes(args.length)) throw sqlError(sql, at, `${name}() takes ${def.arity.join(' or ')} argument${def.arity.at(-1) === 1 ? '' : 's'}, got ${args.length}`);
  if ((name === 'date_trunc' || name === 'extract' || name === 'date_part') && args[1]!.type !== 'timestamp' && args[1]!.type !== 'null') {
    throw sqlError(sql, at, `${name}() takes a TIMESTAMP, got ${args[1]!.type.toUpperCase()}; CAST(x AS TIMESTAMP) converts ISO strings and epoch milliseconds`);
  }
  const type = typeof def.type === 'function' ? def.type(args) : def.type;
  return strictAll(args, def.fn, type, true);
}

/** Calls `fn` with the arguments' values; with `strict`, NULL when any is NULL. A failure (a bad unit) names the function. */
function strictAll(args: Compiled[], fn: (...vs: any[]) => unknown, type: SqlType, strict: boolean): Compiled {
  const call = (row: unknown): unknown => {
    const vs = args.map((a) => a.fn(row));
    if (strict && vs.some((v) => v == null)) return null;
    return fn(...vs);
  };
  if (args.every((a) => a.constant)) return { fn: () => call({}), type, constant: true };
  return { fn: call, type };
}

