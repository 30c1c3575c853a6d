/**
 * The latest committed results per sink topic, for the dashboard: the last records (JSON
 * decoded; other codecs shown as byte counts), and for window results with a numeric value
 * the leaders of the most recent window (top pages, busiest sensors).
 */

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
