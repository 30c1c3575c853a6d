// docs/cli.md is the command's own help: regenerate it (node scripts/cli-reference.ts > docs/cli.md)
// whenever a command or option changes, or this fails.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cliReference } from '../../scripts/cli-reference.ts';

void test('docs/cli.md matches the help of every sluice command', () => {
  const written = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  assert.equal(written, cliReference(), 'docs/cli.md is out of date: run node scripts/cli-reference.ts > docs/cli.md');
});
