// mapAsync against a real local HTTP server with random delays: input order kept, the
// concurrency bound held, watermarks held behind pending records, records in flight at a
// checkpoint called again on restore (and emitted once), timeouts and retries, dead letters.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { AsyncMapOperator, type Element } from '../../src/operators/index.ts';
import { Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';
import { waitUntil } from '../support/wait.ts';

/** A server answering `/double?n=N` with 2N after a random delay; it counts calls running at once. */
async function delayServer(): Promise<{ url: string; server: Server; stats: { running: number; max: number; calls: number } }> {
  const stats = { running: 0, max: 0, calls: 0 };
  const server = createServer((req, res) => {
    stats.calls++;
    stats.running++;
    stats.max = Math.max(stats.max, stats.running);
    const n = Number(new URL(req.url!, 'http://x').searchParams.get('n'));
    setTimeout(() => {
      stats.running--;
      res.end(JSON.stringify({ doubled: n * 2 }));
    }, Math.random() * 15);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, stats };
}

void test('mapAsync keeps input order per partition and never runs more calls than its concurrency', { timeout: 60_000 }, async () => {
  const { url, server, stats } = await delayServer();
  try {
    const kit = new TestKit();
    const values = Array.from({ length: 400 }, (_, i) => ({ n: i, p: i % 2 }));
    kit.input('numbers', values, { partitions: 2, key: (v) => `k${v.p}` });
    const app = kit.app({ name: 'async' });
    app
      .stream<{ n: number; p: number }>('numbers')
      .mapAsync(async (v, { signal }) => {
        const answer = (await (await fetch(`${url}/double?n=${v.n}`, { signal })).json()) as { doubled: number };
        return { n: v.n, p: v.p, doubled: answer.doubled };
      }, { concurrency: 8, timeout: '10s' })
      .to('doubled');
    await app.run({ bounded: true, batchSize: 50 });
    const out = kit.output<{ n: number; p: number; doubled: number }>('doubled');
    assert.equal(out.length, values.length, 'every record once');
    for (const r of out) assert.equal(r.doubled, r.n * 2);
    for (const p of [0, 1]) {
      const ns = out.filter((r) => r.p === p).map((r) => r.n);
      assert.deepEqual(ns, [...ns].sort((a, b) => a - b), `partition ${p} in input order`);
    }
    assert.ok(stats.max <= 8 * 2, `at most 8 calls per task (2 tasks), saw ${stats.max}`);
    assert.ok(stats.max > 1, 'calls ran concurrently');
    assert.equal(stats.calls, values.length);
  } finally {
    server.close();
  }
});

void test('mapAsync holds the watermark behind pending records: a window downstream counts every record', { timeout: 60_000 }, async () => {
  const { url, server } = await delayServer();
  try {
    const kit = new TestKit();
    const events = Array.from({ length: 120 }, (_, i) => ({ k: `k${i % 3}`, ts: i * 500 }));
    kit.input('events', events, { partitions: 1, timestamp: (e) => e.ts });
    const app = kit.app({ name: 'held' });
    app
      .stream<{ k: string; ts: number }>('events', { timestamp: (e) => e.ts })
      .mapAsync(async (e) => {
        await fetch(`${url}/double?n=1`);
        return e;
      }, { concurrency: 4, unordered: true })
      .keyBy((e) => e.k)
      .window(Windows.tumbling('10s'))
      .count()
      .to('counts');
    await app.run({ bounded: true, batchSize: 7 });
    const counts = kit.output<{ key: string; start: number; value: number }>('counts');
    const total = counts.reduce((sum, r) => sum + r.value, 0);
    assert.equal(total, events.length, 'no record came after its window fired');
    assert.equal(new Set(counts.map((c) => `${c.key}@${c.start}`)).size, counts.length, 'each window fired once');
  } finally {
    server.close();
  }
});

const element = (n: number): Element => ({ value: n, timestamp: n, sourceWatermark: Number.NEGATIVE_INFINITY, source: { topic: 't', partition: 0, offset: n } });
const options = { concurrency: 2, timeoutMs: 5000, retries: 0, retryBackoffMs: 1, ordered: true, capacity: 10 };

void test('mapAsync: records in flight at a checkpoint are called again after a restore and emitted once, in order', async () => {
  const release: (() => void)[] = [];
  const calls: number[] = [];
  const slow = (n: number) => {
    calls.push(n);
    return new Promise<number>((resolve) => release.push(() => resolve(n * 10)));
  };
  const emitted: unknown[] = [];
  const out = { emit: (e: Element) => emitted.push(e.value), side: () => {} };
  const before = new AsyncMapOperator('lookup', slow, options);
  before.process([element(1), element(2), element(3)], out);
  await waitUntil(() => calls.length === 2, 'two calls started');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(calls, [1, 2], 'two calls at once, the third waits');
  assert.equal(before.saturated(), false);
  const snapshot = JSON.parse(JSON.stringify(before.snapshot()));
  before.close();
  // The process died: a new operator restores the three records and calls them again.
  const after = new AsyncMapOperator('lookup', (n: number) => Promise.resolve(n * 100), options);
  after.restore(snapshot);
  await waitUntil(() => {
    after.onProcessingTime(0, out);
    return emitted.length === 3;
  }, 'the restored records emitted');
  assert.deepEqual(emitted, [100, 200, 300]);
  assert.equal(after.pending(), 0);
});

void test('mapAsync: a timed-out attempt is retried; a record whose every attempt fails is dead-lettered', async () => {
  const attempts = new Map<number, number>();
  const flaky = (n: number, { signal }: { signal: AbortSignal }) => {
    const a = (attempts.get(n) ?? 0) + 1;
    attempts.set(n, a);
    if (n === 2) return Promise.reject(new Error('lookup refused'));
    // The first attempt never answers (until aborted); the second does.
    if (a === 1) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    return Promise.resolve(n);
  };
  const dead: [unknown, string][] = [];
  const emitted: unknown[] = [];
  const out = { emit: (e: Element) => emitted.push(e.value), side: () => {} };
  const op = new AsyncMapOperator('flaky', flaky, { ...options, timeoutMs: 30, retries: 2 }, (e, error) => dead.push([e?.value, (error as Error).message]));
  op.process([element(1), element(2), element(3)], out);
  await waitUntil(() => {
    op.onProcessingTime(0, out);
    return op.pending() === 0;
  }, 'every record finished');
  assert.deepEqual(emitted, [1, 3]);
  assert.equal(attempts.get(1), 2, 'retried once after the timeout');
  assert.equal(attempts.get(2), 3, 'one attempt and two retries');
  assert.deepEqual(dead.map(([v]) => v), [2]);
  assert.match(dead[0][1], /mapAsync\(\) 'flaky' failed at t\/0@2: lookup refused/);
});

void test('map() returning a Promise is refused with an error pointing to mapAsync', async () => {
  const kit = new TestKit();
  kit.input('xs', [1], { partitions: 1 });
  const app = kit.app({ name: 'refused' });
  app.stream<number>('xs').map(async (x) => x).to('ys');
  await app.run({ bounded: true });
  const letters = kit.deadLetters('refused');
  assert.equal(letters.length, 1);
  assert.match(String((letters[0] as { error: string }).error), /\.mapAsync\(/);
});

void test('mapAsync in a job: records whose calls are out when the app stops are called again by the next run, each emitted once, in order', { timeout: 60_000 }, async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { EmbeddedBackend } = await import('../../src/backend/embedded.ts');
  const { jsonCodec } = await import('../../src/core/index.ts');
  const { Sluice } = await import('../../src/index.ts');
  const dataDir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'async-restart-'));
  try {
    const log = await EmbeddedBackend.open(dataDir);
    await log.ensureTopic('xs', 1);
    const writer = await log.openWriter();
    await writer.send('xs', Array.from({ length: 10 }, (_, i) => ({ key: null, value: jsonCodec.encode(i), timestamp: i })));
    await writer.close();
    await log.close();
    const calls: number[] = [];
    const run = (fn: (n: number) => Promise<number>) => {
      const app = new Sluice({ name: 'async-restart', dataDir, checkpointInterval: '10ms' });
      app.stream<number>('xs').mapAsync(fn, { concurrency: 4, timeout: '1m' }).to('ys');
      return app;
    };
    // The first run answers 0-4 and never answers the rest: they are in flight when it stops.
    const first = run((n) => {
      calls.push(n);
      return n < 5 ? Promise.resolve(n * 10) : new Promise<number>(() => {});
    });
    const running = first.run();
    await waitUntil(() => calls.includes(8), 'calls for records 5-8 out');
    first.stop();
    await running;
    const second = run((n) => Promise.resolve(n * 10));
    await second.run({ bounded: true });
    const out = await EmbeddedBackend.open(dataDir);
    try {
      const { records } = await out.fetch('ys', 0, 0, 100);
      assert.deepEqual(records.map((r) => jsonCodec.decode(r.value!)), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    } finally {
      await out.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
