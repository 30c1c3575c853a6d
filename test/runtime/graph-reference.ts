/**
 * A naive interpreter of a random graph (graph-model.ts), written from DESIGN section 4 and
 * sharing no code with the runtime. It works on whole collections, node by node, and says for
 * every sink topic what the runtime must have written, as far as the semantics fix it:
 *
 * - Watermarks: a source partition's watermark after some records is max(event time) - bound;
 *   each record carries W_before, its own partition's watermark just before it. A bounded run
 *   ends at +Infinity, so every window fires: final results depend only on which records each
 *   window takes, and that depends on W_before alone (operator watermarks, the minimum over
 *   input partitions, decide when windows fire, not what they finally hold).
 * - A window [start, end) takes a record only if end + allowedLateness > W_before; a record no
 *   window takes is late (dropped, or written to the late topic). Sessions: a record's own window
 *   [ts, ts + gap) merges with the key's sessions it overlaps (touching ones stay apart) that
 *   are still open for it (end + lateness > W_before); it is late if the merged window is not.
 * - With lateness 0 every window emits once; with allowed lateness a window may re-fire, and
 *   the last result emitted for it is its final value.
 * - Window results are `{ key, start, end, value }` stamped end - 1. Count windows count by
 *   position within the key; full windows, plus the first incomplete one at the end if it
 *   holds a record no full window held.
 * - Order is promised per partition and per key in log order only, along one path of the
 *   graph. Where a key's records come from several partitions, from several inputs of a union
 *   (even copies of one record), or from several keys of an earlier keyBy, the arrival order at
 *   a keyed operator depends on batching: the reference then fixes only what does not depend
 *   on it (a running count; a running aggregate's number of updates and last value; sessions
 *   when no record can be late), and marks the rest as not determined.
 */
import { FILTERS, FLAT_MAPS, type Graph, KEYS, MAPS, processSplit, type Rec, reduceRecs, regroup, type SourceInput, type WindowAgg, type WindowShape } from './graph-model.ts';

/** A value on a stream with what the semantics attach to it. */
interface Item {
  value: unknown;
  /** Event time. */
  ts: number;
  /** Watermark of the item's source partition just before its record. */
  wb: number;
  key: unknown;
  /** The source partition the item's order follows, or a unique name when it follows none. */
  origin: string;
  /** Position within `origin`'s order. */
  seq: number;
}

/** What a node produces. `determined: false`: its items depend on batching, so nothing downstream is checked. */
interface Output {
  items: Item[];
  determined: boolean;
  side?: Item[];
  /** Running aggregates: per key. */
  rolling?: Map<string, KeyUpdates>;
  /** Windows: late items (undefined when not determined), finals, and whether each window emits once. */
  late?: Item[] | undefined;
  finals?: Map<string, unknown>;
  /** Every window held, fired or not (a session emitted early may lie inside one). */
  held?: Map<string, unknown>;
  /** The operator watermark the node reached. */
  watermark?: number;
  emitsOnce?: boolean;
  window?: WindowShape;
}

export interface KeyUpdates {
  count: number;
  last: unknown;
  /** The whole sequence of updates, when arrival order does not change it. */
  sequence?: unknown[];
}

export type Expectation =
  /** Exactly these values, as a multiset; `endOrder`: per key, window ends never go back. */
  | { kind: 'bag'; values: unknown[]; endOrder: boolean }
  /** Running aggregate updates per key (`keyOf` the JSON of the result's key). */
  | { kind: 'rolling'; keys: Map<string, KeyUpdates> }
  /**
   * The last result emitted for each fired window `key|start|end`. A session may also have emitted a
   * window later merged into one of `held`; a window past the watermark may have fired early
   * (a late record whose own partition is ahead fires what that partition completed).
   */
  | { kind: 'finals'; finals: Map<string, unknown>; held: Map<string, unknown>; session: boolean; watermark: number }
  | { kind: 'unchecked' };

/** JSON with object keys sorted: the identity of a value, whatever order its fields were written in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

export const windowName = (key: unknown, start: number, end: number): string => `${canonical(key)}|${start}|${end}`;

function groupByKey(items: Item[]): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const it of items) {
    const id = canonical(it.key);
    let list = groups.get(id);
    if (list === undefined) groups.set(id, (list = []));
    list.push(it);
  }
  return groups;
}

/** The items in their origin's order when they all follow one origin, else undefined. */
function inLogOrder(items: Item[]): Item[] | undefined {
  if (items.some((it) => it.origin !== items[0].origin)) return undefined;
  return [...items].sort((a, b) => a.seq - b.seq);
}

