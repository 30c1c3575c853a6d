/**
 * Regressions: errors printed as "error: Error: ..." with a stack trace (a pipeline loaded
 * through tsx had its own SluiceError class, so `instanceof` failed), and SQLite's raw
 * "file is not a database" / "database disk image is malformed" for a damaged metadata file.
 */
import assert from 'node:assert/strict';
import { openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sluice, tempDataDir } from './helpers.ts';

const EXAMPLE = new URL('../../examples/clicks.ts', import.meta.url).pathname;

void test('a Sluice error from `sluice run` is one line; --verbose adds its stack', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'other', '--partitions', '1']);
  const run = await sluice(dir, ['run', EXAMPLE]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, "error: source topic 'events' does not exist; create it (sluice topic create events --partitions 3) or produce to it first\n");
  const verbose = await sluice(dir, ['run', EXAMPLE, '--verbose']);
  assert.equal(verbose.code, 1);
  assert.match(verbose.stderr, /^error: source topic 'events' does not exist.*\nSluiceError: source topic 'events'.*\n\s+at /);
});

void test('an error Sluice did not name prints its message and how to see where it came from', async () => {
  const dir = tempDataDir();
  const module = join(dir, 'broken.mjs');
  writeFileSync(module, "throw new TypeError('boom');\n");
  const run = await sluice(dir, ['run', module]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'error: boom\n(run again with --verbose to see where it came from)\n');
  const verbose = await sluice(dir, ['run', module, '--verbose']);
  assert.match(verbose.stderr, /^error: boom\nTypeError: boom\n\s+at .*broken\.mjs/);
});

void test('a metadata file that is not a database is named, with what to do', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);
  const file = join(dir, 'meta', 'meta.sqlite');
  writeFileSync(file, Buffer.alloc(8192, 0x5a));
  const listed = await sluice(dir, ['topic', 'list']);
  assert.equal(listed.code, 1);
  assert.equal(
    listed.stderr,
    `error: the log's metadata database ${file} is damaged (file is not a database); stop every process using this data directory, then restore that file from a backup (SQLite's \`.recover\` may save part of it), or move the data directory away and start with a new one\n`,
  );
});

void test('a malformed metadata database is named, with what to do', async () => {
  const dir = tempDataDir();
  await ok(dir, ['topic', 'create', 'events', '--partitions', '1']);
  const file = join(dir, 'meta', 'meta.sqlite');
  // Keep the header page (page 1, the schema) and scramble the table's pages after it.
  const size = readFileSync(file).length;
  assert.ok(size > 4096, `meta.sqlite has more than its header page (${size} bytes)`);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
  closeSync(fd);
  const listed = await sluice(dir, ['topic', 'list']);
  assert.equal(listed.code, 1);
  assert.match(listed.stderr, /^error: the log's metadata database .*meta\.sqlite is damaged \(database disk image is malformed\); stop every process/);
  assert.doesNotMatch(listed.stderr, /\n\s+at /);
});
