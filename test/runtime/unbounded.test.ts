// Unbounded runs, driven round by round by a stepping test kit: output and offsets commit every
// checkpoint interval (on the kit's manual clock; at-least-once output is visible before that),
// stop() ends the run with a final commit, and a restarted app continues from the offsets its
// group committed. Idle partitions stop holding the watermark back after idleTimeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, jsonCodec, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

async function produce(kit: TestKit, topic: string, values: unknown[], partition?: number): Promise<void> {
  const writer = await kit.backend.openWriter();
  await writer.send(topic, values.map((v) => ({ key: null, value: jsonCodec.encode(v), timestamp: kit.clock.now(), ...(partition === undefined ? {} : { partition }) })));
  await writer.close();
}

const ascending = (values: number[]) => [...values].sort((a, b) => a - b);

for (const guarantee of ['exactly-once', 'at-least-once', 'at-most-once'] as const) {
  void test(`${guarantee}: commits on the checkpoint interval, stops on stop(), and a restart continues from committed offsets`, async () => {
    const kit = new TestKit({ stepping: true });
    kit.input('numbers', [1, 2, 3], { partitions: 2 });
    const build = () => {
      const app = kit.app({ name: 'doubler', checkpointInterval: '1s', guarantee });
      app.stream<number>('numbers').map((n) => n * 2).to('doubled');
      return app;
    };
    const app = build();
    const running = app.run();
    assert.equal(await kit.step(), true, 'the first round reads the three records');
    // The clock has not moved: no checkpoint yet. at-least-once output is visible at once, ahead of it.
    assert.deepEqual(ascending(kit.output<number>('doubled')), guarantee === 'at-least-once' ? [2, 4, 6] : []);
    assert.deepEqual(await kit.backend.committedOffsets('doubler', 'numbers'), new Map());
    assert.equal(await kit.step(), false, 'nothing new to read');
    kit.clock.advance(1000);
    await kit.step();
    assert.deepEqual(ascending(kit.output<number>('doubled')), [2, 4, 6], 'the interval is up: the first commit');
    await produce(kit, 'numbers', [10, 20]);
    await kit.step();
    assert.equal(kit.output('doubled').length, guarantee === 'at-least-once' ? 5 : 3, 'read, not committed yet');
    kit.clock.advance(1000);
    await kit.step();
    assert.deepEqual(ascending(kit.output<number>('doubled')), [2, 4, 6, 20, 40], 'the second commit');
    app.stop();
    const summary = await running;
    assert.equal(summary.records, 5);
    const committed = await kit.backend.committedOffsets('doubler', 'numbers');
    assert.deepEqual([...committed].sort(), [...(await kit.backend.endOffsets('numbers')).entries()].sort());

    await produce(kit, 'numbers', [100]);
    const again = build();
    const second = await again.run({ bounded: true });
    assert.equal(second.records, 1);
    assert.deepEqual(ascending(kit.output<number>('doubled')), [2, 4, 6, 20, 40, 200]);
  });
}

void test('an idle partition stops holding the watermark back after idleTimeout (manual clock)', async () => {
  const kit = new TestKit({ stepping: true });
  kit.backend.createTopicSync('events', 2);
  await produce(kit, 'events', [{ ts: 1000 }, { ts: 2000 }, { ts: 12_000 }], 0);
  const app = kit.app({ name: 'idle', checkpointInterval: 100 });
  app
    .stream<{ ts: number }>('events', { timestamp: (e) => e.ts, idleTimeout: '5s' })
    .keyBy(() => 'all')
    .window(Windows.tumbling('10s'))
    .count()
    .to('counts');
  const running = app.run();
  await kit.step();
  kit.clock.advance(4900);
  await kit.step();
  // Partition 1 has never produced and has been silent under 5 s: the window [0, 10s) cannot fire yet.
  assert.deepEqual(kit.output('counts'), [], 'committed (the interval is up), without the window');
  kit.clock.advance(100);
  await kit.step();
  assert.deepEqual(kit.output('counts'), [{ key: 'all', start: 0, end: 10_000, value: 2 }]);
  app.stop();
  await running;
});

