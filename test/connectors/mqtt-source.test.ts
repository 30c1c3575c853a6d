// sources.mqtt against a real mosquitto: messages published with QoS 1 arrive once while the app
// runs, a non-JSON payload is dead-lettered, messages published while the app is down come from
// its persistent session on restart (and nothing acknowledged comes again), and kill -9 at random
// moments loses nothing (at-least-once: a message may come twice, and the test counts how often).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { Sluice, sinks, sources } from '../../src/index.ts';
import { mqttBroker } from '../support/mosquitto.ts';
import { waitUntil } from '../support/wait.ts';
import { withTemp } from './helpers.ts';

const APP = new URL('./fixtures/mqtt-app.ts', import.meta.url).pathname;

const ids = (path: string): number[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: number }).id) : []);
/** The ids of the messages of the test, without the probes (-1). */
const data = (path: string): number[] => ids(path).filter((i) => i >= 0);

/** Publishes a probe (id -1) until one is in the output: the app has subscribed. */
async function subscribed(url: string, out: string): Promise<void> {
  await waitUntil(async () => {
    await publish(url, -1, 1);
    return ids(out).includes(-1);
  }, 'the app subscribed');
}

async function publish(url: string, from: number, n: number, extra: string[] = []): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `publisher-${from}-${process.pid}` });
  for (let i = from; i < from + n; i++) await client.publishAsync(`readings/s${i % 3}`, JSON.stringify({ id: i }), { qos: 1 });
  for (const payload of extra) await client.publishAsync('readings/bad', payload, { qos: 1 });
  await client.endAsync();
}

void test('sources.mqtt: QoS 1 messages arrive once, a non-JSON one is dead-lettered, and a restart gets what was published while it was down', { timeout: 120_000 }, async () => {
  const url = await mqttBroker();
  await withTemp('mqtt', async (dir) => {
    const out = join(dir, 'out.jsonl');
    const run = () => {
      const app = new Sluice({ name: 'mqtt-read', dataDir: join(dir, 'data'), checkpointInterval: '20ms' });
      app.source<{ id: number }>(sources.mqtt({ url, topic: 'readings/#', qos: 1, clientId: `mqtt-read-${process.pid}` })).to(sinks.file({ path: out }));
      return { app, running: app.run() };
    };
    let { app, running } = run();
    await subscribed(url, out);
    await publish(url, 0, 300, ['not json']);
    await waitUntil(() => data(out).length >= 300, 'the 300 messages in the output');
    app.stop();
    let summary = await running;
    assert.deepEqual(data(out).sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i), 'each message once');
    assert.equal(summary.deadLetters, 1, 'the payload that is not JSON is dead-lettered');

    await publish(url, 300, 100);
    ({ app, running } = run());
    await waitUntil(() => data(out).length >= 400, 'the messages published while the app was down');
    app.stop();
    summary = await running;
    assert.deepEqual(data(out).sort((a, b) => a - b), Array.from({ length: 400 }, (_, i) => i), 'the session kept them; nothing acknowledged came again');
  });
});

void test('sources.mqtt: kill -9 while messages arrive loses none (at-least-once)', { timeout: 180_000 }, async () => {
  const url = await mqttBroker();
  await withTemp('mqtt-crash', async (dir) => {
    const out = join(dir, 'out.jsonl');
    const start = (): ChildProcess => spawn(process.execPath, [APP, join(dir, 'data'), url, out], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve())));
    const TOTAL = 3000;
    // The first run creates the session (and its subscription) before anything is published.
    let child = start();
    try {
      await subscribed(url, out);
      let published = 0;
      const feeding = (async () => {
        for (; published < TOTAL; published += 100) await publish(url, published, 100);
      })();
      for (let kill = 0; kill < 6; kill++) {
        const before = ids(out).length;
        await waitUntil(() => ids(out).length > before || published >= TOTAL, 'progress before the kill');
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
        child.kill('SIGKILL');
        await exited(child);
        child = start();
      }
      await feeding;
      await waitUntil(() => new Set(data(out)).size >= TOTAL, `all ${TOTAL} messages in the output`, { boundMs: 120_000 });
      child.kill('SIGTERM');
      await exited(child);
    } finally {
      child.kill('SIGKILL');
    }
    const seen = data(out);
    const distinct = new Set(seen);
    assert.deepEqual([...distinct].sort((a, b) => a - b), Array.from({ length: TOTAL }, (_, i) => i), 'no message lost');
    // At-least-once: repeats are allowed (messages whose checkpoint committed just before a kill, before their PUBACK went out).
    process.stderr.write(`mqtt crash test: ${seen.length - distinct.size} of ${TOTAL} messages came twice after 6 kills\n`);
  });
});
