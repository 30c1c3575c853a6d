/**
 * What a query reads, as its expressions see it: the relation of its FROM item, and each column
 * as a field of the relation's rows, with the names that qualify it. A single relation's rows
 * hold each column under its own name; a join's rows hold every column of both sides under
 * `alias.column`, so columns of the same name on both sides stay apart.
 */
import { sqlError, unsupported } from './errors.ts';
import type { Scope } from './expr.ts';
import type { Relation } from './relation.ts';
import { fieldReader } from './row-builder.ts';
import type { WindowSpec } from '../time/index.ts';
import type { Row, SqlType } from './types.ts';

/** A window over the rows' event time, from `GROUP BY TUMBLE(...)` or a window table function. */
export interface WindowDef {
  fn: 'tumble' | 'hop' | 'session';
  spec: WindowSpec;
  at: number;
}

/** The window table function in FROM, with the window it assigns. */
export interface TableFunction {
  window: WindowDef;
}

/** One column of a FROM item: its name, the names that may qualify it, and the row field holding it. */
export interface Field {
  name: string;
  qualifiers: string[];
  key: string;
  type: SqlType;
}

export interface FromInput {
  /** The rows (for a join, fields named `alias.column`); `rowtime` names a field. */
  relation: Relation;
  fields: Field[];
  /** How errors name it: its alias, or the aliases of a join. */
  label: string;
  tvf?: TableFunction;
  /** Whether the rows' fields are the columns' own names (a single relation): SELECT * keeps them as they are. */
  plain: boolean;
}

/** What column references resolve against: a FROM input's fields, before its rows exist. */
export type FieldSet = Pick<FromInput, 'fields' | 'label' | 'plain' | 'tvf'>;

/** A single relation read under `alias`. */
export function single(relation: Relation, alias: string, tvf?: TableFunction): FromInput {
  const qualifiers = alias === relation.name ? [alias] : [alias, relation.name];
  return { relation, fields: relation.columns.map((c) => ({ name: c.name, qualifiers, key: c.name, type: c.type })), label: alias, plain: true, ...(tvf ? { tvf } : {}) };
}

/** The field a column reference names, or an error naming what is missing or ambiguous. */
export function resolveField(text: string, from: FieldSet, name: string, qualifier: string | undefined, at: number): Field {
  const found = from.fields.filter((f) => f.name === name && (qualifier === undefined || f.qualifiers.includes(qualifier)));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw sqlError(text, at, `column ${name} is ambiguous; write ${found.map((f) => `${f.qualifiers[0]}.${name}`).join(' or ')}`);
  if (qualifier !== undefined && !from.fields.some((f) => f.qualifiers.includes(qualifier))) {
    const names = [...new Set(from.fields.map((f) => f.qualifiers[0]))];
    throw sqlError(text, at, `there is no relation ${qualifier} here; write ${names.map((n) => `${n}.${name}`).join(' or ')}${from.plain ? ` or ${name}` : ''}`);
  }
  const columns = from.fields.filter((f) => qualifier === undefined || f.qualifiers.includes(qualifier)).map((f) => (from.plain ? f.name : `${f.qualifiers[0]}.${f.name}`));
  throw sqlError(text, at, `column ${qualifier === undefined ? '' : `${qualifier}.`}${name} does not exist in ${from.label}; its columns are ${columns.join(', ')}`);
}

/** The scope of the input rows; with a table function, window_start/window_end too once assigned. */
export function rowScope(text: string, from: FieldSet, windowsAssigned = false): Scope {
  const tvf = from.tvf;
  return {
    text,
    column(name, qualifier, at) {
      if (tvf !== undefined && (name === 'window_start' || name === 'window_end') && !from.fields.some((f) => f.name === name)) {
        if (!windowsAssigned) throw unsupported(text, at, `${name} is known after the window is assigned: use it in the select list, GROUP BY or HAVING, not in WHERE`);
        return { fn: (row: Row) => row[name], type: 'timestamp' };
      }
      const field = resolveField(text, from, name, qualifier, at);
      return { fn: fieldReader(field.key), type: field.type };
    },
  };
}
