/**
 * The Postgres parser (libpg-query: Postgres' own grammar compiled to WebAssembly). A statement
 * is parsed in place: the rest of the script is blanked out, so every location the parser
 * reports is an offset in the whole script.
 */
import { setFlagsFromString } from 'node:v8';
import { loadModule, parseSync } from 'libpg-query';
import { sqlError } from './errors.ts';

/** A node of Postgres' parse tree, `{ NodeType: { ...fields } }`, read loosely. */
export type PgNode = Record<string, any>;

let loaded: Promise<void> | undefined;

/**
 * Loads the parser's WebAssembly module (once); parsing needs it. V8's optimizing tier for
 * WebAssembly is turned off first, for the whole process: after a few statements V8 recompiles
 * the parser's largest function in the background, and that one compilation takes about 600 MB
 * of native memory (Turboshaft's loop unrolling), several times what a query's state holds. The
 * baseline code parses statements fast enough. Setting SLUICE_SQL_WASM_TIER_UP=1 leaves V8's
 * tiers as they are (for an app whose own WebAssembly needs the optimizing tier).
 */
export function loadParser(): Promise<void> {
  if (loaded === undefined && process.env.SLUICE_SQL_WASM_TIER_UP !== '1') setFlagsFromString('--no-wasm-dynamic-tiering --no-wasm-tier-up');
  loaded ??= loadModule();
  return loaded;
}

/**
 * Parses `text` between `start` and `end` (the ranges in `blank` left out) as one statement.
 * Returns the statement node, e.g. `{ SelectStmt: {...} }`.
 */
export function parseStatement(text: string, start: number, end: number, blank: [number, number][] = []): PgNode {
  let masked = text.slice(0, end).replace(/[^\n]/g, ' ').slice(0, start) + text.slice(start, end);
  for (const [from, to] of blank) masked = masked.slice(0, from) + masked.slice(from, to).replace(/[^\n]/g, ' ') + masked.slice(to);
  // libpg-query reports byte offsets; a script with non-ASCII text needs them mapped back to characters.
  const bytes = Buffer.from(masked, 'utf8');
  const toChar = (offset: number): number => (bytes.length === masked.length ? offset : bytes.subarray(0, offset).toString('utf8').length);
  let result: { stmts?: { stmt: PgNode }[] };
  try {
    result = parseSync(masked) as { stmts?: { stmt: PgNode }[] };
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const at = details?.cursorPosition === undefined ? start : toChar(details.cursorPosition);
    const message = (error as Error).message;
    throw sqlError(text, Math.min(at, end), message.startsWith('syntax error') ? `${message}; check the statement near here` : message, 'SQL_INVALID', error);
  }
  const stmts = result.stmts ?? [];
  if (stmts.length !== 1) throw sqlError(text, start, 'expected one statement here; end each statement with ;');
  const stmt = stmts[0]!.stmt;
  if (bytes.length !== masked.length) remapLocations(stmt, toChar);
  return stmt;
}

function remapLocations(node: unknown, toChar: (offset: number) => number): void {
  if (Array.isArray(node)) {
    for (const n of node) remapLocations(n, toChar);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(record)) {
      if (k === 'location' && typeof v === 'number' && v >= 0) record[k] = toChar(v);
      else remapLocations(v, toChar);
    }
  }
}

/** The single key of a node (`SelectStmt`, `ColumnRef`, ...) and its fields. */
export function nodeKind(node: PgNode): [string, PgNode] {
  const [kind] = Object.keys(node);
  return [kind!, node[kind!] as PgNode];
}

/** The location of a node (or of the first located node inside it), else `fallback`. */
export function locationOf(node: unknown, fallback = 0): number {
  if (node === null || typeof node !== 'object') return fallback;
  const record = node as Record<string, unknown>;
  if (typeof record.location === 'number' && record.location >= 0) return record.location;
  for (const v of Object.values(record)) {
    const at = locationOf(v, -1);
    if (at >= 0) return at;
  }
  return fallback;
}

/** A node with its locations removed: two spellings of one expression compare equal as JSON. */
export function shapeOf(node: unknown): string {
  return JSON.stringify(node, (k, v) => (k === 'location' ? undefined : v));
}

/** The strings of a `[{ String: { sval } }, ...]` list (names, qualified names). */
export function strings(list: PgNode[] | undefined): string[] {
  return (list ?? []).map((n) => (n.String?.sval as string | undefined) ?? (n.A_Star ? '*' : ''));
}

/** Calls `visit` with each column reference in an expression tree: its name parts and its node. */
export function forEachColumnRef(node: unknown, visit: (names: string[], ref: PgNode) => void): void {
  if (Array.isArray(node)) {
    for (const x of node) forEachColumnRef(x, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const rec = node as PgNode;
  if (rec.ColumnRef !== undefined) {
    visit(strings(rec.ColumnRef.fields), rec);
    return;
  }
  for (const x of Object.values(rec)) forEachColumnRef(x, visit);
}
