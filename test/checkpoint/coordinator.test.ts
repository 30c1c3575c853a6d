// The checkpoint coordinator: the order of steps per guarantee comes from one table, state
// persistence and sink participants plug into it, failures abort what is not prepared, and
// recovery settles a prepared transaction by whether the last checkpoint names it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendWriter, LogBackend, OutgoingRecord, TopicPartitionOffset } from '../../src/backend/index.ts';
import { CHECKPOINT_STEPS, CheckpointCoordinator, type CheckpointParticipant, type JobSnapshot, type StatePersistence } from '../../src/checkpoint/index.ts';
import { utf8 } from '../../src/core/index.ts';

const snapshotOf = (id: number): JobSnapshot => ({ version: 1, id, final: false, shape: [], tasks: [], sources: [], leaving: [] });

interface Fixture {
  events: string[];
  /** The prepared transaction an earlier writer left, if any. */
  pending?: string;
  failAt?: string;
}

/** A log that records what the coordinator asks of it, in order. */
function recordingLog(fixture: Fixture, twoPhase: boolean): LogBackend {
  const { events } = fixture;
  const step = async (name: string) => {
    events.push(name);
    if (fixture.failAt === name) throw new Error(`${name} failed`);
  };
  const writer = (transactional: boolean): BackendWriter => ({
    send: (topic: string, records: OutgoingRecord[]) => step(`send ${topic} x${records.length}`),
    beginTransaction: () => step('log.begin'),
    sendOffsetsToTransaction: (_group: string, offsets: TopicPartitionOffset[]) => step(`log.offsets x${offsets.length}`),
    commitTransaction: () => step('log.commit'),
    abortTransaction: () => step('log.abort'),
    ...(twoPhase && transactional
      ? {
          prepareTransaction: async () => {
            await step('log.prepare');
            return 'txn-7';
          },
          pendingPrepared: fixture.pending,
          completePrepared: (commit: boolean) => step(commit ? 'log.complete-commit' : 'log.complete-abort'),
        }
      : {}),
    close: async () => undefined,
  });
  return {
    kind: 'memory',
    openWriter: async (options?: { transactionalId?: string }) => writer(options?.transactionalId !== undefined),
    commitOffsets: (_group: string, offsets: TopicPartitionOffset[]) => step(`group.offsets x${offsets.length}`),
  } as unknown as LogBackend;
}

function inLogState(): StatePersistence {
  return {
    twoPhase: false,
    stage: (write) => write.send('app.checkpoints', [{ key: utf8('k'), value: utf8(String(write.snapshot.id)), timestamp: write.now }]),
    load: async () => undefined,
    startEmpty: () => undefined,
    tables: () => [],
  };
}

function storeState(events: string[], saved?: JobSnapshot): StatePersistence {
  return {
    twoPhase: true,
    persist: async (write) => {
      events.push(`store.persist txn=${write.snapshot.txn ?? 'none'}`);
    },
    load: async () => saved,
    startEmpty: () => undefined,
    tables: () => [],
  };
}

function participant(events: string[]): CheckpointParticipant {
  return {
    name: 'pg',
    write: async (id) => void events.push(`pg.write ${id}`),
    prepare: async (id) => void events.push(`pg.prepare ${id}`),
    commit: async (id) => void events.push(`pg.commit ${id}`),
    abort: async (id) => void events.push(`pg.abort ${id}`),
    recover: async (last) => void events.push(`pg.recover ${last}`),
  };
}

const output = () => new Map<string, OutgoingRecord[]>([['out', [{ key: null, value: utf8('1'), timestamp: 0 }]]]);
const offsets: TopicPartitionOffset[] = [{ topic: 'in', partition: 0, offset: 3 }];

test('the step table: exactly-once runs in one transaction, the others order output against offsets', () => {
  assert.deepEqual(CHECKPOINT_STEPS['exactly-once'], ['begin', 'output', 'state', 'offsets', 'prepare', 'persist', 'commit']);
  assert.ok(CHECKPOINT_STEPS['at-least-once'].indexOf('output') < CHECKPOINT_STEPS['at-least-once'].indexOf('offsets'), 'at-least-once: output before offsets');
  assert.ok(CHECKPOINT_STEPS['at-most-once'].indexOf('offsets') < CHECKPOINT_STEPS['at-most-once'].indexOf('output'), 'at-most-once: offsets before output');
  for (const [guarantee, steps] of Object.entries(CHECKPOINT_STEPS)) {
    // Without a transaction, state is durable before the offsets move: a restore never reads past its state.
    if (!steps.includes('commit')) assert.ok(steps.indexOf('state') < steps.indexOf('offsets') && steps.indexOf('persist') < steps.indexOf('offsets'), guarantee);
  }
});

