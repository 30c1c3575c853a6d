/**
 * `sluice plan APP [--rate N]`: the planner's figures for a running app. The app measures
 * itself for `--sample-ms` when asked through its control topic (runtime/profile.ts) and
 * answers with its profile; the model (server/planner.ts) turns that into capacity, latency at
 * the rate asked about, window sizes and state, and what would help when it is too much.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { SluiceError } from '../../core/index.ts';
import { formatPlan, planCapacity } from '../../server/planner.ts';
import { askApp } from '../control-request.ts';
import { notOnKafka } from '../kafka.ts';
import { printJson, write } from '../format.ts';
import { integer, withLog } from '../options.ts';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description("measure a running app's cost per record and print its capacity: sustainable rate, latency at a rate, window sizes, what helps")
    .argument('<app>', 'the app name (its `name` option)')
    .option('--rate <records/s>', 'what-if input rate (default: the rate measured)', positiveNumber)
    .option('--sample-ms <ms>', 'how long the app measures itself before answering', integer(250), 3000)
    .option('--timeout-ms <ms>', 'how long to wait for the answer, beyond the sample time', integer(1), 30_000)
    .addHelpText(
      'after',
      `
The model (docs/architecture.md, "The planner"): cost per record c = the loop's working time over
the input records measured; sustainable rate per core 1/c; utilization at rate λ = λ·c/parallelism;
processing latency grows as 1/(1 − utilization); above capacity the backlog grows by λ − capacity
records every second.

Examples:
  $ sluice plan clicks
  $ sluice plan clicks --rate 50000 --json`,
    )
    .action(async (app: string, options: { rate?: number; sampleMs: number; timeoutMs: number }, command: Command) => {
      notOnKafka(command, 'sluice plan', 'an app on Kafka is asked through its dashboard instead (sluice run FILE --ui PORT, the planner panel)');
      await withLog(command, async (log, { dataDir, json }) => {
        const reply = await askApp(log, dataDir, app, { type: 'profile', sampleMs: options.sampleMs }, options.sampleMs + options.timeoutMs, 'profiles are measured');
        if (reply.type === 'profile-failed') throw new SluiceError('PIPELINE_FAILED', `app '${app}' could not measure itself: ${reply.error}`);
        if (reply.type !== 'profile-done') throw new SluiceError('PIPELINE_FAILED', `app '${app}' answered the profile request with '${reply.type}'`);
        const report = planCapacity(reply.profile, options.rate === undefined ? {} : { rate: options.rate });
        if (json) return printJson(report);
        await write(formatPlan(report));
      });
    });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected records per second (a number, 0 or more), got '${value}'.`);
  return n;
}
