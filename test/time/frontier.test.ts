// The frontier: the minimum over inputs, idleness included (DESIGN section 4), used by the task
// (an operator's inputs), the stage (its upstream partitions) and two-input operators.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isSluiceError } from '../../src/core/index.ts';
import { Frontier } from '../../src/time/index.ts';

test('the frontier takes the minimum over inputs and ends at +Infinity', () => {
  const frontier = new Frontier(2);
  assert.equal(frontier.current(), Number.NEGATIVE_INFINITY);
  frontier.advance(0, 100);
  assert.equal(frontier.current(), Number.NEGATIVE_INFINITY);
  frontier.advance(1, 50);
  assert.equal(frontier.current(), 50);
  frontier.advance(1, 40);
  assert.equal(frontier.current(), 50, 'an input watermark never goes back');
  assert.equal(frontier.watermark(1), 50);
  frontier.end(1);
  assert.equal(frontier.current(), 100);
  frontier.end(0);
  assert.equal(frontier.current(), Number.POSITIVE_INFINITY);
});

test('an idle input stops holding the minimum back, and wakes up on its next record', () => {
  let now = 1000;
  const frontier = new Frontier(2, { idleTimeoutMs: 500, clock: () => now });
  frontier.advance(0, 100);
  frontier.advance(1, 10);
  assert.equal(frontier.current(), 10);
  now = 1400;
  frontier.advance(0, 200);
  assert.equal(frontier.current(), 10, 'input 1 has been silent 400 ms, under the timeout');
  now = 1500;
  assert.equal(frontier.isIdle(1), true);
  assert.equal(frontier.current(), 200, 'input 1 idle: input 0 alone sets the watermark');
  frontier.advance(1, 20);
  assert.equal(frontier.isIdle(1), false);
  assert.equal(frontier.current(), 200, 'the combined watermark never goes back');
  frontier.advance(0, 300);
  assert.equal(frontier.current(), 200, 'input 1 active again holds the minimum back at 200');
  frontier.advance(1, 250);
  assert.equal(frontier.current(), 250);
});

test('when every input is idle the frontier takes the largest watermark', () => {
  let now = 0;
  const frontier = new Frontier(3, { idleTimeoutMs: 100, clock: () => now });
  frontier.advance(0, 30);
  frontier.advance(1, 70);
  assert.equal(frontier.current(), Number.NEGATIVE_INFINITY, 'input 2 has sent nothing yet and is not idle yet');
  now = 100;
  assert.equal(frontier.current(), 70);
});

test('an ended input is never idle and never holds back', () => {
  let now = 0;
  const frontier = new Frontier(2, { idleTimeoutMs: 10, clock: () => now });
  frontier.end(0);
  frontier.advance(1, 5);
  now = 5;
  assert.equal(frontier.isIdle(0), false);
  assert.equal(frontier.current(), 5);
});

test('without idleTimeoutMs no input is ever idle, whatever the clock says', () => {
  let now = 0;
  const frontier = new Frontier(2, { clock: () => now });
  frontier.advance(0, 10);
  now = 1e12;
  assert.equal(frontier.isIdle(1), false);
  assert.equal(frontier.current(), Number.NEGATIVE_INFINITY);
});

test('frontiers nest: a stage over its upstreams, each a frontier over its partitions, is the minimum of minimums', () => {
  // A two-input operator (a join) takes the minimum of its sides, each already combined.
  const left = new Frontier(2);
  const right = new Frontier(1);
  const both = new Frontier(2);
  left.advance(0, 5);
  left.advance(1, 7);
  right.advance(0, 6);
  both.advance(0, left.current());
  both.advance(1, right.current());
  assert.equal(both.current(), 5);
});

test('without idleness the frontier is the running minimum over inputs of their running maximum (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.nat(4), fc.integer({ min: -1000, max: 1000 })), { maxLength: 60 }), (n, steps) => {
      const frontier = new Frontier(n);
      const highest = new Array<number>(n).fill(Number.NEGATIVE_INFINITY);
      let previous = Number.NEGATIVE_INFINITY;
      for (const [at, w] of steps) {
        const input = at % n;
        frontier.advance(input, w);
        highest[input] = Math.max(highest[input], w);
        const expected = Math.min(...highest);
        const got = frontier.current();
        assert.equal(got, expected);
        assert.ok(got >= previous, 'never goes back');
        previous = got;
      }
    }),
  );
});

test('frontier arguments are checked', () => {
  assert.throws(() => new Frontier(0), (e) => isSluiceError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => new Frontier(1, { idleTimeoutMs: 0 }), /omit it/);
  const frontier = new Frontier(1);
  assert.throws(() => frontier.advance(3, 1), (e) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
  assert.throws(() => frontier.isIdle(-1), (e) => isSluiceError(e, 'PARTITION_NOT_FOUND'));
});
