/**
 * What `sluice run` prints when an app's run ends: records in, results out and where they went,
 * late records and dead letters, and a hint when a re-run found nothing new to read.
 */
import type { RunEndEvent } from '../sluice.ts';
import { paint } from './format.ts';

/** The summary as the JSON line `sluice run --json` prints. */
export function summaryJson(event: RunEndEvent): Record<string, unknown> {
  const { records, written, deadLetters } = event.summary;
  return { app: event.app, records, written, late: lateOf(event), deadLetters, outputs: event.outputs };
}

/** The summary as lines for people (stderr, so the pipeline's own `print()` output stays alone on stdout). */
export function summaryText(event: RunEndEvent): string {
  const { app, outputs } = event;
  const { records, written, deadLetters } = event.summary;
  const late = lateOf(event);
  const to = outputs.length === 0 ? '' : ` to ${outputs.join(', ')}`;
  const parts = [`${count(records, 'record')} in`, `${count(written, 'result')} out${to}`];
  if (late !== undefined) parts.push(`${late} late`);
  parts.push(`${count(deadLetters, 'dead letter')}${deadLetters > 0 ? ` in ${app}.dlq` : ''}`);
  const lines = [`${paint('green', 'done', process.stderr)} ${paint('bold', app, process.stderr)}: ${parts.join(', ')}`];
  if (deadLetters > 0) lines.push(`  see them with \`sluice consume ${app}.dlq --from-beginning --timeout-ms 1000\``);
  if (records === 0) {
    lines.push(`  nothing new to read: an app resumes where its last run stopped; \`sluice run FILE --from-beginning\` (or \`sluice app reset ${app}\`) reads its input again`);
  } else if (written > 0 && outputs.length > 0) {
    lines.push(`  read the results with \`sluice consume ${outputs[0]} --from-beginning --timeout-ms 1000\``);
  }
  return `${lines.join('\n')}\n`;
}

/** Late records, where the runtime reports them. */
function lateOf(event: RunEndEvent): number | undefined {
  const late = (event.summary as { late?: unknown }).late;
  return typeof late === 'number' ? late : undefined;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
