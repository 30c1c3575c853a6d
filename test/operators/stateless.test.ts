// Harness tests of the stateless operators and sinks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromUtf8, type LogRecord, utf8 } from '../../src/core/index.ts';
import { type Element, FilterOperator, FlatMapOperator, MapOperator, PrintOperator, TopicSinkOperator } from '../../src/operators/index.ts';
import { OperatorHarness } from '../../src/testing/index.ts';

void test('filter keeps what passes, map transforms in place keeping time, key and position', () => {
  const filter = new OperatorHarness(new FilterOperator<number>('even', (n) => n % 2 === 0));
  filter.processBatch([1, 2, 3, 4].map((value, i) => ({ value, timestamp: i * 10, key: 'k' })));
  assert.deepEqual(filter.values(), [2, 4]);
  assert.deepEqual(filter.output.map((e) => e.timestamp), [10, 30]);

  const map = new OperatorHarness(new MapOperator<number, string>('show', (n) => `#${n}`));
  map.processElement(7, 1234, { key: 'k', sourceWatermark: 1000, source: { topic: 't', partition: 2, offset: 9 } });
  const [out] = map.output;
  assert.deepEqual({ ...out }, { value: '#7', timestamp: 1234, key: 'k', sourceWatermark: 1000, source: { topic: 't', partition: 2, offset: 9 } });
});

void test('flatMap emits each value of the iterable, and a throw midway emits none of them', () => {
  const errors: unknown[] = [];
  const op = new FlatMapOperator<string, string>(
    'words',
    function* (line) {
      for (const w of line.split(' ')) {
        if (w === 'bad') throw new Error('bad word');
        yield w;
      }
    },
    (_element, error) => errors.push(error),
  );
  const h = new OperatorHarness(op);
  h.processBatch([
    { value: 'a b', timestamp: 1 },
    { value: 'c bad d', timestamp: 2 },
    { value: 'e', timestamp: 3 },
  ]);
  assert.deepEqual(h.values(), ['a', 'b', 'e']);
  assert.equal(errors.length, 1);
});

void test('a user function that throws reaches the error handler with its element and operator name', () => {
  const seen: [unknown, string][] = [];
  const op = new MapOperator<number, number>(
    'inverse',
    (n) => {
      if (n === 0) throw new RangeError('zero');
      return 1 / n;
    },
    (element, _error, name) => seen.push([element?.value, name]),
  );
  const h = new OperatorHarness(op);
  h.processBatch([2, 0, 4].map((value) => ({ value, timestamp: 0 })));
  assert.deepEqual(h.values(), [0.5, 0.25]);
  assert.deepEqual(seen, [[0, 'inverse']]);
  // Without a handler, the harness sees the throw.
  assert.throws(() => new OperatorHarness(new MapOperator('m', () => { throw new Error('x'); })).processElement(1, 0), /x/);
});

void test('the topic sink keys records by the element key (strings as UTF-8, others as JSON) and writes JSON values', () => {
  const written: [string, LogRecord][] = [];
  const sink = new TopicSinkOperator('sink', 'out', { append: (topic, record) => written.push([topic, record]) });
  const elements: Element[] = [
    { value: { a: 1 }, timestamp: 5, key: 'user-1', sourceWatermark: 0 },
    { value: 'text', timestamp: 6, key: 42, sourceWatermark: 0 },
    { value: [1, 2], timestamp: 7, sourceWatermark: 0 },
  ];
  new OperatorHarness(sink).processBatch(elements);
  assert.deepEqual(
    written.map(([topic, r]) => [topic, r.key === null ? null : fromUtf8(r.key), fromUtf8(r.value!), r.timestamp]),
    [
      ['out', 'user-1', '{"a":1}', 5],
      ['out', '42', '"text"', 6],
      ['out', null, '[1,2]', 7],
    ],
  );
});

void test('the topic sink appends a batch at once, and records before a failing one go out before its error, in order', () => {
  const calls: string[] = [];
  const sink = {
    append: (topic: string, record: LogRecord) => calls.push(`one ${topic} ${fromUtf8(record.value!)}`),
    appendAll: (topic: string, records: LogRecord[]) => calls.push(`all ${topic} ${records.map((r) => fromUtf8(r.value!)).join(',')}`),
  };
  const codec = {
    name: 'no-13',
    encode: (value: unknown) => {
      if (value === 13) throw new Error('13 cannot be encoded');
      return utf8(String(value));
    },
    decode: (bytes: Uint8Array) => Number(fromUtf8(bytes)),
  };
  const op = new TopicSinkOperator('sink', 'out', sink, (element) => calls.push(`error ${String(element?.value)}`), codec);
  new OperatorHarness(op).processBatch([1, 2, 13, 3, 13].map((value) => ({ value, timestamp: 0 })));
  assert.deepEqual(calls, ['all out 1,2', 'error 13', 'all out 3', 'error 13']);
});

void test('print writes strings as they are and other values as JSON', () => {
  const lines: string[] = [];
  new OperatorHarness(new PrintOperator('print', '> ', (line) => lines.push(line))).processBatch([
    { value: 'hello', timestamp: 0 },
    { value: { n: 1 }, timestamp: 0 },
  ]);
  assert.deepEqual(lines, ['> hello', '> {"n":1}']);
});
