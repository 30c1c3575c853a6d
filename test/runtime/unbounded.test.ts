// Unbounded runs: output and offsets commit every checkpoint interval (on the kit's manual
// clock; at-least-once output is visible before that), stop() ends the run with a final commit, and a restarted app continues from the
// offsets its group committed. Idle partitions stop holding the watermark back after idleTimeout.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { jsonCodec, Windows } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function produce(kit: TestKit, topic: string, values: unknown[], partition?: number): Promise<void> {
  const writer = await kit.backend.openWriter();
  await writer.send(topic, values.map((v) => ({ key: null, value: jsonCodec.encode(v), timestamp: kit.clock.now(), ...(partition === undefined ? {} : { partition }) })));
  await writer.close();
}

for (const guarantee of ['exactly-once', 'at-least-once', 'at-most-once'] as const) {
  void test(`${guarantee}: commits on the checkpoint interval, stops on stop(), and a restart continues from committed offsets`, async () => {
    const kit = new TestKit();
    kit.input('numbers', [1, 2, 3], { partitions: 2 });
    const build = () => {
      const app = kit.app({ name: 'doubler', checkpointInterval: '1s', guarantee });
      app.stream<number>('numbers').map((n) => n * 2).to('doubled');
      return app;
    };
    const app = build();
    const running = app.run();
    if (guarantee === 'at-least-once') {
      // Output is visible at once, ahead of its checkpoint.
      await until(() => {
        try {
          return kit.output('doubled').length === 3;
        } catch {
          return false; // the sink topic does not exist before the first write
        }
      }, 'output before any checkpoint');
    } else {
      await sleep(30);
      // The clock has not moved: nothing is committed yet, so nothing is visible.
      assert.deepEqual(kit.output('doubled'), []);
    }
    kit.clock.advance(1000);
    await until(() => kit.output('doubled').length === 3, 'the first commit');
    await produce(kit, 'numbers', [10, 20]);
    kit.clock.advance(1000);
    await until(() => kit.output('doubled').length === 5, 'the second commit');
    app.stop();
    const summary = await running;
    assert.equal(summary.records, 5);
    assert.deepEqual(kit.output<number>('doubled').sort((a, b) => a - b), [2, 4, 6, 20, 40]);
    const committed = await kit.backend.committedOffsets('doubler', 'numbers');
    assert.deepEqual([...committed].sort(), [...(await kit.backend.endOffsets('numbers')).entries()].sort());

    await produce(kit, 'numbers', [100]);
    const again = build();
    const second = await again.run({ bounded: true });
    assert.equal(second.records, 1);
    assert.deepEqual(kit.output<number>('doubled').sort((a, b) => a - b), [2, 4, 6, 20, 40, 200]);
  });
}

void test('an idle partition stops holding the watermark back after idleTimeout (manual clock)', async () => {
  const kit = new TestKit();
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
  await sleep(50);
  kit.clock.advance(200);
  await sleep(50);
  // Partition 1 has never produced: the window [0, 10s) cannot fire yet.
  assert.deepEqual(kit.output('counts'), []);
  kit.clock.advance(5000);
  await until(() => kit.output('counts').length === 1, 'the window to fire once partition 1 is idle');
  assert.deepEqual(kit.output('counts'), [{ key: 'all', start: 0, end: 10_000, value: 2 }]);
  app.stop();
  await running;
});

void test('stop() before the first round still returns cleanly', async () => {
  const kit = new TestKit();
  kit.input('numbers', [1]);
  const app = kit.app({ name: 'quick' });
  app.stream<number>('numbers').to('copy');
  const running = app.run();
  app.stop();
  const summary = await running;
  assert.ok(summary.records <= 1);
});

void test('processing-time windows fire by the clock, not by event time', async () => {
  const kit = new TestKit({ startTime: 60_000 });
  kit.input('events', [{ ts: 0 }, { ts: 999_999 }], { partitions: 2 });
  const app = kit.app({ name: 'wallclock', checkpointInterval: 1 });
  app
    .stream<{ ts: number }>('events', { timestamp: (e) => e.ts })
    .keyBy(() => 'all')
    .window(Windows.tumbling('1m', { time: 'processing' }))
    .count()
    .to('counts');
  const running = app.run();
  await sleep(50);
  kit.clock.advance(10);
  await sleep(50);
  assert.deepEqual(kit.output('counts'), []);
  // Both records arrived in the processing-time window [60 s, 120 s): it fires when the clock passes 120 s.
  kit.clock.set(120_000);
  await until(() => kit.output('counts').length === 1, 'the processing-time window');
  assert.deepEqual(kit.output('counts'), [{ key: 'all', start: 60_000, end: 120_000, value: 2 }]);
  app.stop();
  await running;
});
