// Foreign-key table joins in the DSL: orders joined with the user each names, updated when
// either changes, the old match left when an order's user changes, deleted with the order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sluice } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

type Order = { id: string; userId: string | null; total: number };
type User = { id: string; name: string };

function pipeline(app: Sluice): void {
  const orders = app.table<Order>('orders', { key: (o) => o.id });
  const users = app.table<User>('users', { key: (u) => u.id });
  orders.join(users, (o) => o.userId, (o, u) => ({ order: o.id, name: u.name }), { name: 'orders-users' }).to('inner');
  orders.leftJoin(users, (o) => o.userId, (o, u) => ({ order: o.id, name: u?.name ?? null }), { name: 'orders-users-left' }).to('left');
}

void test('a foreign-key join follows both tables, a changed foreign key and deletes', async () => {
  const kit = new TestKit({ stepping: true });
  kit.input<User>('users', [{ id: 'u1', name: 'Ann' }, { id: 'u2', name: 'Bob' }], { key: (u) => u.id, partitions: 2 });
  kit.input<Order>('orders', [{ id: 'o1', userId: 'u1', total: 5 }, { id: 'o2', userId: 'u9', total: 7 }, { id: 'o3', userId: null, total: 1 }], { key: (o) => o.id, partitions: 3 });
  const app = kit.app({ name: 'fk' });
  pipeline(app);
  const running = app.run();
  await kit.runUntilIdle();
  const inner = app.table<{ order: string; name: string }>('orders-users');
  const left = app.table<{ order: string; name: string | null }>('orders-users-left');
  assert.deepEqual(inner.scan(), [{ key: 'o1', value: { order: 'o1', name: 'Ann' } }]);
  assert.deepEqual(left.scan().map((r) => r.value), [{ order: 'o1', name: 'Ann' }, { order: 'o2', name: null }, { order: 'o3', name: null }]);

  // The user named by o2 appears; u1 is renamed; o1 moves to u2; o3 goes.
  kit.input<User>('users', [{ id: 'u9', name: 'Zed' }, { id: 'u1', name: 'Annie' }], { key: (u) => u.id, partitions: 2 });
  await kit.runUntilIdle();
  assert.equal(inner.get('o1')?.name, 'Annie');
  assert.equal(inner.get('o2')?.name, 'Zed');
  kit.input<Order>('orders', [{ id: 'o1', userId: 'u2', total: 5 }], { key: (o) => o.id, partitions: 3 });
  kit.tombstones('orders', ['o3'], { partitions: 3 });
  await kit.runUntilIdle();
  assert.equal(inner.get('o1')?.name, 'Bob');
  assert.equal(left.get('o3'), undefined);
  // u1 changes again: o1 no longer names it, so nothing of o1 changes.
  kit.input<User>('users', [{ id: 'u1', name: 'Anna' }], { key: (u) => u.id, partitions: 2 });
  kit.tombstones('users', ['u9'], { partitions: 2 });
  await kit.runUntilIdle();
  assert.equal(inner.get('o1')?.name, 'Bob');
  assert.equal(inner.get('o2'), undefined, 'an inner join loses the row when the user it names goes');
  assert.deepEqual(left.get('o2'), { order: 'o2', name: null });
  app.stop();
  await running;
  const changes = kit.records<{ order: string; name: string } | null>('inner').filter((r) => r.key === 'o1').map((r) => r.value?.name ?? null);
  assert.deepEqual(changes, ['Ann', 'Annie', 'Bob'], 'o1 as Ann, renamed, then moved to Bob; the later rename of u1 does not reach it');
});

void test('explain() shows the foreign-key join and table filters; bad arguments say what to write', () => {
  const app = new Sluice({ name: 'fk-explain' });
  const orders = app.table<Order>('orders');
  const users = app.table<User>('users');
  orders.join(users, (o) => o.userId, (o, u) => ({ ...o, name: u.name }), { name: 'orders-users' }).to('out');
  users.filter((u) => u.name !== '', { name: 'named' }).mapValues((u) => u.name, { name: 'names' }).to('names');
  const plan = app.explain();
  assert.match(plan, /named: table filter \(a row that stops passing becomes a delete\)/);
  assert.match(plan, /names: table mapValues \(deletes stay deletes\)/);
  assert.match(plan, /orders-users.subscribe: foreign-key join: each row subscribes to the row its foreign key names/);
  assert.match(plan, /orders-users.lookup: foreign-key inner join/);
  assert.match(plan, /orders-users: foreign-key join result \(the newest row per key\), queryable as 'orders-users'/);
  assert.equal(app.table('orders-users').name, 'orders-users');
  assert.throws(() => orders.leftJoin(users, (o) => o.userId, 'x' as never), /leftJoin\(\) expects a function/);
  assert.throws(() => orders.join({} as never, (o: Order) => o.userId, () => 1), /takes a table of the same app/);
});
