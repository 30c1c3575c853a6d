/** Command-line options of `npm run bench -- nexmark`. */
import { parseArgs } from 'node:util';
import type { CodecMode } from './codecs.ts';
import type { LogKind } from './run.ts';
import { QUERIES } from './queries/index.ts';

export interface BenchOptions {
  queries: string[];
  events: number;
  runs: number;
  seed: number;
  mode: CodecMode;
  log: LogKind;
  rate: number;
  latencySeconds: number;
  commitMs: number;
  json: boolean;
  peer: 'flink' | null;
  /** Worker threads of Sluice's parallel run; above 1, p1 and pN both run on the embedded log with N input partitions. */
  parallelism: number;
}

export const USAGE = `usage: npm run bench -- nexmark [--query q5[,q7...]] [--events N] [--runs N] [--json]
       [--codec object|json] [--log memory|embedded] [--rate EVENTS_PER_S] [--latency-seconds S] [--commit-ms MS] [--no-latency]
       [--peer flink] [--seed N] [--parallelism N]
  --parallelism N (N > 1): Sluice also runs on N worker threads, beside one thread, both on the embedded log
       with the input in N partitions and JSON values (the defaults then: --log embedded --codec json).`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      query: { type: 'string', multiple: true },
      events: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '42' },
      codec: { type: 'string' },
      log: { type: 'string' },
      parallelism: { type: 'string', default: '1' },
      rate: { type: 'string', default: '100000' },
      'latency-seconds': { type: 'string', default: '5' },
      'commit-ms': { type: 'string', default: '1000' },
      'no-latency': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      peer: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const names = (values.query ?? QUERIES.map((q) => q.name)).flatMap((q) => q.split(','));
  for (const name of names) if (!QUERIES.some((q) => q.name === name)) fail(`unknown query '${name}'; choose from ${QUERIES.map((q) => q.name).join(', ')}`);
  const parallelism = positive(values.parallelism, '--parallelism');
  if (!Number.isInteger(parallelism)) fail(`--parallelism ${values.parallelism}: expected a whole number of threads`);
  const threads = parallelism > 1;
  const mode = values.codec ?? (threads ? 'json' : 'object');
  if (mode !== 'object' && mode !== 'json') fail(`--codec ${mode}: write --codec object or --codec json`);
  if (threads && mode !== 'json') fail(`--parallelism ${parallelism} with --codec ${mode}: threads need --codec json (an object table lives in one thread)`);
  const log = values.log ?? (threads ? 'embedded' : 'memory');
  if (log !== 'memory' && log !== 'embedded') fail(`--log ${log}: write --log memory or --log embedded`);
  if (threads && log !== 'embedded') fail(`--parallelism ${parallelism} with --log ${log}: threads run on the embedded log (write --log embedded, or leave it out)`);
  if (values.peer !== undefined && values.peer !== 'flink') fail(`--peer ${values.peer}: the only peer is flink`);
  return {
    queries: names,
    events: positive(values.events, '--events'),
    runs: positive(values.runs, '--runs'),
    seed: positive(values.seed, '--seed'),
    mode,
    log,
    rate: values['no-latency'] ? 0 : positive(values.rate, '--rate'),
    latencySeconds: positive(values['latency-seconds'], '--latency-seconds'),
    commitMs: positive(values['commit-ms'], '--commit-ms'),
    json: values.json,
    peer: values.peer === 'flink' ? 'flink' : null,
    parallelism,
  };
}

function positive(text: string, what: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isFinite(n) || n <= 0) fail(`${what} ${text}: expected a positive number`);
  return n;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
