// Rows built from generated object literals: any column name is a plain property (quotes,
// backslashes, names that are not identifiers, `__proto__`), cells run in column order, and an
// error in a cell reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rowBuilder } from '../../src/sql/row-builder.ts';

void test('a generated row holds every column under its own name, in column order', () => {
  // The last one is a template literal's placeholder, spelled out.
  const names = ['a', 'with space', 'quote"d', "it's", 'back\\slash', '1st', 'constructor', '`$' + '{x}`'];
  const order: number[] = [];
  const build = rowBuilder(
    names,
    names.map((_n, i) => (input: { base: number }) => {
      order.push(i);
      return input.base + i;
    }),
  );
  const row = build({ base: 10 });
  assert.deepEqual(Object.keys(row), names);
  assert.deepEqual(Object.values(row), [10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(Object.getPrototypeOf(row), Object.prototype);
});

void test('a column named __proto__ is a property, not the prototype', () => {
  const row = rowBuilder(['__proto__', 'x'], [() => ({ polluted: true }), () => 1])(null);
  assert.deepEqual(Object.keys(row), ['__proto__', 'x']);
  assert.equal(Object.getPrototypeOf(row), Object.prototype);
  assert.equal((row as Record<string, unknown>).polluted, undefined);
});

void test('an error in a cell reaches the caller', () => {
  const build = rowBuilder(['ok', 'bad'], [() => 1, () => { throw new Error('cell failed'); }]);
  assert.throws(() => build(null), /cell failed/);
});
