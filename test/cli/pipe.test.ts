// A reader that stops early closes the pipe (`sluice topic --help | head -1`, `sluice consume t | head`):
// the command ends quietly instead of dying on EPIPE with a stack trace.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { start, tempDataDir } from './helpers.ts';

for (const args of [['topic', '--help'], ['--help']]) {
  void test(`sluice ${args.join(' ')} with its reader gone after the first chunk ends without an EPIPE trace`, async () => {
    const child = start(tempDataDir(), args);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Close our end of the pipe before the command writes, as `head` does once it has enough.
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr);
    assert.equal(code, 0, stderr);
  });
}