function sourceItems(input: SourceInput): Item[] {
  const items: Item[] = [];
  const maxSeen = new Map<number, number>();
  const position = new Map<number, number>();
  for (const { partition, rec } of input.records) {
    const max = maxSeen.get(partition) ?? Number.NEGATIVE_INFINITY;
    const seq = position.get(partition) ?? 0;
    items.push({ value: rec, ts: rec.ts, wb: max - input.bound, key: undefined, origin: `${input.topic}/${partition}`, seq });
    maxSeen.set(partition, Math.max(max, rec.ts));
    position.set(partition, seq + 1);
  }
  return items;
}

function rolling(items: Item[], agg: 'count' | 'sum' | 'max' | 'reduce'): Output {
  const keys = new Map<string, KeyUpdates>();
  const step = (acc: unknown, r: Rec): unknown => {
    if (acc === undefined) return agg === 'count' ? 1 : agg === 'reduce' ? r : r.v;
    if (agg === 'count') return (acc as number) + 1;
    if (agg === 'sum') return (acc as number) + r.v;
    if (agg === 'max') return Math.max(acc as number, r.v);
    return reduceRecs(acc as Rec, r);
  };
  let determined = true;
  for (const [id, group] of groupByKey(items)) {
    const ordered = inLogOrder(group) ?? group;
    const key = group[0].key;
    const sequence: unknown[] = [];
    let acc: unknown;
    for (const it of ordered) {
      acc = step(acc, it.value as Rec);
      sequence.push({ key, value: acc });
    }
    // A running count is 1, 2, ... n whatever the order; other aggregates only when the order is the log's.
    const fixed = agg === 'count' || inLogOrder(group) !== undefined;
    if (!fixed) determined = false;
    keys.set(id, { count: group.length, last: sequence[sequence.length - 1], ...(fixed ? { sequence } : {}) });
  }
  return { items: [], determined, rolling: keys };
}

function aggregate(agg: WindowAgg, values: Rec[]): unknown {
  switch (agg) {
    case 'count':
      return values.length;
    case 'sum':
      return values.reduce((s, r) => s + r.v, 0);
    case 'max':
      return Math.max(...values.map((r) => r.v));
    case 'squares':
      return values.reduce((s, r) => s + r.v * r.v, 0);
    case 'reduce':
      // reduceRecs is commutative and associative; a single record is its own result.
      return values.length === 1 ? values[0] : values.slice(1).reduce((a, b) => reduceRecs(a, b), values[0]);
  }
}

interface Window {
  key: unknown;
  start: number;
  end: number;
  members: Item[];
}

/** Windows of one key and its late items; undefined when they depend on arrival order. */
function timeWindows(shape: WindowShape, lateness: number, group: Item[]): { windows: Window[]; late: Item[] } | undefined {
  const key = group[0].key;
  const late: Item[] = [];
  const takes = (end: number, it: Item) => end + lateness > it.wb;
  if (shape.kind === 'tumbling' || shape.kind === 'hopping') {
    const size = shape.size;
    const slide = shape.kind === 'hopping' ? shape.slide : shape.size;
    const byStart = new Map<number, Window>();
    for (const it of group) {
      let took = false;
      // Every grid start s = offset + n * slide with s <= ts < s + size.
      const last = Math.floor((it.ts - shape.offset) / slide) * slide + shape.offset;
      for (let s = last; s > it.ts - size; s -= slide) {
        if (!takes(s + size, it)) continue;
        took = true;
        let w = byStart.get(s);
        if (w === undefined) byStart.set(s, (w = { key, start: s, end: s + size, members: [] }));
        w.members.push(it);
      }
      if (!took) late.push(it);
    }
    return { windows: [...byStart.values()], late };
  }
  if (shape.kind !== 'session') throw new Error(`not a time window: ${shape.kind}`);
  const gap = shape.gap;
  // No record can be late, and every overlapping session is open for every record: the sessions
  // are the connected components of the records' own windows, whatever the order.
  if (group.every((it) => it.ts + lateness >= it.wb)) {
    const sorted = [...group].sort((a, b) => a.ts - b.ts);
    const windows: Window[] = [];
    for (const it of sorted) {
      const current = windows[windows.length - 1];
      if (current !== undefined && it.ts < current.end) {
        current.end = Math.max(current.end, it.ts + gap);
        current.members.push(it);
      } else windows.push({ key, start: it.ts, end: it.ts + gap, members: [it] });
    }
    return { windows, late };
  }
  const ordered = inLogOrder(group);
  if (ordered === undefined) return undefined;
  let sessions: Window[] = [];
  for (const it of ordered) {
    const own = { start: it.ts, end: it.ts + gap };
    const merging = sessions.filter((s) => s.start < own.end && own.start < s.end && takes(s.end, it));
    const merged: Window = { key, start: own.start, end: own.end, members: [it] };
    for (const s of merging) {
      merged.start = Math.min(merged.start, s.start);
      merged.end = Math.max(merged.end, s.end);
      merged.members.push(...s.members);
    }
    if (!takes(merged.end, it)) {
      late.push(it);
      continue;
    }
    sessions = sessions.filter((s) => !merging.includes(s));
    sessions.push(merged);
  }
  return { windows: sessions, late };
}

