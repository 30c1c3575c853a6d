// The exchange: each element goes to the task owning its key, placed as Kafka would place the
// key's bytes in a repartition topic; a keyBy function that throws sends the element to the
// error handler and the rest on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Element, RecordErrorHandler } from '../../src/operators/index.ts';
import { type ElementQueue, InProcessExchange, inProcessExchanges, keyPartition } from '../../src/runtime/exchange.ts';

// Kafka's UtilsTest.testMurmur2 vectors (signed 32-bit); Kafka's partitioner takes
// (hash & 0x7fffffff) % partitions. Computed here from the vectors, not with our murmur2.
const KAFKA_HASHES: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];
const kafkaPartition = (hash: number, partitions: number) => (hash & 0x7fffffff) % partitions;

class Queue implements ElementQueue {
  readonly received: Element[] = [];
  enqueue(element: Element): void {
    this.received.push(element);
  }
}

const queues = (n: number) => Array.from({ length: n }, () => new Queue());
const element = (value: unknown, offset = 0): Element => Object.freeze({ value, timestamp: 10 + offset, sourceWatermark: 5, source: { topic: 'in', partition: 1, offset } });

void test('keyPartition places string keys as Kafka places their UTF-8 bytes, for any partition count', () => {
  for (const [key, hash] of KAFKA_HASHES) {
    for (const n of [1, 2, 3, 7, 50, 64]) assert.equal(keyPartition(key, n), kafkaPartition(hash, n), `'${key}' in ${n} partitions`);
  }
  assert.equal(keyPartition('foobar', 50), 16);
});

void test('keyPartition: other keys are placed by their JSON bytes (21 as "21"); a null key goes to partition 0', () => {
  assert.equal(keyPartition(21, 7), kafkaPartition(-973932308, 7));
  assert.equal(keyPartition({ id: 7 }, 13), keyPartition('{"id":7}', 13));
  assert.equal(keyPartition(null, 5), 0);
  assert.equal(keyPartition(undefined, 5), 0);
});

void test('the exchange hands each element to the owner of its key, with the key set and nothing else changed', () => {
  const targets = queues(4);
  const exchange = new InProcessExchange('by-user', (v) => (v as { user: string }).user, targets, () => assert.fail('no error expected'));
  const values = ['foobar', 'abc', '21', 'foobar', 'a-little-bit-long-string'].map((user) => ({ user }));
  const input = values.map((v, i) => element(v, i));
  exchange.send(input);
  exchange.send([element({ user: 'abc' }, 9)]); // a second call, through the key cache
  targets.forEach((queue, p) => {
    for (const e of queue.received) assert.equal(keyPartition(e.key, 4), p, `key ${String(e.key)} is owned by task ${p}`);
  });
  const all = targets.flatMap((q) => q.received).sort((a, b) => a.source!.offset - b.source!.offset);
  assert.deepEqual(
    all.map((e) => [e.key, e.value, e.timestamp, e.sourceWatermark, e.source]),
    [...input, element({ user: 'abc' }, 9)].map((e) => [(e.value as { user: string }).user, e.value, e.timestamp, 5, e.source]),
  );
  for (const e of input) assert.equal(e.key, undefined, 'the sent elements themselves are not changed (they are frozen)');
  const foobar = targets[kafkaPartition(-790332482, 4)].received.filter((e) => e.key === 'foobar');
  assert.equal(foobar.length, 2, 'one key, one owner, in send order');
  assert.ok(foobar[0].source!.offset < foobar[1].source!.offset);
});

void test('the exchange keeps per-target order and places number, string and object keys by their bytes', () => {
  const targets = queues(3);
  const keys: unknown[] = [1, '1', 2, { a: 1 }, [1, 2], 'x', 1, true];
  const exchange = new InProcessExchange('mixed', (v) => v, targets, () => assert.fail('no error expected'));
  exchange.send(keys.map((k, i) => element(k, i)));
  targets.forEach((queue, p) => {
    const offsets = queue.received.map((e) => e.source!.offset);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `task ${p} receives in send order`);
    for (const e of queue.received) assert.equal(keyPartition(e.key, 3), p);
  });
  assert.equal(targets.reduce((n, q) => n + q.received.length, 0), keys.length);
});

void test('a keyBy function that throws sends that element to the error handler with the stage name; the rest go on', () => {
  const targets = queues(2);
  const failures: Array<[unknown, string, string]> = [];
  const onError: RecordErrorHandler = (e, error, operator) => failures.push([e?.value, operator, (error as Error).message]);
  const exchange = inProcessExchanges({
    name: 'keyBy-3',
    keyFn: (v) => {
      if (v === 'boom') throw new Error('no key for boom');
      return v;
    },
    targets,
    onError,
  });
  exchange.send(['a', 'boom', 'b', 'boom', 'c'].map((v, i) => element(v, i)));
  assert.deepEqual(failures, [
    ['boom', 'keyBy-3', 'no key for boom'],
    ['boom', 'keyBy-3', 'no key for boom'],
  ]);
  assert.deepEqual(targets.flatMap((q) => q.received.map((e) => e.value)).sort(), ['a', 'b', 'c']);
});

void test('an error handler that throws (fail mode) stops the send at the failing element', () => {
  const targets = queues(1);
  const exchange = new InProcessExchange(
    'strict',
    (v) => {
      if (v === 'boom') throw new Error('no key');
      return v;
    },
    targets,
    (_e, error) => {
      throw error;
    },
  );
  assert.throws(() => exchange.send(['a', 'boom', 'b'].map((v, i) => element(v, i))), /no key/);
  assert.deepEqual(
    targets[0].received.map((e) => e.value),
    ['a'],
  );
});
