// What the test helpers of outside servers (MQTT, Postgres) share: a free port to start one on,
// and one server per test process, unless the environment names one already running.
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A 127.0.0.1 port nothing listens on now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * The URL of a server: the environment variable `envVar` when set, else that of the one server
 * `start` brings up on the first call, shared by every later call of this process.
 */
export function sharedServer(envVar: string, start: () => Promise<string>): () => Promise<string> {
  let started: Promise<string> | undefined;
  return () => {
    const given = process.env[envVar];
    if (given !== undefined && given !== '') return Promise.resolve(given);
    started ??= start();
    return started;
  };
}
