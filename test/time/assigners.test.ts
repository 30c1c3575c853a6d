import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  alignedStart,
  assignWindows,
  countWindows,
  GLOBAL_END,
  GLOBAL_START,
  hoppingWindows,
  overlaps,
  sessionWindow,
  slidingEndsHolding,
  slidingWindow,
  tumblingWindow,
} from '../../src/time/index.ts';

test('tumbling windows are aligned to the epoch, plus the offset', () => {
  assert.deepEqual(tumblingWindow(125_000, 60_000), { start: 120_000, end: 180_000 });
  assert.deepEqual(tumblingWindow(120_000, 60_000), { start: 120_000, end: 180_000 });
  assert.deepEqual(tumblingWindow(119_999, 60_000), { start: 60_000, end: 120_000 });
  assert.deepEqual(tumblingWindow(125_000, 60_000, 15_000), { start: 75_000, end: 135_000 });
  assert.deepEqual(tumblingWindow(-1, 1000), { start: -1000, end: 0 }, 'times before the epoch floor, not truncate');
});

test('hopping windows: every window holding the time, in end order', () => {
  assert.deepEqual(hoppingWindows(65_000, 60_000, 20_000), [
    { start: 20_000, end: 80_000 },
    { start: 40_000, end: 100_000 },
    { start: 60_000, end: 120_000 },
  ]);
  assert.deepEqual(hoppingWindows(5, 10, 10), [{ start: 0, end: 10 }], 'slide = size is tumbling');
  // Grid 1 + 4k: [-3, 7) ends exactly at 7 and so does not hold it.
  assert.deepEqual(hoppingWindows(7, 10, 4, 1), [
    { start: 1, end: 11 },
    { start: 5, end: 15 },
  ]);
});

test('hopping assignment agrees with the definition for any size, slide, offset and time', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 49 }),
      fc.integer({ min: -1000, max: 1000 }),
      (a, b, off, ts) => {
        const size = Math.max(a, b);
        const slide = Math.min(a, b);
        const offset = off % slide;
        const expected = [];
        for (let start = offset - 2000 * slide; start <= ts; start += slide) {
          if (start <= ts && ts < start + size) expected.push({ start, end: start + size });
        }
        assert.deepEqual(hoppingWindows(ts, size, slide, offset), expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('sliding windows look back from the record, inclusive of both ends', () => {
  assert.deepEqual(slidingWindow(100, 10), { start: 90, end: 101 });
  assert.deepEqual(slidingEndsHolding(95, 10), { minEnd: 96, maxEnd: 106 });
  // The window opened at 105 is the last holding 95.
  const w = slidingWindow(105, 10);
  assert.ok(w.start <= 95 && 95 < w.end);
  assert.ok(!(slidingWindow(106, 10).start <= 95));
});

test('session windows: adjacent windows do not overlap, touching ones do', () => {
  assert.deepEqual(sessionWindow(10, 5), { start: 10, end: 15 });
  assert.equal(overlaps({ start: 0, end: 10 }, { start: 10, end: 20 }), false);
  assert.equal(overlaps({ start: 0, end: 10 }, { start: 9, end: 20 }), true);
  assert.equal(overlaps({ start: 5, end: 6 }, { start: 0, end: 20 }), true);
});

test('count windows by position', () => {
  assert.deepEqual(countWindows(4, 3, 3), [{ start: 3, end: 6 }]);
  assert.deepEqual(countWindows(4, 3, 1), [
    { start: 2, end: 5 },
    { start: 3, end: 6 },
    { start: 4, end: 7 },
  ]);
  assert.deepEqual(countWindows(1, 3, 1), [
    { start: 0, end: 3 },
    { start: 1, end: 4 },
  ]);
});

test('assignWindows dispatches on the spec', () => {
  assert.deepEqual(assignWindows({ kind: 'tumbling', sizeMs: 10, offsetMs: 0, time: 'event' }, 15), [{ start: 10, end: 20 }]);
  assert.deepEqual(assignWindows({ kind: 'session', gapMs: 10, time: 'event' }, 15), [{ start: 15, end: 25 }]);
  assert.deepEqual(assignWindows({ kind: 'sliding', lookbackMs: 10, time: 'event' }, 15), [{ start: 5, end: 16 }]);
  assert.deepEqual(assignWindows({ kind: 'global', trigger: { kind: 'watermark' } }, 15), [{ start: GLOBAL_START, end: GLOBAL_END }]);
  assert.throws(() => assignWindows({ kind: 'count-tumbling', size: 3 }, 1), /countWindows/);
  assert.equal(alignedStart(-5, 10, 3), -7);
});
