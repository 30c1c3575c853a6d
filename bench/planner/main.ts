/**
 * `npm run bench -- planner`: how close the planner's model comes to measured runs (the runs
 * are described in runs.ts): per repeat, the sustainable rate predicted from one bounded run
 * against the next bounded run's throughput, and the utilization predicted at a third of that
 * rate against a paced run's. Prints each repeat and the medians of predicted / measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measurePlanner, median } from './runs.ts';

const USAGE = 'usage: npm run bench -- planner [--backlog N] [--paced N] [--repeats N] [--json]';
const { values: v } = parseArgs({
  options: {
    backlog: { type: 'string', default: '500000' },
    paced: { type: 'string', default: '150000' },
    repeats: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (text: string, what: string): number => {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${what} ${text}: expected a positive whole number\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const sizes = { backlog: num(v.backlog, 'backlog'), paced: num(v.paced, 'paced'), repeats: num(v.repeats, 'repeats'), warmUp: 200_000 };
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-planner-'));
try {
  const runs = await measurePlanner(dir, sizes);
  const throughput = median(runs.map((m) => m.predictedThroughput / m.throughput));
  const utilization = median(runs.map((m) => m.predictedUtilization / m.utilization));
  const machine = `${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${loadavg()[0].toFixed(2)}; Node ${process.version}`;
  if (v.json) console.log(JSON.stringify({ machine, sizes, runs, medians: { throughput, utilization } }, null, 2));
  else {
    console.log(`planner model against measured runs (${machine})`);
    console.log('| repeat | B measured rec/s | predicted from A | ratio | C rate rec/s | C utilization | predicted from A | ratio |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    runs.forEach((m, i) => {
      const cells = [i + 1, Math.round(m.throughput), Math.round(m.predictedThroughput), (m.predictedThroughput / m.throughput).toFixed(2), Math.round(m.rate), m.utilization.toFixed(3), m.predictedUtilization.toFixed(3), (m.predictedUtilization / m.utilization).toFixed(2)];
      console.log(`| ${cells.join(' | ')} |`);
    });
    console.log(`medians of predicted / measured: sustainable rate ${throughput.toFixed(2)}, utilization ${utilization.toFixed(2)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
