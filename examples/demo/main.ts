// The live demo: a generator appends a continuous mix of clicks, payments, server responses
// and sensor readings to the embedded log; the pipelines of DESIGN section 2 run on it
// unbounded; the dashboard and /metrics show them. Ctrl-C stops everything cleanly.
//
//   npm start [-- --port 7070 --rate 1500 --host 0.0.0.0 --token SECRET]
import { parseArgs } from 'node:util';
import { Sluice } from 'sluice';
import { startServer } from '../../src/server/index.ts';
import { DemoGenerator } from './generator.ts';
import { definePipelines } from './pipelines.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    rate: { type: 'string' },
    'data-dir': { type: 'string' },
  },
});
const port = Number(values.port ?? process.env.PORT ?? 7070);
const rate = Number(values.rate ?? process.env.SLUICE_DEMO_RATE ?? 1500);
const dataDir = values['data-dir'] ?? process.env.SLUICE_DATA_DIR ?? './.sluice-demo';
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: give a port number such as 7070`);
if (!(rate > 0)) throw new Error(`--rate ${values.rate}: give events per second, such as 1500`);

// The server subscribes first, so it sees the job start with its plan.
const token = values.token ?? process.env.SLUICE_TOKEN;
const server = await startServer({ port, host: values.host ?? '127.0.0.1', ...(token ? { token } : {}) });
const generator = await DemoGenerator.open({ dataDir, rate });
generator.start();

const app = new Sluice({ name: 'demo', dataDir });
definePipelines(app);

const shown = token ? `${server.url}/?token=${encodeURIComponent(token)}` : server.url;
process.stdout.write(`Sluice demo: ${rate} events/s into ${dataDir}\nDashboard: ${shown}\nMetrics:   ${server.url}/metrics\nCtrl-C to stop.\n`);

// SIGINT/SIGTERM stop app.run() after a final commit; the generator and server stop after it.
try {
  const summary = await app.run({ stopOnSignals: true });
  process.stdout.write(`\nstopped: ${summary.records} records read, ${summary.written} results written, ${summary.deadLetters} dead letters\n`);
} finally {
  await generator.stop();
  await server.close();
}
