// The one timer queue (a heap ordered by time, then seq) and the keyed timers built on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedTimers, type KeyTimes, type Timer, TimerQueue } from '../../src/operators/index.ts';
import { type KeyedTable, type KeyIdValue, keyId } from '../../src/state/index.ts';

/** A table that says it is durable, as the lmdb backend's are: the timers mirror into it. */
class DurableMap<V> implements KeyedTable<V> {
  readonly durable = true;
  readonly map = new Map<KeyIdValue, V>();
  get(id: KeyIdValue): V | undefined {
    return this.map.get(id);
  }
  set(id: KeyIdValue, value: V): void {
    this.map.set(id, value);
  }
  delete(id: KeyIdValue): void {
    this.map.delete(id);
  }
  entries(): Iterable<[KeyIdValue, V]> {
    return this.map.entries();
  }
}

const pair = (t: Timer | undefined) => (t === undefined ? undefined : [t.time, t.key]);

void test('the timer queue pops by time, ties by seq, whatever the push order', () => {
  const q = new TimerQueue();
  const pushed: [number, number, string][] = [
    [30, 2, 'c'],
    [10, 5, 'b'],
    [10, 1, 'a'],
    [20, 0, 'd'],
    [10, 3, 'e'],
  ];
  for (const [time, seq, key] of pushed) q.push(time, seq, key);
  const popped: unknown[] = [];
  while (q.size > 0) {
    popped.push([q.peek(), q.peekSeq(), q.pop()]);
  }
  assert.deepEqual(popped, [
    [10, 1, 'a'],
    [10, 3, 'e'],
    [10, 5, 'b'],
    [20, 0, 'd'],
    [30, 2, 'c'],
  ]);
  assert.equal(q.peek(), Number.POSITIVE_INFINITY);
});

void test('keyed timers: registered twice fire once, deleted ones never, re-registered ones once, ties in registration order', () => {
  const timers = new KeyedTimers();
  timers.register(100, 'b');
  timers.register(100, 'a');
  timers.register(100, 'b');
  timers.register(50, 'c');
  timers.delete(50, 'c');
  timers.register(200, 'a');
  timers.delete(200, 'a');
  timers.register(200, 'a');
  assert.equal(timers.size, 3);
  assert.deepEqual(timers.list(), [
    { time: 100, key: 'b' },
    { time: 100, key: 'a' },
    { time: 200, key: 'a' },
  ]);
  const fired: unknown[] = [];
  for (let t = timers.pollDue(1000); t !== undefined; t = timers.pollDue(1000)) fired.push([t.time, t.key]);
  assert.deepEqual(fired, [
    [100, 'b'],
    [100, 'a'],
    [200, 'a'],
  ]);
  assert.equal(timers.size, 0);
});

void test('keyed timers: keys 1 and "1" are different keys, and one key polls ahead of the others', () => {
  const timers = new KeyedTimers();
  timers.register(10, 1);
  timers.register(10, '1');
  timers.register(5, '1');
  assert.equal(timers.size, 3);
  assert.deepEqual(pair(timers.pollDueForKey(20, '1')), [5, '1']);
  assert.deepEqual(pair(timers.pollDueForKey(20, '1')), [10, '1']);
  assert.equal(timers.pollDueForKey(20, '1'), undefined);
  assert.deepEqual(pair(timers.pollDue(20)), [10, 1]);
  assert.equal(timers.pollDue(20), undefined);
});

void test('keyed timers mirrored in a durable table are rebuilt from it, and fired ones leave it', () => {
  const table = new DurableMap<KeyTimes>();
  const timers = new KeyedTimers(table);
  timers.register(30, 'x');
  timers.register(10, 'x');
  timers.register(20, 'y');
  assert.deepEqual(table.get(keyId('x'))?.times, [30, 10]);
  const restored = new KeyedTimers(table);
  restored.reload();
  assert.deepEqual(restored.list(), [
    { time: 10, key: 'x' },
    { time: 20, key: 'y' },
    { time: 30, key: 'x' },
  ]);
  assert.deepEqual(pair(restored.pollDue(25)), [10, 'x']);
  assert.deepEqual(table.get(keyId('x'))?.times, [30]);
  restored.delete(20, 'y');
  assert.equal(table.get(keyId('y')), undefined);
});
