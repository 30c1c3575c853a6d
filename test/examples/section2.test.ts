// The users' examples of DESIGN section 2 that need only windows and stateless operators,
// each run on several partitions through the test kit and checked against a plain-loop reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MINUTES, TumblingWindow, type WindowResult, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

/** A deterministic PRNG (mulberry32), so inputs are varied but reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sortResults<V>(results: WindowResult<unknown, V>[]): WindowResult<unknown, V>[] {
  return [...results].sort((a, b) => String(a.key).localeCompare(String(b.key)) || a.start - b.start);
}

void test('clicks per URL per 5-minute tumbling window (the first JavaScript example, as written)', async () => {
  type Event = { url: string; action: string; ts: number };
  const random = rng(1);
  const events: Event[] = [];
  const push = (url: string, action: string, n: number, from: number) => {
    for (let i = 0; i < n; i++) events.push({ url, action, ts: from + Math.floor(random() * 5 * MINUTES) });
  };
  push('/products', 'click', 145, T0);
  push('/products', 'click', 132, T0 + 5 * MINUTES);
  push('/products', 'view', 300, T0);
  push('/cart', 'click', 40, T0 + 2 * MINUTES);
  events.sort((a, b) => a.ts - b.ts);
  const kit = new TestKit();
  kit.input('events', events, { partitions: 3 });
  const app = kit.app({ name: 'clicks' });
  const stream = app.stream<Event>('events', { timestamp: (e) => e.ts });

  // Count clicks per URL per 5-minute tumbling window
  const counts = stream
    .filter((e) => e.action === "click")
    .keyBy((e) => e.url)
    .window(TumblingWindow.of(5, MINUTES))
    .count();
  counts.to('clicks-per-url');

  await app.run({ bounded: true });
  const got = kit.output<WindowResult<string, number>>('clicks-per-url').map((r) => [r.key, new Date(r.start).toISOString().slice(11, 19), r.value]);
  const expected = new Map<string, number>();
  for (const e of events) {
    if (e.action !== 'click') continue;
    const start = Math.floor(e.ts / (5 * MINUTES)) * 5 * MINUTES;
    const id = `${e.url}|${start}`;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const want = [...expected].map(([id, n]) => {
    const [url, start] = id.split('|');
    return [url, new Date(Number(start)).toISOString().slice(11, 19), n];
  });
  assert.deepEqual(sortByText(got), sortByText(want));
  assert.ok(got.some(([url, start, n]) => url === '/products' && start === '10:00:00' && n === 145));
  assert.ok(got.some(([url, start, n]) => url === '/products' && start === '10:05:00' && n === 132));
});

function sortByText<T>(rows: T[]): T[] {
  return [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

void test('purchases over $100 (the second JavaScript example, as written)', async () => {
  type Event = { action: string; amount: number; user_id: string };
  const random = rng(2);
  const events: Event[] = Array.from({ length: 500 }, (_, i) => ({
    action: random() < 0.5 ? 'purchase' : 'view',
    amount: Math.round(random() * 200),
    user_id: `u${i % 17}`,
  }));
  const kit = new TestKit();
  kit.input('events', events, { partitions: 4 });
  const app = kit.app({ name: 'purchases' });
  const stream = app.stream<Event>('events');

  // Filter for purchases over $100
  const big = stream
    .filter((event) => event.action === "purchase" && event.amount > 100)
    .map((event) => ({ user: event.user_id, amount: event.amount }));
  big.to('big-purchases');

  await app.run({ bounded: true });
  const want = events.filter((e) => e.action === 'purchase' && e.amount > 100).map((e) => ({ user: e.user_id, amount: e.amount }));
  assert.deepEqual(sortByText(kit.output('big-purchases')), sortByText(want));
  assert.ok(want.length > 50);
});

void test('tumbling count windows of 3 over 1..10 sum to 6, 15, 24, 10 (the last when the input ends)', async () => {
  const kit = new TestKit();
  kit.input('numbers', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const app = kit.app({ name: 'count-tumbling' });
  app.stream<number>('numbers').keyBy(() => 'all').window(Windows.countTumbling(3)).sum((n) => n).to('sums');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output<WindowResult<string, number>>('sums').map((r) => r.value), [6, 15, 24, 10]);
});

void test('sliding count windows of size 3, slide 1 over 1..10 sum to 6, 9, 12, 15, ...', async () => {
  const kit = new TestKit();
  kit.input('numbers', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const app = kit.app({ name: 'count-sliding' });
  app.stream<number>('numbers').keyBy(() => 'all').window(Windows.countSliding(3, 1)).sum((n) => n).to('sums');
  await app.run({ bounded: true });
  const sums = kit.output<WindowResult<string, number>>('sums').map((r) => r.value);
  const want: number[] = [];
  for (let i = 1; i + 2 <= 10; i++) want.push(i + (i + 1) + (i + 2));
  assert.deepEqual(sums, want);
  assert.deepEqual(sums.slice(0, 4), [6, 9, 12, 15]);
});

void test('session windows split clicks at gaps', async () => {
  const s = 1000;
  const clicks = [
    { user: 'ann', ts: T0 },
    { user: 'ann', ts: T0 + 10 * s },
    { user: 'bob', ts: T0 + 15 * s },
    { user: 'ann', ts: T0 + 25 * s },
    { user: 'ann', ts: T0 + 120 * s },
    { user: 'bob', ts: T0 + 121 * s },
    { user: 'ann', ts: T0 + 140 * s },
    { user: 'ann', ts: T0 + 600 * s },
  ];
  const kit = new TestKit();
  kit.input('clicks', clicks, { partitions: 2, key: (c) => c.user });
  const app = kit.app({ name: 'sessions' });
  app.stream<{ user: string; ts: number }>('clicks', { timestamp: (c) => c.ts }).keyBy((c) => c.user).window(Windows.session('30s')).count().to('sessions');
  await app.run({ bounded: true });
  const got = sortResults(kit.output<WindowResult<string, number>>('sessions')).map((r) => [r.key, r.start - T0, r.end - T0, r.value]);
  assert.deepEqual(got, [
    ['ann', 0, 55 * s, 3],
    ['ann', 120 * s, 170 * s, 2],
    ['ann', 600 * s, 630 * s, 1],
    ['bob', 15 * s, 45 * s, 1],
    ['bob', 121 * s, 151 * s, 1],
  ]);
});

void test('alerts: servers whose response time exceeds 1000 ms more than 5 times in a minute', async () => {
  type Req = { server: string; responseMs: number; ts: number };
  const random = rng(3);
  const reqs: Req[] = [];
  for (let i = 0; i < 2000; i++) {
    const server = `srv-${i % 7}`;
    const slow = random() < (server === 'srv-3' ? 0.4 : 0.02);
    reqs.push({ server, responseMs: slow ? 1001 + Math.floor(random() * 3000) : Math.floor(random() * 1000), ts: T0 + i * 150 });
  }
  const kit = new TestKit();
  kit.input('requests', reqs, { partitions: 3 });
  const app = kit.app({ name: 'alerts' });
  app
    .stream<Req>('requests', { timestamp: (r) => r.ts, watermark: '2s' })
    .filter((r) => r.responseMs > 1000)
    .keyBy((r) => r.server)
    .window(Windows.tumbling('1m'))
    .count()
    .filter((w) => w.value > 5)
    .to('alerts');
  await app.run({ bounded: true });
  const counts = new Map<string, number>();
  for (const r of reqs) {
    if (r.responseMs <= 1000) continue;
    const id = `${r.server}|${Math.floor(r.ts / MINUTES) * MINUTES}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const want = [...counts].filter(([, n]) => n > 5).map(([id, n]) => [id.split('|')[0], Number(id.split('|')[1]), n]);
  const got = kit.output<WindowResult<string, number>>('alerts').map((r) => [r.key, r.start, r.value]);
  assert.deepEqual(sortByText(got), sortByText(want));
  assert.ok(got.length > 0 && got.every(([server]) => server === 'srv-3'));
});

void test('IoT: average and max temperature per sensor per 10 seconds, alert above 40', async () => {
  type Reading = { sensor: string; celsius: number; ts: number };
  const random = rng(4);
  const readings: Reading[] = Array.from({ length: 600 }, (_, i) => ({
    sensor: `s${i % 5}`,
    celsius: Math.round((20 + random() * 25) * 10) / 10,
    ts: T0 + i * 250,
  }));
  const kit = new TestKit();
  kit.input('readings', readings, { partitions: 3 });
  const app = kit.app({ name: 'iot' });
  const windows = app.stream<Reading>('readings', { timestamp: (r) => r.ts }).keyBy((r) => r.sensor).window(Windows.tumbling('10s'));
  windows.avg((r) => r.celsius).to('avg-temp');
  const max = windows.max((r) => r.celsius);
  max.to('max-temp');
  max.filter((w) => w.value > 40).map((w) => `ALERT ${w.key} reached ${w.value}°C`).to('temp-alerts');
  await app.run({ bounded: true });

  const groups = new Map<string, number[]>();
  for (const r of readings) {
    const id = `${r.sensor}|${Math.floor(r.ts / 10_000) * 10_000}`;
    groups.set(id, [...(groups.get(id) ?? []), r.celsius]);
  }
  const ref = [...groups].map(([id, xs]) => ({ key: id.split('|')[0], start: Number(id.split('|')[1]), avg: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) }));
  const avg = kit.output<WindowResult<string, number>>('avg-temp');
  assert.equal(avg.length, ref.length);
  for (const r of ref) {
    const w = avg.find((a) => a.key === r.key && a.start === r.start)!;
    assert.ok(Math.abs(w.value - r.avg) < 1e-9);
  }
  assert.deepEqual(sortByText(kit.output<WindowResult<string, number>>('max-temp').map((w) => [w.key, w.start, w.value])), sortByText(ref.map((r) => [r.key, r.start, r.max])));
  const alerts = kit.output<string>('temp-alerts');
  assert.deepEqual(alerts.sort(), ref.filter((r) => r.max > 40).map((r) => `ALERT ${r.key} reached ${r.max}°C`).sort());
  assert.ok(alerts.length > 0);
});

void test('fraud: more than 3 transactions per card in a 1-minute window', async () => {
  type Tx = { card: string; amount: number; ts: number };
  const random = rng(5);
  const txs: Tx[] = [];
  for (let i = 0; i < 800; i++) txs.push({ card: `card-${Math.floor(random() * 30)}`, amount: Math.round(random() * 500), ts: T0 + Math.floor(random() * 10 * MINUTES) });
  txs.sort((a, b) => a.ts - b.ts);
  const kit = new TestKit();
  kit.input('transactions', txs, { partitions: 3, key: (t) => t.card });
  const app = kit.app({ name: 'fraud' });
  app
    .stream<Tx>('transactions', { timestamp: (t) => t.ts })
    .keyBy((t) => t.card)
    .window(Windows.tumbling('1m'))
    .count()
    .filter((w) => w.value > 3)
    .to('fraud-alerts');
  await app.run({ bounded: true });
  const counts = new Map<string, number>();
  for (const t of txs) {
    const id = `${t.card}|${Math.floor(t.ts / MINUTES) * MINUTES}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const want = [...counts].filter(([, n]) => n > 3).map(([id, n]) => [id.split('|')[0], Number(id.split('|')[1]), n]);
  const got = kit.output<WindowResult<string, number>>('fraud-alerts').map((w) => [w.key, w.start, w.value]);
  assert.deepEqual(sortByText(got), sortByText(want));
  assert.ok(got.length > 0);
});

void test('Kafka Streams style: hourly order totals per customer as strings to order-analytics-output', async () => {
  type Order = { customer: string; total: number; ts: number };
  const random = rng(6);
  const orders: Order[] = Array.from({ length: 300 }, () => ({
    customer: `c${Math.floor(random() * 6)}`,
    total: Math.round(random() * 10_000) / 100,
    ts: T0 + Math.floor(random() * 3 * 3_600_000),
  }));
  // Nearly in order: each order at most 30 s out of place, within the 1-minute watermark bound.
  orders.sort((a, b) => a.ts - b.ts);
  for (let i = 1; i < orders.length; i += 2) if (orders[i].ts - orders[i - 1].ts < 30_000) [orders[i], orders[i - 1]] = [orders[i - 1], orders[i]];
  const kit = new TestKit();
  kit.input('orders', orders, { partitions: 2, key: (o) => o.customer });
  const app = kit.app({ name: 'order-analytics' });
  const ordersStream = app.stream<Order>('orders', { timestamp: (o) => o.ts, watermark: '1m' });
  ordersStream
    .keyBy((o) => o.customer)
    .window(Windows.tumbling('1h'))
    .aggregate(() => 0, (key, order, total) => total + order.total, { name: 'hourly-order-totals' })
    .map((r) => `Window: ${new Date(r.start).toISOString()} Total: $${r.value}`)
    .to('order-analytics-output');
  await app.run({ bounded: true });
  const totals = new Map<string, number>();
  for (const o of orders) {
    const id = `${o.customer}|${Math.floor(o.ts / 3_600_000) * 3_600_000}`;
    totals.set(id, (totals.get(id) ?? 0) + o.total);
  }
  const records = kit.records<string>('order-analytics-output');
  assert.equal(records.length, totals.size);
  for (const r of records) {
    const match = /^Window: (\S+) Total: \$(\S+)$/.exec(r.value)!;
    const want = totals.get(`${r.key}|${Date.parse(match[1])}`)!;
    assert.ok(Math.abs(Number(match[2]) - want) < 1e-6, `${r.key} ${match[1]}: ${match[2]} vs ${want}`);
  }
});

void test('clickstream: pages per user per minute with count and collect_list', async () => {
  type View = { user: string; page: string; ts: number };
  const random = rng(7);
  const views: View[] = Array.from({ length: 400 }, (_, i) => ({ user: `u${Math.floor(random() * 8)}`, page: `/p${Math.floor(random() * 20)}`, ts: T0 + i * 700 }));
  const kit = new TestKit();
  kit.input('views', views, { partitions: 3, key: (v) => v.user });
  const app = kit.app({ name: 'clickstream' });
  const perMinute = app.stream<View>('views', { timestamp: (v) => v.ts }).keyBy((v) => v.user).window(Windows.tumbling('1m'));
  perMinute.count().to('pages-per-user');
  perMinute.collect((v) => v.page).to('page-lists');
  await app.run({ bounded: true });
  const want = new Map<string, string[]>();
  for (const v of views) {
    const id = `${v.user}|${Math.floor(v.ts / MINUTES) * MINUTES}`;
    want.set(id, [...(want.get(id) ?? []), v.page]);
  }
  const counts = new Map(kit.output<WindowResult<string, number>>('pages-per-user').map((r) => [`${r.key}|${r.start}`, r.value]));
  assert.deepEqual(counts, new Map([...want].map(([id, pages]) => [id, pages.length])));
  // Each user's records sit in one partition, so each list keeps log order.
  const lists = new Map(kit.output<WindowResult<string, string[]>>('page-lists').map((r) => [`${r.key}|${r.start}`, r.value]));
  assert.deepEqual(lists, want);
});
