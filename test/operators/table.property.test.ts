// Tables and their joins against a brute-force reference (table-reference.ts, which imports
// nothing from src): random keyed changelogs with tombstones and random clicks, out of order
// within the watermark bound, over 1-3 partitions, at random batch sizes, with a checkpoint and
// restore at a random point (memory and lmdb state). Checked: a versioned table's compacted
// changelog, a stream-table left join at event time (each click joins the version valid at its
// time), a table-table outer join's final rows, and a running count.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonCodec, utf8 } from "../../src/core/index.ts";
import type { Sluice as App } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';
import { compacted, joinedRows, latestRows, rowAt, type TableRecord } from './table-reference.ts';

const BOUND = 5;
const KEYS = ['a', 'b', 'c', 'd'];

interface Placed<V> extends TableRecord<V> {
  partition: number;
}

interface Case {
  partitions: number;
  users: Placed<{ v: number }>[];
  scores: Placed<{ s: number }>[];
  clicks: { id: number; user: string; time: number; partition: number }[];
  batchSize: number;
  state: 'memory' | 'lmdb';
  cuts: [number, number, number];
}

/** Log-ordered records per partition whose times rise by 0-3 plus a jitter below the bound: out of order, never late. */
function timed<T>(items: T[], partitions: number, place: (item: T, i: number) => number): { item: T; time: number; partition: number }[] {
  const base = Array.from({ length: partitions }, () => 0);
  return items.map((item, i) => {
    const partition = place(item, i);
    const [step, jitter] = (item as { _t: [number, number] })._t;
    base[partition] += step;
    return { item, time: base[partition] + jitter, partition };
  });
}

const tArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: BOUND - 1 }));

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    partitions: fc.integer({ min: 1, max: 3 }),
    users: fc.array(fc.record({ key: fc.constantFrom(...KEYS), v: fc.option(fc.integer({ min: 0, max: 99 }), { freq: 4 }), _t: tArb }), { maxLength: 25 }),
    scores: fc.array(fc.record({ key: fc.constantFrom(...KEYS), v: fc.option(fc.integer({ min: 0, max: 99 }), { freq: 4 }), _t: tArb }), { maxLength: 15 }),
    clicks: fc.array(fc.record({ user: fc.constantFrom(...KEYS, 'z'), p: fc.nat(), _t: tArb }), { maxLength: 30 }),
    batchSize: fc.integer({ min: 1, max: 12 }),
    state: fc.constantFrom<'memory' | 'lmdb'>('memory', 'memory', 'lmdb'),
    cuts: fc.tuple(fc.nat(), fc.nat(), fc.nat()),
  })
  .map(({ partitions, users, scores, clicks, batchSize, state, cuts }) => {
    const byKey = (r: { key: string }) => KEYS.indexOf(r.key) % partitions;
    const table = <V>(rows: typeof users, wrap: (v: number) => V): Placed<V>[] =>
      timed(rows, partitions, byKey).map(({ item, time, partition }) => ({ key: item.key, value: item.v === null ? null : wrap(item.v), time, partition }));
    return {
      partitions,
      users: table(users, (v) => ({ v })),
      scores: table(scores, (s) => ({ s })),
      clicks: timed(clicks, partitions, (c) => c.p % partitions).map(({ item, time, partition }, id) => ({ id, user: item.user, time, partition })),
      batchSize,
      state,
      cuts: [cuts[0] % (users.length + 1), cuts[1] % (scores.length + 1), cuts[2] % (clicks.length + 1)] as [number, number, number],
    };
  });

function pipeline(app: App): void {
  const users = app.table<{ v: number }>('users', { versions: '1d', watermark: BOUND });
  const scores = app.table<{ s: number }>('scores', { watermark: BOUND });
  users.to('users-out');
  users.outerJoin(scores, (u, s) => ({ v: u?.v ?? null, s: s?.s ?? null }), { name: 'both' }).to('both-out');
  const clicks = app.stream<{ id: number; user: string }>('clicks', { watermark: BOUND });
  clicks.keyBy((c) => c.user).leftJoin(users, (c, u) => ({ id: c.id, v: u?.v ?? null })).to('joined');
  clicks.keyBy((c) => c.user).count({ name: 'clicks-per-user' }).to('counts');
}

