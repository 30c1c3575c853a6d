/** `sluice topic create|alter|list|describe|delete|compact`: managing the topics of the log. */
import { type Command, Option } from 'commander';
import type { SegmentDamage, TopicChanges, TopicConfig, TopicDescription, TopicMeta } from '../../log/index.ts';
import { SluiceError } from '../../core/index.ts';
import { CommandExit } from '../exit.ts';
import { formatBytes, formatLimit, formatMillis, paint, printJson, table, write } from '../format.ts';
import { kafkaOf, kafkaTopicCreate, kafkaTopicDelete, kafkaTopicDescribe, kafkaTopicList, notOnKafka, withKafka } from '../kafka.ts';
import { globalOptions, integer, retentionMs, withLog } from '../options.ts';

interface CreateOptions {
  partitions: number;
  compact?: boolean;
  retentionMs?: number;
  retentionBytes?: number;
  fsync?: TopicConfig['fsync'];
  segmentBytes?: number;
}

interface AlterOptions {
  retentionMs?: number;
  retentionBytes?: number;
}

export function registerTopic(program: Command): void {
  const topic = program
    .command('topic')
    .description('create, alter, list, describe, delete and compact topics')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic create events --partitions 3
  $ sluice topic create users --partitions 3 --compact
  $ sluice topic list
  $ sluice topic describe events --json`,
    );

  topic
    .command('create')
    .description('create a topic; an error if it exists')
    .argument('<name>', "topic name: 1 to 249 letters, digits, '.', '_' or '-'")
    .requiredOption('-p, --partitions <n>', 'number of partitions (at least 1)', integer(1))
    .option('--compact', 'keep only the last record per key (a changelog topic)')
    .option('--retention-ms <ms>', "delete closed segments older than this: milliseconds or a duration such as '7d'; -1 keeps forever", retentionMs)
    .option('--retention-bytes <bytes>', 'delete the oldest closed segments while a partition is larger than this; -1 for no limit', integer(-1))
    .option('--segment-bytes <bytes>', 'roll to a new segment file at this size (Kafka\'s segment.bytes; default 64 MiB)', integer(1))
    .addOption(
      new Option('--fsync <policy>', 'when appends reach the disk: every batch (default), on an interval, or never (left to the OS)').choices([
        'batch',
        'interval',
        'never',
      ]),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic create events --partitions 3
  $ sluice topic create clicks --partitions 12 --retention-ms 7d --retention-bytes 1073741824
  $ sluice topic create user-table --partitions 3 --compact
  $ sluice topic create small --partitions 1 --segment-bytes 1048576`,
    )
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const kafka = kafkaOf(command);
      if (kafka) return withKafka(kafka, (backend) => kafkaTopicCreate(backend, name, options, globalOptions(command).json));
      await withLog(
        command,
        async (log, { json }) => {
          const config: TopicConfig = { partitions: options.partitions, compact: options.compact === true };
          if (options.retentionMs !== undefined) config.retentionMs = options.retentionMs;
          if (options.retentionBytes !== undefined) config.retentionBytes = options.retentionBytes;
          if (options.fsync !== undefined) config.fsync = options.fsync;
          if (options.segmentBytes !== undefined) config.segmentBytes = options.segmentBytes;
          const created = log.createTopic(name, config);
          if (json) return printJson(created);
          const plural = created.partitions.length === 1 ? '' : 's';
          await write(`${paint('green', 'created')} topic ${paint('bold', name)} with ${created.partitions.length} partition${plural} (${settings(created.config)})\n`);
        },
        true,
      );
    });

  topic
    .command('alter')
    .description("change an existing topic's retention (applies to running processes at their next retention pass)")
    .argument('<name>', 'topic name')
    .option('--retention-ms <ms>', "delete closed segments older than this: milliseconds or a duration such as '7d'; -1 keeps forever", retentionMs)
    .option('--retention-bytes <bytes>', 'delete the oldest closed segments while a partition is larger than this; -1 for no limit', integer(-1))
    .addHelpText(
      'after',
      `
Retention runs in the background of every process that opened the log, and now in this one:
closed segments past the new limits are deleted at once (the active segment never is).

Examples:
  $ sluice topic alter clicks --retention-ms 1d
  $ sluice topic alter clicks --retention-bytes 1073741824 --retention-ms -1`,
    )
    .action(async (name: string, options: AlterOptions, command: Command) => {
      notOnKafka(command, 'sluice topic alter', "change a topic's retention with Kafka's kafka-configs tool");
      await withLog(command, async (log, { json }) => {
        const changes: TopicChanges = {};
        if (options.retentionMs !== undefined) changes.retentionMs = options.retentionMs;
        if (options.retentionBytes !== undefined) changes.retentionBytes = options.retentionBytes;
        if (Object.keys(changes).length === 0) {
          throw new SluiceError('INVALID_ARGUMENT', `nothing to change for topic '${name}': give --retention-ms and/or --retention-bytes`);
        }
        const altered = log.alterTopic(name, changes);
        const deletedSegments = log.enforceRetention(name);
        if (json) return printJson({ topic: name, config: altered, deletedSegments });
        const deleted = deletedSegments === 1 ? '1 segment' : `${deletedSegments} segments`;
        await write(`${paint('green', 'altered')} topic ${paint('bold', name)} (${settings(altered)}); retention deleted ${deleted}\n`);
      });
    });

  topic
    .command('list')
    .description('list the topics with their settings')
    .addHelpText('after', '\nExamples:\n  $ sluice topic list\n  $ sluice topic list --json')
    .action(async (_options: object, command: Command) => {
      const kafka = kafkaOf(command);
      if (kafka) return withKafka(kafka, (backend) => kafkaTopicList(backend, globalOptions(command).json));
      await withLog(command, async (log, { json }) => {
        const topics = log.listTopics();
        if (json) return printJson(topics);
        if (topics.length === 0) return write('no topics; create one with `sluice topic create NAME --partitions N`\n');
        await write(
          table(topics, [
            { header: 'NAME', value: (t) => t.name },
            { header: 'PARTITIONS', value: (t) => t.partitions },
            { header: 'COMPACT', value: (t) => (t.compact ? 'yes' : 'no') },
            { header: 'RETENTION', value: (t) => formatLimit(t.retentionMs, formatMillis), align: 'right' },
            { header: 'RETENTION BYTES', value: (t) => formatLimit(t.retentionBytes, formatBytes), align: 'right' },
            { header: 'FSYNC', value: (t) => t.fsync },
          ]),
        );
      });
    });

  topic
    .command('describe')
    .description('show a topic: per partition its first and next offset, last stable offset, size and segments, and any damage')
    .argument('<name>', 'topic name')
    .option('--no-verify', 'skip reading every batch back to check it (quicker for large topics)')
    .addHelpText(
      'after',
      `
The last stable offset is where read_committed readers stop: the start of the earliest open
transaction, or the next offset when none is open. Damage found in the files (a missing segment
file, a batch that does not read back) is listed after the table, and the command exits 1.

Examples:
  $ sluice topic describe events
  $ sluice topic describe events --json`,
    )
    .action(async (name: string, options: { verify: boolean }, command: Command) => {
      const kafka = kafkaOf(command);
      if (kafka) return withKafka(kafka, (backend) => kafkaTopicDescribe(backend, name, globalOptions(command).json));
      await withLog(command, async (log, { json }) => {
        const description = log.describeTopic(name);
        const damage = log.checkTopic(name, { verify: options.verify });
        if (json) await printJson({ ...description, damage });
        else await write(describeText(description) + damageText(damage));
        if (damage.length > 0) {
          const segments = damage.length === 1 ? '1 damaged segment' : `${damage.length} damaged segments`;
          throw new CommandExit(`${paint('red', 'error:', process.stderr)} topic '${name}' has ${segments}; see above`, 1);
        }
      });
    });

  topic
    .command('delete')
    .description('delete a topic and all its records')
    .argument('<name>', 'topic name')
    .addHelpText('after', '\nExamples:\n  $ sluice topic delete events')
    .action(async (name: string, _options: object, command: Command) => {
      const kafka = kafkaOf(command);
      if (kafka) return withKafka(kafka, (backend) => kafkaTopicDelete(backend, name, globalOptions(command).json));
      await withLog(command, async (log, { json }) => {
        log.deleteTopic(name);
        if (json) return printJson({ deleted: name });
        await write(`${paint('yellow', 'deleted')} topic ${paint('bold', name)}\n`);
      });
    });

  topic
    .command('compact')
    .description('compact a compacted topic now, the records of its active segment included (it also runs in the background)')
    .argument('<name>', 'topic name (created with --compact)')
    .addHelpText('after', '\nExamples:\n  $ sluice topic compact user-table')
    .action(async (name: string, _options: object, command: Command) => {
      notOnKafka(command, 'sluice topic compact', "the broker's log cleaner compacts topics created with --compact");
      await withLog(command, async (log, { json }) => {
        const savedBytes = log.compact(name, { rollActive: true });
        if (json) return printJson({ topic: name, savedBytes });
        await write(`compacted topic ${paint('bold', name)}: ${formatBytes(savedBytes)} saved\n`);
      });
    });
}

