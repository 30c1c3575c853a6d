/**
 * `npm run bench -- checkpoint`: what checkpoints cost, on the embedded log in a temporary data
 * directory (removed afterwards), with a keyed process pipeline keeping a running average per
 * key, exactly-once:
 *   1. throughput of a bounded run with checkpoints every 1 s, 100 ms and none (1 h), memory and lmdb state;
 *   2. how long one lmdb checkpoint takes with all keys changed and with 1% changed (state layer);
 *   3. recovery after kill -9: the reopened state layer, and a whole pipeline with lmdb state;
 *   4. exactly-once end-to-end latency at a fixed input rate;
 *   5. how long a checkpoint of many changed keys blocks processing (stall.ts), written on the
 *      processing thread as before and in the background, side by side.
 * Each case runs in a worker process of its own; the methods are described in throughput.ts,
 * state-worker.ts, recovery.ts and latency.ts. Latency runs first, before the large cases load
 * the disk. Defaults take about 5 minutes on 2 cores and need about 6 GB of memory (10M keys).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Log } from '../../src/log/index.ts';
import { startWorker, stopWorkers } from './child.ts';
import { printReport, type Report } from './format.ts';
import { measureLatency } from './latency.ts';
import { PARTITIONS, produceEvents, prng } from './pipeline.ts';
import { measureRecovery } from './recovery.ts';
import type { StallCase, StallResult } from './stall.ts';
import type { OpenResult, StateCase, StateResult } from './state-worker.ts';
import type { ThroughputCase, ThroughputResult } from './throughput.ts';

const USAGE = `usage: npm run bench -- checkpoint [--only throughput,checkpoint,recovery,latency,stall] [--json]
       [--events N] [--runs N] [--throughput-keys N] [--keys N[,N...]] [--recovery-keys N]
       [--rate EVENTS_PER_S] [--seconds S] [--warmup S] [--latency-keys N]
       [--stall-keys N] [--stall-changed N[,N...]] [--stall-rounds N]`;

const { values: v } = parseArgs({
  options: {
    only: { type: 'string', default: 'throughput,checkpoint,recovery,latency' },
    json: { type: 'boolean', default: false },
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '2' },
    'throughput-keys': { type: 'string', default: '10000' },
    keys: { type: 'string', default: '1000000,10000000' },
    'recovery-keys': { type: 'string' },
    rate: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'latency-keys': { type: 'string', default: '10000' },
    'stall-keys': { type: 'string', default: '10000000' },
    'stall-changed': { type: 'string', default: '50000,200000' },
    'stall-rounds': { type: 'string', default: '2' },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  console.log(USAGE);
  process.exit(0);
}
function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
const num = (text: string, what: string): number => {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) fail(`${what} ${text}: expected a positive whole number`);
  return n;
};
const PARTS = ['throughput', 'checkpoint', 'recovery', 'latency', 'stall'];
const only = new Set(v.only.split(','));
for (const part of only) if (!PARTS.includes(part)) fail(`--only ${part}: choose from ${PARTS.join(', ')}`);
const events = num(v.events, '--events');
const runs = num(v.runs, '--runs');
const throughputKeys = num(v['throughput-keys'], '--throughput-keys');
const keyCounts = v.keys.split(',').map((k) => num(k, '--keys'));
const recoveryKeys = num(v['recovery-keys'] ?? String(Math.max(...keyCounts)), '--recovery-keys');
const latency = { rate: num(v.rate, '--rate'), seconds: num(v.seconds, '--seconds'), warmupSeconds: v.warmup === '0' ? 0 : num(v.warmup, '--warmup'), keys: num(v['latency-keys'], '--latency-keys'), emitEvery: 1 };
// Progress goes to stderr, so `--json` output stays one line on stdout.
const say = (line: string) => process.stderr.write(`${line}\n`);

const base = mkdtempSync(join(process.env.SLUICE_BENCH_DIR ?? tmpdir(), 'sluice-bench-checkpoint-'));
const dataDir = join(base, 'data');
const report: Report = {
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'cpu', memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadavgAtStart: loadavg()[0] },
  tree: describeTree(),
  args: process.argv.slice(2),
  throughput: [],
  checkpoint: [],
  latency: [],
};
// Interrupted: no worker and no temporary directory left behind.
process.once('SIGINT', () => {
  stopWorkers();
  rmSync(base, { recursive: true, force: true });
  process.exit(130);
});
const started = performance.now();
const log = await Log.open(dataDir, { maintenanceIntervalMs: 0 });
try {
  // Latency first: it is the most sensitive to the disk work the large cases leave behind.
  if (only.has('latency')) {
    for (const state of ['memory', 'lmdb'] as const) {
      for (const interval of ['1s', '100ms'] as const) {
        say(`latency: ${state} state, checkpoint every ${interval}, ${latency.rate.toLocaleString('en')} events/s for ${latency.seconds} s`);
        report.latency.push({ ...(await measureLatency(log, dataDir, state, interval, latency)), loadavg: loadavg()[0] });
      }
    }
    report.latencySetup = latency;
  }
  if (only.has('throughput')) {
    report.throughputSetup = { events, keys: throughputKeys, runs };
    log.createTopic('input', { partitions: PARTITIONS });
    const random = prng(1);
    await produceEvents(log, 'input', events, () => `u${Math.floor(random() * throughputKeys)}`);
    // Rounds over all six cases, so slow phases of a shared machine spread over them; best of `runs`.
    for (let run = 0; run < runs; run++) {
      for (const state of ['memory', 'lmdb'] as const) {
        for (const interval of ['1h', '1s', '100ms'] as const) {
          say(`throughput: ${state} state, checkpoint every ${interval}, run ${run + 1} of ${runs}`);
          const c: ThroughputCase = { dataDir, input: 'input', name: `tp-${state}-${interval}-${run}`, state, interval, emitEvery: 100 };
          const result = await startWorker('./throughput.ts', c).next<ThroughputResult>('done');
          const known = report.throughput.find((t) => t.state === state && t.interval === interval);
          const row = { state, interval, ...result, loadavg: loadavg()[0], runs: [...(known?.runs ?? []), Math.round(result.eventsPerS)] };
          if (known === undefined) report.throughput.push(row);
          else Object.assign(known, result.eventsPerS > known.eventsPerS ? row : { runs: row.runs });
        }
      }
    }
  }
  if (only.has('checkpoint')) {
    for (const keys of keyCounts) {
      say(`checkpoint duration: ${keys.toLocaleString('en')} keys in lmdb state (state layer)`);
      const dir = join(base, `state-${keys}`);
      // The largest state is then killed with kill -9 and reopened by a new process.
      const hold = keys === Math.max(...keyCounts);
      const worker = startWorker('./state-worker.ts', { mode: 'measure', dir, keys, hold } satisfies StateCase);
      const result = await worker.next<StateResult>('done');
      report.checkpoint.push({ ...result, loadavg: loadavg()[0] });
      if (hold) {
        worker.child.kill('SIGKILL');
        await worker.exited;
        const reopen = startWorker('./state-worker.ts', { mode: 'open', dir, keys } satisfies StateCase);
        const r = await reopen.next<OpenResult>('done');
        report.stateReopen = { keys, totalMs: r.firstKeyAt - reopen.spawnedAt, nodeMs: r.startedAt - reopen.spawnedAt, loadMs: r.loadedAt - r.startedAt, openMs: r.openedAt - r.loadedAt, checkpointMs: r.checkpointReadAt - r.openedAt, firstKeysMs: r.firstKeyAt - r.checkpointReadAt, found: r.firstKeyFound };
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (only.has('stall')) {
    const stall: StallCase = { dir: join(base, 'stall'), keys: num(v['stall-keys'], '--stall-keys'), changed: v['stall-changed'].split(',').map((n) => num(n, '--stall-changed')), rounds: num(v['stall-rounds'], '--stall-rounds') };
    say(`stall: ${stall.changed.map((n) => n.toLocaleString('en')).join(', ')} changed of ${stall.keys.toLocaleString('en')} keys in lmdb state, ${stall.rounds} rounds each way`);
    report.stall = { ...(await startWorker('./stall.ts', stall).next<StallResult>('done', 3_600_000)), loadavg: loadavg()[0] };
    rmSync(stall.dir, { recursive: true, force: true });
  }
  if (only.has('recovery')) {
    say(`recovery: building a pipeline with ${recoveryKeys.toLocaleString('en')} keys in lmdb state`);
    report.recovery = await measureRecovery(log, dataDir, recoveryKeys, say);
  }
} finally {
  stopWorkers();
  await log.close();
  rmSync(base, { recursive: true, force: true });
}
report.totalS = Math.round((performance.now() - started) / 1000);
if (v.json) console.log(JSON.stringify(report));
else printReport(report);

/** The commit measured, and whether src/ differed from it (figures belong to a tree, not a name). */
function describeTree(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') === '' ? '' : ' with uncommitted changes in src/'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
