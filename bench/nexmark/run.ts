/**
 * One timed run of a query, on Sluice or as the hand-written loop, over the same stored input
 * bytes. Sluice runs bounded on the test kit's in-memory log (MemoryBackend), or on the
 * embedded log in a fresh temporary directory: the input topic is filled before the clock
 * starts, and the output topic is read back and checksummed after it stops. On the embedded
 * log the input may span several partitions (event i in partition i % P, so each stays in
 * event-time order) and the app may run on several worker threads (`parallelism`): the
 * threads load threads-app.ts, which builds the same app. The hand-written loop decodes the
 * same bytes (from memory) and encodes its rows with the same codec.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FetchedRecord, LogBackend } from '../../src/backend/index.ts';
import { Sluice } from '../../src/index.ts';
import { setLauncher } from '../../src/sluice.ts';
import { MemoryBackend } from '../../src/testing/index.ts';
import { type Checksum, ChecksumBuilder } from './checksum.ts';
import { type CodecMode, codecsFor } from './codecs.ts';
import type { NexmarkEvent } from './model.ts';
import { INPUT_TOPIC, type NexmarkQuery, OUTPUT_TOPIC } from './queries/index.ts';

export interface Input {
  mode: CodecMode;
  events: NexmarkEvent[];
  /** The stored value of each event. */
  values: Uint8Array[];
}

export interface RunResult {
  ms: number;
  /** CPU time of the process meanwhile (user + system, every thread): less moved by other work on a loaded machine than `ms`. */
  cpuMs: number;
  checksum: Checksum;
}

/** User + system CPU milliseconds since `from` (a `process.cpuUsage()`). */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

export type LogKind = 'memory' | 'embedded';

export interface SluiceRunOptions {
  guarantee?: 'exactly-once' | 'at-least-once';
  batchSize?: number;
  /** Where the topics live; default memory. */
  log?: LogKind;
  /** Partitions of the input topic (embedded log only); default 1. */
  partitions?: number;
  /** Worker threads running the app (embedded log only, JSON codec); default 1: the calling thread. */
  parallelism?: number;
}

/** What the worker threads need to build the same app as the main thread (threads-app.ts). */
export interface ThreadsAppSettings {
  query: string;
  name: string;
  dataDir: string;
  guarantee: 'exactly-once' | 'at-least-once';
  batchSize?: number;
}

/** The variable of the environment that hands the settings to the threads (a worker starts with a copy of it). */
export const SETTINGS_VARIABLE = 'SLUICE_NEXMARK_THREADS_APP';
const THREADS_APP = fileURLToPath(new URL('./threads-app.ts', import.meta.url));

/** A memory log holding the input topic (one partition, event-time order). */
export function loadInput(input: Input, backend = new MemoryBackend()): MemoryBackend {
  backend.createTopicSync(INPUT_TOPIC, 1);
  backend.createTopicSync(OUTPUT_TOPIC, 1);
  const chunk = 10_000;
  for (let i = 0; i < input.values.length; i += chunk) {
    const records = [];
    for (let j = i; j < Math.min(i + chunk, input.values.length); j++) records.push({ key: null, value: input.values[j], timestamp: input.events[j].dateTime, partition: 0 });
    backend.appendSync(INPUT_TOPIC, records, null);
  }
  return backend;
}

export async function runSluice(query: NexmarkQuery, input: Input, options: SluiceRunOptions = {}): Promise<RunResult> {
  if (options.log === 'embedded') return runOnEmbeddedLog(query, input, options);
  const codecs = codecsFor(input.mode, input.events);
  const backend = loadInput(input);
  const { ms, cpuMs } = await timedRun(query, backend, codecs, options);
  const checksum = new ChecksumBuilder();
  for (const r of committed(backend, OUTPUT_TOPIC)) checksum.add(codecs.row.decode(r.value!));
  return { ms, cpuMs, checksum: checksum.result() };
}

/** Runs the query's pipeline as a bounded job on `backend`; returns the milliseconds (wall and CPU) it took. */
async function timedRun(query: NexmarkQuery, backend: LogBackend, codecs: ReturnType<typeof codecsFor>, options: SluiceRunOptions): Promise<{ ms: number; cpuMs: number }> {
  const app = new Sluice({ name: `nexmark-${query.name}`, backend, guarantee: options.guarantee ?? 'exactly-once' });
  query.sluice(app, codecs);
  const started = performance.now();
  const cpu = process.cpuUsage();
  await app.run({ bounded: true, ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) });
  return { ms: performance.now() - started, cpuMs: cpuMsSince(cpu) };
}

