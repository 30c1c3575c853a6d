/**
 * Terminal output: JSON for machines, aligned tables and a little colour for people.
 * Colour comes from util.styleText, which drops it when the stream is not a terminal
 * (and honours NO_COLOR / FORCE_COLOR).
 */
import { once } from 'node:events';
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** `text` in `style` when `stream` is a colour terminal, else plain. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return styleText(style, text, { stream });
}

/** Writes to stdout, waiting for the pipe to drain when it is full so large outputs keep memory flat. */
export async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

export function printJson(value: unknown): Promise<void> {
  return write(`${JSON.stringify(value)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number;
  /** Numbers align right by default. */
  align?: 'left' | 'right';
}

/** An aligned text table with a header row. */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => String(row[i]).length)));
  const aligns = columns.map((column, i) => column.align ?? (cells.length > 0 && typeof cells[0][i] === 'number' ? 'right' : 'left'));
  const line = (values: ReadonlyArray<string | number>) =>
    values
      .map((value, i) => (aligns[i] === 'right' ? String(value).padStart(widths[i]) : String(value).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const header = paint('bold', line(columns.map((column) => column.header)));
  return [header, ...cells.map(line)].join('\n') + '\n';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A retention or limit setting: -1 reads as unlimited. */
export function formatLimit(value: number, format: (n: number) => string = String): string {
  return value < 0 ? 'unlimited' : format(value);
}

/** Milliseconds as the largest exact unit: 604800000 -> '7d'. */
export function formatMillis(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
