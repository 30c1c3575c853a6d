// The CLI tour on the real broker (`--kafka HOST:PORT` before or after the command, or
// SLUICE_KAFKA), a pipeline file run on it unchanged, and Debian's kcat as an independent
// client: what Sluice writes kcat reads (keys, values, and partitions agree with murmur2),
// what kcat writes Sluice processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { partitionForKey, utf8 } from '../../src/core/index.ts';
import { jsonLines, sluice, tempDataDir } from '../cli/helpers.ts';

const bootstrap = process.env.SLUICE_KAFKA_BOOTSTRAP;
const hasKcat = spawnSync('kcat', ['-V']).status === 0;
const skip = bootstrap === undefined ? 'no broker: set SLUICE_KAFKA_BOOTSTRAP (`.ci/run` starts one with scripts/kafka.sh start)' : !hasKcat ? 'kcat is not installed (apt-get install kcat)' : false;
const PACKAGE_ROOT = new URL('../..', import.meta.url).pathname;

async function ok(args: string[], input?: string, env: Record<string, string> = {}): Promise<string> {
  const result = await sluice(undefined, args, { ...(input === undefined ? {} : { input }), env });
  assert.equal(result.code, 0, `sluice ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** kcat's read_committed view of a topic: `partition key value` per record. */
function kcatRead(topic: string): { partition: number; key: string; value: string }[] {
  const out = spawnSync('kcat', ['-b', bootstrap!, '-C', '-t', topic, '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%p\t%k\t%s\n'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\n').filter(Boolean).map((line) => {
    const [partition, key, value] = line.split('\t');
    return { partition: Number(partition), key, value };
  });
}

void test('the CLI tour on Kafka: topic create|list|describe|delete, produce, consume; kcat reads what Sluice wrote where murmur2 puts it', { skip }, async () => {
  const topic = `tour-${randomUUID().slice(0, 8)}`;
  await ok(['--kafka', bootstrap!, 'topic', 'create', topic, '--partitions', '6']);
  assert.match(await ok(['topic', 'list', '--kafka', bootstrap!]), new RegExp(`${topic}\\s+6`));
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ key: `user-${i}`, value: { n: i } })).join('\n');
  await ok(['produce', topic, '--kafka', bootstrap!], `${lines}\n`);
  const consumed = jsonLines(await ok(['consume', topic, '--from-beginning', '--timeout-ms', '1000'], undefined, { SLUICE_KAFKA: bootstrap! }));
  assert.equal(consumed.length, 30);
  const read = kcatRead(topic);
  assert.equal(read.length, 30);
  for (const r of read) {
    assert.equal(r.partition, partitionForKey(utf8(r.key), 6), `key ${r.key}`);
    assert.deepEqual(JSON.parse(r.value), { n: Number(r.key.slice(5)) });
  }
  for (const c of consumed) assert.equal(c.partition, partitionForKey(utf8(String(c.key)), 6));
  const described = JSON.parse(await ok(['topic', 'describe', topic, '--json', '--kafka', bootstrap!])) as { partitions: { lastStableOffset: number }[] };
  assert.equal(described.partitions.reduce((sum, p) => sum + p.lastStableOffset, 0), 30);
  await ok(['topic', 'delete', topic, '--kafka', bootstrap!]);
  const missing = await sluice(undefined, ['topic', 'describe', topic, '--kafka', bootstrap!]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
});

void test('what kcat writes, a pipeline run with `sluice run FILE --kafka` processes; its exactly-once results are what kcat reads, once each', { skip }, async () => {
  const id = randomUUID().slice(0, 8);
  const input = `clicks-in-${id}`;
  const output = `clicks-out-${id}`;
  await ok(['topic', 'create', input, '--partitions', '3', '--kafka', bootstrap!]);
  // kcat places keyed records with librdkafka's consistent_random partitioner unless told murmur2 (Kafka's Java default).
  const records = Array.from({ length: 12 }, (_, i) => `/p${i % 3}\t${JSON.stringify({ url: `/p${i % 3}`, action: 'click', ts: 1_700_000_000_000 + i * 60_000 })}`).join('\n');
  const produced = spawnSync('kcat', ['-b', bootstrap!, '-P', '-t', input, '-K', '\t', '-X', 'partitioner=murmur2_random'], { input: `${records}\n`, encoding: 'utf8', timeout: 60_000 });
  assert.equal(produced.status, 0, produced.stderr);
  for (const r of kcatRead(input)) assert.equal(r.partition, partitionForKey(utf8(r.key), 3), `kcat's murmur2 and Sluice's agree on key ${r.key}`);
  const dir = tempDataDir();
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'sluice'));
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { Sluice, Watermarks, TumblingWindow, MINUTES } from 'sluice';
const app = new Sluice({ name: 'clicks-${id}', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });
app.stream<{ url: string; action: string; ts: number }>('${input}', { timestamp: (e) => e.ts, watermark: Watermarks.boundedOutOfOrderness('5s') })
  .filter((e) => e.action === 'click')
  .keyBy((e) => e.url)
  .window(TumblingWindow.of(5, MINUTES))
  .count()
  .to('${output}');
await app.run({ bounded: true });
`,
  );
  const run = await sluice(undefined, ['run', 'pipeline.ts', '--kafka', bootstrap!], { cwd: dir, env: { SLUICE_DATA_DIR: join(dir, '.sluice') } });
  assert.equal(run.code, 0, run.stderr);
  // The reference: counts per url per 5-minute window, computed here from the input.
  const expected = new Map<string, number>();
  for (let i = 0; i < 12; i++) {
    const ts = 1_700_000_000_000 + i * 60_000;
    const start = ts - (ts % 300_000);
    const k = `/p${i % 3}@${start}`;
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const results = kcatRead(output).map((r) => ({ partition: r.partition, ...(JSON.parse(r.value) as { key: string; start: number; end: number; value: number }) }));
  const got = new Map(results.map((r) => [`${r.key}@${r.start}`, r.value]));
  assert.equal(results.length, expected.size, 'each window once');
  assert.deepEqual(got, expected);
  for (const r of results) assert.equal(r.partition, partitionForKey(utf8(r.key), 3), 'a result sits on the partition of its key');
  // Run again: it resumes after its committed offsets, so nothing is written twice.
  const again = await sluice(undefined, ['run', 'pipeline.ts', '--kafka', bootstrap!], { cwd: dir, env: { SLUICE_DATA_DIR: join(dir, '.sluice') } });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(kcatRead(output).length, expected.size);
  for (const t of [input, output, `clicks-${id}.checkpoints`, `clicks-${id}.dlq`, `clicks-${id}.control`]) await sluice(undefined, ['topic', 'delete', t, '--kafka', bootstrap!]);
});
