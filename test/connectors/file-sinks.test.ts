// The file sinks end to end on the embedded log: a bounded run writes JSONL, CSV and Parquet
// (read back by DuckDB, as a reader would), and a second run over more input adds only the new
// records' results; hidden files never match the globs readers use.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sluice, sinks, Windows } from '../../src/index.ts';
import { duckdb, produce, withTemp } from './helpers.ts';

interface Click {
  user: string;
  page: string;
  ts: number;
}

const clicks = (from: number, n: number): Click[] => Array.from({ length: n }, (_, i) => ({ user: `u${(from + i) % 5}`, page: `/p${(from + i) % 7}`, ts: (from + i) * 1000 }));

async function runPipeline(dataDir: string, out: string): Promise<void> {
  const app = new Sluice({ name: 'files', dataDir, checkpointInterval: '50ms' });
  const events = app.stream<Click>('clicks', { timestamp: (e) => e.ts });
  const perMinute = events
    .keyBy((e) => e.user)
    .window(Windows.tumbling('1m'))
    .collect((e) => e.page)
    .map((r) => ({ user_id: r.key, window_start: r.start, clicks: r.value.length, pages: r.value }));
  perMinute.to(sinks.file({ path: join(out, 'alerts.jsonl') }));
  perMinute.to(sinks.file({ path: join(out, 'alerts.csv') }));
  perMinute.to(sinks.parquet({ path: join(out, 'clicks'), rollEvery: '1m', schema: { user_id: 'STRING', window_start: 'INT64', clicks: 'INT64', pages: 'JSON' } }));
  await app.run({ bounded: true, batchSize: 7 });
}

function expected(all: Click[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of all) {
    const id = `${c.user}@${Math.floor(c.ts / 60_000) * 60_000}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

void test('sinks.file (JSONL, CSV) and sinks.parquet: a bounded run writes each window once; a second run adds only the new ones', { timeout: 120_000 }, async () => {
  await withTemp('file-sinks', async (dir) => {
    const dataDir = join(dir, 'data');
    const out = join(dir, 'out');
    const first = clicks(0, 300);
    await produce(dataDir, 'clicks', 3, first, (c) => c.user, (c) => c.ts);
    await runPipeline(dataDir, out);
    // A bounded run's end is a clean slate: the next run is a batch over what arrived since, in later minutes.
    const second = clicks(360, 240);
    await produce(dataDir, 'clicks', 3, second, (c) => c.user, (c) => c.ts);
    await runPipeline(dataDir, out);

    const want = expected([...first, ...second]);
    const lines = readFileSync(join(out, 'alerts.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, want.size, 'one JSONL line per window');
    for (const l of lines) assert.equal(l.clicks, want.get(`${l.user_id}@${l.window_start}`), `window ${l.user_id}@${l.window_start}`);

    const csv = await duckdb(`SELECT user_id, window_start, clicks FROM read_csv('${join(out, 'alerts.csv')}', header = true)`);
    assert.equal(csv.length, want.size, 'one CSV row per window, one header');
    for (const r of csv) assert.equal(Number(r.clicks), want.get(`${r.user_id}@${r.window_start}`));

    const parquet = await duckdb(`SELECT user_id, window_start, clicks, pages FROM read_parquet('${join(out, 'clicks')}/**/*.parquet')`);
    assert.equal(parquet.length, want.size, 'one Parquet row per window');
    for (const r of parquet) {
      assert.equal(Number(r.clicks), want.get(`${r.user_id}@${r.window_start}`));
      assert.equal(JSON.parse(String(r.pages)).length, Number(r.clicks), 'collect_list kept every page');
    }
    const files = readdirSync(join(out, 'clicks'));
    assert.deepEqual(files.filter((f) => f.endsWith('.parquet')).sort(), ['part-000001.parquet', 'part-000002.parquet'], 'each run rolled its part at its end');
    assert.deepEqual(files.filter((f) => f.startsWith('.') && f !== '.schema.json'), [], 'no hidden part is left after a run');
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('chunk')), [], 'no chunk is left after a run');
  });
});
