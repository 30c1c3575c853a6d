// Regressions the random-graph property test (graph.property.test.ts) found, as fixed cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Graph, SourceInput } from './graph-model.ts';
import { runGraph } from './graph-run.ts';

void test('key -0 after a restore from lmdb state is the key 0 (keyBy v % 3 of a negative v)', async () => {
  // 0 % 3 is 0 and -3 % 3 is -0: one key. Maps merge them, lmdb's key encoding did not, so after a
  // restore the record keyed -0 started a new window and the key's earlier window was lost.
  const graph: Graph = {
    nodes: [
      { op: 'source', topic: 'in' },
      { op: 'keyBy', input: 0, fn: 'vMod3' },
      { op: 'window', input: 1, window: { kind: 'tumbling', size: 10, offset: 0 }, lateness: 0, agg: 'count' },
      { op: 'sink', input: 2, topic: 'counts' },
    ],
  };
  const records = [0, 0, -3].map((v, i) => ({ partition: 0, rec: { id: i, k: 'a', v, ts: 1000 } }));
  const sources: SourceInput[] = [{ topic: 'in', partitions: 1, bound: 0, records }];
  for (const cut of [0, 1, 2]) {
    const { last } = await runGraph(graph, sources, { batchSize: 1, guarantee: 'at-least-once', state: 'lmdb', cut: [cut] }, ['counts']);
    assert.deepEqual(last.get('counts'), [{ key: 0, start: 1000, end: 1010, value: 3 }], `restored after ${cut} records`);
  }
});
