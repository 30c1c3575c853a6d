// Lost state is refused, never silently replaced by empty state: the app's group committed
// input that a stateful pipeline's state depended on, and the state is gone (an lmdb state
// directory deleted, the memory state's checkpoint topic missing). A bounded run's final
// checkpoint is a clean slate, not lost state. A checkpoint older than the committed input is
// restored with a warning that output may repeat; topic-checkpoints.ts falls back past an
// unreadable record.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppBuilder } from '../../src/api/index.ts';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { checkpointTopic, encodeSnapshot, type JobSnapshot, TopicCheckpoints } from '../../src/checkpoint/index.ts';
import { isSluiceError, utf8 } from '../../src/core/index.ts';
import { Windows } from '../../src/index.ts';
import { Job } from '../../src/runtime/index.ts';
import { LmdbStateBackend } from '../../src/state/lmdb-backend.ts';
import { TestKit } from '../../src/testing/index.ts';
import { withDir } from '../log/helpers.ts';

interface Event {
  k: string;
  ts: number;
}

const events: Event[] = [
  { k: 'a', ts: 1000 },
  { k: 'b', ts: 2000 },
  { k: 'a', ts: 3000 },
];

function counter(app: AppBuilder): void {
  app.stream<Event>('events', { timestamp: (e) => e.ts }).keyBy((e) => e.k).window(Windows.tumbling('1m')).count().to('counts');
}

/** Runs the counter unbounded on a stepping kit until its input is read and committed, then stops it. */
async function runCounter(kit: TestKit, options: { state?: 'lmdb'; dataDir?: string; guarantee?: 'at-least-once' } = {}): Promise<void> {
  const app = kit.app({ name: 'counter', checkpointInterval: '1h', ...options });
  counter(app);
  const running = app.run();
  await kit.runUntilIdle();
  app.stop();
  await running;
}

const stateMissing = (e: unknown) =>
  isSluiceError(e, 'STATE_MISSING') && /app 'counter' has committed input up to events\/0:3/.test(e.message) && /--from-savepoint ID/.test(e.message) && /sluice app reset counter/.test(e.message);

void test('lmdb: a deleted state directory with committed input is refused with STATE_MISSING', () =>
  withDir(async (dataDir) => {
    const kit = new TestKit({ stepping: true });
    kit.input('events', events);
    // (lmdb with exactly-once needs the embedded log's two-phase commit; the kit's log has none.)
    await runCounter(kit, { state: 'lmdb', dataDir, guarantee: 'at-least-once' });
    rmSync(join(dataDir, 'state', 'counter'), { recursive: true, force: true });
    const again = kit.app({ name: 'counter', state: 'lmdb', dataDir, guarantee: 'at-least-once' });
    counter(again);
    await assert.rejects(again.run({ bounded: true }), stateMissing);
    // A stateless pipeline of that name has nothing to lose.
    const copy = kit.app({ name: 'counter', state: 'lmdb', dataDir, guarantee: 'at-least-once' });
    copy.stream<Event>('events').to('copies');
    assert.equal((await copy.run({ bounded: true })).records, 0);
  }));

void test('memory: committed input without a checkpoint topic is refused with STATE_MISSING', async () => {
  const first = new TestKit({ stepping: true });
  first.input('events', events);
  await runCounter(first);
  // The same input and group offsets on a log without the app's checkpoint topic.
  const kit = new TestKit();
  kit.input('events', events);
  await kit.backend.commitOffsets('counter', [{ topic: 'events', partition: 0, offset: 3 }]);
  const app = kit.app({ name: 'counter' });
  counter(app);
  await assert.rejects(app.run({ bounded: true }), (e) => stateMissing(e) && /no checkpoint in topic 'counter.checkpoints'/.test((e as Error).message));
});

