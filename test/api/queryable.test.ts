// Queryable stores: asked for explicitly (`queryable: true` or `.materialize(name)`), served from
// the window operator's own state while the app runs, on memory and on lmdb state, across a
// restart, with no cap on windows per key, and evicted with the state.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { isSluiceError, jsonCodec, Sluice, Watermarks, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Order = { customer: string; total: number; ts: number };
const HOUR = 3_600_000;

/** Waits until `check` holds (a store answers only once the run has restored its state). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    try {
      if (check()) return;
    } catch (error) {
      if (!isSluiceError(error, 'STORE_UNAVAILABLE')) throw error;
    }
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Hourly totals per customer; the watermark trails by a day, so the windows stay open. */
function hourlyTotals(app: Sluice, options: { queryable?: boolean; onRecord?: () => void } = {}) {
  const timestamp = (o: Order): number => {
    options.onRecord?.();
    return o.ts;
  };
  const orders = app.stream<Order>('orders', { timestamp, watermark: Watermarks.boundedOutOfOrderness('1d') });
  return orders
    .keyBy((o) => o.customer)
    .window(Windows.tumbling('1h'))
    .aggregate(() => 0, (_key, order, total) => total + order.total, { name: 'hourly-order-totals', queryable: options.queryable ?? true });
}

const ORDERS: Order[] = [
  { customer: 'c1', total: 10, ts: 0 },
  { customer: 'c1', total: 5, ts: 1000 },
  { customer: 'c2', total: 7, ts: 2000 },
  { customer: 'c1', total: 1, ts: HOUR + 5 },
];

void test('queryable stores are explicit: a name alone only names the stage, and mistakes say what to write', () => {
  const app = new Sluice({ name: 'explicit' });
  hourlyTotals(app, { queryable: false }).to('totals');
  assert.throws(() => app.store('hourly-order-totals'), /stage 'hourly-order-totals' is named, which only gives its state a stable name; add queryable: true/);
  assert.throws(() => app.store('nope'), /no store named 'nope' \(stores: none\); make a windowed aggregate queryable with \{ name: 'nope', queryable: true \}/);

  const b = new Sluice({ name: 'mistakes' });
  const keyed = b.stream<Order>('orders').keyBy((o) => o.customer);
  const hourly = () => keyed.window(Windows.tumbling('1h'));
  assert.throws(() => hourly().count({ queryable: true }), /queried by its name; write \{ name: 'hourly-order-totals', queryable: true \}/);
  assert.throws(() => hourly().count({ name: 'x', queryable: 'yes' as never }), /queryable must be true or false/);
  const counts = hourly().count().materialize('counts');
  assert.throws(() => counts.materialize('again'), /already the queryable store 'counts'/);
  assert.throws(() => hourly().sum((o) => o.total).materialize('counts'), /two queryable stores are named 'counts'/);
  assert.throws(() => hourly().sum((o) => o.total, { name: 'sums' }).materialize('source-orders'), /'source-orders' names another stage/);
  assert.throws(() => keyed.map((o) => o, { name: 'counts' }), /'counts' is the name of a queryable store/);
  // @ts-expect-error only a windowed aggregate's results can be materialized, not a mapped stream
  assert.throws(() => counts.map((r) => r).materialize('mapped'));
  assert.throws(() => keyed.count({ name: 'running', queryable: true } as never), /a running aggregate .* is a table, queryable by its name: drop queryable/);
  assert.equal(b.store<number>('counts').name, 'counts');
  assert.throws(
    () => b.store('counts').get('c1'),
    (error) => isSluiceError(error, 'STORE_UNAVAILABLE') && /answers while app 'mistakes' runs/.test(error.message),
  );
});

void test('a store answers from the operator state while running: by key, by time, all keys', { timeout: 30_000 }, async () => {
  const kit = new TestKit();
  kit.input('orders', ORDERS, { partitions: 2, key: (o) => o.customer });
  const app = kit.app({ name: 'shop' });
  hourlyTotals(app).to('totals');
  const store = app.store<number>('hourly-order-totals');
  const running = app.run();
  await until(() => store.all().length === 3, 'three open windows');
  assert.deepEqual(store.get('c1'), [
    { key: 'c1', start: 0, end: HOUR, value: 15 },
    { key: 'c1', start: HOUR, end: 2 * HOUR, value: 1 },
  ]);
  assert.deepEqual(store.get('c1', HOUR + 1), [{ key: 'c1', start: HOUR, end: 2 * HOUR, value: 1 }]);
  assert.deepEqual(store.get('nobody'), []);
  assert.deepEqual(
    store.all().map((w) => [w.key, w.start, w.value]),
    [
      ['c1', 0, 15],
      ['c2', 0, 7],
      ['c1', HOUR, 1],
    ],
  );
  // The same view follows new records.
  const writer = await kit.backend.openWriter();
  await writer.send('orders', [{ key: jsonCodec.encode('c2'), value: jsonCodec.encode({ customer: 'c2', total: 3, ts: 3000 }), timestamp: 0 }]);
  await writer.close();
  await until(() => store.get('c2')[0]?.value === 10, 'the new order in c2');
  app.stop();
  await running;
  assert.throws(() => store.get('c1'), (error) => isSluiceError(error, 'STORE_UNAVAILABLE'));
});

