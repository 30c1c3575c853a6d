/**
 * The Nexmark queries, each as a Sluice pipeline (queries/) and as a hand-written loop
 * (handwritten/) that must produce the same rows.
 */
import type { Sluice } from '../../../src/index.ts';
import type { Codecs } from '../codecs.ts';
import { q0 as h0 } from '../handwritten/q0.ts';
import { q1 as h1 } from '../handwritten/q1.ts';
import { q2 as h2 } from '../handwritten/q2.ts';
import { q3 as h3 } from '../handwritten/q3.ts';
import { q5 as h5 } from '../handwritten/q5.ts';
import { q7 as h7 } from '../handwritten/q7.ts';
import { q8 as h8 } from '../handwritten/q8.ts';
import { q11 as h11 } from '../handwritten/q11.ts';
import { q14 as h14 } from '../handwritten/q14.ts';
import { q22 as h22 } from '../handwritten/q22.ts';
import type { Handwritten } from '../handwritten/types.ts';
import { q0 } from './q0.ts';
import { q1 } from './q1.ts';
import { q2 } from './q2.ts';
import { q3 } from './q3.ts';
import { q5 } from './q5.ts';
import { q7 } from './q7.ts';
import { q8 } from './q8.ts';
import { q11 } from './q11.ts';
import { q14 } from './q14.ts';
import { q22 } from './q22.ts';
import { sqlQuery } from '../sql/queries.ts';

export { INPUT_TOPIC, OUTPUT_TOPIC } from './common.ts';

export interface NexmarkQuery {
  name: string;
  /** Builds the pipeline: INPUT_TOPIC to OUTPUT_TOPIC. */
  sluice: (app: Sluice, codecs: Codecs) => void;
  handwritten: Handwritten;
  /**
   * Windowed queries: the event time at which a row is due (its window's end): the row may
   * come out once an event at or past it has been read. Per-event queries have none.
   */
  dueTime?: (row: any) => number;
}

const windowEnd = (row: { end: number }): number => row.end;

export const QUERIES: NexmarkQuery[] = [
  { name: 'q0', sluice: q0, handwritten: h0 },
  { name: 'q1', sluice: q1, handwritten: h1 },
  { name: 'q2', sluice: q2, handwritten: h2 },
  { name: 'q3', sluice: q3, handwritten: h3 },
  { name: 'q5', sluice: q5, handwritten: h5, dueTime: windowEnd },
  { name: 'q7', sluice: q7, handwritten: h7, dueTime: (row: { dateTime: number }) => row.dateTime - (row.dateTime % 10_000) + 10_000 },
  { name: 'q8', sluice: q8, handwritten: h8, dueTime: (row: { starttime: number }) => row.starttime + 10_000 },
  { name: 'q11', sluice: q11, handwritten: h11, dueTime: windowEnd },
  { name: 'q14', sluice: q14, handwritten: h14 },
  { name: 'q22', sluice: q22, handwritten: h22 },
  // The same queries in SQL (bench/nexmark/sql), compared with the same loops.
  { name: 'q0-sql', sluice: sqlQuery('q0'), handwritten: h0 },
  { name: 'q1-sql', sluice: sqlQuery('q1'), handwritten: h1 },
  { name: 'q2-sql', sluice: sqlQuery('q2'), handwritten: h2 },
  { name: 'q5-sql', sluice: sqlQuery('q5'), handwritten: h5, dueTime: windowEnd },
  { name: 'q7-sql', sluice: sqlQuery('q7'), handwritten: h7, dueTime: (row: { dateTime: number }) => row.dateTime - (row.dateTime % 10_000) + 10_000 },
  { name: 'q8-sql', sluice: sqlQuery('q8'), handwritten: h8, dueTime: (row: { starttime: number }) => row.starttime + 10_000 },
  { name: 'q11-sql', sluice: sqlQuery('q11'), handwritten: h11, dueTime: windowEnd },
];

export function queryNamed(name: string): NexmarkQuery {
  const q = QUERIES.find((x) => x.name === name);
  if (q === undefined) throw new Error(`unknown query '${name}'; choose one of ${QUERIES.map((x) => x.name).join(', ')}`);
  return q;
}
