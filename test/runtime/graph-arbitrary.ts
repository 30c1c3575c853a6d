/**
 * fast-check generators of random graphs (graph-model.ts) and their input. A graph grows step by
 * step: each step picks any stream built so far (so streams fan out, up to 4 consumers) and
 * applies a stage its type allows; every stream nobody reads ends in `.to('out-N')`.
 *
 * What each kind of stream may feed keeps the graph within what the reference can pin down:
 * running aggregates, windows with allowed lateness and count windows only feed sinks (their
 * updates depend on arrival order or re-fire a batching-dependent number of times); results of
 * time windows without lateness may be turned back into records and keyed again.
 */
import fc from 'fast-check';
import { FILTERS, FLAT_MAPS, type Graph, type GraphNode, KEYS, MAPS, type Rec, type RollingAgg, type SourceInput, type WindowAgg, type WindowShape } from './graph-model.ts';

type Kind = 'rec' | 'keyed' | 'process' | 'rolling' | 'window' | 'final-only';

const MAX_CONSUMERS = 4;
const pickOf = <T>(list: readonly T[], n: number): T => list[n % list.length];

interface Step {
  pick: number;
  op: number;
  a: number;
  b: number;
}

function windowShape(a: number, b: number): WindowShape {
  switch (a % 5) {
    case 0: {
      const size = 5 + (b % 36);
      return { kind: 'tumbling', size, offset: (b >> 6) % size };
    }
    case 1: {
      const slide = 3 + (b % 15);
      return { kind: 'hopping', size: slide + ((b >> 4) % 25), slide, offset: (b >> 9) % slide };
    }
    case 2:
      return { kind: 'session', gap: 2 + (b % 25) };
    case 3:
      return { kind: 'countTumbling', size: 1 + (b % 4) };
    default: {
      const size = 2 + (b % 3);
      return { kind: 'countSliding', size, slide: 1 + ((b >> 3) % size) };
    }
  }
}

/** Rounds a time parameter up to a multiple of 5: with coarse input times, boundaries coincide often. */
const coarse = (ms: number): number => Math.ceil(ms / 5) * 5;

function coarseShape(w: WindowShape): WindowShape {
  switch (w.kind) {
    case 'tumbling':
      return { ...w, size: coarse(w.size), offset: coarse(w.offset) % coarse(w.size) };
    case 'hopping': {
      const slide = coarse(w.slide);
      return { ...w, size: Math.max(slide, coarse(w.size)), slide, offset: coarse(w.offset) % slide };
    }
    case 'session':
      return { ...w, gap: coarse(w.gap) };
    default:
      return w;
  }
}

/** A window stage from random bits; `timeOnly` leaves out count windows, `onGrid` forces the 5 ms grid. */
function windowNode(input: number, a: number, b: number, index: number, options: { timeOnly?: boolean; onGrid?: boolean } = {}): { node: GraphNode; kind: Kind } {
  const onGrid = options.onGrid || ((a >> 11) & 1) === 1;
  const shape = windowShape(options.timeOnly ? a - (a % 5) + (a % 3) : a, b);
  const window = onGrid ? coarseShape(shape) : shape;
  const counting = window.kind === 'countTumbling' || window.kind === 'countSliding';
  const lateness = !counting && (a >> 3) % 3 === 0 ? (onGrid ? coarse : (n: number) => n)(1 + ((a >> 5) % 40)) : 0;
  const lateTopic = !counting && (a >> 4) % 2 === 0 ? `late-${index}` : undefined;
  const aggs: WindowAgg[] = counting ? ['count', 'count', 'count', 'sum'] : window.kind === 'session' ? ['count', 'sum', 'max', 'reduce'] : ['count', 'sum', 'max', 'reduce', 'squares'];
  const node: GraphNode = { op: 'window', input, window, lateness, agg: pickOf(aggs, a >> 7), ...(lateTopic ? { lateTopic } : {}) };
  return { node, kind: counting || lateness > 0 ? 'final-only' : 'window' };
}

