/**
 * CSV records (RFC 4180: quoted fields may hold commas, quotes doubled, and line breaks), parsed
 * from a chunk of bytes with the byte length each record took, so a reader can resume mid-file.
 */
import { SluiceError } from '../../core/index.ts';

/** CSV column types; default inferred per value (numbers, booleans, empty as null, else text). */
export type CsvType = 'string' | 'number' | 'boolean' | 'json';

export interface CsvRecord {
  fields: string[];
  /** Bytes from the chunk's start to just past this record's line break. */
  end: number;
}

/**
 * The complete records of `chunk` (a record is complete at an unquoted line break; with `atEof`
 * the last one may end at the chunk's end instead).
 */
export function parseCsvRecords(chunk: Buffer, atEof: boolean): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0; // byte where the current field's unquoted text starts
  let i = 0;
  const text = (from: number, to: number) => chunk.toString('utf8', from, to);
  while (i < chunk.length) {
    const c = chunk[i];
    if (quoted) {
      if (c === 0x22) {
        if (chunk[i + 1] === 0x22) {
          field += `${text(start, i)}"`;
          i += 2;
          start = i;
          continue;
        }
        if (i + 1 >= chunk.length && !atEof) break; // the doubling quote may be in the next chunk
        field += text(start, i);
        quoted = false;
        i++;
        start = i;
        continue;
      }
      i++;
      continue;
    }
    if (c === 0x22 && field === '' && start === i) {
      quoted = true;
      i++;
      start = i;
      continue;
    }
    if (c === 0x2c) {
      fields.push(field + text(start, i));
      field = '';
      i++;
      start = i;
      continue;
    }
    if (c === 0x0a) {
      const stop = i > 0 && chunk[i - 1] === 0x0d && i - 1 >= start ? i - 1 : i;
      fields.push(field + text(start, stop));
      records.push({ fields, end: i + 1 });
      fields = [];
      field = '';
      i++;
      start = i;
      continue;
    }
    i++;
  }
  if (atEof && !quoted && (start < chunk.length || fields.length > 0 || field !== '') && i >= chunk.length) {
    fields.push(field + text(start, chunk.length));
    records.push({ fields, end: chunk.length });
  }
  return records;
}

/** A CSV row as an object: header names to typed values. */
export function csvRow(header: readonly string[], fields: readonly string[], types: Record<string, CsvType> | undefined, where: string): Record<string, unknown> {
  if (fields.length !== header.length) {
    throw new SluiceError('INVALID_RECORD', `${where}: ${fields.length} fields where the header has ${header.length} (${header.join(', ')})`);
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) row[header[i]] = typed(fields[i], types?.[header[i]], header[i], where);
  return row;
}

function typed(text: string, type: CsvType | undefined, column: string, where: string): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'number': {
      if (text === '') return null;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new SluiceError('INVALID_RECORD', `${where}: column '${column}' is a number, got ${JSON.stringify(text)}`);
      return n;
    }
    case 'boolean':
      if (text === '') return null;
      if (text === 'true' || text === 'false') return text === 'true';
      throw new SluiceError('INVALID_RECORD', `${where}: column '${column}' is true or false, got ${JSON.stringify(text)}`);
    case 'json':
      try {
        return text === '' ? null : JSON.parse(text);
      } catch (cause) {
        throw new SluiceError('INVALID_RECORD', `${where}: column '${column}' is JSON, got ${JSON.stringify(text)}`, { cause });
      }
    case undefined:
      if (text === '') return null;
      if (text === 'true' || text === 'false') return text === 'true';
      if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
      return text;
  }
}
