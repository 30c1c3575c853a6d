// The planner's measurements in /metrics, on real pipelines over the embedded log:
// sluice_state_bytes and sluice_state_entries per operator from the memory and lmdb backends,
// and sluice_backpressure_ratio high while a slow pipeline works through a backlog and near
// zero once it keeps up.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { Sluice, Windows } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { startServer } from '../../src/server/index.ts';
import { MemoryStateBackend } from '../../src/state/index.ts';
import { waitUntil } from '../support/wait.ts';
import { parsePrometheus, type Sample, total } from './prometheus-text.ts';

const encoder = new TextEncoder();

async function scrape(url: string): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(`${url}/metrics`)).text());
}

function until(url: string, check: (s: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return waitUntil(async () => {
    const samples = await scrape(url);
    return check(samples) && samples;
  }, what);
}

function records(from: number, n: number, keys: number, ts: number): { key: Uint8Array; value: Uint8Array; timestamp: number }[] {
  const out = [];
  for (let i = from; i < from + n; i++) out.push({ key: encoder.encode(`k${i % keys}`), value: encoder.encode(JSON.stringify({ k: `k${i % keys}`, v: i, ts })), timestamp: Date.now() });
  return out;
}

void test('the memory backend estimates a table from a sample: exact for entries of one size', () => {
  const state = new MemoryStateBackend();
  const table = state.table<{ n: number; s: string }>('counts/windows/0');
  for (let i = 0; i < 1000; i++) table.set(`key-${String(i).padStart(4, '0')}`, { n: 1_000_000 + i, s: 'abcdefgh' });
  const packr = new Packr({ structuredClone: true });
  let exact = 0;
  for (const entry of table.entries()) exact += packr.pack(entry).length;
  assert.deepEqual(state.sizes(), [{ scope: 'counts/windows/0', entries: 1000, bytes: exact }]);
});

// Hopping windows on heap state keep their state per pane (operators/window-panes.ts), not in the table's entries.
for (const [backend, window] of [['memory', 'tumbling'], ['lmdb', 'tumbling'], ['memory', 'hopping']] as const) {
  void test(`sluice_state_bytes and sluice_state_entries per operator, ${backend} state, ${window} windows`, async () => {
    const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), `planner-state-${backend}-`));
    const server = await startServer({ port: 0 });
    const log = await Log.open(dir);
    const app = new Sluice({ name: `state-${backend}`, dataDir: dir, checkpointInterval: '50ms', state: backend });
    let running: Promise<unknown> | undefined;
    try {
      log.createTopic('events', { partitions: 2 });
      const producer = await log.producer();
      // Hour-long windows open for each of 40 keys: 40 keys of state.
      app.stream<{ k: string; ts: number }>('events', { timestamp: (e) => e.ts }).keyBy((e) => e.k).window(window === 'tumbling' ? Windows.tumbling('1h') : Windows.hopping('1h', '15m')).count({ name: 'per-key' }).to('counts');
      running = app.run();
      await producer.send('events', records(0, 400, 40, Date.UTC(2026, 0, 1, 10, 5)));
      await producer.close();
      const job = { pipeline: `state-${backend}`, operator: 'per-key' };
      const samples = await until(server.url, (s) => total(s, 'sluice_state_entries', job) === 40, '40 keys of window state');
      const bytes = total(samples, 'sluice_state_bytes', job);
      // A key's window holds its id, window bounds and a count: tens of bytes serialized, under a page per key on disk.
      assert.ok(bytes >= 40 * 16 && bytes <= 40 * 4096, `${bytes} bytes for 40 keys`);
      if (backend === 'lmdb') assert.equal(bytes % 4096, 0, 'lmdb: whole pages of its B-trees');
    } finally {
      // Also when an assertion failed: a running app would keep the test's process alive.
      app.stop();
      await running;
      await server.close();
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

void test('sluice_backpressure_ratio is high while a slow pipeline works through a backlog, near zero once it keeps up', async () => {
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'planner-backpressure-'));
  const server = await startServer({ port: 0 });
  const log = await Log.open(dir);
  try {
    log.createTopic('work', { partitions: 1 });
    const producer = await log.producer();
    const backlog = 80_000;
    for (let from = 0; from < backlog; from += 10_000) await producer.send('work', records(from, 10_000, 10, Date.now()));
    const app = new Sluice({ name: 'slow', dataDir: dir, checkpointInterval: '200ms', guarantee: 'at-least-once' });
    app
      .stream<{ k: string; v: number }>('work')
      .map((e) => {
        // Real work per record (tens of microseconds), so the backlog takes seconds.
        let x = e.v;
        for (let i = 0; i < 5000; i++) x = (x * 31 + i) % 1_000_003;
        return { k: e.k, x };
      }, { name: 'slow-map' })
      .to('out');
    const running = app.run();
    const labels = { pipeline: 'slow', topic: 'work', partition: '0' };
    const busy = await until(server.url, (s) => s.some((x) => x.name === 'sluice_backpressure_ratio' && x.labels.pipeline === 'slow') && total(s, 'sluice_records_in_total', labels) < backlog, 'a backpressure ratio while the backlog lasts');
    const during = total(busy, 'sluice_backpressure_ratio', labels);
    assert.ok(during >= 0.5, `the source waited ${during} of the time while the backlog lasted`);
    await until(server.url, (s) => total(s, 'sluice_records_in_total', labels) >= backlog, 'the backlog processed');
    // Keeping up: a few records at a time, each handful read before the next is sent.
    let sent = backlog;
    const after = await waitUntil(async () => {
      await producer.send('work', records(sent, 5, 10, Date.now()));
      sent += 5;
      await until(server.url, (s) => total(s, 'sluice_records_in_total', labels) >= sent, 'the trickle read');
      const ratio = total(await scrape(server.url), 'sluice_backpressure_ratio', labels);
      return ratio <= 0.1 && { ratio };
    }, 'the backpressure ratio to fall once the pipeline keeps up');
    assert.ok(after.ratio <= 0.1);
    app.stop();
    await running;
    await producer.close();
  } finally {
    await server.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
});
