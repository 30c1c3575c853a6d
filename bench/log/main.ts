/**
 * `npm run bench -- log`: produce and consume throughput of 100-byte records on the embedded
 * log, beside the disk's sequential write bandwidth measured with `dd` in the same run at the
 * same fsync granularity.
 *
 * Options: --seconds S (time per produce case, default 2), --consume N (records, default 2,000,000),
 * --only group (just the group-commit case and its dd references), --rounds N (group-commit
 * measurements, each beside its own dd runs, default 1), --producers N (concurrent producers in
 * the group-commit case, default 128), --group-fsync never (the group case without fsync: its CPU
 * ceiling, for profiling), --json
 *
 * The group-commit case reports the group size it reached (batches and bytes per fsync, from the
 * log's `sluice:log:group-written` channel) and, beside dd with 1 MiB blocks (the largest group
 * the log writes), dd with blocks of that size: the same bytes per sync.
 */
import { execFileSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/log/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = option('seconds', 2);
const consumeCount = option('consume', 2_000_000);
const rounds = option('rounds', 1);
const producers = option('producers', 128);
const groupFsync = args.includes('--group-fsync') && args[args.indexOf('--group-fsync') + 1] === 'never' ? 'never' : 'batch';
const groupOnly = args.includes('--only') && args[args.indexOf('--only') + 1] === 'group';
const json = args.includes('--json');
const RECORD_BYTES = 100;
const base = mkdtempSync(join(process.env.SLUICE_BENCH_DIR ?? tmpdir(), 'sluice-bench-log-'));

interface Row {
  name: string;
  records_per_s: number;
  mb_per_s: number;
  dd_mb_per_s?: number;
  note?: string;
}
const rows: Row[] = [];

function record(i: number) {
  const value = new Uint8Array(RECORD_BYTES);
  value[0] = i & 255;
  return { key: null, value, timestamp: Date.now() };
}

/** dd writing `blockBytes` blocks with O_DSYNC (a sync per block), for about `totalBytes`. */
function dd(blockBytes: number, totalBytes: number): number {
  const file = join(base, 'dd.out');
  const count = Math.max(1, Math.round(totalBytes / blockBytes));
  execFileSync('sync');
  const started = process.hrtime.bigint();
  execFileSync('dd', ['if=/dev/zero', `of=${file}`, `bs=${blockBytes}`, `count=${count}`, 'oflag=dsync', 'conv=notrunc'], { stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = statSync(file).size;
  rmSync(file, { force: true });
  return bytes / elapsed / 1e6;
}

async function produceCase(log: Log, name: string, fsync: 'batch' | 'interval' | 'never', batchSize: number, concurrency: number) {
  // Earlier cases leave dirty pages the kernel would write back during this one: flush them first.
  execFileSync('sync');
  const topic = `${name}`;
  log.createTopic(topic, { partitions: 1, fsync, fsyncIntervalMs: 5 });
  const batch = Array.from({ length: batchSize }, (_, i) => record(i));
  let written = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      await log.append(topic, 0, batch);
      written += batchSize;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const describe = log.describeTopic(topic).partitions[0];
  return { elapsed, recordsPerS: written / elapsed, mbPerS: (written * RECORD_BYTES) / elapsed / 1e6, diskMbPerS: describe.sizeBytes / elapsed / 1e6, describe };
}

const log = await Log.open(join(base, 'data'), { maintenanceIntervalMs: 0 });
for (const fsync of groupOnly ? [] : (['batch', 'interval', 'never'] as const)) {
  for (const batchSize of [1, 100, 1000]) {
    const result = await produceCase(log, `p-${fsync}-${batchSize}`, fsync, batchSize, 1);
    const batchBytes = batchSize * (RECORD_BYTES + 26) + 60;
    rows.push({
      name: `produce fsync=${fsync} batch=${batchSize}`,
      records_per_s: Math.round(result.recordsPerS),
      mb_per_s: round(result.mbPerS),
      dd_mb_per_s: fsync === 'batch' ? round(dd(batchBytes, Math.min(64 << 20, Math.max(batchBytes * 500, result.diskMbPerS * 1e6 * seconds)))) : undefined,
      note: fsync === 'batch' ? `dd bs=${batchBytes} oflag=dsync` : fsync === 'interval' ? 'fsync every 5 ms' : 'no fsync',
    });
  }
}
// Group commit: many producers appending small batches concurrently share each fsync.
for (let r = 1; r <= rounds; r++) {
  const groups = { count: 0, batches: 0, bytes: 0 };
  const onGroup = (message: unknown) => {
    const { batches, bytes } = message as { batches: number; bytes: number };
    groups.count++;
    groups.batches += batches;
    groups.bytes += bytes;
  };
  subscribe('sluice:log:group-written', onGroup);
  const cpuBefore = process.cpuUsage();
  const group = await produceCase(log, `p-group-${r}`, groupFsync, 100, producers);
  const cpu = process.cpuUsage(cpuBefore);
  unsubscribe('sluice:log:group-written', onGroup);
  // CPU per MB of payload (all threads, user + system): load-independent, unlike MB/s.
  const cpuMsPerMb = (cpu.user + cpu.system) / 1000 / ((group.recordsPerS * group.elapsed * RECORD_BYTES) / 1e6);
  log.deleteTopic(`p-group-${r}`);
  const groupBytes = Math.round(groups.bytes / Math.max(1, groups.count));
  const ddMiB = dd(1 << 20, 256 << 20);
  const ddGroup = dd(groupBytes, 256 << 20);
  rows.push({
    name: `produce fsync=${groupFsync}, ${producers} concurrent producers x 100${rounds > 1 ? ` #${r}` : ''}`,
    records_per_s: Math.round(group.recordsPerS),
    mb_per_s: round(group.mbPerS),
    dd_mb_per_s: round(ddMiB),
    note: `group commit, ${cpuMsPerMb.toFixed(2)} CPU ms/MB (user ${(cpu.user / 1000 / ((group.recordsPerS * group.elapsed * RECORD_BYTES) / 1e6)).toFixed(2)}), ${(groups.batches / Math.max(1, groups.count)).toFixed(1)} batches = ${Math.round(groupBytes / 1024)} KiB per fsync; ${(group.mbPerS / ddMiB).toFixed(2)} of dd bs=1M oflag=dsync, ${(group.mbPerS / ddGroup).toFixed(2)} of dd bs=${groupBytes} (${round(ddGroup)} MB/s)`,
  });
}

// Consume: one partition read from the start.
if (!groupOnly) log.createTopic('consume', { partitions: 1, fsync: 'never' });
const batch = Array.from({ length: 1000 }, (_, i) => record(i));
for (let i = 0; i < (groupOnly ? 0 : consumeCount); i += 1000) await log.append('consume', 0, batch);
for (const isolation of groupOnly ? [] : (['read_uncommitted', 'read_committed'] as const)) {
  let consumed = 0;
  const started = performance.now();
  for (let offset = 0; ; ) {
    const page = log.read('consume', 0, offset, { maxBytes: 4 << 20, isolation });
    if (page.records.length === 0) break;
    consumed += page.records.length;
    offset = page.nextOffset;
  }
  const elapsed = (performance.now() - started) / 1000;
  rows.push({
    name: `consume one partition (${isolation})`,
    records_per_s: Math.round(consumed / elapsed),
    mb_per_s: round((consumed * RECORD_BYTES) / elapsed / 1e6),
    note: `${consumed} records`,
  });
}
await log.close();
rmSync(base, { recursive: true, force: true });

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
if (json) {
  console.log(JSON.stringify({ machine, results: rows }));
} else {
  console.log(`log benchmark: 100-byte records; ${machine}`);
  console.log(['case'.padEnd(52), 'records/s'.padStart(12), 'MB/s'.padStart(8), 'dd MB/s'.padStart(9), '  note'].join(''));
  for (const row of rows) {
    console.log(
      [
        row.name.padEnd(52),
        String(row.records_per_s).padStart(12),
        String(row.mb_per_s).padStart(8),
        String(row.dd_mb_per_s ?? '').padStart(9),
        `  ${row.note ?? ''}`,
      ].join(''),
    );
  }
}
