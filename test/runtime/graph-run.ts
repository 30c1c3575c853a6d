/**
 * Runs a random graph (graph-model.ts) on the public test kit: the input up to a cut point is
 * processed by an unbounded run that is stopped once its group has committed every offset
 * (a checkpoint with live watermarks and open windows); a new app on the same log then restores
 * from that checkpoint and processes the rest in a bounded run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Duration, type Guarantee, jsonCodec, type KeyedStream, type Sluice, type Stream, Windows, type WindowSpec } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';
import { FILTERS, FLAT_MAPS, type Graph, type GraphNode, KEYS, MAPS, processSplit, type Rec, reduceRecs, regroup, type SourceInput, type WindowShape } from './graph-model.ts';

export const APP = 'graph';

function windowSpec(w: WindowShape): WindowSpec {
  switch (w.kind) {
    case 'tumbling':
      return Windows.tumbling(w.size, { offset: w.offset as Duration });
    case 'hopping':
      return Windows.hopping(w.size, w.slide, { offset: w.offset as Duration });
    case 'session':
      return Windows.session(w.gap);
    case 'countTumbling':
      return Windows.countTumbling(w.size);
    case 'countSliding':
      return Windows.countSliding(w.size, w.slide);
  }
}

/** The pipeline of `graph` on `app`, through the public DSL only. */
export function build(app: Sluice, graph: Graph, sources: SourceInput[]): void {
  const streams: (Stream<any> | undefined)[] = [];
  const bounds = new Map(sources.map((s) => [s.topic, s.bound]));
  const keyed = (i: number) => streams[i] as KeyedStream<unknown, Rec>;
  graph.nodes.forEach((node: GraphNode, i) => {
    switch (node.op) {
      case 'source':
        streams[i] = app.stream<Rec>(node.topic, { timestamp: (r) => r.ts, watermark: bounds.get(node.topic)! });
        break;
      case 'map':
        streams[i] = streams[node.input]!.map(MAPS[node.fn]);
        break;
      case 'filter':
        streams[i] = streams[node.input]!.filter(FILTERS[node.fn]);
        break;
      case 'flatMap':
        streams[i] = streams[node.input]!.flatMap(FLAT_MAPS[node.fn]);
        break;
      case 'union': {
        const [first, ...rest] = node.inputs.map((j) => streams[j]!);
        streams[i] = first.union(...rest);
        break;
      }
      case 'keyBy':
        streams[i] = streams[node.input]!.keyBy(KEYS[node.fn]);
        break;
      case 'rolling': {
        // A running aggregate is a table; its changelog as { key, value } per update is what the reference models.
        const k = keyed(node.input);
        const table = node.agg === 'count' ? k.count() : node.agg === 'sum' ? k.sum((r) => r.v) : node.agg === 'max' ? k.max((r) => r.v) : k.reduce(reduceRecs);
        streams[i] = (table.toStream() as Stream<{ key: unknown; value: unknown }>).map(({ key, value }) => ({ key, value }));
        break;
      }
      case 'window': {
        let w = keyed(node.input).window(windowSpec(node.window));
        if (node.lateness > 0) w = w.allowedLateness(node.lateness);
        if (node.lateTopic !== undefined) w = w.sideOutputLateData(node.lateTopic);
        if (node.agg === 'count') streams[i] = w.count();
        else if (node.agg === 'sum') streams[i] = w.sum((r) => r.v);
        else if (node.agg === 'max') streams[i] = w.max((r) => r.v);
        else if (node.agg === 'reduce') streams[i] = w.reduce(reduceRecs);
        else streams[i] = w.aggregate(() => 0, (_key, r, acc) => acc + r.v * r.v);
        break;
      }
      case 'process':
        streams[i] = keyed(node.input).process<Rec>({
          processElement(r, ctx) {
            const { main, side } = processSplit(r, ctx.key);
            if (main) ctx.emit(main);
            if (side) ctx.output('odd', side);
          },
        });
        break;
      case 'side':
        streams[i] = streams[node.input]!.sideOutput(node.tag);
        break;
      case 'regroup':
        streams[i] = streams[node.input]!.map(regroup);
        break;
      case 'sink':
        streams[node.input]!.to(node.topic);
        break;
    }
  });
}

async function append(kit: TestKit, source: SourceInput, from: number, to: number): Promise<void> {
  const records = source.records.slice(from, to).map(({ partition, rec }) => ({ key: null, value: jsonCodec.encode(rec), timestamp: 0, partition }));
  if (records.length === 0) return;
  const writer = await kit.backend.openWriter();
  await writer.send(source.topic, records);
  await writer.close();
}

/**
 * Steps of the manual clock allowed for the first run to commit everything: each step yields to
 * the event loop's timers (the run waits for new data on one), so this is a hang guard, not a deadline.
 */
const MAX_WAIT_STEPS = 50_000;

async function committedAll(kit: TestKit, sources: SourceInput[]): Promise<boolean> {
  for (const s of sources) {
    const ends = await kit.backend.endOffsets(s.topic);
    const committed = await kit.backend.committedOffsets(APP, s.topic);
    for (let p = 0; p < s.partitions; p++) if ((committed.get(p) ?? 0) !== ends[p]) return false;
  }
  return true;
}

export interface RunPlan {
  batchSize: number;
  /** With a clean stop, every guarantee gives the same output. */
  guarantee: Guarantee;
  /** Keyed state on the heap (checkpointed into a topic) or in lmdb files (its own checkpoints). */
  state: 'memory' | 'lmdb';
  /** Per source, how many of its records (in `records` order) the first, unbounded run sees. */
  cut: number[];
}

export interface GraphOutput {
  /** What the topics held when the first run stopped (absent when it saw no input). */
  first?: Map<string, unknown[]>;
  /** What they hold at the end. */
  last: Map<string, unknown[]>;
}

/** Every sink topic's values, in partition then offset order, after the first run and at the end. */
export async function runGraph(graph: Graph, sources: SourceInput[], plan: RunPlan, topics: string[]): Promise<GraphOutput> {
  const kit = new TestKit();
  const dataDir = plan.state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-graph-')) : undefined;
  const read = () => new Map(topics.map((t) => [t, kit.output(t)]));
  let first: Map<string, unknown[]> | undefined;
  for (const s of sources) await kit.backend.ensureTopic(s.topic, s.partitions);
  const app = () => {
    const a = kit.app({ name: APP, checkpointInterval: 1, guarantee: plan.guarantee, state: plan.state, ...(dataDir ? { dataDir } : {}) });
    build(a, graph, sources);
    return a;
  };
  if (plan.cut.some((c) => c > 0)) {
    for (const [i, s] of sources.entries()) await append(kit, s, 0, plan.cut[i]);
    const app1 = app();
    const running = app1.run({ batchSize: plan.batchSize });
    let failed: unknown;
    running.catch((error: unknown) => {
      failed = error;
    });
    // Each step moves the manual clock past the checkpoint interval and lets the run go on.
    let steps = 0;
    while (!(await committedAll(kit, sources))) {
      if (failed !== undefined) throw failed;
      if (++steps > MAX_WAIT_STEPS) throw new Error('the first run did not commit all its input');
      kit.clock.advance(1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    app1.stop();
    await running;
    first = read();
  }
  for (const [i, s] of sources.entries()) await append(kit, s, plan.cut[i], s.records.length);
  try {
    await app().run({ bounded: true, batchSize: plan.batchSize });
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return { ...(first ? { first } : {}), last: read() };
}
