import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isSluiceError } from '../../src/core/index.ts';
import { BoundedOutOfOrderness, createGenerator, Watermarks, WatermarkTracker } from '../../src/time/index.ts';

test('a partition watermark is max(event time seen) - bound, record by record, from -Infinity', () => {
  const gen = new BoundedOutOfOrderness(5);
  assert.equal(gen.watermark, Number.NEGATIVE_INFINITY);
  assert.equal(gen.observe(100), Number.NEGATIVE_INFINITY, 'W_before of the first record');
  assert.equal(gen.watermark, 95);
  assert.equal(gen.observe(90), 95, 'an out-of-order record does not move it');
  assert.equal(gen.watermark, 95);
  assert.equal(gen.observe(120), 95);
  assert.equal(gen.watermark, 115);
  gen.end();
  assert.equal(gen.watermark, Number.POSITIVE_INFINITY);
});

test('monotonous watermarks have bound 0', () => {
  const gen = createGenerator(Watermarks.monotonous());
  gen.observe(10);
  assert.equal(gen.watermark, 10);
});

test('W_before of each record matches the definition for any sequence', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 50 }), fc.integer({ min: 0, max: 500 }), (times, bound) => {
      const gen = new BoundedOutOfOrderness(bound);
      times.forEach((t, i) => {
        const expected = i === 0 ? Number.NEGATIVE_INFINITY : Math.max(...times.slice(0, i)) - bound;
        assert.equal(gen.observe(t), expected);
      });
    }),
    { numRuns: 100 },
  );
});

test('a generator snapshot survives JSON', () => {
  const gen = new BoundedOutOfOrderness(3);
  const fresh = new BoundedOutOfOrderness(3);
  fresh.restore(JSON.parse(JSON.stringify(gen.snapshot())));
  assert.equal(fresh.watermark, Number.NEGATIVE_INFINITY);
  gen.observe(50);
  fresh.restore(JSON.parse(JSON.stringify(gen.snapshot())));
  assert.equal(fresh.observe(40), 47);
});

test('the tracker takes the minimum over partitions and ends at +Infinity', () => {
  const tracker = new WatermarkTracker({ partitions: [0, 1] });
  assert.equal(tracker.current(), Number.NEGATIVE_INFINITY);
  tracker.advance(0, 100);
  assert.equal(tracker.current(), Number.NEGATIVE_INFINITY);
  tracker.advance(1, 50);
  assert.equal(tracker.current(), 50);
  tracker.advance(1, 40);
  assert.equal(tracker.current(), 50, 'a partition watermark never goes back');
  tracker.end(1);
  assert.equal(tracker.current(), 100);
  tracker.end(0);
  assert.equal(tracker.current(), Number.POSITIVE_INFINITY);
});

test('an idle partition stops holding the minimum back, and wakes up on its next record', () => {
  let now = 1000;
  const tracker = new WatermarkTracker({ partitions: ['a', 'b'], idleTimeoutMs: 500, clock: () => now });
  tracker.advance('a', 100);
  tracker.advance('b', 10);
  assert.equal(tracker.current(), 10);
  now = 1400;
  tracker.advance('a', 200);
  assert.equal(tracker.current(), 10, 'b has been silent 400 ms, under the timeout');
  now = 1500;
  assert.equal(tracker.isIdle('b'), true);
  assert.equal(tracker.current(), 200, 'b idle: a alone sets the watermark');
  tracker.advance('b', 20);
  assert.equal(tracker.isIdle('b'), false);
  assert.equal(tracker.current(), 200, 'the combined watermark never goes back');
  tracker.advance('a', 300);
  assert.equal(tracker.current(), 200, 'b active again holds the minimum back at 200');
  tracker.advance('b', 250);
  assert.equal(tracker.current(), 250);
});

test('when every partition is idle the tracker takes the largest watermark', () => {
  let now = 0;
  const tracker = new WatermarkTracker({ partitions: [0, 1, 2], idleTimeoutMs: 100, clock: () => now });
  tracker.advance(0, 30);
  tracker.advance(1, 70);
  assert.equal(tracker.current(), Number.NEGATIVE_INFINITY, 'partition 2 has sent nothing yet and is not idle yet');
  now = 100;
  assert.equal(tracker.current(), 70);
});

test('an ended partition is never idle and never holds back', () => {
  let now = 0;
  const tracker = new WatermarkTracker({ partitions: [0, 1], idleTimeoutMs: 10, clock: () => now });
  tracker.end(0);
  tracker.advance(1, 5);
  now = 5;
  assert.equal(tracker.isIdle(0), false);
  assert.equal(tracker.current(), 5);
});

test('tracker arguments are checked', () => {
  assert.throws(() => new WatermarkTracker({ partitions: [] }), (e) => isSluiceError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => new WatermarkTracker({ partitions: [0], idleTimeoutMs: 0 }), /omit it/);
  const tracker = new WatermarkTracker({ partitions: [0] });
  assert.throws(() => tracker.advance(3, 1), (e) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
  assert.throws(() => new BoundedOutOfOrderness(-1), /bound/);
});
