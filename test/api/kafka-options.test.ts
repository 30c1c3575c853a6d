// `new Sluice({ kafka })` is checked when the app is built: a wrong cluster address fails where it is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sluice } from '../../src/index.ts';
import { isSluiceError, parseBrokers } from '../../src/core/index.ts';

void test('kafka: brokers are HOST:PORT strings; anything else is INVALID_ARGUMENT naming what to write', () => {
  for (const kafka of [{}, { brokers: [] }, { brokers: ['localhost'] }, { brokers: [9092] }, { brokers: ['a:b'] }]) {
    assert.throws(() => new Sluice({ name: 'a', kafka: kafka as never }), (e: unknown) => isSluiceError(e, 'INVALID_ARGUMENT') && /brokers|HOST:PORT/.test((e as Error).message), JSON.stringify(kafka));
  }
  assert.deepEqual(new Sluice({ name: 'a', kafka: { brokers: [' 127.0.0.1:9092'] } }).options.kafka, { brokers: ['127.0.0.1:9092'] });
  assert.deepEqual(parseBrokers('h1:9092,h2:9093'), { brokers: ['h1:9092', 'h2:9093'] });
  assert.throws(() => parseBrokers('h1'), (e: unknown) => isSluiceError(e, 'INVALID_ARGUMENT') && /--kafka/.test((e as Error).message));
});