/**
 * The same on the embedded durable log (segments on disk, transactions, committed offsets). The
 * app opens the log in its data directory itself, as an app does, on one thread or on several.
 */
async function runOnEmbeddedLog(query: NexmarkQuery, input: Input, options: SluiceRunOptions): Promise<RunResult> {
  const partitions = options.partitions ?? 1;
  const parallelism = options.parallelism ?? 1;
  if (parallelism > 1 && input.mode !== 'json') throw new Error(`parallelism ${parallelism} needs the JSON codec: an object table lives in one thread`);
  const codecs = codecsFor(input.mode, input.events);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-nexmark-'));
  // Loaded here so memory-only runs never load the log's native parts.
  const { EmbeddedBackend } = await import('../../src/backend/embedded.ts');
  try {
    const loader = await EmbeddedBackend.open(dir);
    try {
      await loader.ensureTopic(INPUT_TOPIC, partitions);
      await loader.ensureTopic(OUTPUT_TOPIC, partitions);
      const writer = await loader.openWriter();
      for (let i = 0; i < input.values.length; i += 10_000) {
        const records = [];
        for (let j = i; j < Math.min(i + 10_000, input.values.length); j++) records.push({ key: null, value: input.values[j], timestamp: input.events[j].dateTime, partition: j % partitions });
        await writer.send(INPUT_TOPIC, records);
      }
      await writer.close();
    } finally {
      await loader.close();
    }
    const name = `nexmark-${query.name}`;
    const guarantee = options.guarantee ?? 'exactly-once';
    const settings: ThreadsAppSettings = { query: query.name, name, dataDir: dir, guarantee, ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) };
    process.env[SETTINGS_VARIABLE] = JSON.stringify(settings);
    // The threads' entry is threads-app.ts, not this process's main module.
    if (parallelism > 1) setLauncher({ runOptions: { parallelism }, entry: THREADS_APP, plainImport: true, started: () => () => {} });
    let timed: { ms: number; cpuMs: number };
    try {
      const app = new Sluice({ name, dataDir: dir, guarantee });
      query.sluice(app, codecs);
      const started = performance.now();
      const cpu = process.cpuUsage();
      const summary = await app.run({ bounded: true, ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) });
      timed = { ms: performance.now() - started, cpuMs: cpuMsSince(cpu) };
      if (summary.records !== input.values.length) throw new Error(`${name} at parallelism ${parallelism} read ${summary.records} of ${input.values.length} input records`);
    } finally {
      setLauncher(undefined);
      delete process.env[SETTINGS_VARIABLE];
    }
    const reader = await EmbeddedBackend.open(dir);
    const checksum = new ChecksumBuilder();
    try {
      const outputs = await reader.partitions(OUTPUT_TOPIC);
      for (let p = 0; p < outputs; p++) {
        for (let offset = 0; ; ) {
          const { records, nextOffset } = await reader.fetch(OUTPUT_TOPIC, p, offset, 10_000);
          for (const r of records) checksum.add(codecs.row.decode(r.value!));
          if (nextOffset === offset) break;
          offset = nextOffset;
        }
      }
    } finally {
      await reader.close();
    }
    return { ...timed, checksum: checksum.result() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function runHandwritten(query: NexmarkQuery, input: Input): RunResult {
  const codecs = codecsFor(input.mode, input.events);
  const { values } = input;
  const out: Uint8Array[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  query.handwritten(values.length, (i) => codecs.event.decode(values[i]), (row) => out.push(codecs.row.encode(row)));
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const checksum = new ChecksumBuilder();
  for (const bytes of out) checksum.add(codecs.row.decode(bytes));
  return { ms, cpuMs, checksum: checksum.result() };
}

/** Committed records of every partition of a topic. */
export function committed(backend: MemoryBackend, topic: string): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  const partitions = backend.createTopicSync(topic);
  for (let p = 0; p < partitions; p++) {
    for (let offset = 0; ; ) {
      const { records, nextOffset } = backend.fetchSync(topic, p, offset, 100_000);
      for (const r of records) out.push(r);
      if (nextOffset === offset) break;
      offset = nextOffset;
    }
  }
  return out;
}
