/**
 * `npm run bench -- nexmark [--query qN] [--events N] [--json] [--peer flink]`: each Nexmark
 * query on Sluice and as a hand-written loop, in the same run over the same events: events/s
 * (median of --runs), their ratio, end-to-end latency at a fixed rate, peak memory, and the
 * result checksums, which must agree (MISMATCH and exit 1 otherwise). With --peer flink, the
 * same queries on Apache Flink (local MiniCluster, parallelism 1 and 2) as well. With
 * --parallelism N, Sluice also runs on N worker threads (embedded log, N input partitions, its
 * one-thread run on the same): pN/p1 in events/s and in CPU time, and Sluice/Flink at pN.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './args.ts';
import { sameChecksum } from './checksum.ts';
import { type FlinkResult, buildFlink, runFlink } from './flink.ts';
import { median } from './stats.ts';
import type { WorkerOptions, WorkerResult } from './worker.ts';

const options = parseOptions(process.argv.slice(2));
const log = (line: string): void => console.log(line);
const eps = (events: number, ms: number): number => Math.round((events / ms) * 1000);
const fmt = (n: number): string => Math.round(n).toLocaleString('en');

log(`Nexmark: ${fmt(options.events)} events (seed ${options.seed}, 100,000 events/s of event time), ${options.runs} runs per engine, median events/s`);
const where = options.log === 'memory' ? 'the in-memory log (test kit MemoryBackend)' : 'the embedded durable log (a fresh data directory)';
const { parallelism } = options;
const partitions = parallelism > 1 ? `${parallelism} input partitions (event i in partition i % ${parallelism})` : 'one input partition';
log(`Sluice: bounded run on ${where}, ${partitions}, exactly-once; records as ${options.mode === 'object' ? 'object handles (no serialization, like an in-process source and sink)' : 'JSON'}.`);
if (parallelism > 1) {
  log(`Sluice p${parallelism}: the same on ${parallelism} worker threads (keyed exchanges through repartition topics); "Sluice" is p1 on the same log and partitions.`);
  log(`  p${parallelism}/p1 = events/s on ${parallelism} threads / events/s on one; CPU = CPU time of the whole process (every thread), p1 / p${parallelism} per event.`);
}
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
    parallelism,
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
  const p = r.parallel;
  const parallelEps = p === null ? 0 : eps(r.events, median(p.ms));
  if (p !== null) {
    const sum = `${p.checksum.rows} rows ${p.checksum.hash}`;
    log(
      `     Sluice p${p.parallelism} ${fmt(parallelEps).padStart(10)} ev/s  p${p.parallelism}/p1 ${(parallelEps / engineEps).toFixed(2)}  CPU ms (median) ${fmt(median(p.cpuMs))}` +
        ` (p1 ${fmt(median(r.sluiceCpuMs))}: CPU p1/p${p.parallelism} ${(median(r.sluiceCpuMs) / median(p.cpuMs)).toFixed(2)})  checksum ${sum} ${sameChecksum(p.checksum, r.handwrittenChecksum) ? 'match' : 'MISMATCH'}`,
    );
    log(`     runs (ev/s): Sluice p${p.parallelism} ${runs(p.ms)}`);
  }
  if (r.latency && r.latency.rows === 0) log('     latency: no rows came out during the latency run; raise --latency-seconds');
  else if (r.latency) {
    const l = r.latency;
    log(`     latency at ${fmt(l.rate)} ev/s: p50 ${l.p50Ms.toFixed(1)} ms  p99 ${l.p99Ms.toFixed(1)} ms  max ${l.maxMs.toFixed(1)} ms over ${fmt(l.rows)} rows; GC pauses max ${l.gcMaxMs.toFixed(1)} ms, total ${fmt(l.gcTotalMs)} ms`);
    const kind = (k: { count: number; maxMs: number; totalMs: number }): string => `${k.count}, max ${k.maxMs.toFixed(1)} ms, total ${fmt(k.totalMs)} ms`;
    log(`     GC during the latency run: scavenges ${kind(l.scavenges)}; full collections ${kind(l.fullGcs)}`);
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
  if (p !== null) {
    row.parallelism = p.parallelism;
    row[`engine_p${p.parallelism}_eps`] = parallelEps;
    row[`ratio_p${p.parallelism}_p1`] = Number((parallelEps / engineEps).toFixed(3));
    row.cpu_ms_p1 = Math.round(median(r.sluiceCpuMs));
    row[`cpu_ms_p${p.parallelism}`] = Math.round(median(p.cpuMs));
    row[`checksum_p${p.parallelism}`] = p.checksum.hash;
  }
  if (flinkReady) {
    for (const flinkParallelism of [...new Set([1, 2, parallelism])]) {
      const f: FlinkResult = runFlink({ query: name, events: options.events, seed: options.seed, runs: options.runs, parallelism: flinkParallelism });
      const perCore = f.eps / flinkParallelism;
      const agree = f.rows === r.sluiceChecksum.rows && f.hash === r.sluiceChecksum.hash;
      if (!agree) mismatches++;
      // Sluice per core at the same parallelism: p1 against Flink p1, pN against Flink pN.
      const sluiceThreads = flinkParallelism === parallelism && p !== null ? parallelism : 1;
      const sluicePerCore = (sluiceThreads === 1 ? engineEps : parallelEps) / sluiceThreads;
      log(
        `     Flink p${flinkParallelism} ${fmt(f.eps).padStart(10)} ev/s (${fmt(perCore)} per core)  Sluice p1/Flink p${flinkParallelism} per core ${(engineEps / perCore).toFixed(2)}` +
          (sluiceThreads > 1 ? `  Sluice p${sluiceThreads}/Flink p${flinkParallelism} per core ${(sluicePerCore / perCore).toFixed(2)}` : '') +
          `  checksum ${f.rows} rows ${f.hash} ${agree ? 'agrees' : 'MISMATCH'}`,
      );
      row[`flink_p${flinkParallelism}_eps`] = f.eps;
      row[`ratio_flink_p${flinkParallelism}_per_core`] = Number((engineEps / perCore).toFixed(3));
      if (sluiceThreads > 1) row[`ratio_p${sluiceThreads}_flink_p${flinkParallelism}_per_core`] = Number((sluicePerCore / perCore).toFixed(3));
      row[`flink_p${flinkParallelism}_checksum_match`] = agree;
    }
  }
  results.push(row);
}

if (mismatches > 0) log(`\nMISMATCH: ${mismatches} checksum(s) differ`);
if (options.json) log(JSON.stringify({ results }));
process.exitCode = mismatches > 0 ? 1 : 0;
