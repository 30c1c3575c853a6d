/**
 * `sluice savepoint create|list APP`: savepoints of an app. `create` asks the running app
 * through its control topic (`<app>.control`) and waits for the id it answers with; start the
 * app from one with `sluice run FILE --from-savepoint ID`.
 */
import { notOnKafka } from '../kafka.ts';
import type { Command } from 'commander';
import { listSavepoints, savepointTime } from '../../checkpoint/index.ts';
import { SluiceError } from '../../core/index.ts';
import { askApp } from '../control-request.ts';
import { paint, printJson, write } from '../format.ts';
import { globalOptions, integer, withLog } from '../options.ts';

export function registerSavepoint(program: Command): void {
  const savepoint = program.command('savepoint').description('take and list savepoints of apps');

  savepoint
    .command('create')
    .description('ask a running app for a savepoint and print its id')
    .argument('<app>', 'the app name (its `name` option)')
    .option('--timeout-ms <ms>', 'how long to wait for the app to answer', integer(1), 30_000)
    .addHelpText('after', '\nExamples:\n  $ sluice savepoint create clicks\n  $ sluice run pipeline.ts --from-savepoint sp-1764570000000-42')
    .action(async (app: string, options: { timeoutMs: number }, command: Command) => {
      notOnKafka(command, 'sluice savepoint', 'savepoints are not taken yet (an app on Kafka checkpoints into its transaction)');
      await withLog(command, async (log, { dataDir, json }) => {
        const reply = await askApp(log, dataDir, app, { type: 'savepoint' }, options.timeoutMs, 'savepoints are taken');
        if (reply.type === 'savepoint-failed') throw new SluiceError('PIPELINE_FAILED', `app '${app}' could not take the savepoint: ${reply.error}`);
        if (reply.type !== 'savepoint-done') throw new SluiceError('PIPELINE_FAILED', `app '${app}' answered the savepoint request with '${reply.type}'`);
        if (json) return printJson({ app, id: reply.id });
        return write(`${paint('green', 'savepoint')} ${paint('bold', reply.id)} of ${app}\n`);
      });
    });

  savepoint
    .command('list')
    .description("list an app's savepoints, oldest first")
    .argument('<app>', 'the app name')
    .action(async (app: string, _options: object, command: Command) => {
      notOnKafka(command, 'sluice savepoint', 'savepoints are not taken yet (an app on Kafka checkpoints into its transaction)');
      const { dataDir, json } = globalOptions(command);
      const ids = listSavepoints(dataDir, app);
      if (json) return printJson(ids.map((id) => ({ app, id, createdAt: savepointTime(id) })));
      if (ids.length === 0) return write(`app '${app}' has no savepoints; take one with \`sluice savepoint create ${app}\` while it runs\n`);
      await write(`${ids.map((id) => `${id}  ${new Date(savepointTime(id)).toISOString()}`).join('\n')}\n`);
    });
}