/** Interprets random steps as a graph over 1 or 2 sources. */
export function graphFromSteps(sources: number, steps: Step[]): Graph {
  const nodes: GraphNode[] = [];
  const kinds: Kind[] = [];
  const consumers: number[] = [];
  const add = (node: GraphNode, kind: Kind) => {
    nodes.push(node);
    kinds.push(kind);
    consumers.push(0);
    for (const input of node.op === 'union' ? node.inputs : node.op === 'source' ? [] : [node.input]) consumers[input]++;
  };
  for (let s = 0; s < sources; s++) add({ op: 'source', topic: `in-${s}` }, 'rec');
  for (const { pick, op, a, b } of steps) {
    const open = nodes.map((_, i) => i).filter((i) => consumers[i] < MAX_CONSUMERS && kinds[i] !== 'rolling' && kinds[i] !== 'final-only');
    if (open.length === 0) break;
    const input = pickOf(open, pick);
    const kind = kinds[input];
    const recLike = kind === 'rec' || kind === 'keyed' || kind === 'process';
    const choices: string[] = [];
    // A keyed stream mostly feeds what needs a key; other streams are keyed often, so graphs reach windows.
    if (kind === 'keyed') choices.push('rolling', 'rolling', 'window', 'window', 'window', 'window', 'window', 'window', 'process', 'map', 'filter', 'flatMap', 'union');
    else if (recLike) choices.push('map', 'filter', 'flatMap', 'keyBy', 'keyBy', 'keyBy', 'union');
    if (kind === 'process' && !nodes.some((n) => n.op === 'side' && n.input === input)) choices.push('side');
    if (kind === 'window') choices.push('regroup');
    if (choices.length === 0) continue;
    const choice = pickOf(choices, op);
    switch (choice) {
      case 'map':
        add({ op: 'map', input, fn: pickOf(Object.keys(MAPS) as (keyof typeof MAPS)[], a) }, 'rec');
        break;
      case 'filter':
        add({ op: 'filter', input, fn: pickOf(Object.keys(FILTERS) as (keyof typeof FILTERS)[], a) }, 'rec');
        break;
      case 'flatMap':
        add({ op: 'flatMap', input, fn: pickOf(Object.keys(FLAT_MAPS) as (keyof typeof FLAT_MAPS)[], a) }, 'rec');
        break;
      case 'keyBy':
        add({ op: 'keyBy', input, fn: pickOf(Object.keys(KEYS) as (keyof typeof KEYS)[], a) }, 'keyed');
        break;
      case 'union': {
        const others = nodes.map((_, i) => i).filter((i) => i !== input && consumers[i] < MAX_CONSUMERS && (kinds[i] === 'rec' || kinds[i] === 'keyed' || kinds[i] === 'process'));
        if (others.length === 0) continue;
        add({ op: 'union', inputs: [input, pickOf(others, b)] }, 'rec');
        break;
      }
      case 'rolling':
        add({ op: 'rolling', input, agg: pickOf<RollingAgg>(['count', 'sum', 'max', 'reduce'], a) }, 'rolling');
        break;
      case 'window': {
        const { node, kind: k } = windowNode(input, a, b, nodes.length);
        add(node, k);
        break;
      }
      case 'process':
        add({ op: 'process', input }, 'process');
        break;
      case 'side':
        add({ op: 'side', input, tag: 'odd' }, 'rec');
        break;
      case 'regroup':
        add({ op: 'regroup', input }, 'rec');
        break;
    }
  }
  // Every stream nobody reads goes to a topic; a source nobody reads gets one too.
  const leaves = nodes.map((_, i) => i).filter((i) => consumers[i] === 0);
  for (const i of leaves) add({ op: 'sink', input: i, topic: `out-${i}` }, 'rec');
  return { nodes };
}

const stepArb = fc.record({ pick: fc.nat(1 << 12), op: fc.nat(1 << 12), a: fc.nat(1 << 12), b: fc.nat(1 << 12) });

export const graphArb: fc.Arbitrary<Graph> = fc
  .record({ sources: fc.integer({ min: 1, max: 2 }), steps: fc.array(stepArb, { minLength: 1, maxLength: 14 }) })
  .map(({ sources, steps }) => graphFromSteps(sources, steps));

