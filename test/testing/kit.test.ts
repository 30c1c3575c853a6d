// The public test kit: input over partitions, apps on its log and clock, output and dead letters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionForKey, utf8 } from '../../src/core/index.ts';
import { Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

void test('input spreads unkeyed values round-robin and places keyed ones by murmur2, with chosen timestamps', () => {
  const kit = new TestKit({ startTime: 5000 });
  kit.input('spread', ['a', 'b', 'c', 'd'], { partitions: 3 });
  assert.deepEqual(kit.records('spread').map((r) => [r.partition, r.value, r.timestamp]), [[0, 'a', 5000], [0, 'd', 5000], [1, 'b', 5000], [2, 'c', 5000]]);
  kit.input('keyed', [{ u: 'x' }, { u: 'y' }], { partitions: 4, key: (v) => v.u, timestamp: (_v, i) => i * 10 });
  for (const r of kit.records<{ u: string }>('keyed')) {
    assert.equal(r.partition, partitionForKey(utf8(r.value.u), 4));
    assert.equal(r.key, r.value.u);
  }
});

void test('apps from the kit run on its log; print() output is collected', async () => {
  const kit = new TestKit();
  kit.input('words', ['a b', 'c'], { partitions: 2 });
  const app = kit.app({ name: 'words' });
  const words = app.stream<string>('words').flatMap((line) => line.split(' '));
  words.print('word: ');
  words.map((w) => w.toUpperCase()).to('upper');
  await app.run({ bounded: true });
  assert.deepEqual([...kit.printed].sort(), ['word: a', 'word: b', 'word: c']);
  assert.deepEqual(kit.output<string>('upper').sort(), ['A', 'B', 'C']);
  assert.deepEqual(kit.deadLetters('words'), []);
  assert.throws(() => kit.output('never-written'), /nothing wrote to it/);
});

void test('explicit watermarks fire windows while the input stays open, partition by partition', async () => {
  // A stepping kit: each runUntilIdle() has read and committed everything, so an empty output
  // there means the window has not fired, not that the app was slow.
  const kit = new TestKit({ stepping: true });
  kit.input('events', [{ ts: 1000 }, { ts: 9000 }, { ts: 15_000 }], { partitions: 2, timestamp: (e) => e.ts });
  const app = kit.app({ name: 'marks', checkpointInterval: 1 });
  app.stream<{ ts: number }>('events').keyBy(() => 'k').window(Windows.tumbling('10s')).count().to('counts');
  const running = app.run();
  const settle = async () => {
    kit.clock.advance(10);
    await kit.runUntilIdle();
  };
  await settle();
  assert.equal(kit.records('events').length, 3);
  assert.deepEqual(kit.output('counts'), []);
  // Partition 0 is past 10 s already (it read 15 s); partition 1 (at 9 s) holds the watermark back.
  kit.watermark('events', 10_000, { partition: 0 });
  await settle();
  assert.deepEqual(kit.output('counts'), []);
  kit.watermark('events', 10_000);
  await settle();
  assert.deepEqual(kit.output('counts'), [{ key: 'k', start: 0, end: 10_000, value: 2 }]);
  app.stop();
  await running;
});
