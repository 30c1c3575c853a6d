// The in-memory backend the pipeline tests and the test kit run on, held to the LogBackend
// contract, plus what only it offers (synchronous helpers for the test kit).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { utf8 } from '../../src/core/index.ts';
import { backendContract } from './contract.ts';

backendContract('memory', async () => {
  const backend = new MemoryBackend();
  return {
    backend,
    readUncommitted: async (topic, partition) => backend.readUncommitted(topic, partition),
    dispose: () => backend.close(),
  };
});

void test('memory backend: a fetched record is the stored one and frozen, so a reader changing it fails instead of changing the log', async () => {
  const backend = new MemoryBackend();
  backend.createTopicSync('t', 1);
  backend.appendSync('t', [{ key: null, value: utf8('v'), timestamp: 1, headers: { h: utf8('x') } }], null);
  const [record] = backend.fetchSync('t', 0, 0, 10).records;
  assert.throws(() => {
    (record as { value: Uint8Array | null }).value = null;
  }, TypeError);
  assert.throws(() => {
    (record.headers as Record<string, Uint8Array>).other = utf8('y');
  }, TypeError);
  assert.deepEqual(backend.topicNames(), ['t']);
});
