/**
 * The tables of running apps over HTTP, read from the operators' own state:
 * - `GET /api/tables/NAME/KEY`: `{ app, table, key, value }`, 404 when the key has no row;
 *   `?asOf=MS` on a versioned table: the row the key had at that event time;
 * - `GET /api/tables/NAME?prefix=P&limit=N`: `{ app, table, total, rows: [{ key, value }] }`, by
 *   key (compared as strings), keys starting with P, at most N (default 1000).
 * A key in the path is a string; when no row has it and it reads as JSON of another type
 * (`42`, `true`, `{"region":"eu"}`), the row of that key is looked up too.
 */
import { isSluiceError } from '../core/index.ts';
import type { AppEvent } from '../runtime/metrics-events.ts';

type Answer = { status: 200 | 400 | 404 | 503; body: unknown };

/** The app of this process holding table `name` (the last created, as for stores). */
function owner(apps: readonly AppEvent[], name: string): AppEvent | undefined {
  return apps.findLast((app) => app.table !== undefined && (app.tables?.() ?? []).includes(name));
}

function missing(apps: readonly AppEvent[], name: string): Answer {
  const known = apps.flatMap((app) => app.tables?.() ?? []);
  return { status: 404, body: { error: `no table named '${name}' in this process (tables: ${known.map((t) => `'${t}'`).join(', ') || 'none'})` } };
}

function answer(read: () => Answer): Answer {
  try {
    return read();
  } catch (error) {
    if (isSluiceError(error, 'STORE_UNAVAILABLE')) return { status: 503, body: { error: error.message } };
    if (isSluiceError(error, 'INVALID_ARGUMENT')) return { status: 400, body: { error: error.message } };
    throw error;
  }
}

export function queryTableKey(apps: readonly AppEvent[], name: string, key: string, query: { asOf?: string }): Answer {
  const app = owner(apps, name);
  if (app === undefined) return missing(apps, name);
  const table = app.table!(name);
  let asOf: number | undefined;
  if (query.asOf !== undefined) {
    asOf = /^\d{4}-/.test(query.asOf) ? Date.parse(query.asOf) : Number(query.asOf);
    if (!Number.isFinite(asOf)) return { status: 400, body: { error: `asOf=${query.asOf} is not a time; give epoch milliseconds or an ISO date, such as asOf=${Date.UTC(2026, 0, 1)}` } };
  }
  return answer(() => {
    const read = (k: unknown): unknown => (asOf === undefined ? table.get(k) : table.asOf(k, asOf));
    let value = read(key);
    if (value === undefined) {
      const parsed = parseJson(key);
      if (parsed !== undefined && typeof parsed !== 'string') value = read(parsed);
    }
    const at = asOf === undefined ? {} : { asOf };
    if (value === undefined) return { status: 404, body: { app: app.name, table: name, key, ...at, error: `table '${name}' has no row for key '${key}'${asOf === undefined ? '' : ` at ${asOf}`}` } };
    return { status: 200, body: { app: app.name, table: name, key, ...at, value } };
  });
}

export function scanTable(apps: readonly AppEvent[], name: string, query: { prefix?: string; limit?: string }): Answer {
  const app = owner(apps, name);
  if (app === undefined) return missing(apps, name);
  const limit = query.limit === undefined ? 1000 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1) return { status: 400, body: { error: `limit=${query.limit} must be a whole number >= 1` } };
  return answer(() => {
    const table = app.table!(name);
    const all = table.scan({ ...(query.prefix === undefined || query.prefix === '' ? {} : { prefix: query.prefix }), limit: Number.MAX_SAFE_INTEGER });
    return { status: 200, body: { app: app.name, table: name, total: all.length, rows: all.slice(0, limit) } };
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
