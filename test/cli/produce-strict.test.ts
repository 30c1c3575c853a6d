import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { exitCode, ok, sluice, start, tempDataDir } from './helpers.ts';

const consumed = async (dir: string, topic: string) =>
  (await ok(dir, ['consume', topic, '--from-beginning', '--timeout-ms', '200'])).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line).value);

/** Runs `sluice produce` with raw bytes on stdin. */
async function produceBytes(dir: string, args: string[], input: Buffer) {
  const child = start(dir, ['produce', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined); // it may stop reading early
  child.stdin.end(input);
  return { code: await exitCode(child), stdout, stderr };
}

test('regression: invalid UTF-8 in a line is refused by line number, the lines before it stay written', async () => {
  const dir = tempDataDir();
  const input = Buffer.concat([Buffer.from('1\n"\u00e9t\u00e9"\n'), Buffer.from([0x22, 0xc3, 0x28, 0x22, 0x0a]), Buffer.from('4\n')]);
  const result = await produceBytes(dir, ['events'], input);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: line 3: not valid UTF-8; .*the 2 records before it were written/m);
  assert.deepEqual(await consumed(dir, 'events'), [1, 'été']);
});

test('regression: a 100k-deep JSON line is refused by line number, not a stack overflow', async () => {
  const dir = tempDataDir();
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const result = await sluice(dir, ['produce', 'events'], { input: `1\n${deep}\n3\n` });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: line 2: JSON nested deeper than 1000 levels; the record before it was written/m);
  assert.doesNotMatch(result.stderr, /call stack/);
  assert.deepEqual(await consumed(dir, 'events'), [1]);
  // Deep, but within the limit, is fine.
  await ok(dir, ['produce', 'events'], `${'['.repeat(999)}${']'.repeat(999)}\n`);
});

test('regression: records over the topic\'s max message bytes are RECORD_TOO_LARGE by line; a huge line is not read whole', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1', '--max-message-bytes', '1000']);
  const big = `"${'x'.repeat(2000)}"`;
  const result = await sluice(dir, ['produce', 'events'], { input: `1\n2\n${big}\n4\n` });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: line 3: its record is 2024 bytes, more than topic 'events' accepts \(1000 bytes; `sluice topic alter events --max-message-bytes N` raises it\); the 2 records before it were written/m);
  assert.deepEqual(await consumed(dir, 'events'), [1, 2]);
  await ok(dir, ['topic', 'alter', 'events', '--max-message-bytes', '4096']);
  await ok(dir, ['produce', 'events'], `${big}\n`);
  assert.equal((await consumed(dir, 'events')).length, 3);

  // The default limit is 1 MiB; a 100 MB line stops being read at the limit (plus 64 KiB of envelope).
  const child = start(dir, ['produce', 'huge']);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.write('"small"\n');
  const mb = Buffer.alloc(1 << 20, 0x61);
  let sent = 0;
  let code: number | null | undefined;
  void exitCode(child).then((c) => (code = c));
  child.stdin.write('"');
  while (sent < 100 && code === undefined) {
    if (!child.stdin.write(mb)) await Promise.race([once(child.stdin, 'drain').catch(() => undefined), exitCode(child)]);
    sent++;
  }
  child.stdin.end();
  assert.equal(await exitCode(child), 1);
  assert.ok(sent < 100, `the command stopped reading early (after ${sent} MiB)`);
  assert.match(stderr, /^error: line 2: longer than 1114112 bytes, the most a line may have for this topic; it was not read further; the record before it was written/m);
  assert.deepEqual(await consumed(dir, 'huge'), ['small']);
});

test('the log refuses a record over the limit from the API too, writing nothing of the call', async () => {
  const { Log } = await import('../../src/log/index.ts');
  const { isSluiceError, utf8 } = await import('../../src/core/index.ts');
  const dir = tempDataDir();
  const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
  try {
    log.createTopic('t', { partitions: 1 });
    assert.equal(log.topic('t').maxMessageBytes, 1 << 20);
    const records = [{ key: null, value: utf8('ok'), timestamp: 0 }, { key: null, value: new Uint8Array(1 << 20), timestamp: 0 }];
    await assert.rejects(log.produce('t', records), (e: Error) => isSluiceError(e, 'RECORD_TOO_LARGE') && /record 1 is 1048598 bytes/.test(e.message));
    assert.equal(log.endOffset('t', 0), 0, 'nothing of the call was written');
  } finally {
    await log.close();
  }
});
