// The dashboard runs inside the pipeline's process: 20,000 idle connections must not stop the
// pipeline (they once took it down with EMFILE), and the dashboard answers again once they go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../../src/server/index.ts';
import { exitCode, jsonLines, ok, sluice, start, tempDataDir } from '../cli/helpers.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;
const OPENER = new URL('./fixtures/open-connections.ts', import.meta.url).pathname;

/** Polls `check` until it returns a value, failing with `what` after `tries` attempts. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  assert.fail(`gave up waiting: ${what}`);
}

void test('20,000 idle connections to the dashboard: the pipeline keeps running, the server answers once they close', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  await ok(dataDir, ['topic', 'create', 'events', '--partitions', '2']);
  const module = join(dataDir, 'copy.mts');
  writeFileSync(
    module,
    `import { Sluice } from '${INDEX}';
const app = new Sluice({ name: 'flood', dataDir: process.env.SLUICE_DATA_DIR ?? './.sluice', checkpointInterval: '100ms' });
app.stream<{ n: number }>('events').map((e) => ({ twice: e.n * 2 })).to('copied');
await app.run();
`,
  );
  const app = start(dataDir, ['run', module, '--ui', '0']);
  let stderr = '';
  app.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const openers: ReturnType<typeof spawn>[] = [];
  try {
    const url = await eventually('the dashboard URL on stderr', async () => /dashboard: (http:\/\/127\.0\.0\.1:(\d+))/.exec(stderr) ?? undefined);
    const port = url[2];
    // Two processes of 10,000 each: one process may hold only so many descriptors.
    let opened = 0;
    for (let i = 0; i < 2; i++) {
      const opener = spawn(process.execPath, [OPENER, port, '10000'], { stdio: ['pipe', 'pipe', 'inherit'] });
      openers.push(opener);
      let out = '';
      opener.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      opened += Number((await eventually(`opener ${i} to finish`, async () => /opened (\d+)/.exec(out) ?? undefined, 2400))[1]);
    }
    assert.ok(opened > 0, 'no connection was accepted at all');
    // The server holds a bounded number of them (256 by default), so the pipeline keeps descriptors for its own files.
    const descriptors = readdirSync(`/proc/${app.pid}/fd`).length;
    assert.ok(descriptors < 1000, `the app holds ${descriptors} file descriptors with the connections open`);

    // The pipeline still reads, processes and commits while the connections are held.
    await ok(dataDir, ['produce', 'events'], Array.from({ length: 20 }, (_, n) => JSON.stringify({ n })).join('\n'));
    const copied = await eventually('20 records copied while the connections are open', async () => {
      const result = await sluice(dataDir, ['consume', 'copied', '--from-beginning', '--max', '20', '--timeout-ms', '200']);
      const records = jsonLines(result.stdout);
      return records.length === 20 ? records : undefined;
    }, 200);
    assert.deepEqual(copied.map((r) => (r.value as { twice: number }).twice).sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n * 2));
    assert.equal(app.exitCode, null, `the app exited: ${stderr}`);

    for (const opener of openers) opener.stdin!.end();
    await Promise.all(openers.map((opener) => once(opener, 'close')));
    const jobs = await eventually('the dashboard to answer again', async () => {
      const response = await fetch(`${url[1]}/api/jobs`);
      return response.ok ? ((await response.json()) as { name: string; running: boolean }[]) : undefined;
    });
    assert.deepEqual(jobs.map((j) => [j.name, j.running]), [['flood', true]]);
  } finally {
    for (const opener of openers) opener.kill('SIGKILL');
    app.kill('SIGINT');
    assert.equal(await exitCode(app), 0, stderr);
  }
});

void test('a connection that sends nothing is closed after the idle timeout', async () => {
  const server = await startServer({ port: 0, idleTimeoutMs: 200 });
  try {
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    // The server, not the client, ends it: wait for the close and check nobody asked for it.
    await once(socket, 'close');
    assert.equal(socket.destroyed, true);
  } finally {
    await server.close();
  }
});

void test('without a token, a Host header other than the loopback names with the port is refused (DNS rebinding)', async () => {
  const server = await startServer({ port: 0 });
  try {
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1');
        let data = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
        socket.on('error', reject);
        socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1])));
        socket.write(`GET /api/jobs HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      });
    assert.equal(await ask(`127.0.0.1:${server.port}`), 200);
    assert.equal(await ask(`localhost:${server.port}`), 200);
    assert.equal(await ask(`[::1]:${server.port}`), 200);
    assert.equal(await ask(`attacker.example:${server.port}`), 421);
    assert.equal(await ask('127.0.0.1:1'), 421);
    const response = await fetch(`${server.url}/`);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  } finally {
    await server.close();
  }
});