void test('results of a store are copies: changing one leaves the operator state alone', { timeout: 30_000 }, async () => {
  const kit = new TestKit();
  kit.input('orders', ORDERS);
  const app = kit.app({ name: 'copies' });
  app
    .stream<Order>('orders', { timestamp: (o) => o.ts, watermark: '1d' })
    .keyBy((o) => o.customer)
    .window(Windows.tumbling('1h'))
    .collect((o) => o.total)
    .materialize('lists')
    .to('lists');
  const store = app.store<number[]>('lists');
  const running = app.run();
  await until(() => store.get('c1').length === 2, 'c1 windows');
  store.get('c1')[0].value.push(999);
  assert.deepEqual(store.get('c1')[0].value, [10, 5]);
  app.stop();
  await running;
});

void test('regression: a store answers after a restart, from the restored state (the heap copy was empty)', { timeout: 30_000 }, async () => {
  const kit = new TestKit();
  kit.input('orders', ORDERS, { partitions: 2, key: (o) => o.customer });
  const first = kit.app({ name: 'restart' });
  hourlyTotals(first).to('totals');
  const running = first.run();
  await until(() => first.store('hourly-order-totals').all().length === 3, 'the first run');
  first.stop();
  await running;

  const second = kit.app({ name: 'restart' });
  hourlyTotals(second).to('totals');
  const store = second.store<number>('hourly-order-totals');
  const again = second.run();
  // No new input: what it answers comes from the checkpoint.
  await until(() => store.all().length === 3, 'the restored windows');
  assert.deepEqual(store.get('c1').map((w) => w.value), [15, 1]);
  second.stop();
  const summary = await again;
  assert.equal(summary.records, 0);
});

void test('making a named stage queryable keeps its checkpointed state: the store answers with it', { timeout: 30_000 }, async () => {
  const kit = new TestKit();
  kit.input('orders', ORDERS);
  let seen = 0;
  const before = kit.app({ name: 'upgrade' });
  hourlyTotals(before, { queryable: false, onRecord: () => seen++ }).to('totals');
  const running = before.run();
  await until(() => seen === ORDERS.length, 'the first run to read its input');
  before.stop();
  await running;

  const after = kit.app({ name: 'upgrade' });
  hourlyTotals(after, { queryable: true }).to('totals');
  const store = after.store<number>('hourly-order-totals');
  const again = after.run();
  await until(() => store.all().length === 3, 'the restored windows');
  assert.deepEqual(store.get('c2').map((w) => w.value), [7]);
  after.stop();
  await again;
});

void test('regression: a store holds every window the operator holds (the copy kept 10,000 per key), and drops them with the state', { timeout: 60_000 }, async () => {
  const kit = new TestKit();
  const n = 10_050;
  // One key, n one-millisecond windows, all fired and kept by a day of allowed lateness.
  kit.input('ticks', Array.from({ length: n }, (_, i) => ({ k: 'a', ts: i })));
  kit.watermark('ticks', n);
  const app = kit.app({ name: 'many' });
  app
    .stream<{ k: string; ts: number }>('ticks', { timestamp: (t) => t.ts })
    .keyBy((t) => t.k)
    .window(Windows.tumbling(1))
    .allowedLateness('1d')
    .count({ name: 'per-ms', queryable: true })
    .to('per-ms');
  const store = app.store<number>('per-ms');
  const running = app.run();
  await until(() => store.get('a').length === n, `${n} windows`);
  assert.deepEqual(store.get('a', 10_049), [{ key: 'a', start: 10_049, end: 10_050, value: 1 }]);
  // Past end + allowed lateness the operator drops a window, and the store with it.
  const later = 86_400_000 + 20_000;
  const writer = await kit.backend.openWriter();
  await writer.send('ticks', [{ key: null, value: jsonCodec.encode({ k: 'a', ts: later }), timestamp: 0 }]);
  await writer.close();
  await until(() => store.get('a').length === 1, 'the old windows dropped');
  assert.deepEqual(store.get('a'), [{ key: 'a', start: later, end: later + 1, value: 1 }]);
  app.stop();
  await running;
});

void test('on lmdb state and the embedded log: the store reads the durable table, before and after a restart', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'queryable-'));
  const log = await EmbeddedBackend.open(dataDir);
  try {
    await log.ensureTopic('orders', 2);
    const writer = await log.openWriter();
    await writer.send('orders', ORDERS.map((o) => ({ key: jsonCodec.encode(o.customer), value: jsonCodec.encode(o), timestamp: 0 })));
    await writer.close();
  } finally {
    await log.close();
  }
  const build = () => {
    const app = new Sluice({ name: 'durable', dataDir, state: 'lmdb', checkpointInterval: '50ms' });
    hourlyTotals(app).to('totals');
    return app;
  };
  for (const round of ['first run', 'after a restart']) {
    const app = build();
    const store = app.store<number>('hourly-order-totals');
    const running = app.run();
    await until(() => store.all().length === 3, `three windows, ${round}`);
    assert.deepEqual(store.get('c1').map((w) => [w.start, w.value]), [
      [0, 15],
      [HOUR, 1],
    ]);
    assert.deepEqual(store.get('c2').map((w) => w.value), [7]);
    app.stop();
    await running;
    assert.throws(() => store.all(), (error) => isSluiceError(error, 'STORE_UNAVAILABLE'));
  }
});