function countWindows(shape: WindowShape & { kind: 'countTumbling' | 'countSliding' }, group: Item[], ended: boolean): Window[] {
  const size = shape.size;
  const slide = shape.kind === 'countSliding' ? shape.slide : shape.size;
  const n = group.length;
  const windows: Window[] = [];
  let start = 0;
  let covered = 0;
  for (; start + size <= n; start += slide) {
    windows.push({ key: group[0].key, start, end: start + size, members: group.slice(start, start + size) });
    covered = start + size;
  }
  if (ended && start < n && covered < n) windows.push({ key: group[0].key, start, end: n, members: group.slice(start, n) });
  return windows;
}

/** The windows of a window node; only those with end <= `watermark` have fired (all at the end of a bounded run). */
function window(items: Item[], node: Graph['nodes'][number] & { op: 'window' }, windowNode: number, inputDetermined: boolean, watermark: number): Output {
  const shape = node.window;
  const counting = shape.kind === 'countTumbling' || shape.kind === 'countSliding';
  const windows: Window[] = [];
  let late: Item[] | undefined = [];
  let determined = inputDetermined;
  for (const group of groupByKey(items).values()) {
    if (counting) {
      // Which records share a count window depends on arrival order; how many do not.
      const ordered = inLogOrder(group);
      if (ordered === undefined && node.agg !== 'count') determined = false;
      windows.push(...countWindows(shape, ordered ?? group, watermark === Number.POSITIVE_INFINITY));
      continue;
    }
    const result = timeWindows(shape, node.lateness, group);
    if (result === undefined) {
      determined = false;
      late = undefined;
      continue;
    }
    windows.push(...result.windows);
    late?.push(...result.late);
  }
  const finals = new Map<string, unknown>();
  const held = new Map<string, unknown>();
  const out: Item[] = [];
  windows.forEach((w, n) => {
    const value = { key: w.key, start: w.start, end: w.end, value: aggregate(node.agg, w.members.map((m) => m.value as Rec)) };
    held.set(windowName(w.key, w.start, w.end), value);
    if (!counting && w.end > watermark) return;
    finals.set(windowName(w.key, w.start, w.end), value);
    // On time for any later window: its watermark before the result is below `end`.
    out.push({ value, ts: w.end - 1, wb: Number.NEGATIVE_INFINITY, key: w.key, origin: `window${windowNode}/${n}`, seq: 0 });
  });
  const emitsOnce = counting || node.lateness === 0;
  return {
    items: out,
    // With allowed lateness, how often a window re-fires depends on batching: only its final value is fixed.
    determined: determined && emitsOnce,
    late: determined ? late : undefined,
    ...(determined ? { finals, held } : {}),
    emitsOnce,
    window: shape,
    watermark,
  };
}

/**
 * The watermark of each source after its records: the minimum over its partitions of
 * max(event time) - bound, -Infinity while a partition has no record; +Infinity at the end of a bounded run.
 */
function sourceWatermarks(sources: SourceInput[], ended: boolean): Map<string, number> {
  const marks = new Map<string, number>();
  for (const s of sources) {
    let min = Number.POSITIVE_INFINITY;
    for (let p = 0; p < s.partitions; p++) {
      const times = s.records.filter((r) => r.partition === p).map((r) => r.rec.ts);
      min = Math.min(min, times.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...times) - s.bound);
    }
    marks.set(s.topic, ended ? Number.POSITIVE_INFINITY : min);
  }
  return marks;
}

/**
 * What every sink topic (and late topic) of the graph must hold after the input `sources`:
 * at the end of a bounded run (`ended`), or once an unbounded run has processed it all, when each
 * operator's watermark is the minimum over the source partitions upstream of it.
 */
