// The one JSON encoding of infinities: marked strings, read back as numbers, at any depth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NEGATIVE_INFINITY_MARK, parseWithInfinities, POSITIVE_INFINITY_MARK, stringifyWithInfinities } from '../../src/core/index.ts';

void test('infinities survive JSON at any depth; plain JSON would turn them into null', () => {
  const value = { watermark: -Infinity, ended: [Infinity, 3, { deep: -Infinity }], n: 1.5, s: 'inf', none: null };
  const text = stringifyWithInfinities(value);
  assert.deepEqual(JSON.parse(text), { watermark: NEGATIVE_INFINITY_MARK, ended: [POSITIVE_INFINITY_MARK, 3, { deep: NEGATIVE_INFINITY_MARK }], n: 1.5, s: 'inf', none: null });
  assert.deepEqual(parseWithInfinities(text), value);
  assert.equal(JSON.stringify({ w: -Infinity }), '{"w":null}');
});
