/** Helpers of the scale-out tests on the real broker: topics, read_committed output, `sluice run` processes and their logs. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { KafkaBackend } from '../../src/backend/kafka/index.ts';
import { fromUtf8, utf8 } from '../../src/core/index.ts';

export const bootstrap = process.env.SLUICE_KAFKA_BOOTSTRAP;
export const skip = bootstrap === undefined ? 'no broker: set SLUICE_KAFKA_BOOTSTRAP (`.ci/run` starts one with scripts/kafka.sh start)' : false;

/** Topic configs keeping records whatever their timestamps (tests use event times far in the past). */
export const KEEP = { 'retention.ms': '-1', 'retention.bytes': '-1' };

const BIN = new URL('../../bin/sluice.mjs', import.meta.url).pathname;
const PACKAGE_ROOT = new URL('../..', import.meta.url).pathname;

/** A Kafka backend for the test, closed when the test file ends. */
export function backend(): KafkaBackend {
  const kafka = new KafkaBackend({ brokers: [bootstrap!] });
  after(() => kafka.close());
  return kafka;
}

/** A folder outside the repository with `pipeline.ts` importing 'sluice' as a user's would; removed at the end. */
export function pipelineDir(source: string): string {
  const dir = mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'sluice-scale-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'sluice'));
  writeFileSync(join(dir, 'pipeline.ts'), source);
  return dir;
}

/** One `sluice run pipeline.ts --kafka` process, with its stderr kept. */
export class RunProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(dir: string, extraArgs: string[] = []) {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    this.child = spawn(process.execPath, [BIN, 'run', join(dir, 'pipeline.ts'), '--kafka', bootstrap!, '--data-dir', join(dir, '.sluice'), ...extraArgs], { cwd: dir, env });
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
    this.child.stdout.resume();
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  /** The tasks of each generation this process ran, in order. */
  generations(): { tasks: number[]; members: number }[] {
    return [...this.stderr.matchAll(/runs tasks \[([\d,]*)\] of \d+ in generation \d+ of (\d+) member/g)].map((m) => ({ tasks: m[1] === '' ? [] : m[1].split(',').map(Number), members: Number(m[2]) }));
  }

  /** The last generation's tasks, if it ran one with `members` members. */
  tasksWith(members: number): number[] | undefined {
    const last = this.generations().at(-1);
    return last !== undefined && last.members === members ? last.tasks : undefined;
  }

  /** Records the process read, from the summary `sluice run` prints at the end. */
  recordsIn(): number | undefined {
    const m = /done \S+: (\d+) records? in/.exec(this.stderr);
    return m === null ? undefined : Number(m[1]);
  }
}

/** Every committed record of a topic, values parsed from JSON. */
export async function committedValues<T>(kafka: KafkaBackend, topic: string): Promise<T[]> {
  const out: T[] = [];
  let partitions: number;
  try {
    partitions = await kafka.partitions(topic);
  } catch {
    return out;
  }
  const ends = await kafka.endOffsets(topic);
  for (let p = 0; p < partitions; p++) {
    for (let offset = 0; offset < ends[p]; ) {
      const { records, nextOffset } = await kafka.fetch(topic, p, offset, 10_000);
      for (const r of records) if (r.value !== null) out.push(JSON.parse(fromUtf8(r.value)) as T);
      if (nextOffset <= offset) break;
      offset = nextOffset;
    }
  }
  return out;
}

/** Writes JSON values keyed by `key` (murmur2 placement), in chunks. */
export async function produce<T>(kafka: KafkaBackend, topic: string, values: T[], key: (value: T) => string, timestamp: (value: T) => number): Promise<void> {
  const writer = await kafka.openWriter();
  try {
    for (let i = 0; i < values.length; i += 500) {
      await writer.send(topic, values.slice(i, i + 500).map((v) => ({ key: utf8(key(v)), value: utf8(JSON.stringify(v)), timestamp: timestamp(v) })));
    }
  } finally {
    await writer.close();
  }
}

/** Writes one record to each partition (explicit), e.g. a late event that moves every partition's watermark on. */
export async function produceToEvery<T>(kafka: KafkaBackend, topic: string, partitions: number, value: (partition: number) => T, timestamp: number): Promise<void> {
  const writer = await kafka.openWriter();
  try {
    await writer.send(topic, Array.from({ length: partitions }, (_, p) => ({ key: null, value: utf8(JSON.stringify(value(p))), timestamp, partition: p })));
  } finally {
    await writer.close();
  }
}
