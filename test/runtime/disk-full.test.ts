// Disk full: an app whose data directory fills up stops with DISK_FULL, and what it had
// committed stays intact: after space is freed, a new run finishes with every output exactly
// once. The data directory sits on a small tmpfs, filled with a ballast file; mounting needs
// root (CI runs as root), elsewhere the test is skipped and says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { isSluiceError, jsonCodec } from '../../src/core/index.ts';
import { Sluice } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${String((error as Error).message).split('\n')[0]}); run as root to test disk-full handling`;
  }
}

function app(dataDir: string): Sluice {
  const sluice = new Sluice({ name: 'full', dataDir, state: 'lmdb', checkpointInterval: '20ms' });
  sluice
    .stream<{ k: string; i: number }>('input')
    .keyBy((e) => e.k, { name: 'by-key' })
    .process<{ k: string; n: number; pad: string }>(
      {
        processElement(e, ctx) {
          const n = ctx.state.value<number>('n');
          n.update((n.value() ?? 0) + 1);
          ctx.emit({ k: e.k, n: n.value()!, pad: 'x'.repeat(20_000) });
        },
      },
      { name: 'counter' },
    )
    .to('out');
  return sluice;
}

const mountPoint = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'disk-full-'));
const skip = tryMount(mountPoint);

void test('a full disk stops the app with DISK_FULL; after freeing space it resumes, every output exactly once', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const dataDir = join(mountPoint, 'data');
  try {
    const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
    log.createTopic('input', { partitions: 1 });
    await log.produce('input', Array.from({ length: 300 }, (_, i) => ({ key: null, value: jsonCodec.encode({ k: `k${i % 5}`, i }), timestamp: i })));
    await log.close();
    // Leave about 3 MB: 300 outputs of 20 KB do not fit.
    const { bavail, bsize } = await statfs(mountPoint);
    execFileSync('fallocate', ['-l', String(bavail * bsize - 3 * 2 ** 20), join(mountPoint, 'ballast')]);

    await assert.rejects(app(dataDir).run({ bounded: true }), (e) => isSluiceError(e, 'DISK_FULL') && /nothing committed is lost/.test(e.message));
    rmSync(join(mountPoint, 'ballast'));
    await app(dataDir).run({ bounded: true });

    const backend = await EmbeddedBackend.open(dataDir);
    const seen = new Map<string, number>();
    for (let offset = 0; ; ) {
      const { records, nextOffset } = await backend.fetch('out', 0, offset, 1000);
      for (const r of records) {
        const v = jsonCodec.decode(r.value!) as { k: string; n: number };
        seen.set(`${v.k}:${v.n}`, (seen.get(`${v.k}:${v.n}`) ?? 0) + 1);
      }
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
    await backend.close();
    assert.equal(seen.size, 300, 'every update of every key');
    assert.ok([...seen.values()].every((n) => n === 1), 'exactly once');
  } finally {
    // Lazy: a watcher or mapping closed a moment ago may still hold the mount busy.
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

if (skip) rmSync(mountPoint, { recursive: true, force: true });
