/** The checkpoint benchmark's report: its shape (also the `--json` output) and the printed tables. */
import type { LatencyOptions, LatencyResult } from './latency.ts';
import type { RecoveryResult } from './recovery.ts';
import type { StallResult } from './stall.ts';
import type { StateResult } from './state-worker.ts';
import type { ThroughputResult } from './throughput.ts';

export interface Report {
  machine: { cpus: number; model: string; memGiB: number; node: string; loadavgAtStart: number };
  /** The source tree measured: commit, and whether src/ had uncommitted changes. */
  tree: string;
  args: string[];
  throughputSetup?: { events: number; keys: number; runs: number };
  /** Per case the best run; `runs`: events/s of every run. */
  throughput: (ThroughputResult & { state: string; interval: string; loadavg: number; runs: number[] })[];
  checkpoint: (StateResult & { loadavg: number })[];
  stateReopen?: { keys: number; totalMs: number; nodeMs: number; loadMs: number; openMs: number; checkpointMs: number; firstKeysMs: number; found: boolean };
  recovery?: RecoveryResult;
  latencySetup?: LatencyOptions;
  latency: (LatencyResult & { loadavg: number })[];
  stall?: StallResult & { loadavg: number };
  totalS?: number;
}

const int = (n: number) => Math.round(n).toLocaleString('en');
const ms = (n: number) => (n >= 100 ? int(n) : n.toFixed(1));
const row = (cells: (string | number)[], widths: number[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');

export function printReport(r: Report): void {
  const out = (line = '') => console.log(line);
  const m = r.machine;
  out(`Checkpoint benchmark: embedded log, exactly-once, keyBy + process (running average per key)`);
  out(`machine: ${m.cpus} CPUs (${m.model}), ${m.memGiB} GiB, node ${m.node}; load average at start ${m.loadavgAtStart.toFixed(2)}`);
  out(`tree: ${r.tree}`);
  out(`command: npm run bench -- checkpoint ${r.args.join(' ')}`.trimEnd());

  if (r.throughput.length > 0) {
    const s = r.throughputSetup!;
    out();
    out(`1. Throughput: bounded run over ${int(s.events)} pre-produced events (${s.keys.toLocaleString('en')} keys, 4 partitions), best of ${s.runs}`);
    const w = [24, 10, 8, 10, 10, 11, 11, 8, 6, 6];
    out(row(['state, checkpoints', 'events/s', 'commits', 'commit ms', 'max ms', 'in commits', 'extra/ckpt', 'RSS MB', 'DLQ', 'load'], w));
    for (const t of r.throughput) {
      const none = r.throughput.find((x) => x.state === t.state && x.interval === '1h');
      const extra = none && t.commits > none.commits ? (t.ms - none.ms) / (t.commits - none.commits) : Number.NaN;
      out(row([`${t.state}, ${t.interval === '1h' ? 'none (1h)' : t.interval}`, int(t.eventsPerS), t.commits, ms(t.commitMeanMs), ms(t.commitMaxMs), `${Math.round(t.commitShare * 100)}%`, Number.isNaN(extra) ? '-' : extra < 0 ? '~0' : ms(extra), t.rssMb, t.deadLetters, t.loadavg.toFixed(1)], w));
    }
    out('   commit ms: the commit step as the sluice:commit channel times it (mean); in commits: its share of the run;');
    out('   extra/ckpt: (run time - run time without checkpoints) / extra commits, which also counts taking the');
    out('   snapshot (memory state: copying every key) that the commit timing leaves out; ~0: below the noise.');
    out(`   events/s of every run: ${r.throughput.map((t) => `${t.state} ${t.interval} ${t.runs.map(int).join('/')}`).join('; ')}. DLQ must be 0.`);
    out('   load: the 1-minute load average after the case (2 CPUs: above 2 means other work competed).');
    if (r.throughput.some((t) => t.deadLetters > 0)) out('   WARNING: records went to the dead-letter topic: those rows do not measure the pipeline.');
  }

  if (r.checkpoint.length > 0) {
    out();
    out('2. One lmdb checkpoint, driven at the state layer (LmdbStateBackend, 4 tables, not a pipeline)');
    const w = [12, 10, 16, 24, 9, 8];
    out(row(['keys', 'set all s', '(a) all changed', '(b) 1% changed, 3 runs', 'file MB', 'RSS MB'], w));
    for (const c of r.checkpoint) out(row([int(c.keys), (c.setAllMs / 1000).toFixed(1), `${(c.allChangedMs / 1000).toFixed(2)} s`, c.onePercentMs.map((x) => ms(x)).join(' / ') + ' ms', c.fileMb, c.rssMb], w));
    out('   (a) is not reachable from a pipeline: a job checkpoints early at 50,000 changed entries.');
  }

  if (r.stateReopen || r.recovery) {
    out();
    out('3. Recovery after kill -9 (wall clock from spawning the new process)');
    const o = r.stateReopen;
    if (o) {
      out(`   state layer, ${int(o.keys)} keys: ${ms(o.totalMs)} ms until the last checkpoint record and one key per table were read${o.found ? '' : ' (KEYS NOT FOUND)'}`);
      out(`     node start ${ms(o.nodeMs)}, module load ${ms(o.loadMs)}, open ${ms(o.openMs)}, read checkpoint ${ms(o.checkpointMs)}, read keys ${ms(o.firstKeysMs)} ms`);
    }
    const x = r.recovery;
    if (x) {
      out(`   pipeline, ${int(x.keys)} keys in lmdb state (${x.stateMb} MB on disk): ${ms(x.totalMs)} ms until the first record was processed`);
      out(`     node start ${ms(x.spawnToNodeMs)}, module load ${ms(x.nodeToLoadedMs)}, job open + restore ${ms(x.loadedToOpenedMs)}, first record ${ms(x.openedToFirstMs)} ms`);
      out(`     its key's restored count ${x.restoredCount}${x.restoredCount > 0 ? ' (state read from the checkpoint)' : ' (NO STATE: the key was not restored)'}; peak RSS holder ${x.holderRssMb} MB, recovering ${x.recoveringRssMb} MB; setup ${x.buildS.toFixed(0)} s`);
    }
  }

  if (r.latency.length > 0) {
    const s = r.latencySetup!;
    out();
    out(`4. Exactly-once latency, input append -> output visible to a read_committed reader: ${int(s.rate)} events/s, ${s.keys.toLocaleString('en')} keys, ${s.seconds} s after ${s.warmupSeconds} s warm-up`);
    const w = [20, 9, 8, 8, 8, 10, 8, 10, 13, 7, 5];
    out(row(['state, checkpoints', 'input/s', 'p50 ms', 'p99 ms', 'max ms', 'trend ms/s', 'commits', 'commit ms', 'cores app/drv', 'RSS MB', 'load'], w));
    for (const l of r.latency) {
      out(row([`${l.state}, ${l.interval}`, int(l.achievedRate), ms(l.p50Ms), ms(l.p99Ms), ms(l.maxMs), ms(l.trendMsPerS), l.commits, ms(l.commitMeanMs), `${l.pipelineCores.toFixed(2)}/${l.driverCores.toFixed(2)}`, l.rssMb, l.loadavg.toFixed(1)], w));
      if (l.missing > 0) out(`   WARNING: ${int(l.missing)} inputs of the window produced no visible output`);
    }
    out('   trend: slope of latency over the window; well above 0 means the pipeline fell behind the input.');
    out('   cores: CPU of the pipeline process / of the producer and reader process, over the run.');
  }
  if (r.stall !== undefined) {
    const st = r.stall;
    out();
    out(`5. Processing blocked by a checkpoint of many changed keys, ${int(st.keys)} keys in lmdb state (state layer, 4 tables; loaded in ${st.loadS.toFixed(0)} s)`);
    const w = [8, 7, 10, 14, 14, 14, 12, 10, 10];
    out(row(['changed', 'write', 'durable ms', 'stall max ms', 'of it GC ms', 'stall p99 ms', 'turns during', 'CPU ms', 'µs/key'], w));
    for (const x of st.rounds) out(row([int(x.changed), x.way, ms(x.writeMs), ms(x.stallMaxMs), ms(x.gcInMaxStallMs), ms(x.stallP99Ms), int(x.turnsDuring), ms(x.cpuMs), ((x.writeMs * 1000) / x.changed).toFixed(1)], w));
    out('   sync: one transaction on the processing thread (checkpoints before); async: sealed at the barrier, framed in slices, written by lmdb-js\'s write thread.');
    out(`   stall: the processing loop's longest (and p99) stretch without a turn while the checkpoint was written; load average after: ${st.loadavg.toFixed(1)}`);
  }
  if (r.totalS !== undefined) out(`\ntotal ${r.totalS} s`);
}
