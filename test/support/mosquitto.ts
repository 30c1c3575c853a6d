// A real MQTT broker for tests: SLUICE_MQTT_URL when set, else Debian's mosquitto started by this
// test process on a free 127.0.0.1 port with its configuration in a temporary directory, stopped
// when the process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sharedServer } from './local-server.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function start(): Promise<string> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: install Debian's mosquitto (apt-get install -y mosquitto) to run the MQTT tests`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  // Sessions kept in memory while the broker runs; room for what an offline session is sent.
  writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'log_dest stderr', 'log_type error', ''].join('\n'));
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The broker lives as long as the tests do; it must not keep the process alive after them.
  child.unref();
  process.once('exit', () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return `mqtt://127.0.0.1:${port}`;
}

/** The broker's URL. */
export const mqttBroker: () => Promise<string> = sharedServer('SLUICE_MQTT_URL', start);
