/** `sluice log repair`: reconcile the log's metadata with its files, rebuilding lost topics. */
import type { Command } from 'commander';
import type { RebuiltTopic, RecoveryReport } from '../../log/index.ts';
import { CommandExit } from '../exit.ts';
import { paint, printJson, write } from '../format.ts';
import { withLog } from '../options.ts';

export function registerLog(program: Command): void {
  const log = program.command('log').description('check and repair the log itself');
  log
    .command('repair')
    .description("reconcile the log's metadata with its segment files: rebuild topics the metadata lost, keep records found past the committed end")
    .option('--accept-data-loss', 'cut committed records the files no longer hold (the partition goes on after them; no offset is reused)')
    .addHelpText(
      'after',
      `
Every partition is checked against its segment files, which describe themselves (checksummed
batches with their offsets). Topics whose directories are on disk (with their topic.json) but
which the metadata does not know, as after meta/meta.sqlite was lost, are rebuilt from their
files; consumer group offsets and open transactions cannot be rebuilt. Records found past the
committed end are kept.

Committed records missing from the files (a truncated or deleted segment file) may have been
acknowledged: such a partition is refused (DATA_LOST) and this command exits 1, naming the
offsets, until the files are restored from a backup or the loss is accepted with
--accept-data-loss. The lost offsets then stay a gap: the partition goes on after them, so no
offset is handed out twice. Stop the processes using the data directory first.

Examples:
  $ sluice log repair
  $ sluice log repair --accept-data-loss --json`,
    )
    .action(async (options: { acceptDataLoss?: boolean }, command: Command) => {
      await withLog(command, async (opened, { json }) => {
        const rebuilt = opened.rebuildTopics();
        const partitions = opened.repair({ acceptDataLoss: options.acceptDataLoss === true });
        const refused = partitions.filter((p) => p.refused !== undefined);
        if (json) await printJson({ rebuilt, partitions: partitions.filter((p) => p.recovered || p.lost || p.refused) });
        else await write(repairText(rebuilt, partitions));
        if (refused.length > 0) {
          throw new CommandExit(
            `${paint('red', 'error:', process.stderr)} ${refused.length} partition${refused.length === 1 ? '' : 's'} refused: committed records are missing; restore the files, or run \`sluice log repair --accept-data-loss\``,
            1,
          );
        }
      });
    });
}

function repairText(rebuilt: readonly RebuiltTopic[], partitions: readonly RecoveryReport[]): string {
  const lines: string[] = [];
  for (const topic of rebuilt) lines.push(`${paint('yellow', 'rebuilt')} topic ${paint('bold', topic.name)} from ${topic.dir}`);
  for (const p of partitions) {
    const where = `${p.topic}/${p.partition}`;
    if (p.recovered) lines.push(`${paint('green', 'kept')} ${where}: offsets ${p.recovered[0]} to ${p.recovered[1] - 1} found past the committed end`);
    if (p.lost) lines.push(`${paint('red', 'cut')} ${where}: offsets ${p.lost[0]} to ${p.lost[1] - 1} were missing; the partition goes on at ${p.lost[1]}`);
    if (p.refused) lines.push(`${paint('red', 'refused')} ${p.refused}`);
  }
  if (lines.length === 0) lines.push(`checked ${partitions.length} partition${partitions.length === 1 ? '' : 's'}: nothing to repair`);
  return `${lines.join('\n')}\n`;
}
