// `sluice run FILE --ui PORT`: the server starts before the module loads, finds the app the
// module creates and the job it runs, and serves their metrics; SIGINT stops both.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitCode, sluice, start, tempDataDir } from '../cli/helpers.ts';
import { parsePrometheus, total } from './prometheus-text.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;

void test('sluice run --ui serves the dashboard and /metrics of the app the module runs', { timeout: 30_000 }, async () => {
  const dataDir = tempDataDir();
  await sluice(dataDir, ['topic', 'create', 'events', '--partitions', '2']);
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i }));
  await sluice(dataDir, ['produce', 'events'], { input: lines.join('\n') });
  const module = join(dataDir, 'copy.mts');
  writeFileSync(
    module,
    `import { Sluice } from '${INDEX}';
const app = new Sluice({ name: 'ui-test', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice', checkpointInterval: '100ms' });
app.stream<{ n: number }>('events').map((e) => ({ twice: e.n * 2 })).to('copied');
await app.run();
`,
  );
  const child = start(dataDir, ['run', module, '--ui', '0']);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url === undefined) await sleep(50);
    }
    assert.ok(url, `no dashboard URL on stderr:\n${stderr}`);
    let inTotal = 0;
    for (let i = 0; i < 100 && inTotal < 50; i++) {
      const samples = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
      inTotal = total(samples, 'sluice_records_in_total', { pipeline: 'ui-test', topic: 'events' });
      if (inTotal < 50) await sleep(50);
    }
    assert.equal(inTotal, 50);
    const apps = (await (await fetch(`${url}/api/apps`)).json()) as { name: string; explain: string }[];
    assert.deepEqual(
      apps.map((a) => a.name),
      ['ui-test'],
    );
    assert.match(apps[0].explain, /reads 'events'/);
    const jobs = (await (await fetch(`${url}/api/jobs`)).json()) as { name: string; running: boolean }[];
    assert.deepEqual(jobs.map((j) => [j.name, j.running]), [['ui-test', true]]);
  } finally {
    child.kill('SIGINT');
    assert.equal(await exitCode(child), 0, stderr);
  }
});
