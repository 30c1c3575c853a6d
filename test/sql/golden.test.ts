// Golden SQL tests: each case's sinks hold the expected records, in one bounded run and with a
// checkpoint and restore partway (see golden-run.ts). UPDATE_GOLDEN=1 writes expected.jsonl
// from a straight run (check it by hand before committing).
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCase, runStraight, runWithRestore } from './golden-run.ts';

const DIR = join(import.meta.dirname, 'golden');

for (const name of readdirSync(DIR).sort()) {
  test(`golden SQL: ${name}`, async () => {
    const c = loadCase(DIR, name);
    const straight = await runStraight(c);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(DIR, name, 'expected.jsonl'), `${straight.join('\n')}\n`);
    else assert.deepEqual(straight, c.expected, 'a bounded run gives the expected output');
    assert.ok(straight.length > 0, 'the case produces output');
    for (const cut of [1, Math.floor(c.input.length / 2), c.input.length - 1]) {
      assert.deepEqual(await runWithRestore(c, cut), straight, `a checkpoint after ${cut} input records and a restore give the same output`);
    }
  });
}
