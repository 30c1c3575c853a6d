// Consumer-group membership on the embedded log: members split partitions by the range rule,
// a partition moves only after its owner let go (committing its position), a member whose
// session ran out is fenced (its commits refused) and must rejoin, and leaving hands over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../src/core/index.ts';
import { Log, partitionKey } from '../../src/log/index.ts';
import { withDir } from './helpers.ts';

const owned = (assignment: { owned: { topic: string; partition: number }[] }) => assignment.owned.map((tp) => tp.partition);
const at = (entries: [number, number][]) => new Map(entries.map(([p, o]) => [partitionKey('t', p), o]));

void test('two members split four partitions; the second gets its half once the first has committed and let go', () =>
  withDir(async (dir) => {
    const now = 1_000;
    const log = await Log.open(dir, { maintenanceIntervalMs: 0, now: () => now });
    try {
      log.createTopic('t', { partitions: 4 });
      const a = log.joinGroup('g', ['t'], { sessionTimeoutMs: 5_000 });
      assert.deepEqual(owned(a), [0, 1, 2, 3]);
      const b = log.joinGroup('g', ['t'], { sessionTimeoutMs: 5_000 });
      assert.deepEqual(owned(b), [], 'partitions 2 and 3 are still the first member’s until it lets go');
      assert.throws(() => log.commitMemberOffsets('g', b.memberId, [{ topic: 't', partition: 2, offset: 1 }]), (e) => isSluiceError(e, 'ILLEGAL_GENERATION'));

      // The first member's heartbeat gives up 2 and 3 and commits where it was on them.
      const a2 = log.groupHeartbeat('g', a.memberId, at([[0, 5], [1, 6], [2, 7], [3, 8]]));
      assert.deepEqual(owned(a2), [0, 1]);
      assert.equal(log.committedOffset('g', 't', 2), 7);
      assert.equal(log.committedOffset('g', 't', 3), 8);
      assert.equal(log.committedOffset('g', 't', 0), undefined, 'kept partitions are committed by the member itself');
      const b2 = log.groupHeartbeat('g', b.memberId, new Map());
      assert.deepEqual(owned(b2), [2, 3]);
      log.commitMemberOffsets('g', b.memberId, [{ topic: 't', partition: 3, offset: 9 }]);
      assert.equal(log.committedOffset('g', 't', 3), 9);
      assert.throws(() => log.commitMemberOffsets('g', a.memberId, [{ topic: 't', partition: 3, offset: 2 }]), (e) => isSluiceError(e, 'ILLEGAL_GENERATION'), 'a former owner cannot rewind the group');

      // Leaving hands everything back to the one left.
      log.leaveGroup('g', b.memberId, at([[2, 10], [3, 11]]));
      assert.equal(log.committedOffset('g', 't', 2), 10);
      assert.deepEqual(owned(log.groupHeartbeat('g', a.memberId, new Map())), [0, 1, 2, 3]);
      assert.equal(log.groupMembers('g').length, 1);
    } finally {
      await log.close();
    }
  }));

void test('a member whose session ran out is dropped: its partitions move at once and its commits are refused', () =>
  withDir(async (dir) => {
    let now = 1_000;
    const log = await Log.open(dir, { maintenanceIntervalMs: 0, now: () => now });
    try {
      log.createTopic('t', { partitions: 3 });
      const a = log.joinGroup('g', ['t'], { sessionTimeoutMs: 1_000 });
      log.commitMemberOffsets('g', a.memberId, [{ topic: 't', partition: 1, offset: 4 }]);
      now += 500;
      const b = log.joinGroup('g', ['t'], { sessionTimeoutMs: 1_000 });
      assert.deepEqual(owned(b), []);
      now += 1_000; // a is silent past its session; b heartbeats
      const b2 = log.groupHeartbeat('g', b.memberId, new Map());
      assert.deepEqual(owned(b2), [0, 1, 2], 'a dead owner cannot let go: its partitions are free');
      assert.ok(b2.generation > b.generation);
      assert.throws(() => log.commitMemberOffsets('g', a.memberId, [{ topic: 't', partition: 1, offset: 0 }]), (e) => isSluiceError(e, 'ILLEGAL_GENERATION') && /rejoin/.test(e.message));
      assert.throws(() => log.groupHeartbeat('g', a.memberId, new Map()), (e) => isSluiceError(e, 'ILLEGAL_GENERATION'));
      assert.equal(log.committedOffset('g', 't', 1), 4, 'the stale member did not rewind the group');
      const again = log.joinGroup('g', ['t'], { sessionTimeoutMs: 1_000 });
      assert.notEqual(again.memberId, a.memberId);
    } finally {
      await log.close();
    }
  }));

void test('the range rule: uneven partitions go to the first members, one more each', () =>
  withDir(async (dir) => {
    const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
    try {
      log.createTopic('t', { partitions: 5 });
      const members = [log.joinGroup('g', ['t']), log.joinGroup('g', ['t'])];
      // Settle: everyone heartbeats until nothing moves.
      let result = members.map((m) => log.groupHeartbeat('g', m.memberId, new Map()));
      result = members.map((m) => log.groupHeartbeat('g', m.memberId, new Map()));
      assert.deepEqual(result.map(owned), [[0, 1, 2], [3, 4]]);
    } finally {
      await log.close();
    }
  }));