void test('stop() before the first round reads nothing, and the next run reads the record', async () => {
  const kit = new TestKit();
  kit.input('numbers', [1]);
  const app = kit.app({ name: 'quick' });
  app.stream<number>('numbers').to('copy');
  const running = app.run();
  app.stop();
  const summary = await running;
  assert.equal(summary.records, 0);
  assert.deepEqual(kit.output('copy'), []);
  const again = kit.app({ name: 'quick' });
  again.stream<number>('numbers').to('copy');
  assert.equal((await again.run({ bounded: true })).records, 1);
  assert.deepEqual(kit.output('copy'), [1]);
});

void test('processing-time windows fire by the clock, not by event time', async () => {
  const kit = new TestKit({ startTime: 60_000, stepping: true });
  kit.input('events', [{ ts: 0 }, { ts: 999_999 }], { partitions: 2 });
  const app = kit.app({ name: 'wallclock', checkpointInterval: 1 });
  app
    .stream<{ ts: number }>('events', { timestamp: (e) => e.ts })
    .keyBy(() => 'all')
    .window(Windows.tumbling('1m', { time: 'processing' }))
    .count()
    .to('counts');
  const running = app.run();
  await kit.step();
  kit.clock.advance(10);
  await kit.step();
  assert.deepEqual(kit.output('counts'), [], 'committed (the interval is 1 ms), but the window is still open');
  // Both records arrived in the processing-time window [60 s, 120 s): it fires when the clock passes 120 s.
  kit.clock.set(120_000);
  await kit.step();
  assert.deepEqual(kit.output('counts'), [{ key: 'all', start: 60_000, end: 120_000, value: 2 }]);
  app.stop();
  await running;
});

void test('runUntilIdle() processes every batch through the exchange and commits, with the clock standing still', async () => {
  const kit = new TestKit({ stepping: true });
  const words = ['a', 'b', 'a', 'c', 'a', 'b', 'c', 'a', 'b', 'a'];
  kit.input('words', words, { partitions: 3, timestamp: (_w, i) => i * 1000 });
  const app = kit.app({ name: 'idle-words', checkpointInterval: '1h' });
  const stream = app.stream<string>('words');
  stream.keyBy((w) => w).window(Windows.tumbling('1m')).count().to('counts');
  stream.to('copy');
  const running = app.run({ batchSize: 1 });
  await kit.runUntilIdle();
  assert.equal(kit.output('copy').length, words.length, 'every record read, across many one-record rounds, and committed');
  assert.deepEqual(kit.output('counts'), [], 'the minute is not over');
  assert.deepEqual([...(await kit.backend.committedOffsets('idle-words', 'words')).values()].sort(), [...(await kit.backend.endOffsets('words'))].sort());
  kit.watermark('words', 60_000);
  await kit.runUntilIdle();
  const counts = kit.output<{ key: string; value: number }>('counts').map((r) => [r.key, r.value]);
  assert.deepEqual(counts.sort(), [['a', 5], ['b', 3], ['c', 2]]);
  assert.equal(await kit.step(), false);
  app.stop();
  const summary = await running;
  assert.equal(summary.records, words.length + 3, 'the records and the explicit watermark of each of the 3 partitions');
});

void test('step() is refused on a kit that does not step, and when no app runs', async () => {
  const free = new TestKit();
  await assert.rejects(free.step(), (e) => isSluiceError(e, 'INVALID_ARGUMENT') && /stepping: true/.test(e.message));
  const kit = new TestKit({ stepping: true });
  await assert.rejects(kit.runUntilIdle(), (e) => isSluiceError(e, 'INVALID_ARGUMENT') && /app\.run\(\)/.test(e.message));
  // A bounded run of a stepping kit runs on its own.
  kit.input('numbers', [1, 2]);
  const app = kit.app({ name: 'bounded' });
  app.stream<number>('numbers').to('copy');
  assert.equal((await app.run({ bounded: true })).records, 2);
  await assert.rejects(kit.step(), /app\.run\(\)/);
});
