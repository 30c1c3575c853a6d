// The runtime's seams: exchanges and the commit step are interfaces a Kafka backend replaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppBuilder } from '../../src/api/index.ts';
import type { OutgoingRecord, TopicPartitionOffset } from '../../src/backend/index.ts';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Windows } from '../../src/index.ts';
import { type ExchangeSpec, inProcessExchanges, Job } from '../../src/runtime/index.ts';

void test('a job runs with a supplied exchange factory and commit step', async () => {
  const backend = new MemoryBackend();
  await backend.ensureTopic('words', 3);
  const writer = await backend.openWriter();
  const words = ['a', 'b', 'a', 'c', 'a', 'b'];
  await writer.send('words', words.map((w, i) => ({ key: null, value: jsonCodec.encode(w), timestamp: i, partition: i % 3 })));

  const app = new AppBuilder({ name: 'seams' });
  app.stream<string>('words').keyBy((w) => w).window(Windows.countTumbling(100)).count().to('counts');

  const exchanged: string[] = [];
  const specs: ExchangeSpec[] = [];
  const commits: { output: Map<string, OutgoingRecord[]>; offsets: TopicPartitionOffset[] }[] = [];
  const job = new Job({
    name: 'seams',
    graph: app.graph,
    backend,
    guarantee: 'exactly-once',
    onError: 'fail',
    checkpointIntervalMs: 1000,
    clock: () => 0,
    exchanges: (spec) => {
      specs.push(spec);
      const inner = inProcessExchanges(spec);
      return {
        send: (elements) => {
          exchanged.push(...elements.map((e) => e.value as string));
          inner.send(elements);
        },
      };
    },
    openCommit: async () => ({
      commit: async (output, offsets) => {
        commits.push({ output, offsets });
      },
      close: async () => {},
    }),
  });
  await job.open();
  const summary = await job.runBounded();
  await job.close();

  assert.equal(summary.records, 6);
  assert.deepEqual(exchanged.sort(), [...words].sort());
  // One exchange per source task, each feeding the keyed stage's 3 tasks.
  assert.equal(specs.length, 3);
  assert.ok(specs.every((s) => s.name === 'keyBy-1' && s.targets.length === 3));
  const counts = commits.flatMap((c) => c.output.get('counts') ?? []).map((r) => jsonCodec.decode(r.value!) as { key: string; value: number });
  assert.deepEqual(counts.map((c) => [c.key, c.value]).sort(), [['a', 3], ['b', 2], ['c', 1]]);
  assert.deepEqual(commits.at(-1)!.offsets.map((o) => [o.partition, o.offset]), [[0, 2], [1, 2], [2, 2]]);
});
