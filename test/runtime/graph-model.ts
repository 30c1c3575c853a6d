/**
 * A random pipeline graph as plain data, and the user functions its stages call. The property
 * test builds a Sluice pipeline from it (graph-run.ts) and the reference interprets it
 * (graph-reference.ts); both call the same user functions, nothing else is shared.
 *
 * Values on record streams are `Rec`s. User functions never change their argument: a map
 * returns a new object, so a branch that sees another branch's output shows a runtime bug.
 */

/** A record of a source topic (and, after maps, a record derived from one). */
export interface Rec {
  id: number;
  k: string;
  v: number;
  ts: number;
  [extra: string]: unknown;
}

export const MAPS = {
  addV: (r: Rec): Rec => ({ ...r, v: r.v + 7 }),
  negV: (r: Rec): Rec => ({ ...r, v: -r.v }),
  // Injective: keeps the keys of a keyBy on `k` apart.
  rekey: (r: Rec): Rec => ({ ...r, k: `${r.k}x` }),
  reshape: (r: Rec): Rec => ({ id: r.id, k: r.k, v: r.v * 2, ts: r.ts, hop: Number(r.hop ?? 0) + 1 }),
} as const;

export const FILTERS = {
  evenV: (r: Rec): boolean => r.v % 2 === 0,
  positiveV: (r: Rec): boolean => r.v > 0,
  notA: (r: Rec): boolean => !r.k.startsWith('a'),
} as const;

export const FLAT_MAPS = {
  dup: (r: Rec): Rec[] => [r, { ...r, v: r.v + 100, dup: true }],
  dropThirds: (r: Rec): Rec[] => (r.id % 3 === 0 ? [] : [r]),
} as const;

export const KEYS = {
  k: (r: Rec): unknown => r.k,
  // Negative values give negative keys, and -3 % 3 is -0.
  vMod3: (r: Rec): unknown => r.v % 3,
  // The number 1 and the string '1' are different keys.
  oneOrOneStr: (r: Rec): unknown => (r.v % 2 === 0 ? 1 : '1'),
} as const;

/** Commutative and associative, so a window's or key's final value does not depend on arrival order. */
export function reduceRecs(a: Rec, b: Rec): Rec {
  return { id: Math.min(a.id, b.id), k: a.k < b.k ? a.k : b.k, v: a.v + b.v, ts: Math.max(a.ts, b.ts) };
}

export type MapFn = keyof typeof MAPS;
export type FilterFn = keyof typeof FILTERS;
export type FlatMapFn = keyof typeof FLAT_MAPS;
export type KeyFn = keyof typeof KEYS;
export type RollingAgg = 'count' | 'sum' | 'max' | 'reduce';
/** `squares` is the user fold `aggregate(() => 0, (key, r, acc) => acc + r.v * r.v)` (no merge, so not on sessions). */
export type WindowAgg = 'count' | 'sum' | 'max' | 'reduce' | 'squares';

export type WindowShape =
  | { kind: 'tumbling'; size: number; offset: number }
  | { kind: 'hopping'; size: number; slide: number; offset: number }
  | { kind: 'session'; gap: number }
  | { kind: 'countTumbling'; size: number }
  | { kind: 'countSliding'; size: number; slide: number };

/** Nodes refer to their inputs by index in `Graph.nodes`; inputs always come earlier. */
export type GraphNode =
  | { op: 'source'; topic: string }
  | { op: 'map'; input: number; fn: MapFn }
  | { op: 'filter'; input: number; fn: FilterFn }
  | { op: 'flatMap'; input: number; fn: FlatMapFn }
  | { op: 'union'; inputs: number[] }
  | { op: 'keyBy'; input: number; fn: KeyFn }
  | { op: 'rolling'; input: number; agg: RollingAgg }
  | { op: 'window'; input: number; window: WindowShape; lateness: number; lateTopic?: string; agg: WindowAgg }
  /** A keyed process function: even values go on (with the key as `pk`), odd ones to the side output 'odd'. */
  | { op: 'process'; input: number }
  | { op: 'side'; input: number; tag: 'odd' }
  /** Window results back to records, for a second level of keying: `{ id: -1, k, v, ts: end - 1 }`. */
  | { op: 'regroup'; input: number }
  | { op: 'sink'; input: number; topic: string };

export interface Graph {
  nodes: GraphNode[];
}

export interface SourceInput {
  topic: string;
  partitions: number;
  /** Out-of-orderness bound of the source's watermark, ms. */
  bound: number;
  /** Records in log order per partition. */
  records: { partition: number; rec: Rec }[];
}

export function processSplit(r: Rec, key: unknown): { main?: Rec; side?: Rec } {
  return r.v % 2 === 0 ? { main: { ...r, pk: key } } : { side: r };
}

export function regroup(result: { key: unknown; end: number; value: unknown }): Rec {
  const value = result.value;
  const v = typeof value === 'number' ? value : value !== null && typeof value === 'object' ? Number((value as Rec).v) : 0;
  return { id: -1, k: String(result.key), v, ts: result.end - 1 };
}

/** The graph in one line per node, for counterexamples. */
export function describe(graph: Graph): string {
  return graph.nodes.map((n, i) => `${i}: ${JSON.stringify(n)}`).join('\n');
}
