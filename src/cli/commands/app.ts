/**
 * `sluice app reset APP`: forgets an app's committed offsets, state and checkpoints, so its next
 * run processes its input again from the earliest offsets (Kafka Streams' application reset
 * tool). Refused while the app runs; savepoints and output topics stay.
 */
import type { Command } from 'commander';
import { kafkaAppReset, kafkaOf, withKafka } from '../kafka.ts';
import { resetApp } from '../../checkpoint/reset.ts';
import { claimApp } from '../../core/index.ts';
import { paint, printJson, write } from '../format.ts';
import { globalOptions, withLog } from '../options.ts';

export function registerApp(program: Command): void {
  const app = program.command('app').description('manage apps: reset one to process its input again');

  app
    .command('reset')
    .description("forget an app's committed offsets, state and checkpoints, so its next run reads its input from the beginning")
    .argument('<app>', 'the app name (its `name` option)')
    .addHelpText(
      'after',
      `
The app must not be running. Its savepoints, its output topics and its dead-letter topic stay:
delete output topics (sluice topic delete NAME) too if the next run should not add to them.

Examples:
  $ sluice app reset clicks
  $ sluice run examples/clicks.ts          # reads events from the earliest offsets again`,
    )
    .action(async (name: string, _options: object, command: Command) => {
      const kafka = kafkaOf(command);
      if (kafka) return withKafka(kafka, (backend) => kafkaAppReset(backend, name, globalOptions(command).json));
      // withLog only checks that the data directory exists; the reset opens the log itself.
      await withLog(command, async (_log, { dataDir, json }) => {
        const release = claimApp(dataDir, name, 'reset it');
        try {
          const reset = await resetApp(dataDir, name);
          if (json) return printJson({ app: name, ...reset });
          const what = [
            `${reset.offsets} committed offset${reset.offsets === 1 ? '' : 's'}`,
            reset.checkpoints ? 'its checkpoints' : 'no checkpoints',
            reset.state ? 'its state' : 'no state on disk',
          ];
          await write(`${paint('green', 'reset')} ${paint('bold', name)}: forgot ${what.join(', ')}; its next run reads its input from the earliest offsets\n`);
        } finally {
          release();
        }
      });
    });
}
