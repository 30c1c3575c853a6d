// The public test kit: input over partitions, apps on its log and clock, output and dead letters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionForKey, utf8 } from '../../src/core/index.ts';
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
