// Rows built from generated object literals: any column name is a plain property (quotes,
// backslashes, names that are not identifiers, `__proto__`), cells run in column order, and an
// error in a cell reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldReader, fieldsFiller, rowBuilder } from '../../src/sql/row-builder.ts';

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

const NAMES = ['a', 'with space', 'quote"d', "it's", 'back\\slash', 'constructor', '`$' + '{x}`'];

void test('generated column readers and fillers read any name as a plain property', () => {
  const record = Object.fromEntries(NAMES.map((n, i) => [n, i]));
  assert.deepEqual(NAMES.map((n) => fieldReader(n)(record)), [0, 1, 2, 3, 4, 5, 6]);
  // A row builder inlines a reader's load: the same values, under the output names.
  assert.deepEqual(rowBuilder(['x', 'y'], [fieldReader('quote"d'), fieldReader("it's")])(record), { x: 2, y: 3 });
  const doubled = NAMES.map(() => (v: unknown) => (v as number) * 2);
  const row = fieldsFiller(NAMES, doubled, () => new Map())(record, {});
  assert.deepEqual(row, Object.fromEntries(NAMES.map((n, i) => [n, i * 2])));
});

void test('a filler looks a column missing as written up ignoring case, and gives null when it is not there at all', () => {
  const lower = (value: Record<string, unknown>) => new Map(Object.keys(value).map((k) => [k.toLowerCase(), k]));
  const fill = fieldsFiller(['eventtime', 'v', 'gone'], [(v) => v, (v) => v, (v) => v], lower);
  assert.deepEqual(fill({ eventTime: 5, v: 1 }, {}), { eventtime: 5, v: 1, gone: null });
  assert.deepEqual(fill({ EVENTTIME: 6, V: 2, gone: 3 }, {}), { eventtime: 6, v: 2, gone: 3 });
});

void test('a column named __proto__ is read and filled as a property, never the prototype', () => {
  const record = JSON.parse('{"__proto__": 7, "x": 1}') as Record<string, unknown>;
  assert.equal(fieldReader('__proto__')(record), 7);
  const row = fieldsFiller(['__proto__', 'x'], [(v) => v, (v) => v], () => new Map())(record, {});
  assert.deepEqual(Object.keys(row), ['__proto__', 'x']);
  assert.equal(Object.getPrototypeOf(row), Object.prototype);
  assert.equal(fieldReader('__proto__')(row), 7);
  // Missing: null, not Object.prototype.
  const missing = fieldsFiller(['__proto__'], [(v) => v], () => new Map())({ x: 1 }, {});
  assert.deepEqual(Object.getOwnPropertyDescriptor(missing, '__proto__')?.value, null);
});
