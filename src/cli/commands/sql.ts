/**
 * `sluice sql`: streaming SQL. With `-f FILE.sql` it runs the file's statements as one app
 * (materialized views and sinks run continuously, a bare SELECT prints its rows as JSON
 * lines; `--bounded` processes what the sources hold now, fires every window and stops).
 * Without a file it is an interactive prompt (see sql-shell.ts). `--listen` also serves the
 * Postgres wire protocol, so psql and Postgres drivers read the materialized views.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { isSluiceError, SluiceError } from '../../core/index.ts';
import { Sluice } from '../../sluice.ts';
import type { RunEndEvent } from '../../sluice.ts';
import { CommandExit } from '../exit.ts';
import { DATA_DIR_ENV, globalOptions } from '../options.ts';
import { summaryJson, summaryText } from '../run-summary.ts';
import { errorText, resultText } from '../sql-output.ts';
import { printJson } from '../format.ts';
import type { SqlSession } from '../../sql/index.ts';

interface SqlCommandOptions {
  file?: string;
  bounded?: boolean;
  name?: string;
  listen?: string;
  password?: string;
  fromBeginning?: boolean;
}

export const SQL_PASSWORD_ENV = 'SLUICE_SQL_PASSWORD';

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('streaming SQL: run a .sql file as an app, or type statements at a prompt')
    .option('-f, --file <file>', 'run the statements of this file as one app (views and sinks run until stopped)')
    .option('--bounded', 'with -f: process what the sources hold now, fire every window, and stop')
    .option('--name <app>', 'the app name (consumer group, state, view topics); default the file name without .sql')
    .option('--from-beginning', "with -f: read the input again from the earliest offsets with empty state (forgets the app's offsets, state and checkpoints)")
    .option('--listen <host:port>', 'with -f: also serve the Postgres wire protocol on this address, so psql and drivers read the views')
    .option('--password <secret>', `password Postgres clients must give to --listen (default $${SQL_PASSWORD_ENV}; needed for any address but loopback)`)
    .addHelpText(
      'after',
      `
A file declares sources, views and sinks:
  CREATE SOURCE page_views (page TEXT, event_time TIMESTAMP,
    WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND)
    WITH (topic = 'page_views', format = 'json', timestamp = 'event_time');
  CREATE MATERIALIZED VIEW views_per_minute AS
    SELECT page, TUMBLE_START(event_time, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS view_count
    FROM page_views GROUP BY page, TUMBLE(event_time, INTERVAL '1' MINUTE);
  CREATE SINK views_out FROM views_per_minute WITH (topic = 'views-per-minute');
and changelog tables, joined with streams at each event's time:
  CREATE TABLE pages (page TEXT PRIMARY KEY, owner TEXT) WITH (topic = 'pages');
  SELECT v.page, p.owner FROM page_views v
    LEFT JOIN pages FOR SYSTEM_TIME AS OF PROCTIME() AS p ON v.page = p.page;
A materialized view writes its rows to the topic <app>.view.<view>; a SELECT outside a view prints
its rows as JSON lines. Ctrl-C (SIGINT) or SIGTERM stops a run cleanly. At the prompt (no -f), a
SELECT runs over what the sources hold now and prints a table; statements end with ;.
The language is in docs/sql.md. --data-dir is passed to the app as ${DATA_DIR_ENV}.

Examples:
  $ sluice sql -f pageviews.sql --bounded
  $ sluice sql -f pageviews.sql --listen 127.0.0.1:6875
  $ psql -h 127.0.0.1 -p 6875 -c 'SELECT * FROM views_per_minute ORDER BY view_count DESC LIMIT 5'
  $ sluice sql`,
    )
    .action(async (options: SqlCommandOptions, command: Command) => {
      const { dataDir, json } = globalOptions(command);
      process.env[DATA_DIR_ENV] = dataDir;
      if (options.file === undefined) {
        for (const flag of ['bounded', 'listen', 'fromBeginning'] as const) {
          if (options[flag] !== undefined) throw new SluiceError('INVALID_ARGUMENT', `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs a file: sluice sql -f FILE.sql --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        }
        const { runShell } = await import('../sql-shell.ts');
        await runShell({ dataDir, json, ...(options.name ? { name: options.name } : {}) });
        return;
      }
      if (options.bounded && options.listen !== undefined) throw new SluiceError('INVALID_ARGUMENT', '--listen serves views while the app runs; drop --bounded to keep it running');
      await runFile(options.file, options, dataDir, json);
    });
}

async function runFile(file: string, options: SqlCommandOptions, dataDir: string, json: boolean): Promise<void> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SluiceError('INVALID_ARGUMENT', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const name = options.name ?? basename(path, extname(path)).replace(/[^A-Za-z0-9._-]/g, '-');
  const app = new Sluice({ name, dataDir });
  const { SqlSession } = await import('../../sql/index.ts');
  const session = new SqlSession(app, { onQuery: (stream) => stream.print() });
  try {
    const results = await session.execute(text);
    for (const r of results) if (r.tag === 'SHOW' || r.tag === 'DESCRIBE' || r.tag === 'EXPLAIN') process.stderr.write(resultText(r));
  } catch (error) {
    if (isSluiceError(error) && 'excerpt' in error) throw new CommandExit(errorText(error, file).trimEnd(), 1);
    throw error;
  }
  if (!app.graph.nodes.some((n) => n.kind === 'sink' || n.kind === 'print')) {
    throw new SluiceError('INVALID_ARGUMENT', `${file} declares nothing to run: add CREATE MATERIALIZED VIEW ... AS SELECT ..., CREATE SINK, or a SELECT`);
  }
  const server = options.listen === undefined ? undefined : await startListening(options.listen, options.password, session, dataDir);
  try {
    const summary = await app.run({ ...(options.bounded ? { bounded: true } : { stopOnSignals: true }), ...(options.fromBeginning ? { fromBeginning: true } : {}) });
    const event: RunEndEvent = { app: name, summary, outputs: app.graph.nodes.flatMap((n) => (n.kind === 'sink' ? [n.topic] : [])) };
    if (json) await printJson(summaryJson(event));
    else process.stderr.write(summaryText(event));
  } finally {
    await server?.close();
  }
}

async function startListening(address: string, password: string | undefined, session: SqlSession, dataDir: string): Promise<{ close(): Promise<void> }> {
  const { listenAddress, startWire } = await import('../sql-wire.ts');
  const { host, port } = listenAddress(address);
  const secret = password ?? process.env[SQL_PASSWORD_ENV];
  const server = await startWire({ host, port, session, dataDir, ...(secret ? { password: secret } : {}) });
  process.stderr.write(`postgres: listening on ${server.address} (psql -h ${host} -p ${server.port})\n`);
  return server;
}
