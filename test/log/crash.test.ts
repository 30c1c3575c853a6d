import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fromUtf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';
import { readAll, withDir } from './helpers.ts';

const WRITER = new URL('./fixtures/sequence-writer.ts', import.meta.url).pathname;

/**
 * Runs the writer and kills it with SIGKILL `ms` after its first acknowledged write (process
 * start-up time varies with load); returns the last number it saw acknowledged.
 */
function runAndKill(dataDir: string, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRITER, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('ack ')) acked = Number(line.slice(4));
      timer ??= setTimeout(() => child.kill('SIGKILL'), ms);
    });
    let timer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(acked);
    });
  });
}

for (const fsync of ['batch', 'never'] as const) {
  test(`a writer killed with SIGKILL leaves a clean, readable prefix (fsync ${fsync})`, { timeout: 120_000 }, () =>
    withDir(async (dir) => {
      const setup = await Log.open(dir, { maintenanceIntervalMs: 0 });
      setup.createTopic('seq', { partitions: 1, fsync, segmentBytes: 64 * 1024 });
      await setup.close();
      let acked = -1;
      for (let round = 0; round < 10; round++) acked = Math.max(acked, await runAndKill(dir, Math.random() * 300));
      const log = await Log.open(dir, { maintenanceIntervalMs: 0 });
      const records = readAll(log, 'seq', 0);
      assert.ok(records.length > 0);
      assert.ok(records.length >= acked + 1, `every acknowledged number survived (${records.length} <= ${acked})`);
      records.forEach((record, i) => {
        assert.equal(record.offset, i, 'offsets are contiguous');
        assert.equal(fromUtf8(record.value as Uint8Array), String(i), 'the content is exactly the written sequence');
      });
      await log.close();
    }),
  );
}
