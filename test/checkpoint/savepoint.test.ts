// Savepoints: taken from a running app, restored into the same or a changed pipeline by
// operator name; a changed state shape or a removed operator is refused by name unless its
// state is dropped. Both state backends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import type { LogBackend } from '../../src/backend/index.ts';
import { listSavepoints } from '../../src/checkpoint/index.ts';
import { isSluiceError, jsonCodec, utf8 } from '../../src/core/index.ts';
import { Sluice, Watermarks, Windows } from '../../src/index.ts';
import { withDir } from '../log/helpers.ts';
import { waitUntil } from '../support/wait.ts';

interface Event {
  k: string;
  ts: number;
}

async function readAll<T>(backend: LogBackend, topic: string): Promise<T[]> {
  const out: T[] = [];
  const partitions = await backend.partitions(topic).catch(() => 0);
  for (let p = 0; p < partitions; p++) {
    for (let offset = 0; ; ) {
      const { records, nextOffset } = await backend.fetch(topic, p, offset, 1000);
      out.push(...records.map((r) => jsonCodec.decode(r.value!) as T));
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
  }
  return out;
}

async function produce(backend: LogBackend, from: number, to: number): Promise<void> {
  const writer = await backend.openWriter();
  const events: Event[] = [];
  for (let i = from; i < to; i++) events.push({ k: `k${i % 3}`, ts: i * 100 });
  await writer.send('events', events.map((e) => ({ key: utf8(e.k), value: jsonCodec.encode(e), timestamp: e.ts })));
  await writer.close();
}

/** The pipeline; `windowMs` and `withCounter` are what the changed versions change. */
function pipeline(dataDir: string, backend: LogBackend, state: 'memory' | 'lmdb', options: { windowMs?: number; withCounter?: boolean; extraMap?: boolean } = {}): Sluice {
  const app = new Sluice({ name: 'sp', dataDir, backend, state, checkpointInterval: '20ms' });
  let events = app.stream<Event>('events', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness(0) });
  if (options.extraMap) events = events.map((e) => ({ ...e }), { name: 'copy' });
  events.keyBy((e) => e.k, { name: 'by-key' }).window(Windows.tumbling(options.windowMs ?? 1000)).count({ name: 'per-second' }).to('counts');
  if (options.withCounter !== false) {
    events
      .keyBy((e) => e.k, { name: 'by-key-2' })
      .process<{ k: string; n: number }>(
        {
          processElement(e, ctx) {
            const n = ctx.state.value<number>('n');
            n.update((n.value() ?? 0) + 1);
            ctx.emit({ k: e.k, n: n.value()! });
          },
        },
        { name: 'counter' },
      )
      .to('running');
  }
  return app;
}

/** Runs `app` unbounded until `done()` holds, takes a savepoint, stops; returns the savepoint id. */
async function savepointWhen(app: Sluice, done: () => Promise<boolean>): Promise<string> {
  const running = app.run();
  await waitUntil(done, 'the app to have processed its input');
  const id = await app.savepoint();
  app.stop();
  await running;
  return id;
}

for (const state of ['memory', 'lmdb'] as const) {
  void test(`a savepoint restores into a changed pipeline by operator name (${state} state)`, { timeout: 60_000 }, () =>
    withDir(async (dataDir) => {
      const backend = await EmbeddedBackend.open(dataDir);
      await backend.ensureTopic('events', 2);
      await produce(backend, 0, 60);
      const id = await savepointWhen(pipeline(dataDir, backend, state), async () => (await readAll(backend, 'running')).length === 60);
      assert.deepEqual(listSavepoints(dataDir, 'sp'), [id]);
      await produce(backend, 60, 120);

      // An operator added upstream (with its own name) does not disturb the saved ones.
      await pipeline(dataDir, backend, state, { extraMap: true }).run({ bounded: true, fromSavepoint: id });
      const running = await readAll<{ k: string; n: number }>(backend, 'running');
      const after = running.slice(60).filter((r) => r.k === 'k0').map((r) => r.n);
      assert.deepEqual(after, Array.from({ length: 20 }, (_, i) => 21 + i), 'the counter continues from the saved state');
      // Every 1 s window of every key holds its 10 events once (the window open at the savepoint included).
      const counts = await readAll<{ key: string; start: number; value: number }>(backend, 'counts');
      const byWindow = new Map<string, number>();
      for (const c of counts) byWindow.set(`${c.key}@${c.start}`, c.value);
      assert.equal(byWindow.size, 36);
      for (const [window, value] of byWindow) assert.ok(value === 3 || value === 4, `${window}: ${value}`);
      assert.equal([...byWindow.values()].reduce((a, b) => a + b), 120);

      // A window of another size cannot take the saved panes: refused by name, unless dropped.
      await assert.rejects(pipeline(dataDir, backend, state, { windowMs: 2000 }).run({ bounded: true, fromSavepoint: id }), (e) => isSluiceError(e, 'STATE_INCOMPATIBLE') && /operator 'per-second'/.test(e.message) && /--drop-state per-second/.test(e.message));
      // A removed stateful operator: refused by name, unless dropped.
      await assert.rejects(pipeline(dataDir, backend, state, { withCounter: false }).run({ bounded: true, fromSavepoint: id }), (e) => isSluiceError(e, 'STATE_INCOMPATIBLE') && /'counter'/.test(e.message));
      await pipeline(dataDir, backend, state, { withCounter: false }).run({ bounded: true, fromSavepoint: id, dropState: ['counter'] });
      await assert.rejects(pipeline(dataDir, backend, state).run({ bounded: true, fromSavepoint: 'sp-1-1' }), /has no savepoint 'sp-1-1'; it has: sp-/);
      await backend.close();
    }));
}

void test('a damaged or cut-off savepoint file is refused, naming what is wrong', () =>
  withDir(async (dataDir) => {
    const { readSavepoint, writeSavepoint, savepointDir } = await import('../../src/checkpoint/index.ts');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const snapshot = { version: 1 as const, id: 7, final: false, shape: [['src']], tasks: [[{ ops: [null], watermarks: [0] }]], sources: [[{ offset: 3, generator: { maxSeen: 1, ended: false } }]], leaving: [[0]] };
    const entries: [unknown, unknown][] = Array.from({ length: 25_000 }, (_, i) => [`k${i}`, { n: i, seen: new Set([i]) }]);
    const id = writeSavepoint(dataDir, 'app', snapshot, [['counter/keyed/0', entries]], 1000);
    const read = readSavepoint(dataDir, 'app', id);
    assert.equal(read.snapshot.id, 7);
    const frames = [...read.tables()];
    assert.equal(frames.length, 3, 'entries come in frames of 10,000');
    assert.deepEqual(frames.flatMap((f) => f.entries).at(-1), ['k24999', { n: 24999, seen: new Set([24999]) }]);

    const file = `${savepointDir(dataDir, 'app')}/${id}.savepoint`;
    const bytes = readFileSync(file);
    writeFileSync(`${savepointDir(dataDir, 'app')}/sp-2-1.savepoint`, bytes.subarray(0, bytes.length - 20));
    assert.throws(() => readSavepoint(dataDir, 'app', 'sp-2-1'), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT') && /is damaged/.test(e.message));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length >> 1] ^= 0xff;
    writeFileSync(`${savepointDir(dataDir, 'app')}/sp-3-1.savepoint`, flipped);
    assert.throws(() => readSavepoint(dataDir, 'app', 'sp-3-1'), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT') && /fails its checksum/.test(e.message));
  }));
