// sources.http under a producer much faster than the pipeline (a slow mapAsync behind it): the
// buffer stays within its bound, and each onFull strategy does what it says: block refuses with
// 429 and Retry-After (every record arrives once after retries), drop takes what fits, shed drops
// the records its rule names first. A request is acknowledged only once its checkpoint committed
// (its records are then in the output, or in the checkpointed state of the operators before it).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sluice, sinks, sources } from '../../src/index.ts';
import { waitUntil } from '../support/wait.ts';
import { withTemp } from './helpers.ts';

interface Event {
  id: number;
  priority: 'high' | 'low';
}

const lines = (path: string): Event[] => (existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

/** Sends `requests` POSTs of `perRequest` events, `parallel` at a time; retries a 429 when `retry`. */
async function produce(url: string, requests: number, perRequest: number, parallel: number, retry: boolean) {
  const statuses: number[] = [];
  const retryAfter: string[] = [];
  const bodies: { accepted: number; dropped?: number; shed?: number }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const r = next++;
      const events = Array.from({ length: perRequest }, (_, i) => ({ id: r * perRequest + i, priority: i % 2 === 0 ? 'high' : 'low' }));
      for (;;) {
        const res = await fetch(url, { method: 'POST', body: events.map((e) => JSON.stringify(e)).join('\n') });
        statuses.push(res.status);
        const body = (await res.json()) as { accepted: number; dropped?: number; shed?: number };
        if (res.status === 429) {
          retryAfter.push(res.headers.get('retry-after') ?? '');
          if (!retry) break;
          await new Promise((resolve) => setTimeout(resolve, 10)); // the client's backoff
          continue;
        }
        bodies.push(body);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { statuses, retryAfter, bodies };
}

async function scenario(onFull: 'block' | 'drop' | 'shed', retry: boolean) {
  return withTemp(`http-${onFull}`, async (dir) => {
    const out = join(dir, 'out.jsonl');
    const source = sources.http({ port: 0, path: '/events', buffer: 40, onFull, ...(onFull === 'shed' ? { shed: (e: Event) => e.priority === 'low', shedAbove: 0.25 } : {}) });
    const app = new Sluice({ name: `http-${onFull}`, dataDir: join(dir, 'data'), checkpointInterval: '20ms' });
    app
      .source<Event>(source)
      .mapAsync((e) => new Promise<Event>((resolve) => setTimeout(() => resolve(e), 2)), { concurrency: 2, capacity: 10 })
      .to(sinks.file({ path: out }));
    const running = app.run();
    let sent: Awaited<ReturnType<typeof produce>>;
    try {
      const port = await waitUntil(() => source.port, 'the source listening');
      sent = await produce(`http://127.0.0.1:${port}/events`, 60, 10, 12, retry);
      // Acknowledged records are committed, in the output or still in the slow stage's checkpointed queue: they come out.
      const accepted = sent.bodies.reduce((n, b) => n + b.accepted, 0);
      await waitUntil(() => lines(out).length >= accepted, `the ${accepted} acknowledged records in the output`);
    } finally {
      app.stop();
      await running;
    }
    const accepted = sent.bodies.reduce((n, b) => n + b.accepted, 0);
    return { sent, accepted, delivered: lines(out), stats: source.stats };
  });
}

void test("sources.http onFull 'block': 429 with Retry-After while behind, every record arrives once after retries, the buffer stays bounded", { timeout: 120_000 }, async () => {
  const { sent, delivered, stats } = await scenario('block', true);
  assert.ok(stats.refused > 0, 'the producer was refused while the pipeline was behind');
  assert.ok(sent.retryAfter.every((v) => v === '1'), 'each 429 says when to come back');
  assert.ok(stats.maxBuffered <= 40, `buffer bound held (max ${stats.maxBuffered})`);
  assert.deepEqual(delivered.map((e) => e.id).sort((a, b) => a - b), Array.from({ length: 600 }, (_, i) => i));
});

void test("sources.http onFull 'drop': takes what fits, drops and counts the rest", { timeout: 120_000 }, async () => {
  const { sent, accepted, delivered, stats } = await scenario('drop', false);
  const dropped = sent.bodies.reduce((n, b) => n + (b.dropped ?? 0), 0);
  assert.ok(dropped > 0, 'some records dropped');
  assert.equal(accepted + dropped, 600);
  assert.equal(stats.dropped, dropped);
  assert.equal(delivered.length, accepted, 'what was taken arrives, once');
  assert.equal(new Set(delivered.map((e) => e.id)).size, delivered.length);
  assert.ok(stats.maxBuffered <= 40);
});

void test("sources.http onFull 'shed': low-priority records are shed first; every high-priority one arrives", { timeout: 120_000 }, async () => {
  const { delivered, stats } = await scenario('shed', true);
  assert.ok(stats.shed > 0, 'the rule shed records');
  const high = delivered.filter((e) => e.priority === 'high').map((e) => e.id).sort((a, b) => a - b);
  assert.deepEqual(high, Array.from({ length: 300 }, (_, i) => i * 2), 'no high-priority record lost or repeated');
  assert.ok(stats.maxBuffered <= 40);
});

void test('sources.http refuses a malformed line with 400 naming it, and takes nothing of that request', { timeout: 60_000 }, async () => {
  await withTemp('http-bad', async (dir) => {
    const out = join(dir, 'out.jsonl');
    const source = sources.http({ port: 0, path: '/in' });
    const app = new Sluice({ name: 'http-bad', dataDir: join(dir, 'data'), checkpointInterval: '20ms' });
    app.source(source).to(sinks.file({ path: out }));
    const running = app.run();
    const port = await waitUntil(() => source.port, 'the source listening');
    const bad = await fetch(`http://127.0.0.1:${port}/in`, { method: 'POST', body: '{"a":1}\n{oops\n' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /line 2 is not JSON/);
    const good = await fetch(`http://127.0.0.1:${port}/in`, { method: 'POST', body: '{"a":2}\n' });
    assert.deepEqual(await good.json(), { accepted: 1 });
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`, { method: 'POST', body: '1' })).status, 404);
    app.stop();
    await running;
    assert.deepEqual(lines(out), [{ a: 2 }]);
  });
});
