// Foreign-key table joins against a brute-force reference (table-reference.ts, which imports
// nothing from src): random changelogs of orders (each naming a user, or none, the user
// changing from record to record, tombstones) and of users (tombstones), over 1-3 partitions,
// at random batch sizes, with a checkpoint and restore at a random point (memory and lmdb
// state). Checked: the inner and left joins' compacted changelogs and queried rows.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonCodec, utf8 } from '../../src/core/index.ts';
import type { Sluice as App } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';
import { compacted, foreignKeyJoinedRows, latestRows, type TableRecord } from './table-reference.ts';

const ORDERS = ['o1', 'o2', 'o3', 'o4', 'o5'];
const USERS = ['a', 'b', 'c', 'd'];

interface Placed<V> extends TableRecord<V> {
  partition: number;
}

type Order = { u: string | null; n: number };
type User = { v: number };

interface Case {
  partitions: number;
  orders: Placed<Order>[];
  users: Placed<User>[];
  batchSize: number;
  state: 'memory' | 'lmdb';
  cuts: [number, number];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    partitions: fc.integer({ min: 1, max: 3 }),
    orders: fc.array(fc.record({ key: fc.constantFrom(...ORDERS), u: fc.option(fc.option(fc.constantFrom(...USERS, 'z'), { freq: 5 }), { freq: 5 }), n: fc.nat(9) }), { maxLength: 30 }),
    users: fc.array(fc.record({ key: fc.constantFrom(...USERS), v: fc.option(fc.nat(99), { freq: 4 }) }), { maxLength: 20 }),
    batchSize: fc.integer({ min: 1, max: 12 }),
    state: fc.constantFrom<'memory' | 'lmdb'>('memory', 'memory', 'lmdb'),
    cuts: fc.tuple(fc.nat(), fc.nat()),
  })
  .map(({ partitions, orders, users, batchSize, state, cuts }) => ({
    partitions,
    // u: null is a tombstone, { u: null } an order naming no user.
    orders: orders.map((o, i) => ({ key: o.key, value: o.u === null ? null : { u: o.u, n: o.n }, time: i, partition: ORDERS.indexOf(o.key) % partitions })),
    users: users.map((u, i) => ({ key: u.key, value: u.v === null ? null : { v: u.v }, time: i, partition: USERS.indexOf(u.key) % partitions })),
    batchSize,
    state,
    cuts: [cuts[0] % (orders.length + 1), cuts[1] % (users.length + 1)] as [number, number],
  }));

const joined = (o: Order, u: User | null) => ({ n: o.n, v: u?.v ?? null });

function pipeline(app: App): void {
  const orders = app.table<Order>('orders');
  const users = app.table<User>('users');
  orders.join(users, (o) => o.u, joined, { name: 'inner' }).to('inner-out');
  orders.leftJoin(users, (o) => o.u, joined, { name: 'left' }).to('left-out');
}

async function append(kit: TestKit, topic: string, records: Placed<unknown>[]): Promise<void> {
  if (records.length === 0) return;
  const writer = await kit.backend.openWriter();
  await writer.send(topic, records.map((r) => ({ key: utf8(r.key), value: r.value === null ? null : jsonCodec.encode(r.value), timestamp: r.time, partition: r.partition })));
  await writer.close();
}

async function committedAll(kit: TestKit, topics: readonly string[]): Promise<boolean> {
  for (const t of topics) {
    const ends = await kit.backend.endOffsets(t);
    const committed = await kit.backend.committedOffsets('fk', t);
    for (let p = 0; p < ends.length; p++) if ((committed.get(p) ?? 0) !== ends[p]) return false;
  }
  return true;
}

/** Whether the app's tables answer (it runs, its state restored). */
function answers(app: App): boolean {
  try {
    app.table('inner').scan();
    return true;
  } catch {
    return false;
  }
}

/** Runs to a random cut, stops (a checkpoint), then a second app restores and reads the rest; the rows it then holds. */
async function run(c: Case): Promise<{ kit: TestKit; rows: Record<'inner' | 'left', Map<string, unknown>> }> {
  const kit = new TestKit();
  const dataDir = c.state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-fk-prop-')) : undefined;
  const options = { name: 'fk', checkpointInterval: 1, ...(dataDir ? { dataDir, state: c.state, guarantee: 'at-least-once' as const } : {}) };
  const topics = ['orders', 'users'] as const;
  const records = [c.orders, c.users];
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
    const running = second.run({ batchSize: c.batchSize });
    let failed: unknown;
    running.catch((error: unknown) => {
      failed = error;
    });
    const read = (name: string) => new Map(second.table(name).scan().map((r) => [r.key as string, r.value]));
    try {
      for (let steps = 0; !(await committedAll(kit, topics)) || !answers(second); steps++) {
        if (failed !== undefined) throw failed;
        if (steps > 50_000) throw new Error('the second run did not commit its input');
        kit.clock.advance(1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { kit, rows: { inner: read('inner'), left: read('left') } };
    } finally {
      second.stop();
      await running;
    }
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

void test('foreign-key joins agree with a brute-force reference, across batching and a restore', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const { kit, rows } = await run(c);
      const orders = latestRows(c.orders);
      const users = latestRows(c.users);
      for (const type of ['inner', 'left'] as const) {
        const expected = foreignKeyJoinedRows(orders, users, (o) => o.u, type, joined);
        assert.deepEqual(compacted(kit.records(`${type}-out`)), expected, `the ${type} join's changelog`);
        assert.deepEqual(rows[type], expected, `the ${type} join's rows, queried`);
      }
    }),
    { numRuns: Number(process.env.SLUICE_PROPERTY_RUNS ?? 60) },
  );
});
