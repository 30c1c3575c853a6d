/**
 * Starts the HTTP server. It binds 127.0.0.1 unless told otherwise; any other address needs a
 * token (`--token` or SLUICE_TOKEN), since metrics and results would otherwise be open to the
 * network.
 *
 * The server runs inside the pipeline's process, so it must never take the pipeline down: it
 * holds a bounded number of connections, drops idle ones, and logs its own failures instead of
 * throwing them.
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
  /** Connections held at once (default 256); more are closed as they arrive. */
  maxConnections?: number;
  /** A connection with no bytes either way for this long is closed (default 30 s; event streams write every second). */
  idleTimeoutMs?: number;
  /** How the user chooses the port, for the port-in-use message (default `--port`; `sluice run` says `--ui`). */
  portOption?: string;
  /** Where the server's own failures are reported (default stderr). */
  warn?: (message: string) => void;
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
  const requested = options.port ?? DEFAULT_PORT;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`sluice: ${message}\n`));
  // The allowed Host headers are known once the port is: filled in before the first request.
  const hosts = new Set<string>();
  const app = createApp({
    collector,
    ...(token === undefined ? { allowedHosts: hosts } : { token }),
    ...(options.eventIntervalMs === undefined ? {} : { eventIntervalMs: options.eventIntervalMs }),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: requested, hostname: host }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', (error) => reject(new SluiceError('INVALID_ARGUMENT', `cannot listen on ${host}:${requested}: ${error.message}; pick another port with ${options.portOption ?? '--port'} PORT`, { cause: error })));
  });
  guard(server, options.maxConnections ?? 256, options.idleTimeoutMs ?? 30_000, warn);
  const port = (server.address() as AddressInfo).port;
  for (const name of ['127.0.0.1', 'localhost', '[::1]']) hosts.add(`${name}:${port}`);
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

/**
 * Limits that keep the pipeline alive whatever clients do: a cap on open connections (each is
 * a file descriptor the pipeline's own files need too), an idle timeout, and errors logged.
 */
function guard(server: Server, maxConnections: number, idleTimeoutMs: number, warn: (message: string) => void): void {
  server.maxConnections = maxConnections;
  server.headersTimeout = Math.min(server.headersTimeout, idleTimeoutMs);
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, idleTimeoutMs);
  let refused = 0;
  server.on('drop', () => {
    // Said once per thousand, so a flood of connections cannot flood the log either.
    if (refused++ % 1000 === 0) warn(`dashboard: ${maxConnections} connections open, refusing more (${refused} so far)`);
  });
  server.on('connection', (socket) => {
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.on('error', (error) => warn(`dashboard server: ${error.message} (the pipeline goes on)`));
}
