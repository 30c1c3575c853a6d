/**
 * Enough of `pg_catalog` and `information_schema` for psql's `\d`, `\dt`, `\dv`, `\dm`, `\dE`
 * and `\d NAME`, and for tools that list tables and columns: the session's sources, tables and
 * views as relations (a source as a foreign table whose server is the log, a CREATE TABLE as a
 * table, views as views and materialized views), their columns as attributes.
 *
 * These are not tables Sluice stores: a catalog query is answered from the session's
 * definitions. The relation a query reads (pg_class, pg_attribute, pg_foreign_table, ...) picks
 * the rows; each select item is answered by its output name (`c.relkind` is `relkind`,
 * `... AS "Name"` is `Name`); the filters psql writes (by oid, by a name pattern, by relkind) are
 * applied; anything else psql asks about (indexes, policies, publications, inheritance) has no
 * rows, which is true of streams.
 */
import type { Definition } from '../catalog.ts';
import { compileExpr, type Scope } from '../expr.ts';
import { nodeKind, type PgNode, parseStatement, strings } from '../pg.ts';
import { type Column, constant, typeLabel } from '../types.ts';
import type { ReadResult } from './read.ts';

/** The first oid Postgres gives user objects; relation i of the session is FIRST_OID + i. */
const FIRST_OID = 16384;

type CatalogRow = Record<string, unknown>;

interface CatalogRelation {
  oid: number;
  name: string;
  kind: 'r' | 'v' | 'm' | 'f';
  columns: Column[];
  def: Definition;
}

const KIND_NAMES: Record<CatalogRelation['kind'], string> = { r: 'table', v: 'view', m: 'materialized view', f: 'source' };

/** Whether `text` reads the Postgres catalogs (psql's backslash commands, drivers' metadata queries). */
export function isCatalogQuery(text: string): boolean {
  return /^\s*select\b/i.test(text) && /\b(pg_catalog\.|information_schema\.|pg_class\b|pg_attribute\b|pg_namespace\b)/i.test(text);
}

/** Answers a catalog query from the session's definitions. */
export function catalogQuery(text: string, definitions: readonly Definition[]): ReadResult {
  const relations = catalogRelations(definitions);
  const stmt = parseStatement(text, 0, text.length);
  let [, select] = nodeKind(stmt);
  while (select.larg !== undefined && select.op !== undefined && select.op !== 'SETOP_NONE') select = select.larg;
  const targets = ((select.targetList ?? []) as PgNode[]).map((t) => t.ResTarget as PgNode);
  const names = targets.map((t) => (t.name as string | undefined) ?? outputName(t.val));
  const read = ((select.fromClause ?? []) as PgNode[]).flatMap(relationsOf);
  // Joins with catalogs of what streams lack (pg_inherits, pg_index, pg_policy, ...) have no rows.
  const rows = read.every((r) => ANSWERED.has(r)) ? catalogRows(read[0] ?? '', text, relations) : [];
  const scope = (row: CatalogRow): Scope => ({
    text,
    column: (name) => constant(row[name] ?? null, 'text'),
    call: (name) => constant(row[name] ?? null, 'text'),
  });
  const values = rows.map((row) =>
    targets.map((t, i) => {
      if (names[i]! in row) return row[names[i]!];
      try {
        return compileExpr(t.val, scope(row)).fn({});
      } catch {
        return null;
      }
    }),
  );
  return { columns: names.map((name) => ({ name, type: 'text' })), rows: values.map((r) => r.map(text_)) };
}

/** The session's relations in the order they were declared (sinks are not relations). */
function catalogRelations(definitions: readonly Definition[]): CatalogRelation[] {
  return definitions.flatMap((def, i) => {
    if (def.kind === 'sink') return [];
    const kind = def.kind === 'source' ? 'f' : def.kind === 'table' ? 'r' : def.materialized ? 'm' : 'v';
    return [{ oid: FIRST_OID + i, name: def.name, kind, columns: def.columns, def } satisfies CatalogRelation];
  });
}

/** The catalogs answered here; pg_namespace and pg_am only join pg_class (one schema, no access methods). */
const ANSWERED = new Set(['pg_class', 'pg_namespace', 'pg_am', 'pg_attribute', 'pg_foreign_table', 'pg_foreign_server', 'tables', 'columns']);