/**
 * Late data in keyed time windows: one source whose keys each stay in one partition, stateless
 * stages that keep keys apart, a keyBy on the key, and 1-4 windows with lateness, some with
 * allowed lateness and late side outputs. Each key's records reach its windows in log order, so
 * the reference fixes every result, sessions included.
 */
export const lateGraphArb: fc.Arbitrary<Graph> = fc
  .record({
    pre: fc.array(fc.constantFrom<GraphNode['op'] & string>('map', 'filter'), { maxLength: 2 }),
    fns: fc.array(fc.nat(1 << 12), { minLength: 2, maxLength: 2 }),
    windows: fc.array(fc.record({ a: fc.nat(1 << 12), b: fc.nat(1 << 12) }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ pre, fns, windows }) => {
    const nodes: GraphNode[] = [{ op: 'source', topic: 'in-0' }];
    pre.forEach((op, j) => {
      const input = nodes.length - 1;
      if (op === 'map') nodes.push({ op: 'map', input, fn: pickOf(['addV', 'negV', 'rekey'] as const, fns[j]) });
      else nodes.push({ op: 'filter', input, fn: pickOf(['evenV', 'positiveV', 'notA'] as const, fns[j]) });
    });
    nodes.push({ op: 'keyBy', input: nodes.length - 1, fn: 'k' });
    const keyed = nodes.length - 1;
    for (const { a, b } of windows) {
      const { node } = windowNode(keyed, a, b, nodes.length, { timeOnly: true, onGrid: true });
      nodes.push(node);
    }
    for (let i = keyed + 1, n = nodes.length; i < n; i++) nodes.push({ op: 'sink', input: i, topic: `out-${i}` });
    return { nodes };
  });

const KEY_NAMES = ['a', 'b', 'c', 'd', 'e'] as const;

/**
 * One source's input: records spread over 2-4 partitions (at random, or by key so that each key
 * stays in one partition), event times out of order. Late-free input keeps every record within
 * the watermark bound of its partition (ts >= max seen - bound), so no window sees it late.
 */
export function sourceArb(topic: string, firstId: number, options: { late?: boolean } = {}): fc.Arbitrary<SourceInput> {
  return fc
    .record({
      partitions: fc.integer({ min: 2, max: 4 }),
      bound: fc.integer({ min: 0, max: 30 }),
      lateFree: options.late ? fc.constant(false) : fc.boolean(),
      byKey: options.late ? fc.constant(true) : fc.boolean(),
      coarse: options.late ? fc.constant(true) : fc.boolean(),
      // Late data: fewer keys, so each key's windows and sessions meet more records.
      raw: fc.array(fc.record({ p: fc.nat(3), k: fc.nat(options.late ? 2 : KEY_NAMES.length - 1), v: fc.integer({ min: -20, max: 20 }), d: fc.integer({ min: -80, max: 25 }) }), { maxLength: 50 }),
    })
    .map(({ partitions, bound: anyBound, lateFree, byKey, coarse, raw }) => {
      // Coarse input: times and bound on a 5 ms grid, so records often sit exactly on window and watermark boundaries.
      const grid = (ms: number) => (coarse ? ms - (ms % 5) : ms);
      const bound = grid(anyBound);
      const maxSeen = new Map<number, number>();
      const records = raw.map(({ p, k, v, d: anyD }, i) => {
        const d = grid(anyD);
        const partition = (byKey ? k : p) % partitions;
        const max = maxSeen.get(partition);
        const ts = max === undefined ? 1000 + d : max + (lateFree ? Math.max(d, -bound) : d);
        maxSeen.set(partition, Math.max(max ?? ts, ts));
        const rec: Rec = { id: firstId + i, k: KEY_NAMES[k], v, ts };
        return { partition, rec };
      });
      return { topic, partitions, bound, records };
    });
}

/** The graph's sink and late topics. */
export function outputTopics(graph: Graph): string[] {
  const topics: string[] = [];
  for (const n of graph.nodes) {
    if (n.op === 'sink') topics.push(n.topic);
    if (n.op === 'window' && n.lateTopic !== undefined) topics.push(n.lateTopic);
  }
  return topics;
}
