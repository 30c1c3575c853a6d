/**
 * `sluice run FILE`: runs a pipeline module (`.ts`, `.mts`, `.js`, `.mjs`). TypeScript runs
 * without a build step: tsx loads it, so syntax Node cannot strip (enums, decorators) works too.
 * The module builds its app and calls `app.run()`; SIGINT/SIGTERM stop it (the app takes its
 * final checkpoint and exits 0): the launcher handles signals and savepoint options.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkParallelism } from '../../api/index.ts';
import { SluiceError } from '../../core/index.ts';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type RoundEvent, roundChannel } from '../../runtime/metrics-events.ts';
import { type RunEndEvent, runChannel } from '../../sluice.ts';
import { printJson } from '../format.ts';
import { kafkaOf } from '../kafka.ts';
import { DROP_STATE_ENV, FROM_BEGINNING_ENV, FROM_SAVEPOINT_ENV, launch } from '../launcher.ts';
import { DATA_DIR_ENV, globalOptions } from '../options.ts';
import { importPipeline } from '../pipeline-loader.ts';
import { summaryJson, summaryText } from '../run-summary.ts';

const RUNNABLE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

interface RunCommandOptions {
  ui?: string | true;
  host?: string;
  token?: string;
  fromSavepoint?: string;
  dropState?: string;
  fromBeginning?: boolean;
  parallelism?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline module (TypeScript or JavaScript) until it finishes or is stopped')
    .argument('<file>', 'the pipeline module: .ts, .mts, .js or .mjs')
    .option('--ui [port]', 'serve the dashboard and /metrics for the apps the module runs (default port 7070)')
    .option('--host <address>', 'address for --ui (default 127.0.0.1; any other needs --token)')
    .option('--token <secret>', 'require this token on every --ui request (default $SLUICE_TOKEN)')
    .option('--from-savepoint <id>', `start from this savepoint (see \`sluice savepoint create\`) instead of the last checkpoint (default $${FROM_SAVEPOINT_ENV})`)
    .option('--drop-state <operators>', `with --from-savepoint: operators (comma-separated) whose saved state to leave behind (default $${DROP_STATE_ENV})`)
    .option('--parallelism <threads>', "worker threads to run each app's tasks on, at most one per source partition (default the app's parallelism option, else 1)")
    .option('--from-beginning', `read the input again from the earliest offsets with empty state (forgets the app's offsets, state and checkpoints, as \`sluice app reset\` does; default $${FROM_BEGINNING_ENV}=1)`)
    .addHelpText(
      'after',
      `
The module creates \`new Sluice({ name, dataDir: process.env.${DATA_DIR_ENV} ?? './.sluice' })\`,
declares its streams and awaits \`app.run()\` (or \`app.run({ bounded: true })\` for a batch job).
--data-dir is passed to it as ${DATA_DIR_ENV}. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
When a run ends, its summary goes to stderr (a JSON line on stdout with --json). An app
resumes where its last run stopped; --from-beginning processes its input again.

Examples:
  $ sluice run examples/clicks.ts
  $ sluice run pipeline.mjs --data-dir /var/lib/sluice
  $ sluice run examples/clicks.ts --from-beginning
  $ sluice run pipeline.ts --ui 8080
  $ sluice run pipeline.ts --parallelism 2
  $ sluice run pipeline.ts --from-savepoint sp-1764570000000-42 --drop-state old-window`,
    )
    .action(async (file: string, options: RunCommandOptions, command: Command) => {
      const { dataDir, json } = globalOptions(command);
      const path = resolve(file);
      if (!existsSync(path)) throw new SluiceError('INVALID_ARGUMENT', `no pipeline module at ${path}`);
      if (!RUNNABLE.has(extname(path))) {
        throw new SluiceError('INVALID_ARGUMENT', `${file}: sluice run takes a .ts, .mts, .js or .mjs module`);
      }
      process.env[DATA_DIR_ENV] = dataDir;
      // --ui: the server subscribes before the module loads, so it sees every app and job the module starts.
      const server = options.ui === undefined ? undefined : await startUi(options.ui, options.host, options.token);
      const onRunEnd = (event: unknown): void => {
        if (json) void printJson(summaryJson(event as RunEndEvent));
        else process.stderr.write(summaryText(event as RunEndEvent));
      };
      // The first round of a run says it started (its signal handlers are in place by then); then the probe is left alone.
      const onFirstRound = (event: unknown): void => {
        unsubscribe(roundChannel.name, onFirstRound);
        process.stderr.write(`started ${(event as RoundEvent).job}\n`);
      };
      subscribe(runChannel.name, onRunEnd);
      subscribe(roundChannel.name, onFirstRound);
      try {
        const parallelism = options.parallelism === undefined ? undefined : checkParallelism(Number(options.parallelism), `--parallelism ${options.parallelism}`);
        await launch({ fromSavepoint: options.fromSavepoint, dropState: options.dropState, fromBeginning: options.fromBeginning, kafka: kafkaOf(command), parallelism, entry: path }, () => importPipeline(path));
      } finally {
        unsubscribe(runChannel.name, onRunEnd);
        unsubscribe(roundChannel.name, onFirstRound);
        await server?.close();
      }
    });
}

async function startUi(ui: string | true, host: string | undefined, token: string | undefined): Promise<{ close(): Promise<void> }> {
  const { DEFAULT_PORT, startServer, TOKEN_ENV } = await import('../../server/index.ts');
  const port = ui === true ? DEFAULT_PORT : Number(ui);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SluiceError('INVALID_ARGUMENT', `--ui ${String(ui)}: give a port number, such as --ui 7070`);
  const secret = token ?? process.env[TOKEN_ENV];
  const server = await startServer({ port, portOption: '--ui', ...(host === undefined ? {} : { host }), ...(secret ? { token: secret } : {}) });
  process.stderr.write(`dashboard: ${server.url}${secret ? '/?token=<token>' : ''}  metrics: ${server.url}/metrics\n`);
  return server;
}
