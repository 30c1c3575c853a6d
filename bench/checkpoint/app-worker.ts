/**
 * The pipeline running unbounded in a process of its own, for the recovery and latency cases.
 * Reports `ready` when the job has opened (restored its last checkpoint: the `sluice:job`
 * start event is published at the end of `Job.open()`), `first` when the process function
 * sees its first record, and `done` after SIGTERM made it stop with a final commit.
 * With `stopAfterFirst` (the recovering process) it stops right after the first record.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { JobEvent } from '../../src/runtime/metrics-events.ts';
import { report } from './child.ts';
import { type AppConfig, buildApp, peakRssMb, watchCommits } from './pipeline.ts';

const loadedAt = Date.now();

export interface AppCase extends Omit<AppConfig, 'onFirst'> {
  stopAfterFirst?: boolean;
}

const c = JSON.parse(process.argv[2]) as AppCase;
const commits = watchCommits();
let readyAt = 0;
let cpuAtReady = process.cpuUsage();
subscribe('sluice:job', (message) => {
  const event = message as JobEvent;
  if (event.type === 'start' && readyAt === 0) {
    readyAt = Date.now();
    cpuAtReady = process.cpuUsage();
    report('ready', { startedAt: performance.timeOrigin, loadedAt, readyAt });
  }
});
const app = buildApp({
  ...c,
  onFirst: (key, before) => {
    report('first', { at: Date.now(), key, restoredCount: before?.n ?? 0 });
    if (c.stopAfterFirst) app.stop();
  },
});
const summary = await app.run({ stopOnSignals: true });
const endedAt = Date.now();
const cpu = process.cpuUsage(cpuAtReady);
const d = commits.stats.durations;
report('done', { ...summary, readyAt, endedAt, cpuMs: (cpu.user + cpu.system) / 1000, commits: d.length, commitMeanMs: d.length === 0 ? 0 : d.reduce((a, b) => a + b, 0) / d.length, commitMaxMs: Math.max(0, ...d), rssMb: peakRssMb() });