function damageText(damage: readonly SegmentDamage[]): string {
  if (damage.length === 0) return '';
  const lines = damage.map(
    (d) => `  partition ${d.partition}, offsets ${d.firstOffset} to ${d.nextOffset - 1}: ${d.problem} (${d.file})`,
  );
  return `${paint('red', `damaged: ${damage.length} segment${damage.length === 1 ? '' : 's'}`)} — restore the files from a backup; reads fail inside these ranges and go on after them\n${lines.join('\n')}\n`;
}

function settings(meta: TopicMeta): string {
  return [
    meta.compact ? 'compacted' : 'not compacted',
    `retention ${formatLimit(meta.retentionMs, formatMillis)}`,
    `retention bytes ${formatLimit(meta.retentionBytes, formatBytes)}`,
    `fsync ${meta.fsync}`,
    `segment bytes ${formatBytes(meta.segmentBytes)}`,
  ].join(', ');
}

function describeText({ name, config, partitions }: TopicDescription): string {
  const totals = partitions.reduce(
    (sum, p) => ({ records: sum.records + (p.nextOffset - p.firstOffset), bytes: sum.bytes + p.sizeBytes }),
    { records: 0, bytes: 0 },
  );
  const heading = `topic ${paint('bold', name)}: ${partitions.length} partition${partitions.length === 1 ? '' : 's'}, ${settings(config)}\n`;
  const rows = table(partitions, [
    { header: 'PARTITION', value: (p) => p.partition },
    { header: 'FIRST OFFSET', value: (p) => p.firstOffset },
    { header: 'NEXT OFFSET', value: (p) => p.nextOffset },
    { header: 'LAST STABLE', value: (p) => p.lastStableOffset },
    { header: 'SIZE', value: (p) => formatBytes(p.sizeBytes), align: 'right' },
    { header: 'SEGMENTS', value: (p) => p.segments },
  ]);
  return `${heading}${rows}${paint('dim', `offsets span ${totals.records} records in ${formatBytes(totals.bytes)}`)}\n`;
}
