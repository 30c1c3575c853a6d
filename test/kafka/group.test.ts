// The consumer-group membership of scale-out (src/backend/kafka/group.ts): the leader's
// assignment (even and sticky), two members sharing the tasks on the real broker, and a zombie:
// a transaction whose offsets carry a generation the group has moved past is refused, and
// nothing it wrote becomes visible.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { assign, KafkaGroupMember } from '../../src/backend/kafka/group.ts';
import { isSluiceError, utf8 } from '../../src/core/index.ts';
import { backend, committedValues, skip } from './helpers.ts';

const meta = (owned: number[], label = 'x') => ({ label, owned, tasks: 6, producer: `p-${label}` });

void test('the assignment is even, covers every task once, and keeps what members owned', () => {
  const fresh = assign([{ memberId: 'b', metadata: meta([]) }, { memberId: 'a', metadata: meta([]) }], 6);
  assert.deepEqual(fresh.map((a) => a.tasks), [[0, 1, 2], [3, 4, 5]], 'member-id order, contiguous');
  // A third member joins: the first two keep two of their own tasks each, the newcomer gets one from each.
  const third = assign([{ memberId: 'a', metadata: meta([0, 1, 2]) }, { memberId: 'b', metadata: meta([3, 4, 5]) }, { memberId: 'c', metadata: meta([]) }], 6);
  assert.deepEqual(third.map((a) => a.tasks), [[0, 1], [3, 4], [2, 5]]);
  // One leaves: the survivors keep theirs and split the orphaned tasks.
  const after = assign([{ memberId: 'a', metadata: meta([0, 1]) }, { memberId: 'c', metadata: meta([2, 5]) }], 6);
  assert.deepEqual(after.map((a) => a.tasks), [[0, 1, 3], [2, 4, 5]]);
  // Two members claiming one task (a stale claim): it goes to one of them only.
  const contested = assign([{ memberId: 'a', metadata: meta([0, 1, 2, 3]) }, { memberId: 'b', metadata: meta([3]) }], 4);
  assert.deepEqual(contested.map((a) => a.tasks), [[0, 1], [2, 3]]);
  for (const members of [1, 2, 3, 4, 7]) {
    const result = assign(Array.from({ length: members }, (_, i) => ({ memberId: `m${i}`, metadata: meta([]) })), 6);
    const all = result.flatMap((a) => a.tasks).sort((x, y) => x - y);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5], `${members} members: every task once`);
    const sizes = result.map((a) => a.tasks.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${members} members: even (${sizes})`);
    assert.equal(result[0].producers.length, members, 'every member hears every producer');
  }
});

void test('two members of a group on the broker share its tasks; a generation the group moved past cannot commit offsets in a transaction', { skip, timeout: 120_000 }, async () => {
  const kafka = backend();
  const id = randomUUID().slice(0, 8);
  const group = `group-${id}`;
  const topic = `group-out-${id}`;
  await kafka.createTopic(topic, 1);
  await kafka.createTopic(`group-in-${id}`, 1);
  const a = new KafkaGroupMember(kafka, group, { tasks: 6, label: 'a', producer: 'pa' });
  const b = new KafkaGroupMember(kafka, group, { tasks: 6, label: 'b', producer: 'pb' });
  try {
    const first = await a.join();
    assert.deepEqual(first.tasks, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(first.members, ['a']);
    let changed = false;
    a.onChange(() => {
      changed = true;
    });
    // b's join waits for a to rejoin, which a does once its heartbeat hears of the rebalance.
    const joining = b.join();
    while (!changed) await new Promise((resolve) => setTimeout(resolve, 50));
    const [second, other] = await Promise.all([a.join(), joining]);
    assert.equal(second.generationId, other.generationId);
    assert.ok(second.generationId > first.generationId);
    assert.deepEqual([...second.tasks, ...other.tasks].sort(), [0, 1, 2, 3, 4, 5]);
    assert.equal(second.tasks.length, 3);
    assert.deepEqual(new Set(second.producers), new Set(['pa', 'pb']));

    // A zombie: offsets committed with the first generation's credentials are refused.
    kafka.groupMembership = (g) => (g === group ? { generationId: first.generationId, memberId: first.memberId } : undefined);
    const writer = await kafka.openWriter({ transactionalId: `zombie-${id}` });
    try {
      await writer.beginTransaction();
      await writer.send(topic, [{ key: utf8('k'), value: utf8('"zombie"'), timestamp: 1 }]);
      await assert.rejects(
        () => writer.sendOffsetsToTransaction(group, [{ topic: `group-in-${id}`, partition: 0, offset: 1 }]),
        (error: unknown) => isSluiceError(error) && error.code === 'ILLEGAL_GENERATION',
      );
      await writer.abortTransaction();
    } finally {
      await writer.close();
    }
    assert.deepEqual(await committedValues(kafka, topic), [], 'nothing the zombie wrote is visible');
    // The current generation commits.
    kafka.groupMembership = (g) => a.membership(g);
    const current = await kafka.openWriter({ transactionalId: `member-${id}` });
    try {
      await current.beginTransaction();
      await current.send(topic, [{ key: utf8('k'), value: utf8('"member"'), timestamp: 1 }]);
      await current.sendOffsetsToTransaction(group, [{ topic: `group-in-${id}`, partition: 0, offset: 1 }]);
      await current.commitTransaction();
    } finally {
      await current.close();
    }
    assert.deepEqual(await committedValues(kafka, topic), ['member']);
    assert.equal((await kafka.committedOffsets(group, `group-in-${id}`)).get(0), 1);
  } finally {
    kafka.groupMembership = undefined;
    await a.leave();
    await b.leave();
  }
});
