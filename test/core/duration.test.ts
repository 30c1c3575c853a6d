import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, toMillis } from '../../src/core/index.ts';

test('durations parse in every documented spelling', () => {
  assert.equal(toMillis('250ms'), 250);
  assert.equal(toMillis('5s'), 5000);
  assert.equal(toMillis('1m'), 60_000);
  assert.equal(toMillis('2h'), 7_200_000);
  assert.equal(toMillis('1d'), 86_400_000);
  assert.equal(toMillis(1500), 1500);
  assert.equal(toMillis({ minutes: 5 }), 300_000);
});

test('a bad duration names what to write instead', () => {
  assert.throws(
    () => toMillis('5 minutes' as never, 'window size'),
    (error) => isSluiceError(error, 'INVALID_ARGUMENT') && /window size/.test(error.message) && /'5s'/.test(error.message),
  );
  assert.throws(() => toMillis(-1), /non-negative/);
});