void test('a bounded run ends on a clean slate: the next run starts, even after an lmdb start that crashed before its first checkpoint', () =>
  withDir(async (dataDir) => {
    const kit = new TestKit();
    kit.input('events', events);
    const run = async () => {
      const app = kit.app({ name: 'counter', state: 'lmdb', dataDir, guarantee: 'at-least-once' });
      counter(app);
      return app.run({ bounded: true });
    };
    assert.equal((await run()).records, 3);
    // A start that opens (clearing the final state) and dies before it commits anything.
    const app = new AppBuilder({ name: 'counter' });
    counter(app);
    const state = LmdbStateBackend.open(join(dataDir, 'state', 'counter'));
    const job = new Job({ name: 'counter', graph: app.graph, backend: kit.backend, state, guarantee: 'at-least-once', onError: 'fail', checkpointIntervalMs: 1000, clock: kit.clock.now, dataDir });
    await job.open();
    await job.close();
    await state.close();
    kit.input('events', [{ k: 'c', ts: 4000 }]);
    assert.equal((await run()).records, 1);
    assert.deepEqual(
      kit.output<{ key: string; value: number }>('counts').map((r) => [r.key, r.value]),
      [['a', 2], ['b', 1], ['c', 1]],
    );
  }));

void test('a checkpoint older than the committed input is restored with a warning that output may repeat', async () => {
  const first = new TestKit({ stepping: true });
  first.input('events', events.slice(0, 2));
  const app = first.app({ name: 'counter', checkpointInterval: '1h' });
  counter(app);
  const running = app.run();
  await first.runUntilIdle(); // checkpoint 1, after two records
  first.input('events', events.slice(2));
  await first.runUntilIdle(); // checkpoint 2, after three
  app.stop();
  await running;
  // The log as it is when checkpoint 2's record is lost (a truncated checkpoint segment): the input,
  // the group's offsets, and only checkpoint 1.
  const [older] = first.records(checkpointTopic('counter'));
  const kit = new TestKit();
  kit.input('events', events);
  kit.backend.createTopicSync(checkpointTopic('counter'));
  kit.inputRaw(checkpointTopic('counter'), [JSON.stringify(older.value)]);
  await kit.backend.commitOffsets('counter', [{ topic: 'events', partition: 0, offset: 3 }]);
  const warnings: string[] = [];
  const graph = new AppBuilder({ name: 'counter' });
  counter(graph);
  const job = new Job({ name: 'counter', graph: graph.graph, backend: kit.backend, guarantee: 'exactly-once', onError: 'fail', checkpointIntervalMs: 1000, clock: kit.clock.now, warn: (m) => warnings.push(m) });
  await job.open();
  const summary = await job.runBounded();
  await job.close();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /committed events\/0 up to offset 3, but the last checkpoint that can be read \(checkpoint 1\) stops at 2; restoring it: output committed after it may be written again/);
  assert.equal(summary.records, 1, 'the record after checkpoint 1 is read again');
  assert.deepEqual(
    kit.output<{ key: string; value: number }>('counts').map((r) => [r.key, r.value]).sort(),
    [['a', 2], ['b', 1]],
  );
});

const snapshot = (id: number): JobSnapshot => ({ version: 1, id, final: false, shape: [['s']], tasks: [], sources: [], leaving: [] });

void test('topic checkpoints: an unreadable last record falls back to the one before it, with a warning', async () => {
  const backend = new MemoryBackend();
  const topic = checkpointTopic('app');
  backend.createTopicSync(topic);
  const writer = await backend.openWriter();
  await writer.send(topic, [
    { key: utf8('app#1'), value: encodeSnapshot(snapshot(1)), timestamp: 0, partition: 0 },
    { key: utf8('app#0'), value: utf8('{"version":1,"id":2,"fin'), timestamp: 0, partition: 0 },
  ]);
  const warnings: string[] = [];
  const loaded = await new TopicCheckpoints(backend, 'app', (m) => warnings.push(m)).load();
  assert.equal(loaded?.id, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the last checkpoint of 'app' \(topic 'app.checkpoints', offset 1\) cannot be read; restoring the one before it \(offset 0\): output committed after it may be written again/);

  // Nothing readable at all: refused, never started empty.
  const broken = new MemoryBackend();
  broken.createTopicSync(topic);
  const brokenWriter = await broken.openWriter();
  await brokenWriter.send(topic, [{ key: utf8('app#1'), value: utf8('{oops'), timestamp: 0, partition: 0 }]);
  await assert.rejects(new TopicCheckpoints(broken, 'app', () => undefined).load(), (e) => isSluiceError(e, 'CHECKPOINT_CORRUPT'));
  // An empty topic: no checkpoint.
  assert.equal(await new TopicCheckpoints(new MemoryBackend(), 'app', () => undefined).load(), undefined);
});
