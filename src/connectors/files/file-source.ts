/**
 * `sources.file`: JSON lines or CSV (a header row per file) from the files a glob matches, read
 * in name order, each from its start. The position is each file's byte offset past its last
 * record handed to the pipeline: it is saved in every checkpoint, so a restart resumes at the
 * record after the last one the committed state and output include.
 *
 * Bounded by default: the files and sizes the glob finds when the job opens are the input, and
 * the source ends when they are read (a batch job is a stream that ends). With `watch: true` it
 * follows: new files matching the glob and lines appended to known ones are read as they come
 * (a line counts once its line break is written). A bounded run (`run({ bounded: true })`) reads
 * what is there when it starts either way.
 */
import { closeSync, globSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Source, SourceContext, SourceReader, SourceRecord } from '../../api/index.ts';
import { SluiceError, utf8 } from '../../core/index.ts';
import { type CsvType, csvRow, parseCsvRecords } from './csv.ts';

export interface FileSourceOptions {
  /** A file or a glob: `events/*.jsonl`, `logs/**\/*.csv`. Relative to the working directory. */
  path: string;
  /** Default from the glob's suffix (.jsonl, .ndjson, .csv). */
  format?: 'jsonl' | 'csv';
  /** Follow new files and appended lines (default false: read what is there, then end). */
  watch?: boolean;
  /** CSV column types; default inferred per value (numbers, true/false, empty as null, else text). */
  schema?: Record<string, CsvType>;
  /** How often a watching source looks for new data, in ms (default 200). */
  pollIntervalMs?: number;
}

/** What a checkpoint saves: per file, the bytes consumed. */
interface FilePosition {
  files: Record<string, number>;
}

const CHUNK = 1 << 20;

type ResolvedOptions = Required<Omit<FileSourceOptions, 'schema'>> & { schema: Record<string, CsvType> | undefined };

export class FileSource implements Source {
  readonly describe: string;
  readonly #options: ResolvedOptions;

  constructor(options: FileSourceOptions) {
    if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', "sources.file() takes options; write sources.file({ path: 'events/*.jsonl', format: 'jsonl' })");
    const { path, watch, schema, pollIntervalMs } = options;
    if (typeof path !== 'string' || path.length === 0) throw new SluiceError('INVALID_ARGUMENT', `sources.file(): path must be a file or glob such as 'events/*.jsonl', got ${JSON.stringify(path)}`);
    const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : /\.csv$/i.test(path) ? 'csv' : undefined);
    if (format !== 'jsonl' && format !== 'csv') {
      throw new SluiceError('INVALID_ARGUMENT', `sources.file(): format ${JSON.stringify(options.format)} is not 'jsonl' or 'csv'; pass { format: 'jsonl' } or { format: 'csv' } (path ${path})`);
    }
    if (watch !== undefined && typeof watch !== 'boolean') throw new SluiceError('INVALID_ARGUMENT', `sources.file(): watch must be true or false, got ${JSON.stringify(watch)}`);
    if (schema !== undefined && (format !== 'csv' || schema === null || typeof schema !== 'object')) {
      throw new SluiceError('INVALID_ARGUMENT', "sources.file(): schema types CSV columns, such as { user_id: 'string', amount: 'number' }");
    }
    for (const [column, type] of Object.entries(schema ?? {})) {
      if (!['string', 'number', 'boolean', 'json'].includes(type)) throw new SluiceError('INVALID_ARGUMENT', `sources.file(): column '${column}' has type ${JSON.stringify(type)}; use 'string', 'number', 'boolean' or 'json'`);
    }
    this.#options = { path, format, watch: watch === true, schema, pollIntervalMs: pollIntervalMs ?? 200 };
    this.describe = `${format} files ${path}`;
  }

  async open(_context: SourceContext): Promise<SourceReader> {
    return new FileReader(this.#options);
  }
}

class FileReader implements SourceReader {
  readonly #options: ResolvedOptions;
  #offsets = new Map<string, number>();
  /** Files and their sizes that end the input (bounded), or undefined while following. */
  #ends: Map<string, number> | undefined;
  #files: string[] = [];
  readonly #headers = new Map<string, string[]>();
  readonly #mtimes = new Map<string, number>();
  /** Followed files whose rest is one record without its line break yet: their size then, so they wait until they grow. */
  readonly #partial = new Map<string, number>();

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#list();
    if (!options.watch) this.#fixEnds();
  }

  async bound(): Promise<void> {
    this.#list();
    this.#fixEnds();
  }

