import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2, partitionForKey, utf8 } from '../../src/core/index.ts';

// Vectors of Apache Kafka's UtilsTest.testMurmur2 (signed 32-bit, as the Java test states them).
const KAFKA_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test('murmur2 matches Kafka UtilsTest vectors', () => {
  for (const [input, expected] of KAFKA_VECTORS) {
    assert.equal(murmur2(utf8(input)), expected, input);
  }
  assert.equal(murmur2(new Uint8Array(0)), 275646681);
});

test('partitionForKey takes the positive hash modulo partitions, as Kafka does', () => {
  assert.equal(partitionForKey(utf8('foobar'), 50), 16);
  for (let n = 1; n < 20; n++) {
    const p = partitionForKey(utf8(`key-${n}`), n);
    assert.ok(p >= 0 && p < n);
  }
});
