// The table examples run as a user runs them: a child process on the embedded log in
// SLUICE_DATA_DIR, input produced beforehand, output read back (the latest value per key, as a
// compacted topic keeps it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { fromUtf8, jsonCodec, utf8 } from '../../src/core/index.ts';

const exec = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

type In = { key?: string; value: unknown; timestamp: number };

async function withLog(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'tables-example-'));
  try {
    await fn(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function produce(dataDir: string, topics: Record<string, In[]>): Promise<void> {
  const backend = await EmbeddedBackend.open(dataDir);
  const writer = await backend.openWriter();
  for (const [topic, records] of Object.entries(topics)) {
    await backend.ensureTopic(topic, 2, { compact: true });
    await writer.send(topic, records.map((r) => ({ key: r.key === undefined ? null : utf8(r.key), value: r.value === null ? null : jsonCodec.encode(r.value), timestamp: r.timestamp })));
  }
  await writer.close();
  await backend.close();
}

async function read(dataDir: string, topic: string): Promise<{ key: string | null; value: unknown }[]> {
  const backend = await EmbeddedBackend.open(dataDir);
  try {
    const out: { key: string | null; value: unknown }[] = [];
    for (let p = 0; p < (await backend.partitions(topic)); p++) {
      const { records } = await backend.fetch(topic, p, 0, 10_000);
      for (const r of records) out.push({ key: r.key === null ? null : fromUtf8(r.key), value: r.value === null ? null : jsonCodec.decode(r.value) });
    }
    return out;
  } finally {
    await backend.close();
  }
}

/** The topic's end offsets now. */
async function ends(dataDir: string, topic: string): Promise<number[]> {
  const backend = await EmbeddedBackend.open(dataDir);
  try {
    return await backend.endOffsets(topic);
  } finally {
    await backend.close();
  }
}

/** Records written to a topic since its end offsets were `from` (compaction only removes older ones). */
async function since(dataDir: string, topic: string, from: number[]): Promise<number> {
  const backend = await EmbeddedBackend.open(dataDir);
  try {
    let n = 0;
    for (let p = 0; p < from.length; p++) n += (await backend.fetch(topic, p, from[p], 10_000)).records.length;
    return n;
  } finally {
    await backend.close();
  }
}

function latest(records: { key: string | null; value: unknown }[]): Map<string, unknown> {
  const rows = new Map<string, unknown>();
  for (const r of records) if (r.value === null) rows.delete(r.key!);
  else rows.set(r.key!, r.value);
  return rows;
}

void test('examples/enrich-clicks.ts: a user update changes later clicks, not earlier ones', { timeout: 60_000 }, async () => {
  await withLog(async (dataDir) => {
    const T = Date.UTC(2026, 0, 1);
    const user = (id: string, name: string, tier: string, at: number) => ({ key: id, value: { id, name, tier, updatedAt: at }, timestamp: at });
    await produce(dataDir, {
      users: [user('u1', 'Ann', 'free', T), user('u2', 'Bob', 'gold', T), user('u1', 'Ann', 'gold', T + 60_000)],
      clicks: [
        { value: { user: 'u1', url: '/a', ts: T + 1000 }, timestamp: T + 1000 },
        { value: { user: 'u2', url: '/b', ts: T + 2000 }, timestamp: T + 2000 },
        { value: { user: 'u1', url: '/c', ts: T + 120_000 }, timestamp: T + 120_000 },
        { value: { user: 'u9', url: '/d', ts: T + 3000 }, timestamp: T + 3000 },
      ],
    });
    await exec(process.execPath, [example('enrich-clicks.ts')], { env: { ...process.env, SLUICE_DATA_DIR: dataDir } });
    const got = (await read(dataDir, 'enriched-clicks')).map((r) => r.value as { url: string; tier: string | null; name: string | null });
    assert.deepEqual(
      got.map((c) => [c.url, c.name, c.tier]).sort(),
      [
        ['/a', 'Ann', 'free'],
        ['/b', 'Bob', 'gold'],
        ['/c', 'Ann', 'gold'],
        ['/d', null, null],
      ],
    );
  });
});

void test('examples/table-join.ts: the joined table follows both sides and loses a row when one is deleted', { timeout: 60_000 }, async () => {
  await withLog(async (dataDir) => {
    await produce(dataDir, {
      accounts: [{ key: 'a1', value: { owner: 'Ann' }, timestamp: 1 }, { key: 'a2', value: { owner: 'Bob' }, timestamp: 1 }, { key: 'a3', value: { owner: 'Cy' }, timestamp: 1 }],
      balances: [{ key: 'a1', value: { amount: 10 }, timestamp: 2 }, { key: 'a2', value: { amount: 5 }, timestamp: 2 }, { key: 'a1', value: { amount: 12 }, timestamp: 3 }, { key: 'a2', value: null, timestamp: 4 }],
    });
    await exec(process.execPath, [example('table-join.ts')], { env: { ...process.env, SLUICE_DATA_DIR: dataDir } });
    const records = await read(dataDir, 'account-balances');
    assert.deepEqual(latest(records), new Map([['a1', { owner: 'Ann', balance: 12 }]]));
    assert.ok(records.some((r) => r.key === 'a2' && r.value === null), 'the deleted balance deleted the joined row (a tombstone)');
  });
});

void test('examples/cart.ts: carts rebuilt from their events, now and as of a past time', { timeout: 60_000 }, async () => {
  await withLog(async (dataDir) => {
    // Keyed by cart, so each cart's events stay in order in one partition (as an event store keeps them).
    const e = (type: string, cart: string, sku: string, qty: number, ts: number) => ({ key: cart, value: { type, cart, sku, qty, ts }, timestamp: ts });
    await produce(dataDir, {
      'cart-events': [e('ItemAdded', 'c1', 'apple', 2, 1000), e('ItemAdded', 'c1', 'pear', 1, 2000), e('ItemAdded', 'c2', 'fig', 3, 2500), e('ItemRemoved', 'c1', 'apple', 2, 3000), e('ItemAdded', 'c2', 'fig', 1, 4000)],
    });
    const env = { ...process.env, SLUICE_DATA_DIR: dataDir };
    await exec(process.execPath, [example('cart.ts')], { env });
    assert.deepEqual(latest(await read(dataDir, 'carts')), new Map([['c1', { items: { pear: 1 } }], ['c2', { items: { fig: 4 } }]]));
    // A later run folds in only the new events, into the carts the last run left.
    await produce(dataDir, { 'cart-events': [e('ItemAdded', 'c1', 'kiwi', 5, 5000)] });
    const before = await ends(dataDir, 'carts');
    await exec(process.execPath, [example('cart.ts')], { env });
    assert.deepEqual(latest(await read(dataDir, 'carts')), new Map([['c1', { items: { pear: 1, kiwi: 5 } }], ['c2', { items: { fig: 4 } }]]));
    assert.equal(await since(dataDir, 'carts', before), 1, 'one change for the one new event: the second run read only it');
    await exec(process.execPath, [example('cart.ts')], { env: { ...env, CART_AS_OF: '2500' } });
    assert.deepEqual(latest(await read(dataDir, 'carts-as-of')), new Map([['c1', { items: { apple: 2, pear: 1 } }], ['c2', { items: { fig: 3 } }]]));
  });
});
