// Pipelines beyond windows: keyed process functions with timers and side outputs, unions of
// sources, running aggregates, queryable stores, and a second exchange.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Tx = { card: string; amount: number; ts: number };

void test('fraud: a single transaction above 10x the running average of its card (keyed process function)', async () => {
  const txs: Tx[] = [];
  for (let i = 0; i < 200; i++) txs.push({ card: `c${i % 4}`, amount: i % 37 === 36 ? 5000 : 10 + (i % 7), ts: i * 1000 });
  const kit = new TestKit();
  kit.input('transactions', txs, { partitions: 3, key: (t) => t.card });
  const app = kit.app({ name: 'fraud-avg' });
  app
    .stream<Tx>('transactions', { timestamp: (t) => t.ts })
    .keyBy((t) => t.card)
    .process<Tx>({
      processElement(tx, ctx) {
        const stats = ctx.state.value<{ sum: number; n: number }>('stats');
        const s = stats.value() ?? { sum: 0, n: 0 };
        if (s.n > 0 && tx.amount > (10 * s.sum) / s.n) ctx.emit(tx);
        stats.update({ sum: s.sum + tx.amount, n: s.n + 1 });
      },
    }, { name: 'ten-times-average' })
    .to('suspicious');
  await app.run({ bounded: true });
  const want: Tx[] = [];
  const stats = new Map<string, { sum: number; n: number }>();
  for (const tx of txs) {
    const s = stats.get(tx.card) ?? { sum: 0, n: 0 };
    if (s.n > 0 && tx.amount > (10 * s.sum) / s.n) want.push(tx);
    stats.set(tx.card, { sum: s.sum + tx.amount, n: s.n + 1 });
  }
  assert.ok(want.length > 0);
  assert.deepEqual(kit.output<Tx>('suspicious').sort((a, b) => a.ts - b.ts), want);
});

void test('pattern: a login then a purchase from another country within 5 minutes; timers clear state, side outputs reach their topic', async () => {
  type Ev = { user: string; type: 'login' | 'purchase'; country: string; ts: number };
  const m = 60_000;
  const events: Ev[] = [
    { user: 'ann', type: 'login', country: 'FR', ts: 0 },
    { user: 'bob', type: 'login', country: 'US', ts: 1 * m },
    { user: 'ann', type: 'purchase', country: 'BR', ts: 2 * m },
    { user: 'bob', type: 'purchase', country: 'US', ts: 3 * m },
    { user: 'eve', type: 'login', country: 'DE', ts: 4 * m },
    { user: 'bob', type: 'purchase', country: 'CN', ts: 7 * m },
    { user: 'eve', type: 'purchase', country: 'IT', ts: 8 * m },
  ];
  const kit = new TestKit();
  kit.input('activity', events, { partitions: 2, key: (e) => e.user });
  const app = kit.app({ name: 'pattern' });
  const alerts = app
    .stream<Ev>('activity', { timestamp: (e) => e.ts })
    .keyBy((e) => e.user)
    .process<string>({
      processElement(e, ctx) {
        const login = ctx.state.value<Ev>('login');
        if (e.type === 'login') {
          login.update(e);
          ctx.timers.registerEventTime(e.ts + 5 * m);
        } else if (login.value() && login.value()!.country !== e.country && e.ts - login.value()!.ts <= 5 * m) {
          ctx.emit(`${ctx.key} bought in ${e.country} after logging in from ${login.value()!.country}`);
        }
      },
      onTimer(ts, ctx) {
        ctx.state.value('login').clear();
        ctx.output('expired', { user: ctx.key, at: ts });
      },
    });
  alerts.to('alerts');
  alerts.sideOutput<{ user: string; at: number }>('expired').to('expired');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output<string>('alerts').sort(), ['ann bought in BR after logging in from FR', 'eve bought in IT after logging in from DE']);
  assert.deepEqual(kit.output<{ user: string; at: number }>('expired').sort((a, b) => a.at - b.at), [
    { user: 'ann', at: 5 * m },
    { user: 'bob', at: 6 * m },
    { user: 'eve', at: 9 * m },
  ]);
});

void test('union of two sources, running counts per key, and a named window stage', async () => {
  const kit = new TestKit();
  kit.input('web', [{ page: '/a', ts: 0 }, { page: '/b', ts: 1000 }, { page: '/a', ts: 2000 }], { partitions: 2 });
  kit.input('mobile', [{ page: '/a', ts: 500 }, { page: '/c', ts: 61_000 }], { partitions: 3 });
  const app = kit.app({ name: 'union' });
  type View = { page: string; ts: number };
  const all = app.stream<View>('web', { timestamp: (v) => v.ts }).union(app.stream<View>('mobile', { timestamp: (v) => v.ts }));
  const byPage = all.keyBy((v) => v.page);
  byPage.count().to('running');
  byPage.window(Windows.tumbling('1m')).collect((v) => v.ts, { name: 'views-per-minute' }).to('per-minute');
  await app.run({ bounded: true });
  // A running count is a table: its topic holds the count as the value, the page as the record key.
  const running = kit.records<number>('running');
  const last = new Map(running.map((r) => [r.key, r.value]));
  assert.deepEqual(last, new Map([['/a', 3], ['/b', 1], ['/c', 1]]));
  assert.equal(running.length, 5);
  const perMinute = kit.output<{ key: string; start: number; value: number[] }>('per-minute');
  assert.deepEqual(perMinute.map((w) => [w.key, w.start, [...w.value].sort((x, y) => x - y)]).sort(), [['/a', 0, [0, 500, 2000]], ['/b', 0, [1000]], ['/c', 60_000, [61_000]]]);
  // Queryable stores (test/api/queryable.test.ts) are asked for explicitly; a name alone is none.
  assert.throws(() => app.store('views-per-minute'), /add queryable: true/);
});

void test('early firings: a window emits updates every N records, then its final result', async () => {
  const kit = new TestKit();
  kit.input('clicks', Array.from({ length: 7 }, (_, i) => ({ page: '/a', ts: i * 1000 })));
  const app = kit.app({ name: 'early' });
  app
    .stream<{ page: string; ts: number }>('clicks', { timestamp: (c) => c.ts })
    .keyBy((c) => c.page)
    .window(Windows.tumbling('1m'))
    .emit({ everyRecords: 3 })
    .count()
    .to('counts');
  await app.run({ bounded: true });
  const values = kit.output<{ value: number }>('counts').map((r) => r.value);
  assert.deepEqual(values, [3, 6, 7]);
});
