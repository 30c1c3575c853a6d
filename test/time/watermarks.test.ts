import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BoundedOutOfOrderness, createGenerator, Watermarks } from '../../src/time/index.ts';

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

test('a negative bound is refused', () => {
  assert.throws(() => new BoundedOutOfOrderness(-1), /bound/);
});
