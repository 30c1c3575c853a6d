// A profile counts what checkpoints cost the job's loop inside its window: a checkpoint written
// in the background overlaps processing (its wall time is not the loop's), and a commit that
// began before the window counts only from the window's start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommitEvent, RoundEvent } from '../../src/runtime/metrics-events.ts';
import { ProfileWindow } from '../../src/runtime/profile.ts';

function round(time: number, wallMs: number, idleMs: number, read: number): RoundEvent {
  return {
    job: 'j',
    time,
    sources: [{ topic: 'in', partition: 0, read, offset: read, watermark: 0, maxEventTime: 0, waitedMs: 0, decodeMs: 0 }],
    operators: [],
    stages: [],
    lateRecords: 0,
    deadLetters: 0,
    written: 0,
    loop: { wallMs, idleMs, busyMs: wallMs - idleMs, rounds: read },
    state: [],
    processedLatencyMs: [],
  };
}

function commit(time: number, heldMs: number): Pick<CommitEvent, 'job' | 'time' | 'heldMs' | 'ok' | 'lag'> {
  return { job: 'j', time, heldMs, ok: true, lag: [] };
}

void test('a profile counts the loop time of checkpoints inside its window, not their wall time', () => {
  const window = new ProfileWindow('j', [{ id: 0, topic: 'in', upstream: [], tasks: 1, ops: [] }], { guarantee: 'exactly-once', checkpointIntervalMs: 50 });
  window.round(round(1_000, 0, 0, 0));
  // Began 400 ms before the window: 100 ms of it are inside.
  window.commit(commit(1_100, 500));
  // Background checkpoints whose writes took far longer than the loop spent on them.
  window.commit(commit(1_600, 20));
  window.commit(commit(2_000, 30));
  window.round(round(3_000, 2_000, 500, 10_000));
  const profile = window.profile()!;
  assert.equal(profile.sampleMs, 2_000);
  assert.equal(profile.busyMs, 1_500);
  assert.equal(profile.commitMs, 150);
  assert.equal(profile.commits, 3);
  assert.equal(profile.records, 10_000);
});