test('memory state, exactly-once: the snapshot record travels in the transaction, committed in one phase', async () => {
  const fixture: Fixture = { events: [] };
  const coordinator = await CheckpointCoordinator.open({ backend: recordingLog(fixture, true), group: 'app', guarantee: 'exactly-once', state: inLogState() });
  await coordinator.commit(output(), offsets, snapshotOf(1), 0);
  assert.deepEqual(fixture.events, ['log.begin', 'send out x1', 'send app.checkpoints x1', 'log.offsets x1', 'log.commit']);
});

test('store state, exactly-once: two-phase, the store record names the prepared transaction; sinks prepare and commit with the log', async () => {
  const fixture: Fixture = { events: [] };
  const coordinator = await CheckpointCoordinator.open({ backend: recordingLog(fixture, true), group: 'app', guarantee: 'exactly-once', state: storeState(fixture.events), participants: [participant(fixture.events)] });
  await coordinator.commit(output(), offsets, snapshotOf(4), 0);
  assert.deepEqual(fixture.events, ['log.begin', 'send out x1', 'pg.write 4', 'log.offsets x1', 'log.prepare', 'pg.prepare 4', 'store.persist txn=txn-7', 'log.commit', 'pg.commit 4']);
});

test('at-least-once and at-most-once: no transaction, the order of the table', async () => {
  for (const [guarantee, expected] of [
    ['at-least-once', ['send out x1', 'send app.checkpoints x1', 'group.offsets x1']],
    ['at-most-once', ['send app.checkpoints x1', 'group.offsets x1', 'send out x1']],
  ] as const) {
    const fixture: Fixture = { events: [] };
    const coordinator = await CheckpointCoordinator.open({ backend: recordingLog(fixture, true), group: 'app', guarantee, state: inLogState() });
    await coordinator.commit(output(), offsets, snapshotOf(1), 0);
    assert.deepEqual(fixture.events, expected, guarantee);
  }
});

test('a failure before prepare aborts the transaction (and the sinks); after prepare it is left for recovery', async () => {
  const early: Fixture = { events: [], failAt: 'log.offsets x1' };
  const first = await CheckpointCoordinator.open({ backend: recordingLog(early, true), group: 'app', guarantee: 'exactly-once', state: storeState(early.events), participants: [participant(early.events)] });
  await assert.rejects(first.commit(output(), offsets, snapshotOf(2), 0), /offsets x1 failed/);
  assert.deepEqual(early.events.slice(-2), ['log.abort', 'pg.abort 2']);

  const late: Fixture = { events: [], failAt: 'log.commit' };
  const second = await CheckpointCoordinator.open({ backend: recordingLog(late, true), group: 'app', guarantee: 'exactly-once', state: storeState(late.events) });
  await assert.rejects(second.commit(output(), offsets, snapshotOf(2), 0), /log.commit failed/);
  assert.ok(!late.events.includes('log.abort'), 'a prepared transaction is never aborted by the failing process');
});

test('recovery commits the prepared transaction the last checkpoint names, and aborts any other', async () => {
  for (const [names, expected] of [
    ['txn-7', 'log.complete-commit'],
    ['txn-6', 'log.complete-abort'],
  ] as const) {
    const fixture: Fixture = { events: [], pending: 'txn-7' };
    const saved = { ...snapshotOf(9), txn: names };
    const coordinator = await CheckpointCoordinator.open({ backend: recordingLog(fixture, true), group: 'app', guarantee: 'exactly-once', state: storeState(fixture.events, saved), participants: [participant(fixture.events)] });
    assert.equal((await coordinator.recover())?.id, 9);
    assert.deepEqual(fixture.events, [expected, 'pg.recover 9']);
  }
});

test('state outside the log with exactly-once needs a log with two-phase commit', async () => {
  const fixture: Fixture = { events: [] };
  await assert.rejects(CheckpointCoordinator.open({ backend: recordingLog(fixture, false), group: 'app', guarantee: 'exactly-once', state: storeState(fixture.events) }), /two-phase commit/);
  // One-phase logs (Kafka) take state that travels in the transaction.
  await CheckpointCoordinator.open({ backend: recordingLog(fixture, false), group: 'app', guarantee: 'exactly-once', state: inLogState() });
});
