// The control topic: a savepoint request sent while the app is starting (after its lock exists,
// before its channel opened) is answered, and a request from before this process started is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backend/memory.ts';
import { jsonCodec } from '../../src/core/index.ts';
import { ControlChannel, controlTopic } from '../../src/runtime/control.ts';

void test('control channel: requests sent before open but after the process started are kept; older ones are not', async () => {
  const backend = new MemoryBackend();
  const topic = controlTopic('app');
  await backend.ensureTopic(topic, 1);
  const writer = await backend.openWriter();
  const request = (id: string, timestamp: number) => ({ key: null, value: jsonCodec.encode({ type: 'savepoint', request: id }), timestamp, partition: 0 });
  await writer.send(topic, [request('stale', performance.timeOrigin - 1000), request('while-starting', Date.now())]);
  const channel = new ControlChannel(backend, 'app');
  await channel.open();
  assert.deepEqual(await channel.requests(0), ['while-starting']);
  await writer.send(topic, [request('later', Date.now())]);
  assert.deepEqual(await channel.requests(1000), ['later']);
  assert.deepEqual(await channel.requests(2000), [], 'each request is handed out once');
  await writer.close();
  await channel.close();
});
