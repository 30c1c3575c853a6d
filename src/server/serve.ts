/**
 * Starts the HTTP server. It binds 127.0.0.1 unless told otherwise; any other address needs a
 * token (`--token` or SLUICE_TOKEN), since metrics and results would otherwise be open to the
 * network.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { SluiceError } from '../core/index.ts';
import { createApp } from './app.ts';
import { Collector } from './collector.ts';

export const DEFAULT_PORT = 7070;
export const TOKEN_ENV = 'SLUICE_TOKEN';

export interface ServerOptions {
  /** Default 7070; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any address but loopback requires `token`. */
  host?: string;
  token?: string;
  /** The collector to serve; default a new one (subscribed from now on). */
  collector?: Collector;
  eventIntervalMs?: number;
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  collector: Collector;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token === '' ? undefined : options.token;
  if (!LOOPBACK.has(host) && token === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', `binding ${host} exposes metrics and results to the network; pass --token <secret> (or set ${TOKEN_ENV}), or bind 127.0.0.1`);
  }
  const ownCollector = options.collector === undefined;
  const collector = options.collector ?? new Collector();
  const app = createApp({ collector, ...(token === undefined ? {} : { token }), ...(options.eventIntervalMs === undefined ? {} : { eventIntervalMs: options.eventIntervalMs }) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_PORT, hostname: host }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', (error) => reject(new SluiceError('INVALID_ARGUMENT', `cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${error.message}; pick another port with --port`, { cause: error })));
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    collector,
    close: async () => {
      // Server-sent event streams never end by themselves: close them, then the listener.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (ownCollector) collector.close();
    },
  };
}
