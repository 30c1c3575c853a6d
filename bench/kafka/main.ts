/**
 * `npm run bench -- kafka`: the same pipeline (clicks per url per 1-minute tumbling window:
 * filter, keyBy, count) over the same input on the embedded log and on Kafka with 1, 2 and 3
 * `sluice run --kafka` processes sharing its tasks, beside the broker's own producer benchmark
 * (`org.apache.kafka.tools.ProducerPerformance`, 100-byte records, from the jars scripts/kafka.sh
 * assembled) measured in the same run, as what the broker does on this machine.
 *
 * Each pipeline case is a bounded run of fresh app(s) over an input topic of 6 partitions,
 * timed from the start of the processes to their exit (process start, group join, topic
 * creation and the final commit included: the fixed cost is reported as the same run over an
 * empty input). Exactly-once, memory state, checkpoint interval 1 s.
 *
 * Needs a broker: SLUICE_KAFKA_BOOTSTRAP (or --bootstrap HOST:PORT). Options: --records N
 * (default 200,000), --json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBackend } from '../../src/backend/kafka/index.ts';
import { utf8 } from '../../src/core/index.ts';
import { Log } from '../../src/log/index.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const bootstrap = option('bootstrap') ?? process.env.SLUICE_KAFKA_BOOTSTRAP;
if (bootstrap === undefined) {
  process.stderr.write('bench kafka: needs a broker: set SLUICE_KAFKA_BOOTSTRAP or pass --bootstrap HOST:PORT (scripts/kafka.sh start prints it)\n');
  process.exit(2);
}
const RECORDS = Number(option('records') ?? 200_000);
const PARTITIONS = 6;
const json = args.includes('--json');
const BIN = new URL('../../bin/sluice.mjs', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const JARS = join(process.env.SLUICE_KAFKA_CACHE ?? join(homedir(), '.m2', 'sluice-kafka', '4.4.0'), 'libs', '*');
const T0 = Date.now() - 3_600_000;

interface Row {
  name: string;
  records_per_s: number;
  seconds: number;
  note?: string;
}
const rows: Row[] = [];
const dir = mkdtempSync(join(process.env.SLUICE_BENCH_DIR ?? tmpdir(), 'sluice-bench-kafka-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(ROOT, join(dir, 'node_modules', 'sluice'));

const click = (i: number) => ({ url: `/p${i % 50}`, action: i % 5 === 0 ? 'view' : 'click', ts: T0 + i * 10, pad: 'x'.repeat(40) });

function pipeline(file: string, app: string, input: string, output: string, kafka: boolean): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `import { Sluice, Watermarks, TumblingWindow, MINUTES } from 'sluice';
const app = new Sluice({ name: '${app}'${kafka ? '' : `, dataDir: ${JSON.stringify(join(dir, 'data'))}`} });
app.stream<{ url: string; action: string; ts: number }>('${input}', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness('5s') })
  .filter((e) => e.action === 'click')
  .keyBy((e) => e.url)
  .window(TumblingWindow.of(1, MINUTES))
  .count()
  .to('${output}');
await app.run({ bounded: true });
`,
  );
  return path;
}

/** Runs `processes` `sluice run` processes at once; seconds until the last exits. */
async function runProcesses(file: string, processes: number, kafka: boolean): Promise<number> {
  const started = performance.now();
  const children = Array.from({ length: processes }, () => spawn(process.execPath, [BIN, 'run', file, ...(kafka ? ['--kafka', bootstrap!] : ['--data-dir', join(dir, 'data')])], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
  const codes = await Promise.all(
    children.map(async (child) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const [code] = (await once(child, 'close')) as [number];
      if (code !== 0) throw new Error(`sluice run failed (${code}): ${stderr}`);
      return code;
    }),
  );
  void codes;
  return (performance.now() - started) / 1000;
}

async function kafkaInput(kafka: KafkaBackend, topic: string, records: number): Promise<void> {
  await kafka.createTopic(topic, PARTITIONS, { 'retention.ms': '-1' });
  const writer = await kafka.openWriter();
  try {
    for (let i = 0; i < records; i += 5000) {
      const batch = [];
      for (let j = i; j < Math.min(records, i + 5000); j++) {
        const c = click(j);
        batch.push({ key: utf8(`user-${j % 997}`), value: utf8(JSON.stringify(c)), timestamp: c.ts });
      }
      await writer.send(topic, batch);
    }
  } finally {
    await writer.close();
  }
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  // The reference: the broker's own producer benchmark, as fast as it goes, 100-byte records, acks=all.
  const perfTopic = `bench-perf-${randomUUID().slice(0, 8)}`;
  const kafka = new KafkaBackend({ brokers: [bootstrap!] });
  await kafka.createTopic(perfTopic, PARTITIONS);
  const perf = execFileSync('java', ['-cp', JARS, 'org.apache.kafka.tools.ProducerPerformance', '--topic', perfTopic, '--num-records', String(RECORDS * 5), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const summary = perf.trim().split('\n').at(-1) ?? '';
  const perSecond = Number(/([\d.]+) records\/sec/.exec(summary)?.[1] ?? Number.NaN);
  rows.push({ name: 'Kafka ProducerPerformance (100 B, acks=all)', records_per_s: perSecond, seconds: (RECORDS * 5) / perSecond, note: summary.replace(/\s+/g, ' ') });
  await kafka.deleteTopic(perfTopic);

  // Embedded log: the same input and pipeline, one process.
  const log = await Log.open(join(dir, 'data'), { maintenanceIntervalMs: 0 });
  log.createTopic('events', { partitions: PARTITIONS });
  for (let i = 0; i < RECORDS; i += 5000) {
    const batch = [];
    for (let j = i; j < Math.min(RECORDS, i + 5000); j++) {
      const c = click(j);
      batch.push({ key: utf8(`user-${j % 997}`), value: utf8(JSON.stringify(c)), timestamp: c.ts });
    }
    await log.produce('events', batch);
  }
  log.createTopic('empty', { partitions: PARTITIONS });
  await log.close();
  const emptyEmbedded = await runProcesses(pipeline('empty-embedded.ts', 'bench-empty', 'empty', 'empty-out', false), 1, false);
  const embedded = await runProcesses(pipeline('embedded.ts', 'bench-embedded', 'events', 'out', false), 1, false);
  rows.push({ name: 'embedded log, 1 process', records_per_s: RECORDS / embedded, seconds: embedded, note: `fixed cost (empty input) ${emptyEmbedded.toFixed(2)} s` });

  // Kafka: 1, 2 and 3 processes of one app sharing its 6 tasks.
  const id = randomUUID().slice(0, 8);
  await kafka.createTopic(`empty-${id}`, PARTITIONS);
  const emptyKafka = await runProcesses(pipeline('empty-kafka.ts', `bench-empty-${id}`, `empty-${id}`, `empty-out-${id}`, true), 1, true);
  for (const processes of [1, 2, 3]) {
    const input = `bench-in-${processes}-${id}`;
    await kafkaInput(kafka, input, RECORDS);
    const seconds = await runProcesses(pipeline(`kafka-${processes}.ts`, `bench-${processes}-${id}`, input, `bench-out-${processes}-${id}`, true), processes, true);
    rows.push({ name: `Kafka, ${processes} process${processes === 1 ? '' : 'es'}`, records_per_s: RECORDS / seconds, seconds, note: processes === 1 ? `fixed cost (empty input) ${emptyKafka.toFixed(2)} s` : '' });
  }
  await kafka.close();
  rmSync(dir, { recursive: true, force: true });

  const context = { records: RECORDS, partitions: PARTITIONS, cpus: cpus().length, load_before: load, load_after: loadavg()[0] };
  if (json) {
    process.stdout.write(`${JSON.stringify({ context, rows })}\n`);
    return;
  }
  process.stdout.write(`${RECORDS} records, ${PARTITIONS} partitions, ${context.cpus} cores, load ${load.toFixed(2)} before, ${context.load_after.toFixed(2)} after\n`);
  const reference = rows[0].records_per_s;
  for (const row of rows) {
    process.stdout.write(`${row.name.padEnd(46)} ${Math.round(row.records_per_s).toString().padStart(9)} records/s  ${row.seconds.toFixed(2).padStart(6)} s  ${(row.records_per_s / reference).toFixed(3)} x producer${row.note ? `  (${row.note})` : ''}\n`);
  }
}

await main();
