// What `sluice run` does around the module, which the library leaves to it (src/cli/launcher.ts):
// SIGINT stops every unbounded app the module runs after a final checkpoint, though the module
// never asked for it; a signal while no app runs ends the process as usual; and
// $SLUICE_FROM_SAVEPOINT stands for --from-savepoint.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCode, ok, sluice, start, tempDataDir } from './helpers.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;

/** Resolves once the child has printed `text` on stdout. */
function printed(child: ReturnType<typeof start>, text: string): Promise<string> {
  let stdout = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(text)) resolve(stdout);
    });
    void exitCode(child).then(() => reject(new Error(`ended before printing ${text}: ${stdout}`)));
  });
}

void test('sluice run: SIGINT stops an unbounded app after a final checkpoint, exit 0, without stopOnSignals in the module', { timeout: 60_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'numbers', '--partitions', '1']);
  await ok(dataDir, ['produce', 'numbers'], '1\n2\n3\n');
  const module = join(dataDir, 'doubler.mts');
  writeFileSync(
    module,
    `import { Sluice } from '${INDEX}';
const app = new Sluice({ name: 'doubler', dataDir: process.env.SLUICE_DATA_DIR, checkpointInterval: '1h' });
let seen = 0;
app.stream<number>('numbers').map((n) => { if (++seen === 3) console.log('ready'); return n * 2; }).to('doubled');
const summary = await app.run();
console.log('stopped after', summary.records);
`,
  );
  const child = start(dataDir, ['run', module]);
  const ready = printed(child, 'stopped after 3');
  await printed(child, 'ready');
  child.kill('SIGINT');
  assert.equal(await exitCode(child), 0);
  await ready;
  // The checkpoint interval is an hour: only the final checkpoint can have committed the output.
  const out = await ok(dataDir, ['consume', 'doubled', '--from-beginning', '--timeout-ms', '300']);
  assert.deepEqual(out.trim().split('\n').map((line) => JSON.parse(line).value), [2, 4, 6]);
});

void test('sluice run: a signal while the module runs no app ends the process as usual', { timeout: 30_000 }, async () => {
  const dataDir = tempDataDir();
  const module = join(dataDir, 'waits.mts');
  writeFileSync(module, "console.log('waiting');\nawait new Promise(() => setInterval(() => {}, 1000));\n");
  const child = start(dataDir, ['run', module]);
  await printed(child, 'waiting');
  child.kill('SIGINT');
  assert.equal(await exitCode(child), null, 'ended by SIGINT itself');
  assert.equal(child.signalCode, 'SIGINT');
});

void test('sluice run: $SLUICE_FROM_SAVEPOINT stands for --from-savepoint; --drop-state needs one', { timeout: 30_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'input', '--partitions', '1']);
  const app = new URL('./fixtures/counter-app.ts', import.meta.url).pathname;
  const fromEnv = await sluice(dataDir, ['run', app], { env: { SLUICE_BOUNDED: '1', SLUICE_FROM_SAVEPOINT: 'sp-0-0' } });
  assert.notEqual(fromEnv.code, 0);
  assert.match(fromEnv.stderr, /has no savepoint 'sp-0-0'/);
  const dropOnly = await sluice(dataDir, ['run', app, '--drop-state', 'counter'], { env: { SLUICE_BOUNDED: '1' } });
  assert.notEqual(dropOnly.code, 0);
  assert.match(dropOnly.stderr, /--drop-state goes with --from-savepoint ID/);
  const plain = await sluice(dataDir, ['run', app], { env: { SLUICE_BOUNDED: '1' } });
  assert.equal(plain.code, 0, plain.stderr);
});
