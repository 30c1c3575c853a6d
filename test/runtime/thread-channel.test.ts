// The in-memory channel between threads: items arrive in the order sent, across a real worker
// thread; watermarks and barriers flush the batch before them; credit holds a fast writer back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { type ChannelItem, ChannelReader, ChannelWriter } from '../../src/runtime/thread-channel.ts';

/** Takes every item until the end, waiting for data without polling. */
async function drain(reader: ChannelReader): Promise<ChannelItem[]> {
  const items: ChannelItem[] = [];
  for (;;) {
    await reader.whenReadable();
    for (let item = reader.poll(); item !== undefined; item = reader.poll()) {
      items.push(item);
      if (item.kind === 'end') return items;
    }
  }
}

void test('a worker thread sends records, barriers and watermarks: they arrive in order, each once', async () => {
  const { port1, port2 } = new MessageChannel();
  const records = 2500;
  const barrierEvery = 400;
  const reader = new ChannelReader(port1);
  const worker = new Worker(new URL('./fixtures/channel-sender.ts', import.meta.url), { workerData: { port: port2, records, barrierEvery, batchRecords: 64 }, transferList: [port2] });
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('exit', resolve);
    worker.on('error', reject);
  });
  const items = await drain(reader);
  assert.equal(await exited, 0);
  reader.close();
  const expected: ChannelItem[] = [];
  let barrier = 0;
  for (let i = 0; i < records; i++) {
    expected.push({ kind: 'record', key: `k${i % 7}`, value: { i, text: 'x'.repeat(i % 5) }, timestamp: 1000 + i, sourceWatermark: 999 + i });
    if ((i + 1) % barrierEvery === 0) expected.push({ kind: 'barrier', id: ++barrier }, { kind: 'watermark', watermark: 1000 + i });
  }
  expected.push({ kind: 'end' });
  assert.deepEqual(items, expected);
});

void test('records wait for a full batch; a barrier sends them with it; credit returns as batches are consumed', async () => {
  const { port1, port2 } = new MessageChannel();
  const writer = new ChannelWriter(port1, { batchRecords: 3, maxInFlight: 1 });
  const reader = new ChannelReader(port2);
  writer.record('a', 1, 10, 9);
  writer.record('b', 2, 11, 9);
  // Two records, no full batch: nothing is sent, so the writer is still writable.
  assert.equal(writer.writable, true);
  writer.barrier(1);
  assert.equal(writer.writable, false, 'one batch in flight of at most one');
  await reader.whenReadable();
  assert.deepEqual([reader.poll(), reader.poll(), reader.poll(), reader.poll()], [
    { kind: 'record', key: 'a', value: 1, timestamp: 10, sourceWatermark: 9 },
    { kind: 'record', key: 'b', value: 2, timestamp: 11, sourceWatermark: 9 },
    { kind: 'barrier', id: 1 },
    undefined,
  ]);
  await writer.whenWritable();
  assert.equal(writer.writable, true);
  writer.end();
  assert.throws(() => writer.record('c', 3, 12, 9), /already ended/);
  assert.deepEqual(await drain(reader), [{ kind: 'end' }]);
  assert.equal(reader.ended, true);
  writer.close();
  reader.close();
});
