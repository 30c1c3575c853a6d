// Record keys: encodeKey's fast paths (numbers, short ASCII strings) give the bytes of its
// definition: a string as its UTF-8, anything else as its JSON text in UTF-8.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeKey } from '../../src/operators/index.ts';

const reference = (key: unknown): Uint8Array | null => {
  if (key === undefined || key === null) return null;
  return new TextEncoder().encode(typeof key === 'string' ? key : JSON.stringify(key));
};

const keys = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 70 }),
  fc.boolean(),
  fc.record({ a: fc.integer(), b: fc.string() }),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 4 }),
  fc.constantFrom(null, undefined),
);

void test('encodeKey gives the bytes of the key as a UTF-8 string or JSON text, on every path', () => {
  fc.assert(
    fc.property(keys, (key) => {
      assert.deepEqual(encodeKey(key), reference(key));
    }),
    { numRuns: 2000 },
  );
});
