// Operators report failures through the one record error handler (RecordErrorHandler): in
// dead-letter mode the record goes to `<app>.dlq` and the run goes on, with onError 'fail' the run
// stops naming the operator. Also: keys that differ only in type stay apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, Windows } from '../../src/index.ts';
import { FilterOperator, FlatMapOperator, MapOperator } from '../../src/operators/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Reading = { k: string; v: number; ts: number };
const readings: Reading[] = [
  { k: 'a', v: 1, ts: 0 },
  { k: 'b', v: -1, ts: 1000 },
  { k: 'a', v: 2, ts: 2000 },
];

/** Sliding windows aggregate when they fire, so a throwing aggregate fails while the window fires. */
function slidingTotals(kit: TestKit, onError: 'dead-letter' | 'fail') {
  kit.input('readings', readings, { timestamp: (r) => r.ts });
  const app = kit.app({ name: `fire-${onError}`, onError });
  app
    .stream<Reading>('readings')
    .keyBy((r) => r.k)
    .window(Windows.sliding('10s'))
    .aggregate(
      () => 0,
      (_key, r, total) => {
        if (r.v < 0) throw new Error('negative reading');
        return total + r.v;
      },
      { name: 'totals' },
    )
    .to('totals');
  return app;
}

void test('window firing failure: an aggregate that throws while a window fires is dead-lettered, the other windows still emit', async () => {
  const kit = new TestKit();
  const summary = await slidingTotals(kit, 'dead-letter').run({ bounded: true });
  assert.deepEqual(kit.output('totals'), [
    { key: 'a', start: -10_000, end: 1, value: 1 },
    { key: 'a', start: -8000, end: 2001, value: 3 },
  ]);
  const letters = kit.deadLetters('fire-dead-letter');
  assert.equal(summary.deadLetters, 1);
  assert.equal(letters.length, 1);
  assert.equal(letters[0].operator, 'totals');
  assert.equal(letters[0].code, 'USER_FUNCTION_FAILED');
  assert.equal(letters[0].timestamp, 1000);
  assert.match(letters[0].error, /'totals' threw computing window \[-9000, 1001\) of key 'b': negative reading/);
});

void test("window firing failure with onError 'fail' stops the run naming the window operator", async () => {
  const kit = new TestKit();
  await assert.rejects(slidingTotals(kit, 'fail').run({ bounded: true }), (error: unknown) => {
    assert.ok(isSluiceError(error, 'USER_FUNCTION_FAILED'), String(error));
    assert.equal(error.operator, 'totals');
    assert.match(error.message, /key 'b': negative reading/);
    return true;
  });
  assert.deepEqual(kit.output('totals'), []);
});

void test('a session merge that throws while sessions merge dead-letters the record that bridged them', async () => {
  const kit = new TestKit();
  kit.input('clicks', [0, 20_000, 10_000, 40_000], { timestamp: (t) => t });
  const app = kit.app({ name: 'merge-errs' });
  app
    .stream<number>('clicks', { watermark: '1m' })
    .keyBy(() => 'u')
    .window(Windows.session('15s'))
    .aggregate(
      () => 0,
      (_key, _t, n) => n + 1,
      {
        merge: () => {
          throw new Error('no merging');
        },
      },
    )
    .to('sessions');
  await app.run({ bounded: true });
  // 10_000 bridges [0, 15s) and [20s, 35s): their merge fails, so the record is dead-lettered and both stay as they were.
  assert.deepEqual(kit.output('sessions'), [
    { key: 'u', start: 0, end: 15_000, value: 1 },
    { key: 'u', start: 20_000, end: 35_000, value: 1 },
    { key: 'u', start: 40_000, end: 55_000, value: 1 },
  ]);
  assert.deepEqual(kit.deadLetters('merge-errs').map((l) => [l.offset, l.operator, Buffer.from(l.value!, 'base64').toString()]), [[2, 'window-2', '10000']]);
});

void test('map, filter and flatMap returning a Promise: the record is dead-lettered saying async functions are not supported there', async () => {
  const kit = new TestKit();
  kit.input('nums', [1, 2, 3]);
  const app = kit.app({ name: 'async-errs' });
  const nums = app.stream<number>('nums');
  nums.map((n) => (n === 2 ? (Promise.resolve(n * 10) as unknown as number) : n * 10), { name: 'times-ten' }).to('mapped');
  nums.filter((n) => (n === 3 ? (Promise.resolve(true) as unknown as boolean) : n > 0), { name: 'positive' }).to('filtered');
  nums.flatMap((n) => (n === 1 ? (Promise.reject(new Error('later')) as unknown as number[]) : [n, n]), { name: 'twice' }).to('doubled');
  const summary = await app.run({ bounded: true });
  assert.deepEqual(kit.output('mapped'), [10, 30]);
  assert.deepEqual(kit.output('filtered'), [1, 2]);
  assert.deepEqual(kit.output('doubled'), [2, 2, 3, 3]);
  const letters = kit.deadLetters('async-errs').sort((a, b) => a.operator.localeCompare(b.operator));
  assert.equal(summary.deadLetters, 3);
  assert.deepEqual(
    letters.map((l) => [l.operator, l.offset, l.code]),
    [
      ['positive', 2, 'USER_FUNCTION_FAILED'],
      ['times-ten', 1, 'USER_FUNCTION_FAILED'],
      ['twice', 0, 'USER_FUNCTION_FAILED'],
    ],
  );
  for (const l of letters) assert.match(l.error, /returned a Promise at nums\/0@\d: async functions are not supported in (map|filter|flatMap)\(\)/);
});

