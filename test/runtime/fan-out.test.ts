// Regression: one stream feeding several branches. Every branch reads the original records,
// whatever the branches before it did (a map used to change the elements the next branch read).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestKit } from '../../src/testing/index.ts';

void test('fan-out: each branch of a stream sees the original records, not the first branch output', async () => {
  const kit = new TestKit();
  kit.input('users', [{ id: 'u1' }, { id: 'u2' }]);
  const app = kit.app({ name: 'fan-out' });
  const users = app.stream<{ id: string }>('users');
  users.map((u) => ({ a: u.id })).to('branch-a');
  users.map((u) => ({ b: u.id })).to('branch-b');
  users.keyBy((u) => u.id).count().to('branch-c');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output('branch-a'), [{ a: 'u1' }, { a: 'u2' }]);
  assert.deepEqual(kit.output('branch-b'), [{ b: 'u1' }, { b: 'u2' }]);
  // A running count is a table: the key as the record key, the count as the value.
  const counts = kit.records<number>('branch-c').map((r) => ({ key: r.key!, value: r.value }));
  assert.deepEqual(counts.sort((x, y) => x.key.localeCompare(y.key)), [{ key: 'u1', value: 1 }, { key: 'u2', value: 1 }]);
});

void test('fan-out: a keyBy branch and a map branch of one stream both read the original records', async () => {
  const kit = new TestKit();
  kit.input('nums', [1, 2, 3, 4], { partitions: 2 });
  const app = kit.app({ name: 'fan-out-keyed' });
  const nums = app.stream<number>('nums');
  nums.keyBy((n) => n % 2).count().to('parity');
  nums.map((n) => n * 10).to('tens');
  nums.keyBy((n) => `k${n}`).count().to('each');
  await app.run({ bounded: true });
  assert.deepEqual(kit.output<number>('tens').sort((a, b) => a - b), [10, 20, 30, 40]);
  assert.equal(kit.output('each').length, 4);
  const parity = kit.records<number>('parity');
  assert.deepEqual(Math.max(...parity.filter((r) => r.key === '0').map((r) => r.value)), 2);
  assert.deepEqual(Math.max(...parity.filter((r) => r.key === '1').map((r) => r.value)), 2);
});