  get done(): boolean {
    const ends = this.#ends;
    if (ends === undefined) return false;
    for (const [file, end] of ends) if ((this.#offsets.get(file) ?? 0) < end) return false;
    return true;
  }

  position(): FilePosition {
    return { files: Object.fromEntries(this.#offsets) };
  }

  seek(position: unknown): void {
    const files = (position as FilePosition | undefined)?.files;
    this.#offsets = new Map(Object.entries(files ?? {}));
  }

  async read(max: number): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    if (this.#ends === undefined && this.#exhausted()) this.#list();
    for (const file of this.#files) {
      if (out.length >= max) break;
      this.#readFile(file, max, out);
    }
    return out;
  }

  async waitForData(timeoutMs: number): Promise<void> {
    if (!this.#options.watch || this.#ends !== undefined) {
      await sleep(timeoutMs);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#list();
      if (!this.#exhausted()) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, this.#options.pollIntervalMs));
    }
  }

  async close(): Promise<void> {}

  #list(): void {
    let matches: string[];
    try {
      matches = globSync(this.#options.path);
    } catch (cause) {
      throw new SluiceError('SOURCE_FAILED', `sources.file(): cannot list '${this.#options.path}': ${(cause as Error).message}`, { cause });
    }
    this.#files = matches.filter((f) => sizeOf(f) !== undefined).sort();
  }

  #fixEnds(): void {
    const ends = new Map<string, number>();
    for (const file of this.#files) ends.set(file, sizeOf(file) ?? 0);
    // Files read before but gone now are not waited for.
    this.#ends = ends;
  }

  /** Whether every listed file is read to its current size (while following). */
  #exhausted(): boolean {
    for (const file of this.#files) {
      const size = sizeOf(file) ?? 0;
      if ((this.#offsets.get(file) ?? 0) < size && this.#partial.get(file) !== size) return false;
    }
    return true;
  }

  /** Reads complete records of `file` after its offset into `out`, up to `max` in all. */
  #readFile(file: string, max: number, out: SourceRecord[]): void {
    const end = this.#ends === undefined ? sizeOf(file) : this.#ends.get(file);
    if (end === undefined) return;
    let offset = this.#offsets.get(file) ?? 0;
    // A bounded input ends where the file ends, line break or not; a followed one waits for it.
    const atEnd = this.#ends !== undefined;
    let chunkSize = CHUNK;
    while (offset < end && out.length < max) {
      const length = Math.min(chunkSize, end - offset);
      const chunk = readAt(file, offset, length);
      if (chunk === undefined) return;
      const eof = atEnd && offset + chunk.length >= end;
      const taken = this.#options.format === 'jsonl' ? this.#jsonl(file, chunk, eof, max, out) : this.#csv(file, chunk, offset, eof, max, out);
      if (taken === 0) {
        // One record longer than the chunk: read a larger one (or, following, wait for its line break).
        if (length < end - offset) {
          chunkSize *= 2;
          continue;
        }
        this.#partial.set(file, end);
        break;
      }
      offset += taken;
      this.#offsets.set(file, offset);
    }
  }

  /** JSON lines: each non-blank line is a value's bytes. Returns the bytes consumed. */
  #jsonl(file: string, chunk: Buffer, eof: boolean, max: number, out: SourceRecord[]): number {
    let at = 0;
    const timestamp = this.#mtime(file);
    while (out.length < max && at < chunk.length) {
      let nl = chunk.indexOf(0x0a, at);
      if (nl < 0) {
        if (!eof) break;
        nl = chunk.length;
      }
      let stop = nl;
      if (stop > at && chunk[stop - 1] === 0x0d) stop--;
      const line = chunk.subarray(at, stop);
      at = Math.min(nl + 1, chunk.length);
      if (line.toString('utf8').trim() === '') continue;
      out.push({ value: new Uint8Array(line), timestamp });
    }
    return at;
  }

  /** CSV: the first record of a file is its header; each later one a row object (as JSON bytes). */
  #csv(file: string, chunk: Buffer, offset: number, eof: boolean, max: number, out: SourceRecord[]): number {
    const records = parseCsvRecords(chunk, eof);
    const timestamp = this.#mtime(file);
    let taken = 0;
    let header = this.#headers.get(file);
    if (header === undefined && offset > 0) header = this.#readHeader(file);
    for (const record of records) {
      if (out.length >= max) break;
      taken = record.end;
      if (header === undefined) {
        header = record.fields;
        this.#headers.set(file, header);
        continue;
      }
      if (record.fields.length === 1 && record.fields[0].trim() === '') continue;
      try {
        out.push({ value: utf8(JSON.stringify(csvRow(header, record.fields, this.#options.schema, `${file} at byte ${offset}`))), timestamp });
      } catch (error) {
        out.push({ value: utf8(record.fields.join(',')), timestamp, error: (error as Error).message });
      }
    }
    return taken;
  }

  /** The header of a file resumed mid-way (its first record). */
  #readHeader(file: string): string[] {
    const chunk = readAt(file, 0, Math.min(CHUNK, sizeOf(file) ?? 0)) ?? Buffer.alloc(0);
    const first = parseCsvRecords(chunk, true)[0];
    if (first === undefined) throw new SluiceError('SOURCE_FAILED', `sources.file(): ${file} has no header row to resume after`);
    this.#headers.set(file, first.fields);
    return first.fields;
  }

  #mtime(file: string): number {
    let t = this.#mtimes.get(file);
    if (t === undefined) {
      t = Math.trunc(statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      this.#mtimes.set(file, t);
    }
    return t;
  }
}

function sizeOf(file: string): number | undefined {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat?.isFile() ? stat.size : undefined;
}

function readAt(file: string, position: number, length: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined; // removed since it was listed
  }
  try {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buffer, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
