import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sluice, tempDataDir } from './helpers.ts';

const EXAMPLE = new URL('../../examples/clicks.ts', import.meta.url).pathname;

test('sluice run executes the DESIGN section 5 program on the data directory it is given', async () => {
  const dataDir = tempDataDir();
  await sluice(dataDir, ['topic', 'create', 'events', '--partitions', '3']);
  const lines = [
    { url: '/a', action: 'click', ts: 1000 },
    { url: '/a', action: 'click', ts: 2000 },
    { url: '/b', action: 'view', ts: 3000 },
    { url: '/b', action: 'click', ts: 400_000 },
  ];
  await sluice(dataDir, ['produce', 'events'], { input: lines.map((l) => JSON.stringify(l)).join('\n') });
  const run = await sluice(dataDir, ['run', EXAMPLE]);
  assert.equal(run.code, 0, run.stderr);
  const out = await sluice(dataDir, ['consume', 'clicks-per-url', '--from-beginning', '--timeout-ms', '300']);
  const results = out.stdout.trim().split('\n').map((line) => JSON.parse(line).value);
  assert.deepEqual(results, [
    { key: '/a', start: 0, end: 300_000, value: 2 },
    { key: '/b', start: 300_000, end: 600_000, value: 1 },
  ]);
});

test('sluice run loads TypeScript that Node cannot strip (an enum) and reports a missing file', async () => {
  const dataDir = tempDataDir();
  const module = join(dataDir, 'enum-pipeline.ts');
  writeFileSync(module, "enum Mode { Fast = 'fast' }\nconst mode: Mode = Mode.Fast;\nconsole.log(`mode=${mode} data=${process.env.SLUICE_DATA_DIR}`);\n");
  const run = await sluice(dataDir, ['run', module]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), `mode=fast data=${dataDir}`);
  const missing = await sluice(dataDir, ['run', join(dataDir, 'nope.ts')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no pipeline module at/);
});
