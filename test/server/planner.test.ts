// The planner's model on a profile written by hand: each figure is the formula in
// server/planner.ts applied to these numbers, worked out here independently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Profile } from '../../src/runtime/index.ts';
import { formatPlan, planCapacity } from '../../src/server/index.ts';

/**
 * 10 s with 50,000 input records over 2 partitions; the loop worked 5 s of it, 1 s of that in
 * checkpoints: c = 4 s / 50,000 = 80 µs per record, f = 1 s / 10 s = 0.1 of a core.
 */
function profile(overrides: Partial<Profile> = {}): Profile {
  return {
    job: 'clicks',
    guarantee: 'exactly-once',
    checkpointIntervalMs: 1000,
    stages: [
      {
        id: 0,
        topic: 'events',
        upstream: [],
        tasks: 2,
        ops: [
          { index: 0, name: 'parse', kind: 'map', detail: 'map', next: [1], exchanges: [] },
          { index: 1, name: 'by-url', kind: 'keyBy', detail: 'keyBy', next: [], exchanges: [1] },
        ],
      },
      {
        id: 1,
        upstream: [0],
        tasks: 2,
        ops: [{ index: 0, name: 'per-url', kind: 'window', detail: 'window hopping 60000ms/20000ms count', next: [], exchanges: [], window: { kind: 'hopping', sizeMs: 60_000, slideMs: 20_000, offsetMs: 0, time: 'event' }, latenessMs: 0 }],
      },
    ],
    sampleMs: 10_000,
    cores: 4,
    threads: 1,
    records: 50_000,
    busyMs: 5000,
    idleMs: 5000,
    rounds: 100,
    decodeMs: 500,
    commitMs: 1000,
    commits: 10,
    operators: [
      { stage: 0, index: 0, name: 'parse', kind: 'map', in: 50_000, busyMs: 2500 },
      { stage: 0, index: 1, name: 'by-url', kind: 'keyBy', in: 50_000, busyMs: 250 },
      { stage: 1, index: 0, name: 'per-url', kind: 'window', in: 50_000, busyMs: 500 },
    ],
    sources: [
      { topic: 'events', partition: 0, read: 25_000, waitedMs: 0 },
      { topic: 'events', partition: 1, read: 25_000, waitedMs: 1000 },
    ],
    state: [{ operator: 'per-url', entries: 200, bytes: 60_000 }],
    processedP50Ms: 4,
    lag: 0,
    ...overrides,
  };
}

void test('capacity, utilization and latency follow the documented formulas', () => {
  const r = planCapacity(profile());
  assert.equal(r.status, 'ok');
  assert.equal(r.measured.rate, 5000);
  assert.equal(r.measured.costPerRecordUs, 100);
  assert.equal(r.measured.perRecordUs, 80);
  assert.equal(r.measured.checkpointShare, 0.1);
  assert.equal(r.measured.utilization, 0.5);
  assert.equal(r.measured.backpressure, 0.05, 'mean over partitions of waited / wall: (0 + 0.1) / 2');
  assert.equal(r.capacity.perCore, 11_250, '(1 − 0.1) / 80 µs');
  assert.equal(r.capacity.parallelism, 1);
  assert.equal(r.capacity.maxParallelism, 2, 'two partitions cap it below the four cores');
  assert.equal(r.capacity.sustainable, 11_250);
  // ρ(5,000/s) = 5,000 · 80 µs + 0.1 = 0.5; L0 = 4 ms · (1 − 0.5) = 2 ms, so L = 2 / (1 − 0.5) = 4 ms.
  assert.equal(r.at.utilization, 0.5);
  assert.equal(r.at.latencyMs, 4);
  assert.equal(r.at.visibilityMs, 1100, 'checkpoint interval plus the mean commit');
  const byName = Object.fromEntries(r.costs.map((c) => [c.name, c]));
  assert.equal(byName.parse.costUs, 50);
  assert.equal(byName['(decode)'].costUs, 10);
  assert.equal(byName['(commit)'].costUs, 20);
  assert.ok(Math.abs(byName['(other)'].costUs - 5) < 1e-9, 'the rest of the 100 µs: 100 − 50 − 5 − 10 − 10 − 20');
  assert.equal(r.costs[0].name, 'parse', 'costliest first');
  const [w] = r.windows;
  assert.equal(w.recordsPerWindow, 300_000, '5,000 records/s into a 60 s window');
  assert.equal(w.openPerKey, 3, '60 s windows sliding by 20 s');
  assert.equal(w.bytesPerKey, 300);
  assert.equal(w.bytesPerWindow, 20_000);
  assert.equal(w.bytesAtRate, 60_000);
  assert.deepEqual(r.advice, []);
});

void test('a what-if rate past capacity falls behind, and the advice predicts each change', () => {
  const r = planCapacity(profile(), { rate: 40_000 });
  assert.equal(r.status, 'over-capacity');
  assert.ok(Math.abs(r.at.utilization! - 3.3) < 1e-9, '40,000 · 80 µs + 0.1');
  assert.equal(r.at.latencyMs, null);
  assert.equal(r.at.fallingBehindBy, 28_750);
  assert.equal(r.windows[0].recordsPerWindow, 2_400_000);
  assert.equal(r.windows[0].bytesAtRate, 60_000, 'a count per key and window does not grow with the rate');
  // Needs ceil(3.3 / 0.7) = 5 parallel tasks: 2 partitions allow 2, the 4 cores 4.
  const [parallelism, partitions, optimize] = r.advice;
  assert.match(parallelism.change, /^parallelism 2 /);
  assert.equal(parallelism.sustainableRate, 23_750, '(2 − 0.1) / 80 µs');
  assert.ok(Math.abs(parallelism.utilization - 1.65) < 1e-9);
  assert.match(partitions.change, /^5 input partitions \(there are 2/);
  assert.equal(partitions.sustainableRate, 48_750);
  assert.match(partitions.effect, /5 cores are needed, this machine has 4/);
  assert.match(optimize.change, /optimize operator 'parse' \(map\): it takes 50%/);
  // Halving parse's 50 µs: 55 µs per record, 0.9 / 55 µs = 16,364 records/s per core.
  assert.ok(Math.abs(optimize.sustainableRate - 0.9e6 / 55) < 1e-6);
  assert.match(formatPlan(r), /falling behind by 28,750 records\/s/);
});

void test('records held grow with the rate for operators that hold records; no input gives no figures', () => {
  const join = profile();
  join.stages[1].ops[0] = { ...join.stages[1].ops[0], kind: 'windowJoin', detail: 'window join tumbling 60000ms' };
  join.stages[1].ops[0].window = { kind: 'tumbling', sizeMs: 60_000, offsetMs: 0, time: 'event' };
  const r = planCapacity(join, { rate: 10_000 });
  assert.equal(r.windows[0].bytesAtRate, 120_000, 'twice the rate, twice the records held');
  assert.equal(r.windows[0].openPerKey, 1);
  const idle = planCapacity(profile({ records: 0, busyMs: 0, idleMs: 10_000 }));
  assert.equal(idle.status, 'no-input');
  assert.equal(idle.capacity.perCore, null);
  assert.match(formatPlan(idle), /no measurement/);
});

void test('sources waiting on the pipeline half the time mean the app is falling behind', () => {
  const r = planCapacity(profile({ sources: [{ topic: 'events', partition: 0, read: 25_000, waitedMs: 6000 }, { topic: 'events', partition: 1, read: 25_000, waitedMs: 6000 }] }));
  assert.equal(r.measured.backpressure, 0.6);
  assert.equal(r.status, 'over-capacity');
  assert.ok(r.advice.length > 0);
});
