import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { ok, tempDataDir } from './helpers.ts';

test('regression: binary keys and values are printed as marked base64, never lossily; --format raw|base64|json', async () => {
  const dir = tempDataDir();
  const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
  const binary = Uint8Array.of(0xff, 0x00, 0xc3, 0x28);
  try {
    log.createTopic('bin', { partitions: 1 });
    await log.append('bin', 0, [
      { key: binary, value: binary, timestamp: 1, headers: { h: binary, t: utf8('text') } },
      { key: utf8('k'), value: utf8('{"a":1}'), timestamp: 2 },
    ]);
  } finally {
    await log.close();
  }
  const read = async (format: string) =>
    (await ok(dir, ['consume', 'bin', '--from-beginning', '--max', '2', '--format', format])).trim().split('\n').map((line) => JSON.parse(line));
  const b64 = Buffer.from(binary).toString('base64');
  const json = await read('json');
  assert.deepEqual([json[0].key, json[0].value, json[0].headers], [{ $base64: b64 }, { $base64: b64 }, { h: { $base64: b64 }, t: 'text' }]);
  assert.deepEqual([json[1].key, json[1].value], ['k', { a: 1 }]);
  const raw = await read('raw');
  assert.deepEqual([raw[0].value, raw[1].value], [{ $base64: b64 }, '{"a":1}']);
  const base64 = await read('base64');
  assert.deepEqual([base64[0].value, base64[0].headers.t, base64[1].key], [b64, Buffer.from('text').toString('base64'), Buffer.from('k').toString('base64')]);
  const text = await ok(dir, ['consume', 'bin', '--from-beginning', '--max', '2']);
  assert.doesNotMatch(text, /\uFFFD/);
});
