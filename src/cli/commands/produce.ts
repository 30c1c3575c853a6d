/** `sluice produce TOPIC`: JSON lines from stdin into a topic, written in chunks. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isSluiceError, partitionForKey, SluiceError } from '../../core/index.ts';
import type { Log, ProduceRecord } from '../../log/index.ts';
import { CommandExit, signalExitCode } from '../exit.ts';
import { paint, printJson, table, write } from '../format.ts';
import { kafkaOf, withKafka } from '../kafka.ts';
import { globalOptions, integer, withLog } from '../options.ts';
import { LineError, parseRecordLine } from '../records.ts';

/** A chunk is written by one produce call: big enough for speed, small enough that an error loses little. */
const CHUNK_RECORDS = 1000;
const CHUNK_BYTES = 1 << 20;

interface Summary {
  topic: string;
  records: number;
  /** Records written per partition, by partition number. */
  partitions: Record<string, number>;
}

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('write JSON lines from stdin to a topic, one record per line')
    .argument('<topic>', 'the topic to write to; created when missing')
    .option('-p, --partitions <n>', 'partitions of the topic when this command creates it', integer(1), 1)
    .addHelpText(
      'after',
      `
Each line is JSON. A line is a record envelope when it is an object with a "key" or a "value"
field and no fields other than these five:
  {"key": ..., "value": ..., "timestamp": ms, "headers": {"name": "text"}, "partition": n}
Any other line (a number, a string, an array, null, an object with other fields) is a bare
value: a record with that value and no key.
  key        a string is stored as its UTF-8 bytes, any other JSON as its JSON text; absent: no key
  value      stored as its JSON text; null or absent is a null value (a tombstone)
  timestamp  epoch milliseconds; absent: the time the line is read
  headers    string values, stored as UTF-8
  partition  absent: murmur2(key) % partitions for keyed records (as Kafka places them),
             unkeyed records go to one partition per chunk in turn
Blank lines are skipped. A malformed line stops the command with an error naming its line
number; the lines before it stay written, as they do on SIGINT or SIGTERM (exit 130 or 143).
Records are written in chunks of up to ${CHUNK_RECORDS} lines or 1 MiB (line by line when stdin is
a terminal). At the end a summary (records per partition) is printed.

A missing topic is created first (as Kafka's auto-create does), with --partitions partitions
(default 1), and said so on stderr; use \`sluice topic create\` for other settings.

Examples:
  $ echo '{"key":"user-1","value":{"page":"/home"}}' | sluice produce events
  $ sluice produce orders --partitions 3 < orders.jsonl
  $ printf '1\\n2\\n3\\n' | sluice produce numbers
  $ sluice produce events --json < events.jsonl`,
    )
    .action(async (topic: string, options: { partitions: number }, command: Command) => {
      const report = async ({ summary, failure, interrupted }: Outcome, json: boolean) => {
        if (json) await printJson(summary);
        else await write(summaryText(summary));
        if (failure) throw failure;
        if (interrupted) throw new CommandExit(`interrupted by ${interrupted}; ${written(summary.records)}`, signalExitCode(interrupted));
      };
      const kafka = kafkaOf(command);
      if (kafka) {
        await withKafka(kafka, async (backend) => {
          const before = await backend.topicNames();
          const partitions = await backend.ensureTopic(topic, options.partitions);
          if (!before.includes(topic)) process.stderr.write(`created topic '${topic}' with ${partitions} partition${partitions === 1 ? '' : 's'} on Kafka (\`sluice topic create\` sets other options)\n`);
          const writer = await backend.openWriter();
          try {
            await report(await produceLines({ partitions, produce: (records) => writer.send(topic, records) }, topic), globalOptions(command).json);
          } finally {
            await writer.close();
          }
        });
        return;
      }
      await withLog(command, async (log, { json }) => {
        createIfMissing(log, topic, options.partitions);
        await report(await produceLines({ partitions: log.topic(topic).partitions, produce: async (records) => void (await log.produce(topic, records)) }, topic), json);
      }, true);
    });
}

