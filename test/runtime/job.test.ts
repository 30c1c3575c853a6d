// The runtime's seams: exchanges and the log writer the checkpoint coordinator drives are interfaces a Kafka backend replaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppBuilder } from '../../src/api/index.ts';
import type { BackendWriter, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../../src/backend/index.ts';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Windows } from '../../src/index.ts';
import { type ExchangeSpec, inProcessExchanges, Job } from '../../src/runtime/index.ts';
import { TestKit } from '../../src/testing/index.ts';

void test('a job runs with a supplied exchange factory, and checkpoints through any log writer', async () => {
  const backend = new MemoryBackend();
  await backend.ensureTopic('words', 3);
  const writer = await backend.openWriter();
  const words = ['a', 'b', 'a', 'c', 'a', 'b'];
  await writer.send('words', words.map((w, i) => ({ key: null, value: jsonCodec.encode(w), timestamp: i, partition: i % 3 })));

  const app = new AppBuilder({ name: 'seams' });
  app.stream<string>('words').keyBy((w) => w).window(Windows.countTumbling(100)).count().to('counts');

  const exchanged: string[] = [];
  const specs: ExchangeSpec[] = [];
  // A log of another kind (as a Kafka cluster would be): the coordinator only uses its writer's transactions.
  const commits: { output: Map<string, OutgoingRecord[]>; offsets: TopicPartitionOffset[] }[] = [];
  const openWriter = {
    openWriter: async (options?: { transactionalId?: string }): Promise<BackendWriter> => {
      const inner = await backend.openWriter(options);
      let open: { output: Map<string, OutgoingRecord[]>; offsets: TopicPartitionOffset[] } | undefined;
      return {
        send: async (topic, records) => {
          assert.ok(open, 'exactly-once output goes inside a transaction');
          open.output.set(topic, [...(open.output.get(topic) ?? []), ...records]);
          await inner.send(topic, records);
        },
        beginTransaction: async () => {
          open = { output: new Map(), offsets: [] };
          await inner.beginTransaction();
        },
        sendOffsetsToTransaction: async (group, offsets) => {
          open!.offsets.push(...offsets);
          await inner.sendOffsetsToTransaction(group, offsets);
        },
        commitTransaction: async () => {
          await inner.commitTransaction();
          commits.push(open!);
          open = undefined;
        },
        abortTransaction: () => inner.abortTransaction(),
        close: () => inner.close(),
      };
    },
  };
  const recording = new Proxy(backend, {
    get: (target, property) => {
      if (property === 'openWriter') return openWriter.openWriter;
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as LogBackend;
  const job = new Job({
    name: 'seams',
    graph: app.graph,
    backend: recording,
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
        sendOne: (value, from) => {
          exchanged.push(value as string);
          inner.sendOne(value, from);
        },
      };
    },
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
  // Memory state travels in the same transaction: the job snapshot record.
  assert.equal(commits.at(-1)!.output.get('seams.checkpoints')?.length, 1);
  assert.deepEqual(await backend.committedOffsets('seams', 'words'), new Map([[0, 2], [1, 2], [2, 2]]));
});

void test('the run summary counts late records, in this run only', async () => {
  const kit = new TestKit({ stepping: true });
  kit.input('events', [{ ts: 20_000 }, { ts: 1000 }, { ts: 25_000 }, { ts: 2000 }]);
  const build = () => {
    const app = kit.app({ name: 'late', checkpointInterval: '1h' });
    app.stream<{ ts: number }>('events', { timestamp: (e) => e.ts }).keyBy(() => 'k').window(Windows.tumbling('10s')).count().to('counts');
    return app;
  };
  const app = build();
  const running = app.run();
  await kit.runUntilIdle();
  app.stop();
  const summary = await running;
  assert.deepEqual({ records: summary.records, late: summary.late, deadLetters: summary.deadLetters }, { records: 4, late: 2, deadLetters: 0 });
  // Restored from that checkpoint (watermark 25 s): one more late record, counted once.
  kit.input('events', [{ ts: 3000 }, { ts: 26_000 }]);
  const again = await build().run({ bounded: true });
  assert.deepEqual({ records: again.records, late: again.late }, { records: 2, late: 1 });
});
