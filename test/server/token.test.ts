// Binding: loopback by default; any other address needs a token; with a token every request
// must carry it (header or query), else 401.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../src/index.ts';
import { startServer } from '../../src/server/index.ts';

void test('binding a non-loopback address without a token is refused before listening', async () => {
  await assert.rejects(startServer({ host: '0.0.0.0', port: 0 }), (error: unknown) => isSluiceError(error) && /--token/.test(error.message));
  await assert.rejects(startServer({ host: '0.0.0.0', port: 0, token: '' }), /--token/);
});

void test('with a token, requests without it (or with a wrong one) get 401; with it, 200', async () => {
  const server = await startServer({ host: '127.0.0.1', port: 0, token: 's3cret-token' });
  try {
    for (const path of ['/', '/metrics', '/api/snapshot', '/events', '/vendor/uplot.js']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 401, path);
      await response.body?.cancel();
    }
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer s3cret-tokeN' } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const header = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
    assert.equal(header.status, 200);
    await header.text();
    const query = await fetch(`${server.url}/api/snapshot?token=s3cret-token`);
    assert.equal(query.status, 200);
    assert.ok(Array.isArray(((await query.json()) as { jobs: unknown[] }).jobs));
  } finally {
    await server.close();
  }
});

void test('without a token on loopback, the dashboard and its files are served', async () => {
  const server = await startServer({ port: 0 });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const [path, type] of [['/', 'text/html'], ['/dashboard.js', 'text/javascript'], ['/vendor/uplot.js', 'text/javascript'], ['/vendor/uplot.css', 'text/css']]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
      assert.ok((await response.text()).length > 100, path);
    }
  } finally {
    await server.close();
  }
});
