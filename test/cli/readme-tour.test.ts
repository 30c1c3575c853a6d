/**
 * Regression: the README tour's `sluice consume clicks-per-url --from-beginning --max 10` hung
 * when fewer records existed. Every command of the tour is run here as the README writes it, in
 * its order, and each must end with exit 0: lines ending in `&` start in the background (as a
 * shell would) and `kill %1` stops the last of them with SIGTERM; `ID` is the savepoint id the
 * tour printed.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitCode, sluice, start, tempDataDir } from './helpers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The tour's command lines, without the alias, comments and blank lines. */
function tourCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A tour of the CLI'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the README has a tour block');
  return block
    .split('\n')
    .map((line) => line.replace(/\s{2,}#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('alias '));
}

/** Waits until a background `sluice run` says its app started (its first round ran: Ctrl-C and SIGTERM now stop it cleanly). */
async function started(child: ChildProcessWithoutNullStreams, stderr: () => string): Promise<void> {
  let ended = false;
  const exited = exitCode(child).then(() => (ended = true));
  while (!/^started /m.test(stderr())) {
    assert.equal(ended, false, `the app exited before it started: ${stderr()}`);
    await Promise.race([once(child.stderr, 'data'), exited]);
  }
}

void test('every command of the README tour runs as written and ends', { timeout: 240_000 }, async () => {
  const dataDir = tempDataDir();
  const commands = tourCommands();
  assert.ok(commands.length >= 10, `the tour has its commands (${commands.length})`);
  let savepointId: string | undefined;
  let background: { child: ChildProcessWithoutNullStreams; stderr: () => string } | undefined;
  for (const line of commands) {
    if (line === 'kill %1') {
      assert.ok(background, 'kill %1 follows a command started with &');
      background.child.kill('SIGTERM');
      assert.equal(await exitCode(background.child), 0, `${line}: ${background.stderr()}`);
      background = undefined;
      continue;
    }
    const piped = /^echo '(.*)' \| (.*)$/.exec(line);
    const command = (piped?.[2] ?? line).replace(/\s*&$/, '');
    assert.match(command, /^sluice /, `a tour line runs sluice: ${line}`);
    const args = command.slice('sluice '.length).split(/\s+/).map((arg) => (arg === 'ID' ? (savepointId ?? 'ID') : arg));
    assert.ok(!args.includes('ID'), `${line}: the tour takes a savepoint before it uses ID`);
    if (line.endsWith('&')) {
      const child = start(dataDir, args, {}, ROOT);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      background = { child, stderr: () => stderr };
      await started(child, background.stderr);
      continue;
    }
    const result = await sluice(dataDir, args, { cwd: ROOT, ...(piped ? { input: `${piped[1]}\n` } : {}) });
    assert.equal(result.code, 0, `${line} failed: ${result.stderr}`);
    if (args[0] === 'savepoint' && args[1] === 'create') savepointId = /savepoint (sp-\S+)/.exec(result.stdout)?.[1];
    if (args[0] === 'consume' && args[1] === 'clicks-per-url') {
      assert.equal(result.stdout.trim().split('\n').length, 1, 'the one window of the tour came out');
    }
  }
  assert.equal(background, undefined, 'the tour stops what it starts');
  assert.ok(savepointId, 'the tour took a savepoint');
});
