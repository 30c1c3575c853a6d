// One decision per checkpoint over every thread's part: decided once every part is in, in
// checkpoint order, never while a part is missing; a failed decision stops later ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointVotes } from '../../src/runtime/thread-checkpoints.ts';

void test('a checkpoint is decided once, with every part in voter order, only when the last part is in', async () => {
  const decisions: [number, string[]][] = [];
  const votes = new CheckpointVotes<string>(3, async (id, parts) => {
    decisions.push([id, parts]);
  });
  votes.vote(1, 2, 'c1');
  votes.vote(1, 0, 'a1');
  votes.vote(2, 0, 'a2');
  await votes.settled();
  assert.deepEqual(decisions, [], 'a part of checkpoint 1 is missing');
  votes.vote(1, 1, 'b1');
  votes.vote(2, 2, 'c2');
  votes.vote(2, 1, 'b2');
  await votes.settled();
  assert.deepEqual(decisions, [
    [1, ['a1', 'b1', 'c1']],
    [2, ['a2', 'b2', 'c2']],
  ]);
  assert.equal(votes.decided, 2);
});

void test('a voter votes in checkpoint order, once each; a failed decision is reported and nothing after it is decided', async () => {
  const decided: number[] = [];
  const votes = new CheckpointVotes<number>(1, async (id) => {
    if (id === 2) throw new Error('disk full');
    decided.push(id);
  });
  votes.vote(1, 0, 1);
  assert.throws(() => votes.vote(1, 0, 1), /voter 0 voted for checkpoint 1 after checkpoint 1/);
  assert.throws(() => votes.vote(1, 3, 1), /voter 3 of 1/);
  votes.vote(2, 0, 2);
  votes.vote(3, 0, 3);
  await assert.rejects(votes.settled(), /disk full/);
  assert.deepEqual(decided, [1]);
  assert.equal(votes.decided, 1);
});
