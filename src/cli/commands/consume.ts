/** `sluice consume TOPIC`: print a topic's records as JSON lines, once or following it. */
import { type Command, Option } from 'commander';
import type { Isolation } from '../../log/index.ts';
import { type ConsumeOptions, type StartAt, consume } from '../consumer.ts';
import { kafkaConsume, kafkaOf, withKafka } from '../kafka.ts';
import { paint, write } from '../format.ts';
import { integer, withLog } from '../options.ts';

interface ConsumeFlags {
  group?: string;
  fromBeginning?: boolean;
  offset?: number;
  fromTimestamp?: number;
  partition?: number;
  max?: number;
  timeoutMs?: number;
  sessionTimeoutMs?: number;
  isolation: Isolation;
}

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('print records of a topic as JSON lines')
    .argument('<topic>', 'the topic to read')
    .option('-g, --group <group>', "consumer group: share the topic's partitions with the group's other members, start from its committed offsets (earliest when none) and commit what was printed")
    .option('--session-timeout-ms <ms>', 'with --group: a member silent for this long (a hung process) loses its partitions to the others (default 10000)', integer(100))
    .addOption(new Option('--from-beginning', 'start at the first offset of each partition').conflicts(['offset', 'fromTimestamp']))
    .addOption(new Option('--offset <n>', 'start at this offset in each partition read').argParser(integer(0)).conflicts(['fromTimestamp']))
    .option('--from-timestamp <ms>', 'start at the first record with a timestamp at or after this epoch millisecond', integer(0))
    .option('--partition <p>', 'read only this partition', integer(0))
    .option('--max <n>', 'stop after this many records', integer(1))
    .option('--timeout-ms <ms>', 'stop when no new record came for this long', integer(0))
    .addOption(
      new Option('--isolation <level>', 'read_committed hides open and aborted transactions')
        .choices(['read_committed', 'read_uncommitted'])
        .default('read_committed'),
    )
    .addHelpText(
      'after',
      `
Each record is printed as one JSON line:
  {"topic","partition","offset","timestamp","key","value","headers"}
key and value are decoded as UTF-8 and parsed back from JSON when they are JSON, else printed
as strings; null stays null; header values are strings.

Where it starts: without --group or a start option, at the end (only new records); with
--from-beginning, --offset or --from-timestamp where they say; with --group alone, at the group's
committed offsets (earliest when it has none). A start option overrides the group's offsets, and
the group still commits.

Groups: consumers started with the same --group share the topic's partitions, as Kafka's do
(the range rule: each member reads a contiguous run of partitions). When a member joins or
leaves, partitions move once their previous owner has committed its position, so nothing is
read twice; when a member dies (killed, or silent for --session-timeout-ms), its partitions go
to the others from the group's last commit, so records it printed after that commit are read
again (at least once). With --partition, the consumer reads that partition alone and commits for
the group without joining it.

When it stops: after --max records, or when no new record came for --timeout-ms; otherwise it
follows the topic until SIGINT or SIGTERM. With --group it commits what it printed every second
while following and when it stops, so the next consumer of the group continues after it.
The output is JSON lines with or without --json.

Examples:
  $ sluice consume events --from-beginning --timeout-ms 1000
  $ sluice consume events --group audit                    # follow, committing as it goes
  $ sluice consume events --partition 2 --offset 100 --max 10
  $ sluice consume events --from-timestamp 1767225600000 --max 5`,
    )
    .action(async (topic: string, flags: ConsumeFlags, command: Command) => {
      const kafka = kafkaOf(command);
      const body = async (read: (options: ConsumeOptions) => Promise<number>) => {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // A reader that went away (`| head`) ends the command quietly, as it would end cat.
        let broken: NodeJS.ErrnoException | undefined;
        const onStdoutError = (error: NodeJS.ErrnoException) => {
          broken ??= error;
          stop.abort();
        };
        process.stdout.on('error', onStdoutError);
        try {
          const printed = await read({
            topic,
            start: startAt(flags),
            group: flags.group,
            partition: flags.partition,
            max: flags.max,
            timeoutMs: flags.timeoutMs,
            sessionTimeoutMs: flags.sessionTimeoutMs,
            isolation: flags.isolation,
            warn: (message) => process.stderr.write(`sluice: ${message}\n`),
            signal: stop.signal,
            output: async (lines) => {
              if (broken) return;
              try {
                await write(lines);
              } catch (error) {
                onStdoutError(error as NodeJS.ErrnoException);
              }
            },
          });
          if (broken && broken.code !== 'EPIPE') throw broken;
          if (process.stderr.isTTY) process.stderr.write(paint('dim', `consumed ${printed} record${printed === 1 ? '' : 's'}\n`, process.stderr));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.stdout.off('error', onStdoutError);
        }
      };
      if (kafka) await withKafka(kafka, (backend) => body((options) => kafkaConsume(backend, options)));
      else await withLog(command, (log) => body((options) => consume(log, options)));
    });
}

function startAt(flags: ConsumeFlags): StartAt {
  if (flags.fromBeginning) return { kind: 'beginning' };
  if (flags.offset !== undefined) return { kind: 'offset', offset: flags.offset };
  if (flags.fromTimestamp !== undefined) return { kind: 'timestamp', timestamp: flags.fromTimestamp };
  return flags.group === undefined ? { kind: 'end' } : { kind: 'committed' };
}
