/**
 * How `sluice sql` shows results: rows as an aligned table (psql's layout), or JSON lines with
 * `--json`; SQL errors as the offending line with a caret under the token, then the message.
 */
import { isSluiceError } from '../core/index.ts';
import type { SqlResult } from '../sql/index.ts';
import { paint } from './format.ts';

/** Rows as a psql-style table, `(N rows)` after it. */
export function rowsTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === null));
  const line = (values: string[], header = false) =>
    ` ${values.map((v, i) => (header ? v.padStart(Math.floor((widths[i]! + v.length) / 2)).padEnd(widths[i]!) : numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')}`.trimEnd();
  const out = [line([...columns], true), `${widths.map((w) => '-'.repeat(w + 2)).join('+')}`, ...cells.map((r) => line(r)), `(${rows.length} row${rows.length === 1 ? '' : 's'})`];
  return `${out.join('\n')}\n`;
}

/** A statement's result for people: rows as a table, else its message. */
export function resultText(result: SqlResult): string {
  if (result.rows !== undefined && result.columns !== undefined) {
    if (result.tag === 'EXPLAIN') return `${result.message}\n`;
    return rowsTable(
      result.columns.map((c) => c.name),
      result.rows,
    );
  }
  return `${result.tag}: ${result.message}\n`;
}

/** An error for people: a SQL error's line and caret, then `error: reason`. */
export function errorText(error: unknown, where = ''): string {
  const label = paint('red', 'error:', process.stderr);
  if (isSluiceError(error) && 'excerpt' in error && 'reason' in error) {
    const e = error as unknown as { excerpt: string; reason: string; line: number; column: number };
    return `${e.excerpt}\n${label} ${where ? `${where}:${e.line}:${e.column}` : `line ${e.line}, column ${e.column}`}: ${e.reason}\n`;
  }
  return `${label} ${error instanceof Error ? error.message : String(error)}\n`;
}
