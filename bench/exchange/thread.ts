// One side of the exchange benchmark (main.ts): sends or receives `records` bids over `port`.
import { type MessagePort, workerData } from 'node:worker_threads';
import { pack, unpack } from 'msgpackr';
import { ChannelReader, ChannelWriter } from '../../src/runtime/thread-channel.ts';

const { role, mode, port, records, batch } = workerData as { role: 'send' | 'receive'; mode: 'clone' | 'msgpack'; port: MessagePort; records: number; batch: number };

const bid = (i: number) => ({ auction: 1000 + (i % 100), bidder: 2000 + (i % 997), price: (i * 7919) % 100_000, channel: 'Google', url: `https://www.nexmark.com/${i % 1000}`, dateTime: 1_700_000_000_000 + i, extra: 'x'.repeat(20) });

if (mode === 'clone') {
  if (role === 'send') {
    const writer = new ChannelWriter(port, { batchRecords: batch });
    for (let i = 0; i < records; i++) {
      if (!writer.writable) await writer.whenWritable();
      const b = bid(i);
      writer.record(b.auction, b, b.dateTime, b.dateTime - 1000);
    }
    writer.end();
    await writer.whenWritable();
    writer.close();
  } else {
    const reader = new ChannelReader(port);
    let taken = 0;
    for (let done = false; !done; ) {
      await reader.whenReadable();
      for (let item = reader.poll(); item !== undefined; item = reader.poll()) {
        if (item.kind === 'record') taken++;
        else if (item.kind === 'end') done = true;
      }
    }
    reader.close();
    if (taken !== records) throw new Error(`received ${taken} of ${records} records`);
  }
} else if (role === 'send') {
  // The same batches, flat [key, value, timestamp, W_before] items, as msgpack in a transferred buffer; at most 4 unconsumed.
  let inFlight = 0;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    inFlight--;
    wake?.();
  });
  for (let i = 0; i < records; ) {
    while (inFlight >= 4) await new Promise<void>((resolve) => (wake = resolve));
    const items: unknown[] = [];
    for (const end = Math.min(records, i + batch); i < end; i++) {
      const b = bid(i);
      items.push(b.auction, b, b.dateTime, b.dateTime - 1000);
    }
    // A copy of its own: msgpackr's result may be a view into its reused buffer, which must not be transferred.
    const buffer = new Uint8Array(pack(items)).buffer;
    inFlight++;
    port.postMessage(buffer, [buffer]);
  }
  port.postMessage(null);
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  port.close();
} else {
  let taken = 0;
  await new Promise<void>((resolve) => {
    port.on('message', (message: ArrayBuffer | null) => {
      if (message === null) return resolve();
      taken += (unpack(new Uint8Array(message)) as unknown[]).length / 4;
      port.postMessage(1);
    });
  });
  port.close();
  if (taken !== records) throw new Error(`received ${taken} of ${records} records`);
}
