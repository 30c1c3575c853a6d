import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, MINUTES, SECONDS } from '../../src/core/index.ts';
import {
  type HoppingWindowSpec,
  HoppingWindow,
  type LookbackWindowSpec,
  SessionWindow,
  SlidingWindow,
  Triggers,
  TumblingWindow,
  Watermarks,
  Windows,
} from '../../src/time/index.ts';

/** Asserts an INVALID_ARGUMENT error whose message matches every pattern (what went wrong, what to write). */
function rejects(run: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(run, (error) => {
    assert.ok(isSluiceError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    for (const p of patterns) assert.match(error.message, p);
    return true;
  });
}

test('window builders return plain data', () => {
  assert.deepEqual(Windows.tumbling('1m'), { kind: 'tumbling', sizeMs: 60_000, offsetMs: 0, time: 'event' });
  assert.deepEqual(Windows.tumbling('1h', { offset: '15m', time: 'processing' }), {
    kind: 'tumbling',
    sizeMs: 3_600_000,
    offsetMs: 900_000,
    time: 'processing',
  });
  assert.deepEqual(Windows.hopping('1m', '20s'), { kind: 'hopping', sizeMs: 60_000, slideMs: 20_000, offsetMs: 0, time: 'event' });
  assert.deepEqual(Windows.sliding('10s'), { kind: 'sliding', lookbackMs: 10_000, time: 'event' });
  assert.deepEqual(Windows.session('30s', { time: 'processing' }), { kind: 'session', gapMs: 30_000, time: 'processing' });
  assert.deepEqual(Windows.global(Triggers.count(100)), { kind: 'global', trigger: { kind: 'count', every: 100 } });
  assert.deepEqual(Windows.global(Triggers.interval('1m')), { kind: 'global', trigger: { kind: 'interval', everyMs: 60_000 } });
  assert.deepEqual(Windows.global(Triggers.watermark()), { kind: 'global', trigger: { kind: 'watermark' } });
  assert.deepEqual(Windows.countTumbling(3), { kind: 'count-tumbling', size: 3 });
  assert.deepEqual(Windows.countSliding(3, 1), { kind: 'count-sliding', size: 3, slide: 1 });
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(Windows.hopping('1m', '20s')))), JSON.stringify(Windows.hopping('1m', '20s')));
});

test('Flink-style spellings', () => {
  assert.deepEqual(TumblingWindow.of(5, MINUTES), Windows.tumbling('5m'));
  assert.deepEqual(TumblingWindow.of('5m'), Windows.tumbling('5m'));
  assert.deepEqual(TumblingWindow.of(250), Windows.tumbling('250ms'));
  assert.deepEqual(HoppingWindow.of(10, 2, SECONDS), Windows.hopping('10s', '2s'));
  assert.deepEqual(SlidingWindow.of(10, 2, SECONDS), Windows.hopping('10s', '2s'), "Flink's sliding windows are hopping windows");
  assert.deepEqual(SessionWindow.withGap(30, SECONDS), Windows.session('30s'));
  assert.deepEqual(SessionWindow.withGap('30s'), Windows.session('30s'));
});

test("one meaning of sliding: SlidingWindow.of is a hopping window, Windows.sliding a lookback, and the types keep them apart", () => {
  const flink: HoppingWindowSpec = SlidingWindow.of(10, 2, SECONDS);
  const lookback: LookbackWindowSpec = Windows.sliding('10s');
  assert.equal(flink.kind, 'hopping');
  assert.equal(lookback.kind, 'sliding');
  // @ts-expect-error SlidingWindow.of builds hopping windows, not per-record lookback windows
  const wrong: LookbackWindowSpec = SlidingWindow.of(10, 2, SECONDS);
  // @ts-expect-error Windows.sliding is a lookback, not a window on a grid
  const alsoWrong: HoppingWindowSpec = Windows.sliding('10s');
  assert.notEqual(wrong.kind, alsoWrong.kind);
  // Every builder's type names its kind; all of them are still WindowSpecs for .window().
  const kinds: string[] = [Windows.tumbling('1m').kind, Windows.hopping('1m', '20s').kind, Windows.session('1m').kind, Windows.global(Triggers.count(1)).kind, Windows.countTumbling(2).kind, Windows.countSliding(2, 1).kind];
  assert.deepEqual(kinds, ['tumbling', 'hopping', 'session', 'global', 'count-tumbling', 'count-sliding']);
});

test('watermark builders', () => {
  assert.deepEqual(Watermarks.boundedOutOfOrderness('5s'), { kind: 'bounded-out-of-orderness', boundMs: 5000 });
  assert.deepEqual(Watermarks.monotonous(), { kind: 'bounded-out-of-orderness', boundMs: 0 });
  assert.deepEqual(Watermarks.boundedOutOfOrderness('5s', { idleTimeout: '1m' }), {
    kind: 'bounded-out-of-orderness',
    boundMs: 5000,
    idleTimeoutMs: 60_000,
  });
});

test('bad sizes say what to write instead', () => {
  rejects(() => Windows.tumbling(0), /size must be greater than zero/, /'1m'/);
  rejects(() => Windows.tumbling('5 minutes' as never), /tumbling window size/, /'5s'/);
  rejects(() => TumblingWindow.of(0, MINUTES), /greater than zero/);
  rejects(() => TumblingWindow.of('5m' as never, MINUTES), /TumblingWindow|number and a unit|5, MINUTES/);
  rejects(() => Windows.sliding(0), /lookback/);
  rejects(() => Windows.session('0s'), /session gap/, /'30s'/);
  rejects(() => SessionWindow.withGap(-1, SECONDS), /session gap/);
  rejects(() => Windows.tumbling('1m', { time: 'wall' as never }), /'event' or 'processing'/);
});

test('a slide larger than the size is rejected with the fix', () => {
  rejects(() => Windows.hopping('20s', '1m'), /slide .* larger than its size/, /slide <= size/);
  rejects(() => HoppingWindow.of(2, 10, SECONDS), /larger than its size/);
  rejects(() => Windows.countSliding(3, 4), /larger than its size/, /countTumbling\(3\)/);
  rejects(() => Windows.countSliding(3, 0), /whole number >= 1/);
});

test('offsets and counts are checked', () => {
  rejects(() => Windows.tumbling('1m', { offset: '1m' }), /smaller than 60000 ms/, /offset 0 ms/);
  rejects(() => Windows.tumbling('1m', { offset: '90s' }), /offset 30000 ms/);
  rejects(() => Windows.hopping('1m', '20s', { offset: '30s' }), /smaller than 20000 ms/);
  rejects(() => Windows.countTumbling(0), /whole number >= 1/);
  rejects(() => Windows.countTumbling(2.5), /whole number/);
  rejects(() => Windows.global(undefined as never), /Triggers.count/);
  rejects(() => Triggers.interval(0), /greater than zero/);
  rejects(() => Watermarks.boundedOutOfOrderness('-5s' as never), /watermark bound/);
  rejects(() => Watermarks.monotonous({ idleTimeout: 0 }), /idle timeout/);
});
