// The health line and watermark holders, from a job's plan, its one-second series and its
// last progress event: keeping up, falling behind (naming the busiest operator), a partition
// holding the watermark back, an idle partition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobStartEvent, RoundEvent } from '../../src/runtime/index.ts';
import { health } from '../../src/server/health.ts';
import type { SeriesPoint } from '../../src/server/series.ts';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);

const start: JobStartEvent = {
  type: 'start',
  job: 'j',
  time: T,
  guarantee: 'exactly-once',
  checkpointIntervalMs: 1000,
  explain: '',
  stages: [
    { id: 0, topic: 'clicks', upstream: [], tasks: 2, ops: [{ index: 0, name: 'source-clicks', kind: 'source', detail: '', next: [], exchanges: [1] }] },
    {
      id: 1,
      upstream: [0],
      tasks: 2,
      ops: [
        { index: 0, name: 'by-page', kind: 'keyBy', detail: '', next: [1], exchanges: [] },
        { index: 1, name: 'clicks-per-page', kind: 'window', detail: '', next: [], exchanges: [], window: { kind: 'tumbling', sizeMs: 10_000, offsetMs: 0, time: 'event' } },
      ],
    },
  ],
};

function round(inputs: RoundEvent['stages'][number]['inputs']): RoundEvent {
  return { job: 'j', time: T + 9000, sources: [], operators: [], stages: [{ stage: 1, watermark: Math.min(...inputs.filter((i) => !i.idle).map((i) => i.watermark)), inputs }], lateRecords: 0, deadLetters: 0, written: 0, loop: { wallMs: 9000, idleMs: 0, busyMs: 9000, rounds: 1 }, state: [], processedLatencyMs: [] };
}

function series(lags: number[], busy: Record<string, number>): SeriesPoint[] {
  return lags.map((lag, i) => ({ time: T + i * 1000, inPerSec: 500, outPerSec: 10, p50: 5, p99: 9, processedP50: 1, processedP99: 2, lag, late: 0, deadLetters: 0, watermarks: {}, operators: {}, busy, threads: [0.5] }));
}

const agree = round([
  { stage: 0, partition: 0, watermark: T, idle: false },
  { stage: 0, partition: 1, watermark: T, idle: false },
]);

void test('keeping up: lag flat; the busiest operator is named as such, not as slow', () => {
  const h = health(start, series([10, 12, 9, 11, 10], { '1.1': 0.2, '0.0': 0.01 }), agree, T + 9000);
  assert.equal(h.status, 'ok');
  assert.equal(h.slowOperator, null);
  assert.match(h.line, /^keeping up: 500 records\/s in, lag 10 records; busiest operator: clicks-per-page busy 20\.0%/);
});

void test('falling behind: lag grows over the window; the slow operator is the one busiest', () => {
  const h = health(start, series([1000, 3000, 6000, 9000, 12000], { '1.1': 0.93, '0.0': 0.02 }), agree, T + 9000);
  assert.equal(h.status, 'behind');
  assert.equal(h.slowOperator, 'clicks-per-page');
  assert.match(h.line, /^falling behind: lag 12000 records \(\+11000 in 4 s\); slowest operator: clicks-per-page busy 93\.0%/);
});

void test('a partition behind the others holds the window watermark back; an idle one is named', () => {
  const held = health(start, series([0, 0], {}), round([
    { stage: 0, partition: 0, watermark: T - 7000, idle: false },
    { stage: 0, partition: 1, watermark: T, idle: false },
  ]), T + 9000);
  assert.deepEqual(held.watermarks, [
    { stage: 1, operator: 'clicks-per-page', watermark: T - 7000, heldBy: 'clicks/0', behindMs: 7000, idle: [], next: 'next window [11:59:50, 12:00:00) fires when the watermark reaches 12:00:00, 7.0 s from now in event time' },
  ]);
  const idle = health(start, series([0, 0], {}), round([
    { stage: 0, partition: 0, watermark: T - 60_000, idle: true },
    { stage: 0, partition: 1, watermark: T, idle: false },
  ]), T + 9000);
  assert.deepEqual(idle.watermarks, [
    { stage: 1, operator: 'clicks-per-page', watermark: T, heldBy: null, behindMs: 0, idle: ['clicks/0'], next: 'next window [12:00:00, 12:00:10) fires when the watermark reaches 12:00:10, 10.0 s from now in event time' },
  ]);
  const empty = health(start, series([0, 0], {}), round([
    { stage: 0, partition: 0, watermark: Number.NEGATIVE_INFINITY, idle: false },
    { stage: 0, partition: 1, watermark: T, idle: false },
  ]), T + 9000);
  assert.equal(empty.watermarks[0].heldBy, 'clicks/0', 'a partition with no records yet holds the watermark at -infinity');
  assert.equal(empty.watermarks[0].watermark, null);
  assert.equal(empty.watermarks[0].next, null, 'no firing to predict before the watermark exists');
});
