/**
 * `sluice savepoint create|list APP`: savepoints of an app. `create` asks the running app
 * through its control topic (`<app>.control`) and waits for the id it answers with; start the
 * app from one with `sluice run FILE --from-savepoint ID`.
 */
import { notOnKafka } from '../kafka.ts';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { EmbeddedBackend } from '../../backend/embedded.ts';
import { listSavepoints, savepointTime } from '../../checkpoint/index.ts';
import { jsonCodec, runningApp, SluiceError } from '../../core/index.ts';
import { controlTopic, safeDecode } from '../../runtime/control.ts';
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
        const backend = EmbeddedBackend.wrap(log);
        const topic = controlTopic(app);
        if (!log.listTopics().some((t) => t.name === topic)) {
          throw new SluiceError('INVALID_ARGUMENT', `app '${app}' has never run in this data directory (no topic '${topic}'); start it with \`sluice run FILE\``);
        }
        // Savepoints are taken by the running app: without one, nobody would ever answer.
        if (runningApp(dataDir, app) === undefined) {
          throw new SluiceError('INVALID_ARGUMENT', `no process runs app '${app}' in ${dataDir}; savepoints are taken while it runs: start it with \`sluice run FILE\`, then ask again`);
        }
        let [offset] = await backend.endOffsets(topic);
        const request = randomUUID();
        await log.produce(topic, [{ key: null, value: jsonCodec.encode({ type: 'savepoint', request }), timestamp: Date.now() }]);
        const deadline = Date.now() + options.timeoutMs;
        while (Date.now() < deadline) {
          const { records, nextOffset } = await backend.fetch(topic, 0, offset, 100);
          for (const record of records) {
            const reply = safeDecode(record.value);
            if (reply?.request !== request) continue;
            if (reply.type === 'savepoint-failed') throw new SluiceError('PIPELINE_FAILED', `app '${app}' could not take the savepoint: ${reply.error}`);
            if (reply.type === 'savepoint-done') {
              if (json) return printJson({ app, id: reply.id });
              return write(`${paint('green', 'savepoint')} ${paint('bold', reply.id)} of ${app}\n`);
            }
          }
          offset = nextOffset;
          await backend.waitForData(topic, 0, offset, Math.max(1, Math.min(500, deadline - Date.now())));
        }
        throw new SluiceError('PIPELINE_FAILED', `app '${app}' did not answer within ${options.timeoutMs} ms; is it running (sluice run) in this data directory?`);
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
