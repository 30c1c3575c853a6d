// When checkpoints happen: the interval counts from the end of the last checkpoint, so one slower than the interval
// (a large heap state written whole) leaves the job an interval of work before the next, not one round.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppBuilder } from '../../src/api/index.ts';
import type { BackendWriter, LogBackend } from '../../src/backend/index.ts';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { Job } from '../../src/runtime/index.ts';

void test('a checkpoint slower than the interval does not make the job checkpoint every round', async () => {
  const backend = new MemoryBackend();
  await backend.ensureTopic('numbers', 1);
  const writer = await backend.openWriter();
  const total = 2000;
  await writer.send('numbers', Array.from({ length: total }, (_, i) => ({ key: null, value: jsonCodec.encode(i), timestamp: i })));

  const app = new AppBuilder({ name: 'cadence' });
  app.stream<number>('numbers').keyBy((n) => n % 7).reduce((a, b) => a + b).to('sums');

  // A manual clock: 1 ms passes at each reading while the job works, and every commit takes 5 s (five intervals).
  const interval = 100;
  const commitMs = 5000;
  let now = 0;
  let working = 0;
  let commits = 0;
  const clock = (): number => {
    working++;
    return ++now;
  };
  const slowCommits = new Proxy(backend, {
    get: (target, property) => {
      if (property === 'openWriter') {
        return async (options?: { transactionalId?: string }): Promise<BackendWriter> => {
          const inner = await target.openWriter(options);
          return {
            send: (topic, records) => inner.send(topic, records),
            beginTransaction: () => inner.beginTransaction(),
            sendOffsetsToTransaction: (group, offsets) => inner.sendOffsetsToTransaction(group, offsets),
            commitTransaction: async () => {
              await inner.commitTransaction();
              commits++;
              now += commitMs;
            },
            abortTransaction: () => inner.abortTransaction(),
            close: () => inner.close(),
          };
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as LogBackend;
  const job = new Job({ name: 'cadence', graph: app.graph, backend: slowCommits, guarantee: 'exactly-once', onError: 'fail', checkpointIntervalMs: interval, clock, batchSize: 10 });
  await job.open();
  const summary = await job.runBounded();
  await job.close();

  assert.equal(summary.records, total);
  // 200 rounds of 10 records. Counted from their start, every round after the first checkpoint would checkpoint again;
  // counted from their end, at most one per interval of the job's own time (1 ms per clock reading), and the final one.
  assert.ok(total / 10 > working / interval + 2, `the test needs more rounds (${total / 10}) than intervals of work (${working / interval})`);
  assert.ok(commits >= 2, `expected a checkpoint on the interval and the final one, got ${commits}`);
  assert.ok(commits <= working / interval + 2, `${commits} checkpoints in ${working} ms of work at an interval of ${interval} ms`);
});
