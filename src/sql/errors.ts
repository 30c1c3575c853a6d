/**
 * SQL errors: each names its line and column in the statement text, shows the line with a
 * caret under the offending token, and says what to write instead.
 */
import { SluiceError } from '../core/index.ts';

/** A position in the SQL text: 1-based line and column. */
export interface SqlPosition {
  line: number;
  column: number;
}

/** An error in SQL text, at a position (`SQL_INVALID`), or a feature Sluice refuses by name (`SQL_UNSUPPORTED`). */
export class SqlError extends SluiceError {
  readonly line: number;
  readonly column: number;
  /** The offending line of the text, then a caret under the offending token. */
  readonly excerpt: string;
  /** The message alone, without position and excerpt. */
  readonly reason: string;

  constructor(code: 'SQL_INVALID' | 'SQL_UNSUPPORTED', reason: string, position: SqlPosition, excerpt: string, cause?: unknown) {
    super(code, `line ${position.line}, column ${position.column}: ${reason}\n${excerpt}`, cause === undefined ? {} : { cause });
    this.name = 'SqlError';
    this.line = position.line;
    this.column = position.column;
    this.excerpt = excerpt;
    this.reason = reason;
  }
}

/** Line and column (1-based) of a character offset in `text`. */
export function positionOf(text: string, offset: number): SqlPosition {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/** The line holding `offset`, and a caret under it (a tab before it kept, so the caret lines up). */
export function excerptAt(text: string, offset: number): string {
  const at = Math.max(0, Math.min(offset, text.length));
  const start = text.lastIndexOf('\n', at - 1) + 1;
  const endOfLine = text.indexOf('\n', at);
  const line = text.slice(start, endOfLine === -1 ? text.length : endOfLine);
  const pad = line.slice(0, at - start).replace(/[^\t]/g, ' ');
  return `  ${line}\n  ${pad}^`;
}

/** The one way SQL code raises errors: the text, where in it, and what went wrong. */
export function sqlError(text: string, offset: number, reason: string, code: 'SQL_INVALID' | 'SQL_UNSUPPORTED' = 'SQL_INVALID', cause?: unknown): SqlError {
  return new SqlError(code, reason, positionOf(text, offset), excerptAt(text, offset), cause);
}

/** Refuses a feature by name, saying what to write instead. */
export function unsupported(text: string, offset: number, reason: string): SqlError {
  return sqlError(text, offset, reason, 'SQL_UNSUPPORTED');
}
