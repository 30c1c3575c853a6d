/**
 * `npm run bench -- nexmark [--query qN] [--events N] [--json] [--peer flink]`: each Nexmark
 * query on Sluice and as a hand-written loop, in the same run over the same events: events/s
 * (median of --runs), their ratio, end-to-end latency at a fixed rate, peak memory, and the
 * result checksums, which must agree (MISMATCH and exit 1 otherwise). With --peer flink, the
 * same queries on Apache Flink (local MiniCluster, parallelism 1 and 2) as well.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './args.ts';
import { type FlinkResult, buildFlink, runFlink } from './flink.ts';
import { median } from './stats.ts';
import type { WorkerOptions, WorkerResult } from './worker.ts';

const options = parseOptions(process.argv.slice(2));
const log = (line: string): void => console.log(line);
const eps = (events: number, ms: number): number => Math.round((events / ms) * 1000);
const fmt = (n: number): string => Math.round(n).toLocaleString('en');

log(`Nexmark: ${fmt(options.events)} events (seed ${options.seed}, 100,000 events/s of event time), ${options.runs} runs per engine, median events/s`);
const where = options.log === 'memory' ? 'the in-memory log (test kit MemoryBackend)' : 'the embedded durable log (a fresh data directory)';
log(`Sluice: bounded run on ${where}, one input partition, exactly-once; records as ${options.mode === 'object' ? 'object handles (no serialization, like an in-process source and sink)' : 'JSON'}.`);
log('Hand-written: one plain loop per query over the same stored records, same codec. ratio = Sluice events/s / hand-written events/s; CPU ratio = hand-written CPU time / Sluice CPU time.');
if (options.rate > 0) {
  log(`Latency: Sluice unbounded on the in-memory log at a fixed rate (min(--rate ${fmt(options.rate)}, half its measured events/s)), at-least-once, commit every ${options.commitMs} ms,`);
  log(`  ${options.latencySeconds} s of input; latency = time the row is readable in the output topic - scheduled time of the input event that made it due.`);
}
let flinkReady = false;
if (options.peer === 'flink') {
  log('Flink: building the peer with Maven ...');
  buildFlink(log);
  flinkReady = true;
}
log('');

const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));
const results: Record<string, unknown>[] = [];
let mismatches = 0;
for (const name of options.queries) {
  const workerOptions: WorkerOptions = {
    query: name,
    events: options.events,
    seed: options.seed,
    mode: options.mode,
    runs: options.runs,
    rate: options.rate,
    latencySeconds: options.latencySeconds,
    commitMs: options.commitMs,
    log: options.log,
  };
  // The input is held in memory as objects; millions of events need more than the default heap.
  const out = execFileSync(process.execPath, ['--max-old-space-size=12288', workerPath, JSON.stringify(workerOptions)], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult;
  const engineEps = eps(r.events, median(r.sluiceMs));
  const handEps = eps(r.events, median(r.handwrittenMs));
  const sum = `${r.sluiceChecksum.rows} rows ${r.sluiceChecksum.hash}`;
  if (!r.match) mismatches++;
  const runs = (ms: number[]): string => ms.map((m) => fmt(eps(r.events, m))).join(', ');
  log(
    `${name.padEnd(4)} Sluice ${fmt(engineEps).padStart(10)} ev/s  hand-written ${fmt(handEps).padStart(10)} ev/s  ratio ${(engineEps / handEps).toFixed(2)}` +
      `  rss ${fmt(r.rssMb)} MB (input ${fmt(r.inputRssMb)})  checksum ${sum} ${r.match ? 'match' : `MISMATCH (hand-written ${r.handwrittenChecksum.rows} rows ${r.handwrittenChecksum.hash})`}`,
  );
  log(`     runs (ev/s): Sluice ${runs(r.sluiceMs)}; hand-written ${runs(r.handwrittenMs)}`);
  // CPU time moves less than wall time when other work shares the machine.
  const cpuRatio = median(r.handwrittenCpuMs) / median(r.sluiceCpuMs);
  log(`     CPU ms (median): Sluice ${fmt(median(r.sluiceCpuMs))}, hand-written ${fmt(median(r.handwrittenCpuMs))}; CPU ratio ${cpuRatio.toFixed(2)}`);
  if (r.latency && r.latency.rows === 0) log('     latency: no rows came out during the latency run; raise --latency-seconds');
  else if (r.latency) {
    const l = r.latency;
    log(`     latency at ${fmt(l.rate)} ev/s: p50 ${l.p50Ms.toFixed(1)} ms  p99 ${l.p99Ms.toFixed(1)} ms  max ${l.maxMs.toFixed(1)} ms over ${fmt(l.rows)} rows; GC pauses max ${l.gcMaxMs.toFixed(1)} ms, total ${fmt(l.gcTotalMs)} ms`);
  }
  const row: Record<string, unknown> = {
    name: `nexmark-${name}`,
    log: options.log,
    engine_eps: engineEps,
    handwritten_eps: handEps,
    ratio: Number((engineEps / handEps).toFixed(3)),
    cpu_ratio: Number(cpuRatio.toFixed(3)),
    p50_ms: r.latency?.rows ? Number(r.latency.p50Ms.toFixed(2)) : null,
    p99_ms: r.latency?.rows ? Number(r.latency.p99Ms.toFixed(2)) : null,
    rss_mb: Math.round(r.rssMb),
    rows: r.sluiceChecksum.rows,
    checksum: r.sluiceChecksum.hash,
    checksum_match: r.match,
  };
  if (flinkReady) {
    for (const parallelism of [1, 2]) {
      const f: FlinkResult = runFlink({ query: name, events: options.events, seed: options.seed, runs: options.runs, parallelism });
      const perCore = f.eps / parallelism;
      const agree = f.rows === r.sluiceChecksum.rows && f.hash === r.sluiceChecksum.hash;
      if (!agree) mismatches++;
      log(
        `     Flink p${parallelism} ${fmt(f.eps).padStart(10)} ev/s (${fmt(perCore)} per core)  Sluice/Flink per core ${(engineEps / perCore).toFixed(2)}` +
          `  checksum ${f.rows} rows ${f.hash} ${agree ? 'agrees' : 'MISMATCH'}`,
      );
      row[`flink_p${parallelism}_eps`] = f.eps;
      row[`ratio_flink_p${parallelism}_per_core`] = Number((engineEps / perCore).toFixed(3));
      row[`flink_p${parallelism}_checksum_match`] = agree;
    }
  }
  results.push(row);
}

if (mismatches > 0) log(`\nMISMATCH: ${mismatches} checksum(s) differ`);
if (options.json) log(JSON.stringify({ results }));
process.exitCode = mismatches > 0 ? 1 : 0;
