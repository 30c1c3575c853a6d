/**
 * A small SQL tokenizer for the front parser: statements are split on top-level semicolons,
 * and the statements Postgres' grammar rejects (`CREATE SOURCE`, `CREATE SINK`, `EMIT ...`)
 * are read from tokens. Every token keeps its offset in the whole text, for error positions.
 */
import { sqlError } from './errors.ts';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'symbol';

export interface Token {
  kind: TokenKind;
  /** Words lower-cased, quoted identifiers and strings unquoted, symbols as written. */
  value: string;
  start: number;
  end: number;
}

const SYMBOLS = ['::', '<=', '>=', '<>', '!=', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', ';', '.', '[', ']', ':'];

/** The tokens of `text` from `from` to `to` (comments and white space skipped). */
export function tokenize(text: string, from = 0, to = text.length): Token[] {
  const tokens: Token[] = [];
  let i = from;
  while (i < to) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < to && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1 || end >= to) throw sqlError(text, i, 'this comment is never closed; end it with */');
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= to) throw sqlError(text, start, c === "'" ? "this string is never closed; end it with '" : 'this quoted name is never closed; end it with "');
        if (text[i] === c) {
          if (text[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', value, start, end: i });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      while (i < to && /[0-9.eE]/.test(text[i]!)) i++;
      tokens.push({ kind: 'number', value: text.slice(start, i), start, end: i });
    } else if (c === '$' && /[0-9]/.test(text[i + 1] ?? '')) {
      // A query parameter ($1), as Postgres clients send them.
      const start = i++;
      while (i < to && /[0-9]/.test(text[i]!)) i++;
      tokens.push({ kind: 'symbol', value: text.slice(start, i), start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < to && /[A-Za-z0-9_$]/.test(text[i]!)) i++;
      tokens.push({ kind: 'word', value: text.slice(start, i).toLowerCase(), start, end: i });
    } else {
      const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
      if (symbol === undefined) throw sqlError(text, i, `unexpected character '${c}'`);
      tokens.push({ kind: 'symbol', value: symbol, start: i, end: i + symbol.length });
      i += symbol.length;
    }
  }
  return tokens;
}

/** One statement of a script: its offsets in the whole text (without the semicolon) and its tokens. */
export interface StatementText {
  start: number;
  end: number;
  tokens: Token[];
}

/** Splits a script on semicolons outside parentheses; empty statements are dropped. */
export function splitStatements(text: string): StatementText[] {
  const tokens = tokenize(text);
  const statements: StatementText[] = [];
  let current: Token[] = [];
  let depth = 0;
  const flush = (): void => {
    if (current.length > 0) statements.push({ start: current[0]!.start, end: current.at(-1)!.end, tokens: current });
    current = [];
  };
  for (const token of tokens) {
    if (token.kind === 'symbol' && token.value === '(') depth++;
    if (token.kind === 'symbol' && token.value === ')') depth = Math.max(0, depth - 1);
    if (token.kind === 'symbol' && token.value === ';' && depth === 0) flush();
    else current.push(token);
  }
  flush();
  return statements;
}

/** Reads tokens one by one, with errors at the token where reading failed. */
export class TokenReader {
  readonly text: string;
  readonly tokens: Token[];
  #at = 0;
  /** Where the statement ends, for "expected ... at the end" errors. */
  readonly #end: number;

  constructor(text: string, tokens: Token[], end: number) {
    this.text = text;
    this.tokens = tokens;
    this.#end = end;
  }

  get index(): number {
    return this.#at;
  }

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.#at + ahead];
  }

  done(): boolean {
    return this.#at >= this.tokens.length;
  }

  next(): Token {
    const token = this.tokens[this.#at];
    if (token === undefined) throw sqlError(this.text, this.#end, 'the statement ends too early');
    this.#at++;
    return token;
  }

  /** Whether the next token is this word (or symbol); consumes it when it is. */
  accept(value: string): boolean {
    const token = this.peek();
    if (token !== undefined && (token.kind === 'word' || token.kind === 'symbol') && token.value === value) {
      this.#at++;
      return true;
    }
    return false;
  }

  expect(value: string, hint = ''): Token {
    const token = this.peek();
    if (token !== undefined && (token.kind === 'word' || token.kind === 'symbol') && token.value === value) return this.next();
    throw this.error(`expected ${value.toUpperCase()}${token === undefined ? ' before the end' : ` here, found '${this.text.slice(token.start, token.end)}'`}${hint ? `; ${hint}` : ''}`);
  }

  /** A name: a word or a "quoted identifier". */
  name(what: string): Token {
    const token = this.peek();
    if (token === undefined || (token.kind !== 'word' && token.kind !== 'quoted')) throw this.error(`expected ${what}`);
    return this.next();
  }

  /** An error at the next token (or at the end). */
  error(reason: string, code: 'SQL_INVALID' | 'SQL_UNSUPPORTED' = 'SQL_INVALID'): Error {
    return sqlError(this.text, this.peek()?.start ?? this.#end, reason, code);
  }
}
