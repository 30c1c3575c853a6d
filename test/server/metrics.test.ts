// /metrics while a small pipeline runs unbounded on the embedded log: the text parses as
// Prometheus exposition format, and the counters grow as records arrive.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sluice, Windows } from '../../src/index.ts';
import { Log } from '../../src/log/index.ts';
import { startServer } from '../../src/server/index.ts';
import { waitUntil } from '../support/wait.ts';
import { parsePrometheus, type Sample, total } from './prometheus-text.ts';

const encoder = new TextEncoder();

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await response.text());
}

/** Scrapes until `check` holds; fails naming `what` after a generous bound. */
function until(url: string, check: (s: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return waitUntil(async () => {
    const samples = await scrape(url);
    return check(samples) && samples;
  }, what);
}

void test('/metrics parses as Prometheus text and its counters grow while a pipeline runs', async () => {
  const dir = await mkdtemp(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'server-metrics-'));
  const server = await startServer({ port: 0 });
  const log = await Log.open(dir);
  try {
    log.createTopic('readings', { partitions: 2 });
    const producer = await log.producer();
    const t0 = Date.now();
    const send = async (from: number, n: number, extra: object[] = []) => {
      const records = [];
      for (let i = from; i < from + n; i++) records.push({ key: encoder.encode(`s${i % 5}`), value: encoder.encode(JSON.stringify({ s: `s${i % 5}`, v: i, ts: t0 + i * 10 })), timestamp: Date.now() });
      for (const e of extra) records.push({ key: null, value: encoder.encode(JSON.stringify(e)), timestamp: Date.now() });
      await producer.send('readings', records);
    };

    const app = new Sluice({ name: 'metrics-test', dataDir: dir, checkpointInterval: '50ms' });
    app
      .stream<{ s: string; v: number | null; ts: number }>('readings', { timestamp: (r) => r.ts })
      .map((r) => {
        if (r.v === null) throw new Error('reading without a value');
        return r;
      }, { name: 'validate' })
      .keyBy((r) => r.s)
      .window(Windows.tumbling('100ms'))
      .count()
      .to('counts');
    const runStartedAt = Date.now();
    const running = app.run();

    await send(0, 200, [{ s: 's1', v: null, ts: t0 }]);
    const first = await until(server.url, (s) => total(s, 'sluice_records_in_total') >= 201 && total(s, 'sluice_checkpoint_last_success_timestamp') > 0, 'the first records and commit');
    await send(200, 300);
    const second = await until(server.url, (s) => total(s, 'sluice_records_in_total') >= 501 && total(s, 'sluice_records_out_total', { topic: 'counts' }) > total(first, 'sluice_records_out_total', { topic: 'counts' }), 'the second batch');

    const job = { pipeline: 'metrics-test' };
    assert.equal(total(second, 'sluice_records_in_total', { ...job, topic: 'readings' }), 501);
    assert.ok(total(second, 'sluice_records_in_total') > total(first, 'sluice_records_in_total'));
    assert.ok(total(second, 'sluice_records_out_total', { ...job, operator: 'validate' }) >= 500);
    assert.ok(total(second, 'sluice_records_out_total', { ...job, topic: 'counts' }) > 0);
    assert.equal(total(second, 'sluice_dlq_records_total', job), 1);
    assert.ok(total(second, 'sluice_latency_seconds_count', { ...job, stage: 'committed' }) > 0);
    assert.ok(total(second, 'sluice_latency_seconds_count', { ...job, stage: 'processed' }) > 0);
    assert.ok(total(second, 'sluice_checkpoint_duration_seconds_count', job) > total(first, 'sluice_checkpoint_duration_seconds_count', job));
    // A unix time in seconds, of a checkpoint of this run: between its start and the scrape.
    const lastSuccess = total(second, 'sluice_checkpoint_last_success_timestamp', job);
    const scrapedBy = Date.now();
    assert.ok(
      lastSuccess >= Math.floor(runStartedAt / 1000) && lastSuccess <= Math.ceil(scrapedBy / 1000),
      `last success ${lastSuccess} is not a unix time in seconds within the run [${runStartedAt / 1000}, ${scrapedBy / 1000}]`,
    );
    assert.ok(second.some((s) => s.name === 'sluice_consumer_lag_records' && s.labels.topic === 'readings'));
    const watermarkLag = second.filter((s) => s.name === 'sluice_watermark_lag_seconds' && s.labels.topic === 'readings');
    assert.equal(watermarkLag.length, 2, 'one watermark lag per source partition');
    // Measured: state per operator, and the sources' wait on the pipeline per partition (values: test/server/planner-metrics.test.ts).
    assert.ok(second.some((s) => s.name === 'sluice_state_bytes' && s.labels.pipeline === 'metrics-test'));
    assert.equal(second.filter((s) => s.name === 'sluice_source_wait_seconds_total' && s.labels.topic === 'readings').length, 2);
    assert.ok(total(second, 'sluice_loop_busy_seconds_total', job) > 0);

    app.stop();
    const summary = await running;
    assert.equal(summary.records, 501);
    await producer.close();
  } finally {
    await server.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
});
