// The memory state's checkpoints on the in-memory log: one record of the whole state per commit, in a compacted
// topic that keeps the last two. An interval join holding many records of one key checkpoints often here; the log
// compacts at every write (a segment of one byte), as it would with each checkpoint a segment's size or more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointTopic } from '../../src/checkpoint/topic-checkpoints.ts';
import type { Sluice } from '../../src/index.ts';
import { MemoryBackend, TestKit } from '../../src/testing/index.ts';

interface Rec {
  id: number;
  ts: number;
}

const ROUNDS = 12;
const PER_ROUND = 50;

/** Round `r`'s records of one side: all of key 'k', 10 ms apart; the right side 5 ms after the left. */
function batch(r: number, shift: number): Rec[] {
  return Array.from({ length: PER_ROUND }, (_, i) => ({ id: r * PER_ROUND + i, ts: (r * PER_ROUND + i) * 10 + shift }));
}

function build(kit: TestKit): Sluice {
  const app = kit.app({ name: 'held', checkpointInterval: '1s' });
  const left = app.stream<Rec>('left', { timestamp: (x) => x.ts }).keyBy(() => 'k');
  const right = app.stream<Rec>('right', { timestamp: (y) => y.ts }).keyBy(() => 'k');
  // Bounds wider than the input: every record is held to the end, the state grows every round.
  left.intervalJoin(right, { type: 'inner' }).between(0, 1_000_000).process((a: Rec, b: Rec) => ({ l: a.id, r: b.id }), { name: 'join' }).to('pairs');
  return app;
}

void test('the in-memory log keeps the last two checkpoints, not every one, of a job whose state grows each round', async () => {
  const kit = new TestKit({ stepping: true, backend: new MemoryBackend({ compactedSegmentBytes: 1 }) });
  let app = build(kit);
  let running = app.run();
  for (let r = 0; r < ROUNDS; r++) {
    kit.input('left', batch(r, 0));
    kit.input('right', batch(r, 5));
    await kit.runUntilIdle();
    kit.clock.advance(1000);
    if (r === ROUNDS / 2) {
      // A restart in the middle restores the last checkpoint written.
      app.stop();
      await running;
      app = build(kit);
      running = app.run();
    }
  }
  await kit.runUntilIdle();
  app.stop();
  await running;

  const checkpoints = kit.backend.readUncommitted(checkpointTopic('held'), 0);
  assert.ok(checkpoints.length >= 1 && checkpoints.length <= 2, `${checkpoints.length} checkpoint records kept (a commit per round: ${ROUNDS})`);
  const [end] = await kit.backend.endOffsets(checkpointTopic('held'));
  assert.ok(end >= ROUNDS, `a checkpoint every round, offsets still counting (end ${end})`);

  // The join's state came through the restart: a bounded run to the end pairs each right record with every left one before it.
  await build(kit).run({ bounded: true });
  const pairs = kit.output<{ l: number; r: number }>('pairs');
  const n = ROUNDS * PER_ROUND;
  assert.equal(pairs.length, (n * (n + 1)) / 2);
  assert.equal(new Set(pairs.map((p) => `${p.l},${p.r}`)).size, pairs.length, 'no pair twice');
  assert.ok(pairs.every((p) => p.l <= p.r));
});