/** Where produced records go: a topic of the embedded log or of a Kafka cluster. */
interface ProduceTarget {
  partitions: number;
  produce(records: ProduceRecord[]): Promise<void>;
}

/** Auto-create: a missing topic is created with `partitions` partitions, and the user told so. */
function createIfMissing(log: Log, topic: string, partitions: number): void {
  if (log.listTopics().some((t) => t.name === topic)) return;
  try {
    log.createTopic(topic, { partitions });
  } catch (error) {
    if (isSluiceError(error, 'TOPIC_EXISTS')) return; // another process created it meanwhile
    throw error;
  }
  process.stderr.write(`created topic '${topic}' with ${partitions} partition${partitions === 1 ? '' : 's'} (\`sluice topic create\` sets other options)\n`);
}

interface Outcome {
  summary: Summary;
  /** The bad line that stopped the command. */
  failure?: SluiceError;
  /** The signal that stopped reading. */
  interrupted?: NodeJS.Signals;
}

/**
 * Reads stdin and writes its records. On a bad line it writes the records before it and stops
 * reading, returning the error with the summary of what was written. SIGINT and SIGTERM stop
 * reading too, after the lines already read are written.
 */
async function produceLines(target: ProduceTarget, topic: string): Promise<Outcome> {
  const { partitions } = target;
  const summary: Summary = { topic, records: 0, partitions: {} };
  // Unkeyed records stick to one partition per chunk (as Kafka's sticky partitioner does), starting anywhere.
  let unkeyedPartition = Math.floor(Math.random() * partitions);
  // Someone typing lines expects each to be written (and seen by consumers) at once.
  const chunkRecords = process.stdin.isTTY ? 1 : CHUNK_RECORDS;
  let chunk: ProduceRecord[] = [];
  let chunkBytes = 0;

  const flush = async () => {
    if (chunk.length === 0) return;
    const records = chunk;
    chunk = [];
    chunkBytes = 0;
    await target.produce(records);
    summary.records += records.length;
    for (const record of records) summary.partitions[record.partition!] = (summary.partitions[record.partition!] ?? 0) + 1;
    unkeyedPartition = (unkeyedPartition + 1) % partitions;
  };

  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    lines.close();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let record: ProduceRecord;
      try {
        record = parseRecordLine(line, Date.now());
        record.partition ??= record.key ? partitionForKey(record.key, partitions) : unkeyedPartition;
        if (record.partition >= partitions) {
          throw new LineError(`"partition" ${record.partition} does not exist: topic '${topic}' has partitions 0 to ${partitions - 1}`);
        }
      } catch (error) {
        if (!(error instanceof LineError)) throw error;
        await flush();
        return { summary, failure: new SluiceError('INVALID_RECORD', `line ${lineNumber}: ${error.message}; ${written(summary.records)}`) };
      }
      chunk.push(record);
      chunkBytes += line.length;
      if (chunk.length >= chunkRecords || chunkBytes >= CHUNK_BYTES) await flush();
    }
    await flush();
    return { summary, interrupted };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    lines.close();
    // Stop reading a pipe whose writer may still be going after an error.
    process.stdin.destroy();
  }
}

function written(records: number): string {
  if (records === 0) return 'nothing was written';
  return records === 1 ? 'the record before it was written' : `the ${records} records before it were written`;
}

function summaryText(summary: Summary): string {
  const rows = Object.entries(summary.partitions).map(([partition, records]) => ({ partition: Number(partition), records }));
  rows.sort((a, b) => a.partition - b.partition);
  const total = `${paint('green', 'wrote')} ${summary.records} record${summary.records === 1 ? '' : 's'} to ${paint('bold', summary.topic)}\n`;
  if (rows.length === 0) return total;
  return (
    total +
    table(rows, [
      { header: 'PARTITION', value: (row) => row.partition },
      { header: 'RECORDS', value: (row) => row.records },
    ])
  );
}
