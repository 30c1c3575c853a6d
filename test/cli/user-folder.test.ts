/**
 * Regression: `sluice run hello.ts` in a user's own folder failed on the README's top-level
 * `await` when its package.json said `"type": "commonjs"` (what `npm init -y` writes) or there
 * was none. A pipeline module is an ES module wherever it is, and `import ... from 'sluice'`
 * resolves to the package installed in the folder's node_modules (`npm install <folder>` links it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonLines, ok, sluice, tempDataDir } from './helpers.ts';

const PACKAGE_ROOT = new URL('../..', import.meta.url).pathname;

/** The README's first program, with its app and output named `name`. */
function readmeProgram(name: string, typed: boolean): string {
  const type = typed ? '<{ url: string; action: string; ts: number }>' : '';
  const e = typed ? '(e: { url: string; action: string; ts: number })' : '(e)';
  return `import { Sluice, Watermarks, TumblingWindow, MINUTES } from 'sluice';

const app = new Sluice({ name: '${name}', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice' });

app.stream${type}('events', {
  timestamp: ${e} => e.ts,
  watermark: Watermarks.boundedOutOfOrderness('5s'),
})
  .filter(${e} => e.action === 'click')
  .keyBy(${e} => e.url)
  .window(TumblingWindow.of(5, MINUTES))
  .count()
  .to('${name}-out');

await app.run({ bounded: true });
`;
}

/** A user's folder as `npm init -y` leaves it (or with no package.json), with sluice installed as a link. */
function userFolder(packageJson: object | undefined): string {
  const dir = join(tempDataDir(), 'project');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'sluice'), 'dir');
  if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
  return dir;
}

const NPM_INIT = { name: 'project', version: '1.0.0', main: 'index.js', license: 'ISC', type: 'commonjs' };

for (const [label, packageJson, file, threads] of [
  ['a "type": "commonjs" folder (npm init -y), .ts', NPM_INIT, 'hello.ts', 1],
  ['a folder without package.json, .ts', undefined, 'hello.ts', 1],
  ['a "type": "commonjs" folder, .js', NPM_INIT, 'hello.js', 1],
  ['a "type": "commonjs" folder (npm init -y), .ts, on 2 worker threads', NPM_INIT, 'hello.ts', 2],
] as const) {
  void test(`the README program runs with its top-level await in ${label}`, async () => {
    const dir = userFolder(packageJson);
    const name = file.endsWith('.ts') ? 'hello' : 'hello-js';
    writeFileSync(join(dir, file), readmeProgram(name, file.endsWith('.ts')));
    // The default data directory, ./.sluice in the user's folder, as a newcomer has it.
    const inFolder = { cwd: dir };
    assert.equal((await sluice(undefined, ['produce', 'events', '--partitions', '2'], { ...inFolder, input: '{"key":"/a","value":{"url":"/a","action":"click","ts":1000}}\n' })).code, 0);
    const run = await sluice(undefined, ['run', file, ...(threads > 1 ? ['--parallelism', String(threads)] : [])], inFolder);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /Top-level await|cjs/);
    const out = await sluice(undefined, ['consume', `${name}-out`, '--from-beginning', '--timeout-ms', '300'], inFolder);
    assert.deepEqual(
      jsonLines(out.stdout).map((r) => r.value),
      [{ key: '/a', start: 0, end: 300_000, value: 1 }],
    );
  });
}

void test('a SluiceError thrown by a pipeline module is printed as one line, without a stack', async () => {
  const dir = userFolder(NPM_INIT);
  writeFileSync(
    join(dir, 'check.ts'),
    `import { SluiceError } from 'sluice';
throw new SluiceError('INVALID_ARGUMENT', 'wrong on purpose');
`,
  );
  await ok(dir, ['topic', 'create', 'x', '--partitions', '1']);
  const run = await sluice(undefined, ['run', 'check.ts', '--data-dir', dir], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'error: wrong on purpose\n');
});

void test("the README's tsconfig type-checks the README program in a CommonJS folder against the shipped sources", { timeout: 180_000 }, async () => {
  const dir = userFolder(NPM_INIT);
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const tsconfig = /### Type-checking against Sluice[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(tsconfig, 'the README shows a tsconfig');
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig);
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(join(PACKAGE_ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(join(dir, 'hello.ts'), readmeProgram('hello', true));
  const tsc = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: dir, encoding: 'utf8' });
  assert.equal(tsc.status, 0, `tsc reported:\n${tsc.stdout}${tsc.stderr}`);
});