/** The relations a FROM item reads, the first (the one read) first. */
function relationsOf(item: PgNode): string[] {
  if (item.RangeVar !== undefined) return [String(item.RangeVar.relname)];
  if (item.JoinExpr !== undefined) return [...relationsOf(item.JoinExpr.larg), ...relationsOf(item.JoinExpr.rarg)];
  return ['?'];
}

/** Booleans as Postgres' text form ('t', 'f'); psql compares them as strings. */
function text_(value: unknown): unknown {
  if (value === true) return 't';
  if (value === false) return 'f';
  return value;
}

function outputName(val: PgNode): string {
  if (val?.ColumnRef) return strings(val.ColumnRef.fields).at(-1)!;
  if (val?.FuncCall) return strings(val.FuncCall.funcname).at(-1)!;
  if (val?.TypeCast) return outputName(val.TypeCast.arg);
  if (val?.CaseExpr) return 'case';
  return '?column?';
}

/** The filters psql writes: by oid, by a name pattern (`OPERATOR(pg_catalog.~) '^(name)$'`), by relkind. */
function filtered(text: string, relations: CatalogRelation[], oidColumn: string): CatalogRelation[] {
  const oid = new RegExp(`${oidColumn.replace('.', '\\.')}\\s*=\\s*'?(\\d+)'?`).exec(text)?.[1];
  const pattern = /relname\s+OPERATOR\(pg_catalog\.~\)\s+'((?:[^']|'')*)'/i.exec(text)?.[1];
  const kinds = /relkind\s+IN\s*\(([^)]*)\)/i.exec(text)?.[1];
  return relations.filter((r) => {
    if (oid !== undefined && String(r.oid) !== oid) return false;
    if (pattern !== undefined && !new RegExp(pattern.replace(/''/g, "'")).test(r.name)) return false;
    if (kinds !== undefined && !kinds.includes(`'${r.kind}'`)) return false;
    return true;
  });
}

function catalogRows(table: string, text: string, relations: CatalogRelation[]): CatalogRow[] {
  switch (table) {
    case 'pg_class':
      return filtered(text, relations, 'c.oid')
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((r) => ({
          oid: r.oid,
          nspname: 'public',
          relname: r.name,
          Schema: 'public',
          Name: r.name,
          Type: KIND_NAMES[r.kind],
          Owner: 'sluice',
          relchecks: 0,
          relkind: r.kind,
          relhasindex: false,
          relhasrules: false,
          relhastriggers: false,
          relrowsecurity: false,
          relforcerowsecurity: false,
          relhasoids: false,
          relispartition: false,
          array_to_string: '',
          reltablespace: 0,
          case: '',
          reloftype: '',
          relpersistence: 'p',
          relreplident: 'd',
          amname: null,
        }));
    case 'pg_attribute': {
      const [relation] = filtered(text, relations, 'a.attrelid');
      if (relation === undefined) return [];
      const key = relation.def.kind === 'table' ? relation.def.primaryKey : [];
      return relation.columns.map((c, i) => ({ attname: c.name, attnum: i + 1, format_type: typeLabel(c.type), attnotnull: key.includes(c.name), attcollation: null, attidentity: '', attgenerated: '', attstorage: 'p', attcompression: '' }));
    }
    case 'pg_foreign_table': {
      const [relation] = filtered(text, relations, 'f.ftrelid');
      if (relation === undefined || relation.def.kind !== 'source') return [];
      return [{ srvname: 'log', array_to_string: `topic '${relation.def.topic}'` }];
    }
    case 'tables':
      return relations.map((r) => ({ table_catalog: 'sluice', table_schema: 'public', table_name: r.name, table_type: r.kind === 'r' || r.kind === 'f' ? 'BASE TABLE' : 'VIEW' })).filter((row) => matches(text, row));
    case 'columns':
      return relations
        .flatMap((r) => r.columns.map((c, i) => ({ table_catalog: 'sluice', table_schema: 'public', table_name: r.name, column_name: c.name, ordinal_position: i + 1, data_type: typeLabel(c.type), is_nullable: 'YES' })))
        .filter((row) => matches(text, row));
    default:
      return [];
  }
}

/** information_schema filters of the form `column = 'value'` (tools ask for one table's columns). */
function matches(text: string, row: CatalogRow): boolean {
  for (const m of text.matchAll(/\b(table_name|table_schema|column_name)\s*=\s*'((?:[^']|'')*)'/gi)) {
    if (String(row[m[1]!.toLowerCase()]) !== m[2]!.replace(/''/g, "'")) return false;
  }
  return true;
}
