/**
 * Runs a two-source pipeline on the public test kit, either straight (one bounded run) or with
 * a checkpoint and restore: the input up to a cut point is processed by an unbounded run that
 * is stopped once its group has committed every offset, then a new app on the same log
 * restores from that checkpoint and processes the rest in a bounded run (as graph-run.ts does).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Guarantee, jsonCodec, type Sluice } from '../../src/index.ts';
import { type OutputRecord, TestKit } from '../../src/testing/index.ts';
import type { SideInput } from './join-reference.ts';

export const APP = 'joins';

export interface JoinRunPlan {
  batchSize: number;
  guarantee: Guarantee;
  state: 'memory' | 'lmdb';
  /** Per source, how many of its records the first, unbounded run sees; absent: a straight run. */
  cut?: number[];
}

export interface JoinRunOutput {
  topics: Map<string, OutputRecord[]>;
  /** Late records over both runs (RunSummary.late). */
  late: number;
}

async function append(kit: TestKit, source: SideInput, from: number, to: number): Promise<void> {
  const records = source.records.slice(from, to).map(({ partition, rec }) => ({ key: null, value: jsonCodec.encode(rec), timestamp: 0, partition }));
  if (records.length === 0) return;
  const writer = await kit.backend.openWriter();
  await writer.send(source.topic, records);
  await writer.close();
}

async function committedAll(kit: TestKit, sources: SideInput[]): Promise<boolean> {
  for (const s of sources) {
    const ends = await kit.backend.endOffsets(s.topic);
    const committed = await kit.backend.committedOffsets(APP, s.topic);
    for (let p = 0; p < s.partitions; p++) if ((committed.get(p) ?? 0) !== ends[p]) return false;
  }
  return true;
}

/** A hang guard: each step yields to the event loop, where the unbounded run waits for data. */
const MAX_WAIT_STEPS = 50_000;

export async function runJoin(build: (app: Sluice) => void, sources: SideInput[], plan: JoinRunPlan, topics: string[]): Promise<JoinRunOutput> {
  const kit = new TestKit();
  const dataDir = plan.state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-joins-')) : undefined;
  for (const s of sources) await kit.backend.ensureTopic(s.topic, s.partitions);
  const app = () => {
    const a = kit.app({ name: APP, checkpointInterval: 1, guarantee: plan.guarantee, state: plan.state, ...(dataDir ? { dataDir } : {}) });
    build(a);
    return a;
  };
  let late = 0;
  try {
    const cut = plan.cut;
    if (cut !== undefined && cut.some((c) => c > 0)) {
      for (const [i, s] of sources.entries()) await append(kit, s, 0, cut[i]);
      const first = app();
      const running = first.run({ batchSize: plan.batchSize });
      let failed: unknown;
      running.catch((error: unknown) => {
        failed = error;
      });
      let steps = 0;
      while (!(await committedAll(kit, sources))) {
        if (failed !== undefined) throw failed;
        if (++steps > MAX_WAIT_STEPS) throw new Error('the first run did not commit all its input');
        kit.clock.advance(1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      first.stop();
      late += (await running).late;
    }
    for (const [i, s] of sources.entries()) await append(kit, s, cut?.[i] ?? 0, s.records.length);
    late += (await app().run({ bounded: true, batchSize: plan.batchSize })).late;
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return { topics: new Map(topics.map((t) => [t, kit.backend.hasTopic(t) ? kit.records(t) : []])), late };
}
