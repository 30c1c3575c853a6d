/**
 * One throughput case in a process of its own (so its peak RSS is its own): a bounded run of
 * the pipeline over the pre-produced input topic, timed from `run()` to its return (opening
 * the job, reading every record, the commits and the final one). Reports one `done` line.
 */
import { report } from './child.ts';
import { buildApp, type Interval, peakRssMb, watchCommits } from './pipeline.ts';

export interface ThroughputCase {
  dataDir: string;
  input: string;
  /** App name: its own consumer group, state directory and output topic, so every case reads the whole input. */
  name: string;
  state: 'memory' | 'lmdb';
  interval: Interval;
  emitEvery: number;
}

export interface ThroughputResult {
  records: number;
  written: number;
  /** Records the pipeline sent to its dead-letter topic: must be 0 for the figures to count. */
  deadLetters: number;
  ms: number;
  eventsPerS: number;
  commits: number;
  commitMeanMs: number;
  commitMaxMs: number;
  /** Share of the run spent inside commits. */
  commitShare: number;
  rssMb: number;
}

const c = JSON.parse(process.argv[2]) as ThroughputCase;
const commits = watchCommits();
const app = buildApp({ name: c.name, dataDir: c.dataDir, input: c.input, output: `${c.name}.out`, state: c.state, checkpointInterval: c.interval, emitEvery: c.emitEvery });
const started = performance.now();
const summary = await app.run({ bounded: true });
const ms = performance.now() - started;
commits.stop();
const d = commits.stats.durations;
const total = d.reduce((a, b) => a + b, 0);
const result: ThroughputResult = {
  records: summary.records,
  written: summary.written,
  deadLetters: summary.deadLetters,
  ms,
  eventsPerS: (summary.records / ms) * 1000,
  commits: d.length,
  commitMeanMs: d.length === 0 ? 0 : total / d.length,
  commitMaxMs: Math.max(0, ...d),
  commitShare: total / ms,
  rssMb: peakRssMb(),
};
report('done', result);
