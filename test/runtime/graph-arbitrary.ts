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

function windowNode(input: number, a: number, b: number, index: number): { node: GraphNode; kind: Kind } {
  const window = windowShape(a, b);
  const counting = window.kind === 'countTumbling' || window.kind === 'countSliding';
  const lateness = !counting && (a >> 3) % 3 === 0 ? 1 + ((a >> 5) % 40) : 0;
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
  .record({ sources: fc.integer({ min: 1, max: 2 }), steps: fc.array(stepArb, { minLength: 1, maxLength: 12 }) })
  .map(({ sources, steps }) => graphFromSteps(sources, steps));

const KEY_NAMES = ['a', 'b', 'c', 'd', 'e'] as const;

/**
 * One source's input: records spread over 2-4 partitions (at random, or by key so that each key
 * stays in one partition), event times out of order. Late-free input keeps every record within
 * the watermark bound of its partition (ts >= max seen - bound), so no window sees it late.
 */
export function sourceArb(topic: string, firstId: number): fc.Arbitrary<SourceInput> {
  return fc
    .record({
      partitions: fc.integer({ min: 2, max: 4 }),
      bound: fc.integer({ min: 0, max: 30 }),
      lateFree: fc.boolean(),
      byKey: fc.boolean(),
      raw: fc.array(fc.record({ p: fc.nat(3), k: fc.nat(KEY_NAMES.length - 1), v: fc.integer({ min: -20, max: 20 }), d: fc.integer({ min: -80, max: 25 }) }), { maxLength: 40 }),
    })
    .map(({ partitions, bound, lateFree, byKey, raw }) => {
      const maxSeen = new Map<number, number>();
      const records = raw.map(({ p, k, v, d }, i) => {
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
