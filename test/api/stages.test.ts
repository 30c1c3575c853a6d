// The DSL: stages are types, builders reject bad arguments at once with a hint, every stage
// gets a stable name, and the graph is plain data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, MINUTES, Sluice, TumblingWindow, Watermarks, Windows } from '../../src/index.ts';

type Click = { url: string; action: string; ts: number };

function app(): Sluice {
  return new Sluice({ name: 'types' });
}

void test('a window needs a key, an aggregate needs a window or a key: wrong pipelines do not compile', () => {
  const events = app().stream<Click>('events');
  // @ts-expect-error a window without a key does not compile
  assert.throws(() => events.window(TumblingWindow.of(5, MINUTES)));
  // @ts-expect-error a windowed stream is not a stream: it needs an aggregate before .to()
  assert.throws(() => events.keyBy((e) => e.url).window(Windows.tumbling('1m')).to('out'));
  // @ts-expect-error filter on a keyed stream gives a plain stream: no window on it
  assert.throws(() => events.keyBy((e) => e.url).filter(() => true).window(Windows.tumbling('1m')));
  // Results are typed: key and value.
  const counts = events.keyBy((e) => e.url).window(Windows.tumbling('1m')).count();
  counts.map((r) => r.key.toUpperCase() + r.value.toFixed(0) + r.start + r.end);
  const totals = events
    .keyBy((e) => e.url.length)
    .window(Windows.session('30s'))
    .aggregate(() => ({ n: 0 }), (key, e, acc) => ({ n: acc.n + key + e.ts }), { merge: (a, b) => ({ n: a.n + b.n }) });
  totals.map((r) => r.value.n + r.key);
  // @ts-expect-error merge combines two accumulators of the aggregate's type
  events.keyBy((e) => e.url).window(Windows.session('30s')).aggregate(() => 0, (_key, _e, acc) => acc + 1, { merge: (a: string) => a });
});

void test('a session aggregate without a merge fails where it is written, saying what to write', () => {
  const sessions = app().stream<Click>('events').keyBy((e) => e.url).window(Windows.session('30s'));
  assert.throws(
    () => sessions.aggregate(() => 0, (_key, _e, n) => n + 1, { name: 'session-counts' }),
    (error: unknown) => isSluiceError(error, 'INVALID_ARGUMENT') && /session windows needs a merge.*\{ merge: \(a, b\) => a \+ b \}/.test(error.message),
  );
  assert.throws(() => sessions.aggregate(() => 0, (_key, _e, n) => n + 1, { merge: 'sum' as never }), /aggregate\(\) merge expects a function/);
  assert.throws(() => sessions.aggregate(() => 0, (_key, _e, n) => n + 1, 'totals' as never), /options must be an object.*\{ name: 'hourly-order-totals' \}/);
  // Built-in aggregates merge themselves; the spellings with and without options stay valid.
  sessions.count();
  sessions.reduce((a) => a);
  sessions.aggregate(() => 0, (_key, _e, n) => n + 1, { merge: (a, b) => a + b, name: 'session-counts' });
  const hourly = app().stream<{ customer: string; total: number }>('orders').keyBy((o) => o.customer).window(Windows.tumbling('1h'));
  hourly.aggregate(() => 0, (_key, order, total) => total + order.total, { name: 'hourly-order-totals' });
  hourly.aggregate(() => 0, (_key, order, total) => total + order.total);
});

void test('builders reject bad arguments at once, saying what to write instead', () => {
  const a = app();
  const expectHint = (fn: () => unknown, hint: RegExp) =>
    assert.throws(fn, (error: unknown) => {
      assert.ok(isSluiceError(error), String(error));
      assert.match(error.message, hint);
      return true;
    });
  expectHint(() => new Sluice({} as never), /new Sluice\(\{ name: 'clicks' \}\)/);
  expectHint(() => new Sluice({ name: 'x', guarantee: 'twice' as never }), /'exactly-once', 'at-least-once', 'at-most-once'/);
  expectHint(() => new Sluice({ name: 'x', checkpointInterval: '1 sec' as never }), /'250ms', '5s'/);
  expectHint(() => a.stream('bad topic!'), /such as 'clicks-per-url'/);
  expectHint(() => a.stream('events', { watermark: { bound: 5 } as never }), /Watermarks.boundedOutOfOrderness\('5s'\)/);
  expectHint(() => a.stream('events', { timestamp: 'ts' as never }), /\{ timestamp: \(e\) => e.ts \}/);
  const events = a.stream<Click>('events', { watermark: Watermarks.boundedOutOfOrderness('5s') });
  expectHint(() => events.filter(undefined as never), /\.filter\(\(e\) => e.action === "click"\)/);
  expectHint(() => events.keyBy((e) => e.url).window({ kind: 'tumbling' } as never), /Windows.tumbling\('5m'\)/);
  expectHint(() => events.keyBy((e) => e.url).window(Windows.countTumbling(3)).allowedLateness('1m'), /count windows have no event time/);
  expectHint(() => events.keyBy((e) => e.url).window(Windows.tumbling('1m')).emit({ everyRecords: 0 }), /\.emit\(\{ everyRecords: 100 \}\)/);
  expectHint(() => events.keyBy((e) => e.url).window(Windows.tumbling('1m')).sum('amount' as never), /\.sum\(\(e\) => e.amount\)/);
  expectHint(() => events.keyBy((e) => e.url).process({} as never), /processElement/);
  expectHint(() => events.sideOutput('late'), /call it on the stream process\(\) returns/);
  expectHint(() => a.stream('events'), /keep the stream the first app.stream\('events'\) returned/);
  expectHint(() => events.map((e) => e, { name: 'has space' }), /such as 'hourly-order-totals'/);
  events.map((e) => e, { name: 'same' });
  expectHint(() => events.map((e) => e, { name: 'same' }), /two stages are named 'same'/);
});

