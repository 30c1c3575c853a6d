// Output modes of window results against a brute-force model (it imports nothing from src):
// random readings of a few keys, out of order within the watermark bound (never late), over 1-3
// partitions, at random batch sizes, with a checkpoint and restore at a random point (memory and
// lmdb state). Tumbling sums written in update mode: per window, the values written never
// repeat back to back and the last is the window's sum; in complete mode the last write of each
// window is its sum; both hold exactly the windows the input has.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonCodec, utf8 } from '../../src/core/index.ts';
import { type Sluice as App, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const BOUND = 5;
const SIZE = 10;
const KEYS = ['a', 'b', 'c'];

interface Reading {
  key: string;
  v: number;
  ts: number;
  partition: number;
}

interface Case {
  partitions: number;
  readings: Reading[];
  batchSize: number;
  state: 'memory' | 'lmdb';
  cut: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    partitions: fc.integer({ min: 1, max: 3 }),
    readings: fc.array(fc.record({ key: fc.constantFrom(...KEYS), v: fc.integer({ min: 0, max: 3 }), step: fc.integer({ min: 0, max: 4 }), jitter: fc.integer({ min: 0, max: BOUND - 1 }) }), { maxLength: 40 }),
    batchSize: fc.integer({ min: 1, max: 12 }),
    state: fc.constantFrom<'memory' | 'lmdb'>('memory', 'memory', 'lmdb'),
    cut: fc.nat(),
  })
  .map(({ partitions, readings, batchSize, state, cut }) => {
    // Per partition, times rise by the step; the jitter keeps each record within the bound of the partition's maximum.
    const base = Array.from({ length: partitions }, () => BOUND);
    const placed = readings.map((r) => {
      const partition = KEYS.indexOf(r.key) % partitions;
      base[partition] += r.step;
      return { key: r.key, v: r.v, ts: base[partition] - r.jitter, partition };
    });
    return { partitions, readings: placed, batchSize, state, cut: cut % (readings.length + 1) };
  });

/** The model: every window's sum, by `key|start`. */
function sums(readings: readonly Reading[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of readings) {
    const id = `${r.key}|${r.ts - (r.ts % SIZE)}`;
    out.set(id, (out.get(id) ?? 0) + r.v);
  }
  return out;
}

function pipeline(app: App): void {
  const keyed = app.stream<{ key: string; v: number; ts: number }>('readings', { timestamp: (r) => r.ts, watermark: BOUND }).keyBy((r) => r.key);
  keyed.window(Windows.tumbling(SIZE)).sum((r) => r.v).to('update-out', { mode: 'update' });
  keyed.window(Windows.tumbling(SIZE)).sum((r) => r.v).to('complete-out', { mode: 'complete' });
}

async function append(kit: TestKit, records: Reading[]): Promise<void> {
  if (records.length === 0) return;
  const writer = await kit.backend.openWriter();
  await writer.send('readings', records.map((r) => ({ key: utf8(r.key), value: jsonCodec.encode({ key: r.key, v: r.v, ts: r.ts }), timestamp: r.ts, partition: r.partition })));
  await writer.close();
}

async function committed(kit: TestKit): Promise<boolean> {
  const ends = await kit.backend.endOffsets('readings');
  const done = await kit.backend.committedOffsets('modes', 'readings');
  return ends.every((end, p) => (done.get(p) ?? 0) === end);
}

async function run(c: Case): Promise<TestKit> {
  const kit = new TestKit();
  const dataDir = c.state === 'lmdb' ? await mkdtemp(join(tmpdir(), 'sluice-modes-prop-')) : undefined;
  const options = { name: 'modes', checkpointInterval: 1, ...(dataDir ? { dataDir, state: c.state } : {}) };
  await kit.backend.ensureTopic('readings', c.partitions);
  try {
    if (c.cut > 0) {
      await append(kit, c.readings.slice(0, c.cut));
      const first = kit.app(options);
      pipeline(first);
      const running = first.run({ batchSize: c.batchSize });
      let failed: unknown;
      running.catch((error: unknown) => {
        failed = error;
      });
      for (let steps = 0; !(await committed(kit)); steps++) {
        if (failed !== undefined) throw failed;
        if (steps > 50_000) throw new Error('the first run did not commit its input');
        kit.clock.advance(1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      first.stop();
      await running;
    }
    await append(kit, c.readings.slice(c.cut));
    const second = kit.app(options);
    pipeline(second);
    await second.run({ bounded: true, batchSize: c.batchSize });
  } finally {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return kit;
}

void test('update and complete modes agree with a brute-force model, across batching and a restore', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const kit = await run(c);
      const expected = sums(c.readings);
      const written = new Map<string, number[]>();
      for (const r of kit.output<{ key: string; start: number; value: number }>('update-out')) written.set(`${r.key}|${r.start}`, [...(written.get(`${r.key}|${r.start}`) ?? []), r.value]);
      assert.deepEqual(new Map([...written].map(([id, values]) => [id, values.at(-1)])), expected, 'update: the last value of each window is its sum');
      for (const [id, values] of written) for (let i = 1; i < values.length; i++) assert.notEqual(values[i], values[i - 1], `update: ${id} wrote ${values[i]} twice in a row`);
      const last = new Map<string, number>();
      for (const r of kit.output<{ key: string; start: number; value: number }>('complete-out')) last.set(`${r.key}|${r.start}`, r.value);
      assert.deepEqual(last, expected, 'complete: the last write of each window is its sum');
    }),
    { numRuns: Number(process.env.SLUICE_PROPERTY_RUNS ?? 60) },
  );
});
