/**
 * Results, as the server shows them: the latest committed results per sink topic, for the
 * dashboard (the last records, JSON decoded; other codecs shown as byte counts; and for window
 * results with a numeric value the leaders of the most recent window: top pages, busiest
 * sensors), and the answers of running apps' queryable stores (`queryStore`).
 */
import { isSluiceError } from '../core/index.ts';
import type { AppEvent } from '../runtime/metrics-events.ts';

const RECENT = 15;
const LEADERS = 10;

interface RecordLike {
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: number;
}

export interface TopicResults {
  topic: string;
  total: number;
  recent: { timestamp: number; key: string | null; value: unknown }[];
  /** The window with the latest end among numeric window results, its keys by value. */
  leaders: { start: number; end: number; entries: [string, number][] } | null;
}

interface TopicState {
  total: number;
  recent: TopicResults['recent'];
  window: { start: number; end: number; values: Map<string, number> } | null;
}

const decoder = new TextDecoder();

function decode(bytes: Uint8Array | null): unknown {
  if (bytes === null) return null;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  }
}

export class ResultTail {
  readonly #topics = new Map<string, TopicState>();

  add(output: ReadonlyMap<string, readonly RecordLike[]>): void {
    for (const [topic, records] of output) {
      // A checkpoint topic holds operator state, not results: large, and not for this view.
      if (topic.endsWith('.checkpoints')) continue;
      let state = this.#topics.get(topic);
      if (state === undefined) this.#topics.set(topic, (state = { total: 0, recent: [], window: null }));
      state.total += records.length;
      // Decode only what the view keeps, unless the topic holds window results (all feed the leaders).
      const from = Math.max(0, records.length - RECENT);
      const first = records.length > 0 ? decode(records[0].value) : undefined;
      for (let i = isWindowResult(first) ? 0 : from; i < records.length; i++) {
        const r = records[i];
        const value = i === 0 ? first : decode(r.value);
        if (i >= from) state.recent.push({ timestamp: r.timestamp, key: r.key === null ? null : decoder.decode(r.key), value });
        leader(state, value);
      }
      if (state.recent.length > RECENT) state.recent.splice(0, state.recent.length - RECENT);
    }
  }

  view(): TopicResults[] {
    return [...this.#topics].map(([topic, s]) => ({
      topic,
      total: s.total,
      recent: s.recent,
      leaders:
        s.window === null
          ? null
          : {
              start: s.window.start,
              end: s.window.end,
              entries: [...s.window.values].sort((a, b) => b[1] - a[1]).slice(0, LEADERS),
            },
    }));
  }
}

function isWindowResult(v: unknown): v is { key: unknown; start: number; end: number; value: number } {
  return typeof v === 'object' && v !== null && typeof (v as { start?: unknown }).start === 'number' && typeof (v as { end?: unknown }).end === 'number' && typeof (v as { value?: unknown }).value === 'number';
}

function leader(state: TopicState, value: unknown): void {
  if (!isWindowResult(value)) return;
  const key = typeof value.key === 'string' ? value.key : JSON.stringify(value.key);
  if (state.window === null || value.end > state.window.end) state.window = { start: value.start, end: value.end, values: new Map() };
  if (value.end === state.window.end) state.window.values.set(key, value.value);
}

/** Windows a store query returns at most without `limit` (a whole-store scan can be large). */
const DEFAULT_LIMIT = 1000;

export interface StoreQuery {
  /** A string key. */
  key?: string;
  /** A key of another type, as JSON (`keyJson=42`, `keyJson={"region":"eu"}`): keys 42 and "42" differ. */
  keyJson?: string;
  /** Only the window(s) holding this time, epoch ms. */
  at?: string;
  /** At most this many windows (default 1000); `total` says how many matched. */
  limit?: string;
}

type Answer = { status: 200 | 400 | 404 | 503; body: unknown };

/**
 * Answers `GET /api/apps/APP/stores/STORE?key=K&at=MS`: the store's windows (of one key, or of
 * every key), `{ app, store, total, windows: [{ key, start, end, value }] }`, from the app's own
 * state while it runs.
 */
export function queryStore(app: AppEvent | undefined, appName: string, storeName: string, query: StoreQuery): Answer {
  if (app === undefined) return fail(404, `no app named '${appName}' in this process`);
  const stores = app.stores?.() ?? [];
  if (app.store === undefined || !stores.includes(storeName)) {
    return fail(404, `app '${appName}' has no queryable store '${storeName}' (stores: ${stores.map((s) => `'${s}'`).join(', ') || 'none'}); make a windowed aggregate queryable with { name, queryable: true }`);
  }
  if (query.key !== undefined && query.keyJson !== undefined) return fail(400, 'give key (a string key) or keyJson (a key as JSON), not both');
  let key: unknown;
  if (query.keyJson !== undefined) {
    try {
      key = JSON.parse(query.keyJson);
    } catch {
      return fail(400, `keyJson=${query.keyJson} is not JSON; write keyJson=42 or keyJson={"region":"eu"}, or key=text for a string key`);
    }
  } else key = query.key;
  const at = query.at === undefined ? undefined : Number(query.at);
  if (at !== undefined && !Number.isFinite(at)) return fail(400, `at=${query.at} is not a time; give epoch milliseconds, such as at=${Date.UTC(2026, 0, 1)}`);
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1) return fail(400, `limit=${query.limit} must be a whole number >= 1`);
  try {
    const store = app.store(storeName);
    const windows = (key === undefined ? store.all() : store.get(key, at)) as { start: number; end: number }[];
    const matching = key === undefined && at !== undefined ? windows.filter((w) => w.start <= at && at < w.end) : windows;
    return { status: 200, body: { app: appName, store: storeName, total: matching.length, windows: matching.slice(0, limit) } };
  } catch (error) {
    if (isSluiceError(error, 'STORE_UNAVAILABLE')) return fail(503, error.message);
    throw error;
  }
}

function fail(status: Answer['status'], error: string): Answer {
  return { status, body: { error } };
}