void test('stages get stable names from their position unless named, and the graph is plain data', () => {
  const build = () => {
    const a = app();
    const events = a.stream<Click>('events', { timestamp: (e) => e.ts, watermark: '5s', idleTimeout: '1m' });
    events
      .filter((e) => e.action === 'click')
      .keyBy((e) => e.url)
      .window(Windows.hopping('1m', '20s'))
      .allowedLateness('30s')
      .sideOutputLateData('late-events')
      .emit({ everyRecords: 10 })
      .aggregate(() => 0, (_k, _e, n) => n + 1, { name: 'clicks-per-url' })
      .to('out');
    return a;
  };
  const described = build().describe();
  assert.deepEqual(described, build().describe());
  assert.deepEqual(
    described.map((n) => (n as { name: string }).name),
    ['source-events', 'filter-1', 'keyBy-2', 'clicks-per-url', 'sink-4'],
  );
  assert.deepEqual(described[0], { kind: 'source', topic: 'events', time: { watermark: { kind: 'bounded-out-of-orderness', boundMs: 5000, idleTimeoutMs: 60_000 }, timestamp: 'fn' }, id: 0, name: 'source-events' });
  assert.deepEqual(described[3], {
    kind: 'window',
    input: 2,
    window: { kind: 'hopping', sizeMs: 60_000, slideMs: 20_000, offsetMs: 0, time: 'event' },
    lateness: { allowedLatenessMs: 30_000, lateSideOutput: 'late-events' },
    emit: { kind: 'early-count', every: 10 },
    aggregate: { kind: 'aggregate', init: 'fn', add: 'fn' },
    // A name alone is a stable state name, not a queryable store (queryable: true makes one).
    id: 3,
    name: 'clicks-per-url',
  });
  // Round-trips through JSON: the plan is data.
  assert.deepEqual(JSON.parse(JSON.stringify(described)), described);
});

void test('explain() shows stages, tasks, fused operators and exchanges without running anything', () => {
  const a = app();
  const events = a.stream<Click>('events');
  const keyed = events.filter((e) => e.action === 'click').keyBy((e) => e.url);
  keyed.window(Windows.tumbling('5m')).count().to('clicks-per-url');
  keyed.window(Windows.session('30s')).count().print();
  assert.equal(
    a.explain(),
    [
      "stage 0 (reads 'events'; one task per partition)",
      "  source-events: source 'events' (event time from log timestamps, out-of-orderness 0ms)",
      '  filter-1: filter -> exchange to stage 1',
      'stage 1 (exchange by key from stage 0; one task per key partition)',
      '  keyBy-2: keyBy',
      '  window-3: window {"kind":"tumbling","sizeMs":300000,"offsetMs":0,"time":"event"} count (lateness 0ms, emit final)',
      "  sink-4: to 'clicks-per-url'",
      '  window-5: window {"kind":"session","gapMs":30000,"time":"event"} count (lateness 0ms, emit final)',
      '  print-6: print',
    ].join('\n'),
  );
  const empty = app();
  empty.stream('events').map((x) => x);
  assert.throws(() => empty.explain(), /writes nowhere; end each stream with .to\(topic\) or .print\(\)/);
});

test('a type-guard filter narrows the stream type', () => {
  type Event = { kind: 'bid'; price: number } | { kind: 'person'; name: string };
  const app = new Sluice({ name: 'narrow', dataDir: 'unused' });
  const bids = app.stream<Event>('events').filter((e): e is Extract<Event, { kind: 'bid' }> => e.kind === 'bid');
  // Compiles only because the stream is now of bids.
  const prices = bids.map((b) => b.price * 2);
  assert.ok(prices);
});
