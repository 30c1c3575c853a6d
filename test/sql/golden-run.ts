/**
 * Runs a golden SQL case (Arroyo's style): a .sql script, its input records, the output every
 * sink topic must hold. Each case runs twice on the test kit: in one bounded run, and with a
 * checkpoint partway (an unbounded run over the first records, stopped after its commit; a new
 * app restores from that checkpoint and processes the rest), and both must give the same output.
 * A case whose script holds the line `-- golden: final rows per key` compares each sink's last
 * record per key instead (tables joined with tables emit intermediate rows that depend on which
 * input is read first; the rows they end with do not).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlOptions } from '../../src/sluice.ts';
import { TestKit } from '../../src/testing/index.ts';

/** How a case runs: the batch sizes of the runs (straight; before and after the restore) and the SQL session's options. */
export interface RunOptions {
  batchSizes?: { straight: number; before: number; after: number };
  sql?: SqlOptions;
}

const BATCH_SIZES = { straight: 3, before: 2, after: 5 };

export interface GoldenInput {
  topic: string;
  partition: number;
  /** The record key (a table's tombstone deletes the row of its key); default none. */
  key?: string;
  /** null: a tombstone. */
  value: unknown;
}

export interface GoldenCase {
  name: string;
  sql: string;
  input: GoldenInput[];
  /** Sorted lines `{"topic","key","value"}`. */
  expected: string[];
}

export function loadCase(dir: string, name: string): GoldenCase {
  const read = (file: string) => readFileSync(join(dir, name, file), 'utf8');
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
  let expected: string[] = [];
  try {
    expected = lines(read('expected.jsonl'));
  } catch {
    // a new case: UPDATE_GOLDEN=1 writes it
  }
  return { name, sql: read('query.sql'), input: lines(read('input.jsonl')).map((l) => JSON.parse(l) as GoldenInput), expected };
}

const APP = 'golden';

/** Places each record on its partition (kit.input spreads unkeyed records; this keeps the case's placement). */
async function write(kit: TestKit, records: GoldenInput[]): Promise<void> {
  const writer = await kit.backend.openWriter();
  for (const r of records) {
    await kit.backend.ensureTopic(r.topic, 4);
    const encode = (v: string) => new TextEncoder().encode(v);
    await writer.send(r.topic, [{ key: r.key === undefined ? null : encode(r.key), value: r.value === null ? null : encode(JSON.stringify(r.value)), timestamp: 0, partition: r.partition }]);
  }
  await writer.close();
}

function outputs(kit: TestKit, sql: string): string[] {
  const topics = [...sql.matchAll(/topic\s*=\s*'([^']+)'/gi)].map((m) => m[1]!).filter((t) => kit.backend.hasTopic(t));
  const sinks = [...sql.matchAll(/CREATE\s+SINK\s+\w+\s+FROM\s+\w+\s+WITH\s*\(\s*topic\s*=\s*'([^']+)'/gi)].map((m) => m[1]!);
  const finalRows = /^-- golden: final rows per key$/m.test(sql);
  return topics
    .filter((t) => sinks.includes(t))
    .flatMap((topic) => {
      const records = kit.records(topic);
      if (!finalRows) return records.map((r) => JSON.stringify({ topic, key: r.key, value: r.value }));
      const last = new Map<string | null, unknown>();
      for (const r of records) last.set(r.key, r.value);
      return [...last].filter(([, value]) => value !== null).map(([key, value]) => JSON.stringify({ topic, key, value }));
    })
    .sort();
}

/** Every sink's records after one bounded run. */
export async function runStraight(c: GoldenCase, options: RunOptions = {}): Promise<string[]> {
  const kit = new TestKit();
  await write(kit, c.input);
  const app = kit.app({ name: APP, checkpointInterval: 1 });
  await app.sql(c.sql, options.sql);
  await app.run({ bounded: true, batchSize: (options.batchSizes ?? BATCH_SIZES).straight });
  return outputs(kit, c.sql);
}

/** Every sink's records when the run is checkpointed after `cut` input records and restored in a new app. */
export async function runWithRestore(c: GoldenCase, cut: number, options: RunOptions = {}): Promise<string[]> {
  const sizes = options.batchSizes ?? BATCH_SIZES;
  const kit = new TestKit({ stepping: true });
  await write(kit, c.input.slice(0, cut));
  for (const t of new Set(c.input.map((r) => r.topic))) await kit.backend.ensureTopic(t, 4);
  const first = kit.app({ name: APP, checkpointInterval: 1 });
  await first.sql(c.sql, options.sql);
  const running = first.run({ batchSize: sizes.before });
  await kit.runUntilIdle();
  first.stop();
  await running;
  await write(kit, c.input.slice(cut));
  const second = kit.app({ name: APP, checkpointInterval: 1 });
  await second.sql(c.sql, options.sql);
  await second.run({ bounded: true, batchSize: sizes.after });
  return outputs(kit, c.sql);
}
