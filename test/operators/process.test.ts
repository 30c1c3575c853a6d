// Harness tests of keyed process functions: state per key, event- and processing-time timers,
// side outputs, snapshot and restore.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessOperator, RollingAggregateOperator } from '../../src/operators/index.ts';
import type { ProcessContext, ProcessFunction } from '../../src/index.ts';
import { OperatorHarness } from '../../src/testing/index.ts';

type Tx = { card: string; amount: number };

/** DESIGN section 2 fraud rule: a transaction above 10x the card's running average. */
const tenTimesAverage: ProcessFunction<string, Tx, string> = {
  processElement(tx, ctx) {
    const stats = ctx.state.value<{ sum: number; n: number }>('stats');
    const s = stats.value() ?? { sum: 0, n: 0 };
    if (s.n > 0 && tx.amount > 10 * (s.sum / s.n)) ctx.emit(`${ctx.key}: ${tx.amount} is over 10x the average ${s.sum / s.n}`);
    stats.update({ sum: s.sum + tx.amount, n: s.n + 1 });
  },
};

void test('keyed value state is per key, and survives snapshot and restore', () => {
  const h = new OperatorHarness(new ProcessOperator({ name: 'fraud', fn: tenTimesAverage }));
  const tx = (card: string, amount: number) => ({ value: { card, amount }, timestamp: 0, key: card });
  h.processBatch([tx('a', 10), tx('b', 500), tx('a', 20), tx('a', 200)]);
  assert.deepEqual(h.takeValues(), ['a: 200 is over 10x the average 15']);
  const restored = OperatorHarness.restored(new ProcessOperator({ name: 'fraud', fn: tenTimesAverage }), h.snapshot());
  restored.processBatch([tx('b', 5001), tx('a', 700)]);
  assert.deepEqual(restored.values(), ['b: 5001 is over 10x the average 500']);
});

/** A login followed by a purchase from a different country within 5 minutes (DESIGN section 2). */
const loginThenForeignPurchase: ProcessFunction<string, { type: 'login' | 'purchase'; country: string; ts: number }, string> = {
  processElement(e, ctx) {
    const login = ctx.state.value<{ country: string; ts: number }>('login');
    if (e.type === 'login') {
      login.update({ country: e.country, ts: e.ts });
      ctx.timers.registerEventTime(e.ts + 5 * 60_000);
    } else {
      const l = login.value();
      if (l && l.country !== e.country && e.ts - l.ts <= 5 * 60_000) ctx.emit(`${ctx.key}: login in ${l.country}, purchase in ${e.country}`);
    }
  },
  onTimer(timestamp, ctx) {
    const login = ctx.state.value<{ country: string; ts: number }>('login');
    if (login.value() && login.value()!.ts + 5 * 60_000 <= timestamp) {
      login.clear();
      ctx.output('expired-logins', { user: ctx.key, at: timestamp });
    }
  },
};

void test('event-time timers fire when the watermark reaches them, in time order, with the key and its state', () => {
  const h = new OperatorHarness(new ProcessOperator({ name: 'pattern', fn: loginThenForeignPurchase }));
  const ev = (user: string, type: 'login' | 'purchase', country: string, ts: number) => ({ value: { type, country, ts }, timestamp: ts, key: user });
  h.processBatch([ev('ann', 'login', 'FR', 0), ev('bob', 'login', 'US', 60_000), ev('ann', 'purchase', 'BR', 120_000)]);
  assert.deepEqual(h.takeValues(), ['ann: login in FR, purchase in BR']);
  h.processWatermark(299_999);
  assert.deepEqual(h.side('expired-logins'), []);
  h.processWatermark(300_000);
  assert.deepEqual(h.side('expired-logins'), [{ user: 'ann', at: 300_000 }]);
  // After expiry ann's login is gone; bob's timer is still pending and is in the snapshot.
  h.processBatch([ev('ann', 'purchase', 'JP', 310_000)]);
  assert.deepEqual(h.values(), []);
  const restored = OperatorHarness.restored(new ProcessOperator({ name: 'pattern', fn: loginThenForeignPurchase }), h.snapshot());
  restored.processWatermark(360_000);
  assert.deepEqual(restored.side('expired-logins'), [{ user: 'bob', at: 360_000 }]);
  assert.deepEqual(restored.watermarks, [360_000]);
});

