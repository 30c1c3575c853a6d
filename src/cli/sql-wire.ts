/**
 * `sluice sql --listen`: the Postgres wire protocol for the views of the app a .sql file runs,
 * reading the views' topics from the data directory's log.
 */
import { SluiceError } from '../core/index.ts';
import type { SqlSession, WireServer } from '../sql/index.ts';

/** `HOST:PORT` (or `[::1]:PORT`, or a port alone for 127.0.0.1). */
export function listenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))?:?(\d+)$/.exec(address.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SluiceError('INVALID_ARGUMENT', `--listen ${address}: give HOST:PORT, such as --listen 127.0.0.1:6875`);
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export async function startWire(options: { host: string; port: number; password?: string; session: SqlSession; dataDir: string }): Promise<WireServer> {
  const [{ startWireServer }, { EmbeddedBackend }] = await Promise.all([import('../sql/index.ts'), import('../backend/embedded.ts')]);
  const log = await EmbeddedBackend.open(options.dataDir);
  try {
    const server = await startWireServer({ host: options.host, port: options.port, session: options.session, log, ...(options.password ? { password: options.password } : {}) });
    return {
      address: server.address,
      port: server.port,
      close: async () => {
        await server.close();
        await log.close();
      },
    };
  } catch (error) {
    await log.close();
    throw error;
  }
}
