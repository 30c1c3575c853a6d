// Queryable stores over HTTP: GET /api/apps/APP/stores/STORE answers from the running app's
// window state (by string key, by JSON key, by time, or every key), and says what is wrong
// otherwise: unknown app or store (404), bad parameters (400), an app not running (503).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Windows } from '../../src/index.ts';
import { Collector, createApp } from '../../src/server/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Order = { customer: string | number; total: number; ts: number };
const HOUR = 3_600_000;

void test('a running app answers store queries over HTTP; mistakes get a status and a message', { timeout: 30_000 }, async () => {
  const collector = new Collector();
  const server = createApp({ collector });
  const get = async (path: string) => {
    const response = await server.request(path);
    return { status: response.status, body: (await response.json()) as { error?: string; total?: number; windows?: { key: unknown; start: number; value: number }[] } };
  };
  try {
    const kit = new TestKit();
    kit.input<Order>('orders', [
      { customer: 'c1', total: 10, ts: 0 },
      { customer: 'c1', total: 5, ts: HOUR + 1 },
      { customer: 42, total: 7, ts: 10 },
      { customer: '42', total: 1, ts: 20 },
    ]);
    const app = kit.app({ name: 'shop' });
    app
      .stream<Order>('orders', { timestamp: (o) => o.ts, watermark: '1d' })
      .keyBy((o) => o.customer)
      .window(Windows.tumbling('1h'))
      .aggregate(() => 0, (_key, order, total) => total + order.total, { name: 'hourly-order-totals', queryable: true })
      .to('totals');
    const path = '/api/apps/shop/stores/hourly-order-totals';

    const before = await get(`${path}?key=c1`);
    assert.equal(before.status, 503);
    assert.match(before.body.error!, /answers while app 'shop' runs/);

    const running = app.run();
    for (let i = 0; i < 500 && (await get(path)).body.total !== 4; i++) await sleep(10);
    const c1 = await get(`${path}?key=c1`);
    assert.equal(c1.status, 200);
    assert.deepEqual(c1.body, {
      app: 'shop',
      store: 'hourly-order-totals',
      total: 2,
      windows: [
        { key: 'c1', start: 0, end: HOUR, value: 10 },
        { key: 'c1', start: HOUR, end: 2 * HOUR, value: 5 },
      ],
    });
    // The number 42 and the string "42" are different keys.
    assert.deepEqual((await get(`${path}?keyJson=42`)).body.windows!.map((w) => w.value), [7]);
    assert.deepEqual((await get(`${path}?key=42`)).body.windows!.map((w) => w.value), [1]);
    assert.deepEqual((await get(`${path}?key=c1&at=${HOUR + 5}`)).body.windows!.map((w) => w.start), [HOUR]);
    const everyKey = await get(`${path}?at=5&limit=2`);
    assert.equal(everyKey.body.total, 3);
    assert.equal(everyKey.body.windows!.length, 2);

    assert.equal((await get('/api/apps/nobody/stores/x')).status, 404);
    const noStore = await get('/api/apps/shop/stores/nope');
    assert.equal(noStore.status, 404);
    assert.match(noStore.body.error!, /no queryable store 'nope' \(stores: 'hourly-order-totals'\)/);
    assert.match((await get(`${path}?keyJson={oops`)).body.error!, /is not JSON/);
    assert.equal((await get(`${path}?at=soon`)).status, 400);
    assert.equal((await get(`${path}?limit=0`)).status, 400);
    assert.equal((await get(`${path}?key=a&keyJson=1`)).status, 400);
    app.stop();
    await running;
    assert.equal((await get(`${path}?key=c1`)).status, 503);
  } finally {
    collector.close();
  }
});