export function expectations(graph: Graph, sources: SourceInput[], ended = true): Map<string, Expectation> {
  const outputs: Output[] = [];
  const marks = sourceWatermarks(sources, ended);
  // The operator watermark of each node: the minimum over the sources upstream of it.
  const watermarks: number[] = [];
  graph.nodes.forEach((node, i) => {
    const inputs = node.op === 'source' ? [] : node.op === 'union' ? node.inputs : [node.input];
    watermarks[i] = node.op === 'source' ? marks.get(node.topic)! : Math.min(...inputs.map((j) => watermarks[j]));
  });
  const result = new Map<string, Expectation>();
  const stateless = (input: Output, f: (it: Item) => Item[]): Output => ({ items: input.items.flatMap(f), determined: input.determined });
  graph.nodes.forEach((node, i) => {
    switch (node.op) {
      case 'source':
        outputs[i] = { items: sourceItems(sources.find((s) => s.topic === node.topic)!), determined: true };
        break;
      case 'map':
        outputs[i] = stateless(outputs[node.input], (it) => [{ ...it, value: MAPS[node.fn](it.value as Rec) }]);
        break;
      case 'filter':
        outputs[i] = stateless(outputs[node.input], (it) => (FILTERS[node.fn](it.value as Rec) ? [it] : []));
        break;
      case 'flatMap':
        // Positions stay in order: the j-th output of a record sits between it and the next.
        outputs[i] = stateless(outputs[node.input], (it) => FLAT_MAPS[node.fn](it.value as Rec).map((value, j) => ({ ...it, value, seq: it.seq * 4 + j })));
        break;
      case 'union':
        // No order between a union's inputs, even for records of one source record (a diamond).
        outputs[i] = {
          items: node.inputs.flatMap((j, n) => outputs[j].items.map((it) => ({ ...it, origin: `${it.origin}|union${i}.${n}` }))),
          determined: node.inputs.every((j) => outputs[j].determined),
        };
        break;
      case 'keyBy':
        // Re-keying a keyed stream: records of one partition reach the new key's task from the
        // tasks of their old keys, so order holds only among records of one old key.
        outputs[i] = stateless(outputs[node.input], (it) => [
          { ...it, key: KEYS[node.fn](it.value as Rec), origin: it.key === undefined ? it.origin : `${it.origin}|key${canonical(it.key)}` },
        ]);
        break;
      case 'rolling': {
        const input = outputs[node.input];
        outputs[i] = input.determined ? rolling(input.items, node.agg) : { items: [], determined: false };
        break;
      }
      case 'window': {
        const w = window(outputs[node.input].items, node, i, outputs[node.input].determined, watermarks[i]);
        outputs[i] = w;
        if (node.lateTopic !== undefined) result.set(node.lateTopic, w.late === undefined ? { kind: 'unchecked' } : { kind: 'bag', values: w.late.map((it) => it.value), endOrder: false });
        break;
      }
      case 'process': {
        const input = outputs[node.input];
        const main: Item[] = [];
        const side: Item[] = [];
        for (const it of input.items) {
          const split = processSplit(it.value as Rec, it.key);
          if (split.main) main.push({ ...it, value: split.main });
          if (split.side) side.push({ ...it, value: split.side });
        }
        outputs[i] = { items: main, side, determined: input.determined };
        break;
      }
      case 'side':
        outputs[i] = { items: outputs[node.input].side ?? [], determined: outputs[node.input].determined };
        break;
      case 'regroup':
        outputs[i] = stateless(outputs[node.input], (it) => [{ ...it, value: regroup(it.value as { key: unknown; end: number; value: unknown }) }]);
        break;
      case 'sink': {
        const input = outputs[node.input];
        const from = graph.nodes[node.input];
        if (input.rolling !== undefined) result.set(node.topic, { kind: 'rolling', keys: input.rolling });
        else if (from.op === 'window' && !input.emitsOnce) {
          const { finals, held, watermark } = input;
          result.set(node.topic, finals && held ? { kind: 'finals', finals, held, session: from.window.kind === 'session', watermark: watermark! } : { kind: 'unchecked' });
        } else if (input.determined) result.set(node.topic, { kind: 'bag', values: input.items.map((it) => it.value), endOrder: from.op === 'window' });
        else result.set(node.topic, { kind: 'unchecked' });
        break;
      }
    }
  });
  return result;
}

