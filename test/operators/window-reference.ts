/**
 * A brute-force reference for window results, written from DESIGN section 4 alone and sharing
 * no code with the operator. Given the records in arrival order, each with its own partition's
 * watermark just before it (W_before), it returns which records are late and, for every window
 * that gets a result, the ids of the records that make up its final value.
 *
 * - A window [start, end) takes a record only if `end + allowedLateness > W_before`; a record
 *   that no window takes is late.
 * - tumbling / hopping: the windows on the grid that hold the record's time.
 * - sliding(L): each record not late for its own window opens [ts - L, ts]; a window holds every
 *   record of its key in that range that it may take.
 * - session(gap): a record's own window is [ts, ts + gap); it merges with every overlapping
 *   session of its key whose `end + allowedLateness > W_before`.
 * - global: one window per key takes everything.
 * - count windows: by position within the key; full windows, then at the end the first
 *   incomplete window if it holds a record no full window held (the documented choice).
 */
import type { WindowSpec } from '../../src/time/window-spec.ts';

export interface RefRecord {
  id: number;
  key: string;
  ts: number;
  wBefore: number;
}

export interface RefResult {
  late: number[];
  /** `key|start|end` -> sorted ids of the records in the window's final value. */
  windows: Map<string, number[]>;
}

export const windowId = (key: unknown, start: number, end: number) => `${String(key)}|${start}|${end}`;

function floorTo(ts: number, step: number, offset: number): number {
  return Math.floor((ts - offset) / step) * step + offset;
}

export function reference(spec: WindowSpec, lateness: number, records: RefRecord[]): RefResult {
  const windows = new Map<string, number[]>();
  const late: number[] = [];
  const put = (key: string, start: number, end: number, id: number) => {
    const k = windowId(key, start, end);
    if (!windows.has(k)) windows.set(k, []);
    windows.get(k)!.push(id);
  };
  const takes = (end: number, r: RefRecord) => end + lateness > r.wBefore;

  if (spec.kind === 'tumbling' || spec.kind === 'hopping') {
    const size = spec.sizeMs;
    const slide = spec.kind === 'hopping' ? spec.slideMs : spec.sizeMs;
    for (const r of records) {
      let took = false;
      // Every grid start s with s <= ts < s + size, by brute force over the grid.
      for (let s = floorTo(r.ts - size - slide, slide, spec.offsetMs); s <= r.ts; s += slide) {
        if (r.ts >= s && r.ts < s + size && takes(s + size, r)) {
          put(r.key, s, s + size, r.id);
          took = true;
        }
      }
      if (!took) late.push(r.id);
    }
  } else if (spec.kind === 'sliding') {
    const L = spec.lookbackMs;
    const opened = records.filter((y) => takes(y.ts + 1, y));
    for (const r of records) {
      // Late when even the latest window that could hold it (opened at ts + L) would not take it.
      if (!takes(r.ts + L + 1, r)) late.push(r.id);
    }
    for (const y of opened) {
      for (const r of records) {
        if (r.key === y.key && r.ts >= y.ts - L && r.ts <= y.ts && takes(y.ts + 1, r)) {
          const k = windowId(y.key, y.ts - L, y.ts + 1);
          if (!windows.has(k)) windows.set(k, []);
          if (!windows.get(k)!.includes(r.id)) windows.get(k)!.push(r.id);
        }
      }
    }
  } else if (spec.kind === 'session') {
    const sessions = new Map<string, { start: number; end: number; ids: number[] }[]>();
    for (const r of records) {
      const list = sessions.get(r.key) ?? [];
      sessions.set(r.key, list);
      const own = { start: r.ts, end: r.ts + spec.gapMs };
      const merging = list.filter((s) => s.start < own.end && own.start < s.end && takes(s.end, r));
      if (merging.length === 0 && !takes(own.end, r)) {
        late.push(r.id);
        continue;
      }
      const merged = { start: own.start, end: own.end, ids: [r.id] };
      for (const s of merging) {
        merged.start = Math.min(merged.start, s.start);
        merged.end = Math.max(merged.end, s.end);
        merged.ids.push(...s.ids);
        list.splice(list.indexOf(s), 1);
      }
      list.push(merged);
    }
    for (const [key, list] of sessions) for (const s of list) windows.set(windowId(key, s.start, s.end), s.ids);
  } else if (spec.kind === 'global') {
    for (const r of records) put(r.key, -8_640_000_000_000_000, 8_640_000_000_000_000, r.id);
  } else {
    const size = spec.size;
    const slide = spec.kind === 'count-sliding' ? spec.slide : spec.size;
    const byKey = new Map<string, RefRecord[]>();
    for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    for (const [key, list] of byKey) {
      const n = list.length;
      let covered = 0;
      let start = 0;
      for (; start + size <= n; start += slide) {
        for (let i = start; i < start + size; i++) put(key, start, start + size, list[i].id);
        covered = start + size;
      }
      if (start < n && covered < n) for (let i = start; i < n; i++) put(key, start, n, list[i].id);
    }
  }
  for (const ids of windows.values()) ids.sort((a, b) => a - b);
  return { late: late.sort((a, b) => a - b), windows };
}
