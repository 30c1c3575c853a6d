import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, sluice, tempDataDir } from './helpers.ts';

test('regression: number options take decimal integers only, naming the option', async () => {
  const dir = tempDataDir();
  for (const bad of ['1e9', '0x10', '1.5', ' 3', '3abc']) {
    const result = await sluice(dir, ['topic', 'create', 'events', '--partitions', bad]);
    assert.equal(result.code, 2, bad);
    assert.match(result.stderr, /option '-p, --partitions <n>' argument '.*' is invalid\. expected an integer \(decimal digits only\)/);
  }
  const max = await sluice(dir, ['consume', 'events', '--max', '1e3']);
  assert.equal(max.code, 2);
  assert.match(max.stderr, /option '--max <n>' argument '1e3' is invalid/);
});

test('regression: partitions are capped at 10,000 unless SLUICE_MAX_PARTITIONS says otherwise', async () => {
  const dir = tempDataDir();
  const result = await sluice(dir, ['topic', 'create', 'events', '--partitions', '10001']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /at most 10000 partitions, got 10001 .*set SLUICE_MAX_PARTITIONS to allow more/);
  const allowed = await sluice(dir, ['topic', 'create', 'events', '--partitions', '3'], { env: { SLUICE_MAX_PARTITIONS: '2' } });
  assert.match(allowed.stderr, /at most 2 partitions, got 3/);
  await ok(dir, ['topic', 'create', 'events', '--partitions', '2']);
});

/** A small tmpfs (few inodes, little space), when this process may mount one (root); removed after `body`. */
async function withSmallFilesystem(body: (dir: string) => Promise<void>, options = 'size=20m,nr_inodes=2000'): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return false;
  }
  try {
    await body(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

test('regression: a topic whose partitions do not fit the filesystem leaves nothing behind', async (t) => {
  const ran = await withSmallFilesystem(async (dir) => {
    await ok(dir, ['topic', 'create', 'small', '--partitions', '1']);
    const result = await sluice(dir, ['topic', 'create', 'huge', '--partitions', '5000']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /creating the files of topic 'huge' in .* failed \(.*ENOSPC.*\); nothing was created/);
    assert.deepEqual(readdirSync(join(dir, 'topics')).sort(), ['small.1'], 'no directory of the failed topic is left');
    assert.deepEqual(JSON.parse(await ok(dir, ['topic', 'list', '--json'])).map((topic: { name: string }) => topic.name), ['small']);
    await ok(dir, ['produce', 'small'], '1\n');
  });
  if (!ran) t.skip('needs root to mount a small tmpfs');
});

test('regression: on a full disk produce says how many records it wrote; consume, topic list and describe still work', async (t) => {
  const ran = await withSmallFilesystem(async (dir) => {
    const data = join(dir, 'data');
    await ok(data, ['topic', 'create', 'events', '--partitions', '1']);
    await ok(data, ['produce', 'events'], '1\n2\n3\n');
    const line = `"${'x'.repeat(1000)}"\n`;
    const result = await sluice(data, ['produce', 'events'], { input: line.repeat(4000) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: the disk is full \(.*\); (nothing was written|the \d+ records? before the last chunk (was|were) written); free space/m);
    // Fill what is left, so no process can even create SQLite's WAL files.
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(dir, 'fill')} bs=4096 2>/dev/null || true`]);
    const list = await sluice(data, ['topic', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout).map((topic: { name: string }) => topic.name), ['events']);
    const describe = await sluice(data, ['topic', 'describe', 'events', '--json']);
    assert.equal(describe.code, 0, describe.stderr);
    const consumed = await sluice(data, ['consume', 'events', '--from-beginning', '--max', '3']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n').map((l) => JSON.parse(l).value), [1, 2, 3]);
  }, 'size=3m');
  if (!ran) t.skip('needs root to mount a small tmpfs');
});