void test("a map returning a Promise with onError 'fail' stops the run with what to do", async () => {
  const kit = new TestKit();
  kit.input('nums', [1]);
  const app = kit.app({ name: 'async-fail', onError: 'fail' });
  app
    .stream<number>('nums')
    .map(async (n) => n + 1, { name: 'plus-one' })
    .to('out');
  await assert.rejects(app.run({ bounded: true }), (error: unknown) => isSluiceError(error, 'USER_FUNCTION_FAILED') && error.operator === 'plus-one' && /make the function synchronous/.test(error.message));
  assert.deepEqual(kit.output('out'), []);
});

void test('the stateless operators pass on values that are not Promises, truthy filter results and empty flatMaps included', () => {
  const errors: unknown[] = [];
  const onError = (_e: unknown, error: unknown) => errors.push(error);
  const out: unknown[] = [];
  const sink = { emit: (e: { value: unknown }) => out.push(e.value), side() {} };
  const batch = [{ value: 1, timestamp: 0, sourceWatermark: 0 }];
  // A value with a `then` that is not a function is no thenable.
  const notThenable = JSON.parse('{"then":1}') as unknown;
  new MapOperator('m', () => notThenable, onError).process(batch, sink);
  new FilterOperator('f', () => 'yes' as unknown as boolean, onError).process(batch, sink);
  new FlatMapOperator('fm', () => [], onError).process(batch, sink);
  assert.deepEqual(out, [notThenable, 1]);
  assert.deepEqual(errors, []);
});

void test('keys 1 and "1" are counted apart: in windows and running counts', async () => {
  const kit = new TestKit();
  kit.input('events', [{ k: 1 }, { k: '1' }, { k: 1 }], { timestamp: () => 0 });
  const app = kit.app({ name: 'key-types' });
  const keyed = app.stream<{ k: number | string }>('events').keyBy((e) => e.k);
  keyed.window(Windows.tumbling('1m')).count({ name: 'per-key' }).to('windowed');
  // Keys 1 and '1' are one record key in a topic: the changelog's keys show the table keeps them apart.
  keyed.count().toStream().map((c) => ({ key: c.key, value: c.value })).to('running');
  await app.run({ bounded: true });
  const byKey = (rows: { key: unknown; value: number }[]) => rows.map((r) => [r.key, r.value]).sort((a, b) => String(typeof a[0]).localeCompare(String(typeof b[0])));
  assert.deepEqual(byKey(kit.output('windowed')), [
    [1, 2],
    ['1', 1],
  ]);
  assert.deepEqual(kit.output<{ key: unknown; value: number }>('running').map((r) => [r.key, r.value]), [
    [1, 1],
    ['1', 1],
    [1, 2],
  ]);
});

void test('keys 1 and "1" are apart in a queryable store read while the app runs', async () => {
  const kit = new TestKit({ stepping: true });
  kit.input('events', [{ k: 1 }, { k: '1' }, { k: 1 }], { timestamp: () => 0 });
  const app = kit.app({ name: 'key-types-store' });
  app
    .stream<{ k: number | string }>('events')
    .keyBy((e) => e.k)
    .window(Windows.tumbling('1m'))
    .count({ name: 'per-key', queryable: true })
    .to('windowed');
  const running = app.run();
  await kit.runUntilIdle();
  const store = app.store<number>('per-key');
  assert.deepEqual(
    store.get(1).map((w) => w.value),
    [2],
  );
  assert.deepEqual(
    store.get('1').map((w) => w.value),
    [1],
  );
  assert.equal(store.all().length, 2);
  app.stop();
  await running;
});

void test('a process function whose onTimer throws: the timer is dead-lettered, the other timers still fire', async () => {
  const kit = new TestKit();
  kit.input('logins', [{ user: 'ann', ts: 0 }, { user: 'bob', ts: 1000 }, { user: 'cy', ts: 2000 }], { timestamp: (e) => e.ts });
  const app = kit.app({ name: 'timer-errs' });
  app
    .stream<{ user: string; ts: number }>('logins')
    .keyBy((e) => e.user)
    .process<string>(
      {
        processElement(e, ctx) {
          ctx.timers.registerEventTime(e.ts + 60_000);
        },
        onTimer(_ts, ctx) {
          if (ctx.key === 'bob') throw new Error('bob has no timeout');
          ctx.emit(ctx.key);
        },
      },
      { name: 'timeouts' },
    )
    .to('timed-out');
  const summary = await app.run({ bounded: true });
  assert.deepEqual(kit.output('timed-out'), ['ann', 'cy']);
  assert.equal(summary.deadLetters, 1);
  const [letter] = kit.deadLetters('timer-errs');
  assert.deepEqual([letter.operator, letter.timestamp, letter.code], ['timeouts', 61_000, 'USER_FUNCTION_FAILED']);
  assert.match(letter.error, /onTimer of 'timeouts' threw for key 'bob' at timer 61000: bob has no timeout/);
});