void test('processing-time timers fire from the clock; deleted timers do not fire; a timer registered twice fires once', () => {
  const fired: [unknown, number, string][] = [];
  const fn = {
    processElement(v: { at: number; cancel?: boolean }, ctx: ProcessContext<string, never>) {
      if (v.cancel) ctx.timers.deleteProcessingTime(v.at);
      else {
        ctx.timers.registerProcessingTime(v.at);
        ctx.timers.registerProcessingTime(v.at);
      }
    },
    onTimer(ts: number, ctx: ProcessContext<string, never> & { timeDomain: 'event' | 'processing' }) {
      fired.push([ctx.key, ts, ctx.timeDomain]);
    },
  };
  const h = new OperatorHarness(new ProcessOperator({ name: 'timers', fn }));
  h.processBatch([
    { value: { at: 200 }, timestamp: 0, key: 'x' },
    { value: { at: 100 }, timestamp: 0, key: 'y' },
    { value: { at: 300 }, timestamp: 0, key: 'z' },
    { value: { at: 300, cancel: true }, timestamp: 0, key: 'z' },
  ]);
  h.setProcessingTime(250);
  assert.deepEqual(fired, [['y', 100, 'processing'], ['x', 200, 'processing']]);
  h.setProcessingTime(1000);
  assert.equal(fired.length, 2);
});

void test('list and map state; a name used as two kinds is rejected with a hint', () => {
  const fn: ProcessFunction<string, string, string[]> = {
    processElement(word, ctx) {
      const seen = ctx.state.list<string>('seen');
      seen.add(word);
      const counts = ctx.state.map<string, number>('counts');
      counts.set(word, (counts.get(word) ?? 0) + 1);
      if (counts.get(word) === 2) ctx.emit([...seen.get()]);
    },
  };
  const h = new OperatorHarness(new ProcessOperator({ name: 'words', fn }));
  h.processBatch(['a', 'b', 'a'].map((value) => ({ value, timestamp: 0, key: 'k' })));
  assert.deepEqual(h.values(), [['a', 'b', 'a']]);
  const bad = new OperatorHarness(
    new ProcessOperator({
      name: 'bad',
      fn: {
        processElement(_v, ctx: ProcessContext<string, never>) {
          ctx.state.value('x').update(1);
          ctx.state.list('x').add(1);
        },
      },
    }),
  );
  assert.throws(() => bad.processElement(1, 0, { key: 'k' }), /state 'x' is a value state.*give it another name/);
});

void test('running aggregates emit the change of their table per record (the new result and the one it replaced), and restore', () => {
  const sum = { init: () => 0, add: (_key: unknown, v: number, acc: number) => acc + v, result: (acc: number) => acc };
  const h = new OperatorHarness(new RollingAggregateOperator('sum', sum));
  h.processBatch([1, 2, 3].map((value, i) => ({ value, timestamp: i, key: i % 2 === 0 ? 'even' : 'odd' })));
  assert.deepEqual(h.values(), [
    { key: 'even', value: 1, previous: null },
    { key: 'odd', value: 2, previous: null },
    { key: 'even', value: 4, previous: 1 },
  ]);
  const restored = OperatorHarness.restored(new RollingAggregateOperator('sum', sum), h.snapshot());
  restored.processElement(10, 5, { key: 'odd' });
  assert.deepEqual(restored.values(), [{ key: 'odd', value: 12, previous: 2 }]);
});

void test("a record first fires its key's timers that its own W_before passed, whatever the batching", () => {
  const fn: ProcessFunction<string, { ts: number }, string> = {
    processElement(e, ctx) {
      const open = ctx.state.value<number>('open');
      ctx.emit(`${ctx.key}@${e.ts}: ${open.value() === undefined ? 'new' : 'open'}`);
      if (open.value() === undefined) {
        open.update(e.ts);
        ctx.timers.registerEventTime(e.ts + 100);
      }
    },
    onTimer(ts, ctx) {
      ctx.state.value('open').clear();
      ctx.emit(`${ctx.key} closed at ${ts}`);
    },
  };
  // One partition, W = max seen: the record at 150 has W_before 50, the one at 400 has 150.
  const records = [0, 50, 150, 400].map((ts, i, all) => ({ value: { ts }, timestamp: ts, key: 'k', sourceWatermark: i === 0 ? Number.NEGATIVE_INFINITY : all[i - 1] }));
  const oneBatch = new OperatorHarness(new ProcessOperator({ name: 'p', fn }));
  oneBatch.processBatch(records);
  const perRecord = new OperatorHarness(new ProcessOperator({ name: 'p', fn }));
  for (const r of records) {
    perRecord.processBatch([r]);
    perRecord.processWatermark(r.timestamp);
  }
  assert.deepEqual(oneBatch.values(), ['k@0: new', 'k@50: open', 'k@150: open', 'k closed at 100', 'k@400: new']);
  assert.deepEqual(perRecord.values().slice(0, 5), oneBatch.values());
});
