// sources.file against real files: JSON lines and CSV over a glob, bounded by default; a later
// run reads only what was added (positions live in the checkpoint); watch: true follows appends;
// malformed records go to the dead letters with their position.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddedBackend } from '../../src/backend/embedded.ts';
import { Sluice, sinks, sources } from '../../src/index.ts';
import { waitUntil } from '../support/wait.ts';
import { withTemp } from './helpers.ts';

const lines = (path: string): unknown[] => (existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

async function deadLetters(dataDir: string, app: string): Promise<{ error: string; offset: number }[]> {
  const log = await EmbeddedBackend.open(dataDir);
  try {
    const out: { error: string; offset: number }[] = [];
    let offset = 0;
    for (;;) {
      const { records, nextOffset } = await log.fetch(`${app}.dlq`, 0, offset, 1000);
      for (const r of records) out.push(JSON.parse(Buffer.from(r.value!).toString('utf8')));
      if (nextOffset === offset) return out;
      offset = nextOffset;
    }
  } finally {
    await log.close();
  }
}

void test('sources.file reads JSON lines over a glob in name order; a later bounded run reads only what was added', { timeout: 60_000 }, async () => {
  await withTemp('file-source', async (dir) => {
    const events = join(dir, 'events');
    mkdirSync(events);
    writeFileSync(join(events, 'a.jsonl'), '{"n":1}\n{"n":2}\n\n{"n":3}\n');
    writeFileSync(join(events, 'b.jsonl'), '{"n":4}\r\nnot json\n{"n":5}');
    writeFileSync(join(events, 'skip.txt'), '{"n":99}\n');
    const out = join(dir, 'out.jsonl');
    const run = async () => {
      const app = new Sluice({ name: 'reader', dataDir: join(dir, 'data'), checkpointInterval: '10ms' });
      app.source(sources.file({ path: join(events, '*.jsonl'), format: 'jsonl' })).map((e: { n: number }) => ({ n: e.n * 10 })).to(sinks.file({ path: out }));
      return app.run({ bounded: true, batchSize: 2 });
    };
    const first = await run();
    assert.deepEqual(lines(out), [10, 20, 30, 40, 50].map((n) => ({ n })));
    assert.equal(first.deadLetters, 1);
    const letters = await deadLetters(join(dir, 'data'), 'reader');
    assert.equal(letters.length, 1);
    assert.match(letters[0].error, /JSON|Unexpected token/);
    // More lines in a known file (after its last line, which had no line break) and a new file.
    appendFileSync(join(events, 'a.jsonl'), '{"n":6}\n');
    writeFileSync(join(events, 'c.jsonl'), '{"n":7}\n');
    await run();
    assert.deepEqual(lines(out), [10, 20, 30, 40, 50, 60, 70].map((n) => ({ n })), 'each line once over both runs');
  });
});

void test('sources.file reads CSV with a header: quoted fields, inferred and declared types', { timeout: 60_000 }, async () => {
  await withTemp('csv-source', async (dir) => {
    writeFileSync(join(dir, 'orders.csv'), 'id,customer,total,note\r\n1,acme,12.5,"big, early"\r\n2,"bob ""b""",3,"two\nlines"\r\n3,zed,x,\r\n007,eve,1,ok\r\n');
    const out = join(dir, 'orders.jsonl');
    const app = new Sluice({ name: 'csv', dataDir: join(dir, 'data') });
    app.source(sources.file({ path: join(dir, '*.csv'), schema: { id: 'string', total: 'number' } })).to(sinks.file({ path: out }));
    const summary = await app.run({ bounded: true });
    assert.deepEqual(lines(out), [
      { id: '1', customer: 'acme', total: 12.5, note: 'big, early' },
      { id: '2', customer: 'bob "b"', total: 3, note: 'two\nlines' },
      { id: '007', customer: 'eve', total: 1, note: 'ok' },
    ]);
    assert.equal(summary.deadLetters, 1, "the row whose total is 'x'");
    const [letter] = await deadLetters(join(dir, 'data'), 'csv');
    assert.match(letter.error, /column 'total' is a number, got "x"/);
  });
});

void test('sources.file with watch: true follows appended lines and new files; a stopped app resumes after its last record', { timeout: 60_000 }, async () => {
  await withTemp('watch-source', async (dir) => {
    const events = join(dir, 'in');
    mkdirSync(events);
    writeFileSync(join(events, '1.jsonl'), '{"n":1}\n');
    const out = join(dir, 'out.jsonl');
    const start = () => {
      const app = new Sluice({ name: 'follow', dataDir: join(dir, 'data'), checkpointInterval: '20ms' });
      app.source(sources.file({ path: join(events, '*.jsonl'), watch: true, pollIntervalMs: 20 })).to(sinks.file({ path: out }));
      return { app, running: app.run() };
    };
    let { app, running } = start();
    await waitUntil(() => lines(out).length === 1, 'the first line written');
    appendFileSync(join(events, '1.jsonl'), '{"n":2}\n{"n":');
    await waitUntil(() => lines(out).length === 2, 'the appended line');
    appendFileSync(join(events, '1.jsonl'), '3}\n');
    writeFileSync(join(events, '2.jsonl'), '{"n":4}\n');
    await waitUntil(() => lines(out).length === 4, 'the completed line and the new file');
    app.stop();
    await running;
    writeFileSync(join(events, '3.jsonl'), '{"n":5}\n');
    ({ app, running } = start());
    await waitUntil(() => lines(out).length >= 5, 'the file added while stopped');
    app.stop();
    await running;
    assert.deepEqual(lines(out), [1, 2, 3, 4, 5].map((n) => ({ n })));
  });
});