async function append(kit: TestKit, topic: string, records: { key: string | null; value: unknown; time: number; partition: number }[]): Promise<void> {
  if (records.length === 0) return;
  const writer = await kit.backend.openWriter();
  await writer.send(
    topic,
    records.map((r) => ({ key: r.key === null ? null : utf8(r.key), value: r.value === null ? null : jsonCodec.encode(r.value), timestamp: r.time, partition: r.partition })),
  );
  await writer.close();
}

async function run(c: Case): Promise<TestKit> {
  const kit = new TestKit();
  const dataDir = c.state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-tables-prop-')) : undefined;
  const options = { name: 'tables', checkpointInterval: 1, ...(dataDir ? { dataDir, state: c.state, guarantee: 'at-least-once' as const } : {}) };
  const topics = ['users', 'scores', 'clicks'] as const;
  const records = [c.users, c.scores, c.clicks.map((k) => ({ key: null, value: { id: k.id, user: k.user }, time: k.time, partition: k.partition }))];
  for (const t of topics) await kit.backend.ensureTopic(t, c.partitions);
  try {
    if (c.cuts.some((n) => n > 0)) {
      for (const [i, t] of topics.entries()) await append(kit, t, records[i].slice(0, c.cuts[i]));
      const first = kit.app(options);
      pipeline(first);
      const running = first.run({ batchSize: c.batchSize });
      let failed: unknown;
      running.catch((error: unknown) => {
        failed = error;
      });
      for (let steps = 0; !(await committedAll(kit, topics)); steps++) {
        if (failed !== undefined) throw failed;
        if (steps > 50_000) throw new Error('the first run did not commit its input');
        kit.clock.advance(1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      first.stop();
      await running;
    }
    for (const [i, t] of topics.entries()) await append(kit, t, records[i].slice(c.cuts[i]));
    const second = kit.app(options);
    pipeline(second);
    await second.run({ bounded: true, batchSize: c.batchSize });
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return kit;
}

async function committedAll(kit: TestKit, topics: readonly string[]): Promise<boolean> {
  for (const t of topics) {
    const ends = await kit.backend.endOffsets(t);
    const committed = await kit.backend.committedOffsets('tables', t);
    for (let p = 0; p < ends.length; p++) if ((committed.get(p) ?? 0) !== ends[p]) return false;
  }
  return true;
}

const sortBy = <T>(xs: T[]): string[] => xs.map((x) => JSON.stringify(x)).sort();

void test('tables and table joins agree with a brute-force reference, across batching and a restore', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const kit = await run(c);
      // The latest version by event time (the last in log order among equal times) per key.
      const current = new Map<string, { v: number }>();
      for (const key of KEYS) {
        const row = rowAt(c.users, key, Number.POSITIVE_INFINITY);
        if (row !== null) current.set(key, row);
      }
      assert.deepEqual(compacted(kit.records<{ v: number }>('users-out')), current, 'the versioned table, as its compacted changelog');
      const both = joinedRows(current, latestRows(c.scores), 'outer', (u, s) => ({ v: u?.v ?? null, s: s?.s ?? null }));
      assert.deepEqual(compacted(kit.records('both-out')), both, 'the outer table-table join');
      const joined = c.clicks.map((k) => ({ id: k.id, v: rowAt(c.users, k.user, k.time)?.v ?? null }));
      assert.deepEqual(sortBy(kit.output('joined')), sortBy(joined), 'each click joined with the version at its time');
      const counts = new Map<string, number>();
      for (const k of c.clicks) counts.set(k.user, (counts.get(k.user) ?? 0) + 1);
      assert.deepEqual(compacted(kit.records<number>('counts')), counts, 'the running counts');
    }),
    { numRuns: Number(process.env.SLUICE_PROPERTY_RUNS ?? 60) },
  );
});
