// The source partition: decoding fetched records into elements, event time from the record or
// an extractor, each element's W_before (the partition watermark just before it), explicit
// watermark records, and records that fail to decode going to the error handler.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FetchedRecord } from '../../src/backend/index.ts';
import { type Codec, jsonCodec, utf8 } from '../../src/core/index.ts';
import { type Element, positionOf, type RecordErrorHandler } from '../../src/operators/index.ts';
import { SourcePartition, WATERMARK_HEADER } from '../../src/runtime/source.ts';

const json = (value: unknown, offset: number, timestamp = 0): FetchedRecord => ({ key: null, value: jsonCodec.encode(value), timestamp, offset });
const mark = (watermark: string, offset: number): FetchedRecord => ({ key: null, value: null, timestamp: 0, offset, headers: { [WATERMARK_HEADER]: utf8(watermark) } });

function source(
  options: { boundMs?: number; timestamp?: (value: any) => number; codec?: Codec; onError?: RecordErrorHandler } = {},
): SourcePartition {
  const time = { watermark: { kind: 'bounded-out-of-orderness' as const, boundMs: options.boundMs ?? 0 }, ...(options.timestamp ? { timestamp: options.timestamp } : {}) };
  const onError = options.onError ?? (() => assert.fail('no decode error expected'));
  return new SourcePartition('orders', 2, 0, time, options.codec ?? jsonCodec, 'source-orders', onError);
}

void test('source: records decode into elements with their value, record timestamp and source position; raw bytes kept', () => {
  const partition = source();
  const records = [json({ id: 1 }, 0, 1000), json('two', 1, 2000)];
  const elements = partition.toElements(records);
  assert.deepEqual(
    elements.map((e) => [e.value, e.timestamp, e.key, positionOf(e)]),
    [
      [{ id: 1 }, 1000, undefined, { topic: 'orders', partition: 2, offset: 0 }],
      ['two', 2000, undefined, { topic: 'orders', partition: 2, offset: 1 }],
    ],
  );
  assert.equal(elements[0].raw, records[0], 'the fetched record rides along for the dead-letter path');
});

void test('source: a timestamp extractor sets event time; tombstones are no data', () => {
  const partition = source({ timestamp: (v: { ts: number }) => v.ts });
  const tombstone: FetchedRecord = { key: utf8('k'), value: null, timestamp: 5, offset: 1 };
  const elements = partition.toElements([json({ ts: 7000 }, 0, 1), tombstone, json({ ts: 6500 }, 2, 1)]);
  assert.deepEqual(
    elements.map((e) => [e.timestamp, positionOf(e)?.offset]),
    [
      [7000, 0],
      [6500, 2],
    ],
  );
});

void test('source: each element carries the watermark just before it (W_before), whatever the batch size', () => {
  const times = [1000, 900, 1200, 1100, 1500, 1000];
  const records = times.map((t, i) => json({ t }, i, t));
  const expected = [Number.NEGATIVE_INFINITY, 900, 900, 1100, 1100, 1400];
  const whole = source({ boundMs: 100 });
  assert.deepEqual(
    whole.toElements(records).map((e) => e.sourceWatermark),
    expected,
  );
  assert.equal(whole.generator.watermark, 1400, 'max event time 1500 minus the 100 ms bound');
  for (const size of [1, 2, 4]) {
    const split = source({ boundMs: 100 });
    const got: number[] = [];
    for (let i = 0; i < records.length; i += size) got.push(...split.toElements(records.slice(i, i + size)).map((e) => e.sourceWatermark));
    assert.deepEqual(got, expected, `batches of ${size}`);
  }
});

void test('source: an explicit watermark record raises the watermark in log order, is no data, and never lowers it', () => {
  const partition = source({ boundMs: 50 });
  const elements = partition.toElements([json('a', 0, 100), mark('5000', 1), json('b', 2, 200), mark('3000', 3), json('c', 4, 300)]);
  assert.deepEqual(
    elements.map((e) => [e.value, e.sourceWatermark]),
    [
      ['a', Number.NEGATIVE_INFINITY],
      ['b', 5000],
      ['c', 5000],
    ],
  );
  assert.equal(partition.generator.watermark, 5000);
  const unreadable = partition.toElements([mark('soon', 5), json('d', 6, 400)]);
  assert.deepEqual(
    unreadable.map((e) => [e.value, e.sourceWatermark]),
    [['d', 5000]],
    'a watermark header that is not a number is skipped and changes nothing',
  );
});

void test('source: a record that does not decode, or whose extractor gives no number, goes to the error handler; the rest are read', () => {
  const failures: Array<{ element: Element | undefined; operator: string; message: string }> = [];
  const onError: RecordErrorHandler = (element, error, operator) => failures.push({ element, operator, message: (error as Error).message });
  const partition = source({ timestamp: (v: { ts: unknown }) => v.ts as number, onError });
  const broken: FetchedRecord = { key: null, value: utf8('{not json'), timestamp: 11, offset: 1 };
  const elements = partition.toElements([json({ ts: 100 }, 0), broken, json({ ts: 'noon' }, 2, 12), json({ ts: 300 }, 3)]);
  assert.deepEqual(
    elements.map((e) => e.timestamp),
    [100, 300],
  );
  assert.deepEqual(
    failures.map((f) => [f.operator, positionOf(f.element)?.offset, f.element?.timestamp, f.element?.raw === undefined]),
    [
      ['source-orders', 1, 11, false],
      ['source-orders', 2, 12, false],
    ],
  );
  assert.match(failures[1].message, /timestamp\(\) returned noon; it must return epoch milliseconds/);
  assert.equal(failures[0].element?.sourceWatermark, 100, 'a failed record carries the watermark at its place in the log');
});

void test('source: a bounded run is done once its offset reaches the end read at start', () => {
  const partition = source();
  assert.equal(partition.done, false, 'unbounded: never done');
  partition.end = 3;
  assert.equal(partition.done, false);
  partition.offset = 3;
  assert.equal(partition.done, true);
});
