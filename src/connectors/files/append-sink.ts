/**
 * One JSONL or CSV file that grows by whole checkpoints, exactly-once. A checkpoint's lines are
 * first written, fsynced, to a hidden chunk beside the file; when the checkpoint commits they are
 * appended to the file and a hidden manifest records the checkpoint and the file's new length.
 *
 * Files beside `path` (say `out/alerts.jsonl`):
 * - `out/.alerts.jsonl.chunk-17`: checkpoint 17's lines, waiting for its commit.
 * - `out/.alerts.jsonl.manifest`: `{"checkpoint":17,"length":5120,"columns":[...]}`, written to a
 *   temporary name and renamed: the last checkpoint appended and the committed length.
 *
 * Recovery from the last committed checkpoint L: the file is cut back to the manifest's length (a
 * torn append is undone), chunks of checkpoints after the manifest's and up to L are appended (their
 * commit was cut short), chunks after L are deleted. A reader may see a checkpoint's lines appear
 * while it is appended (appending is not atomic); nothing uncommitted stays after a restart.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Sink, SinkBatch, SinkContext } from '../../api/index.ts';
import { utf8 } from '../../core/index.ts';
import { ensureDir, removeIfThere, renameDurable, syncDir, writeAll, writeDurable } from './durable.ts';
import { csvColumns, csvHeader, encodeCsv, encodeJsonl } from './formats.ts';
import { truncateDurable } from './staging.ts';

export interface AppendSinkOptions {
  path: string;
  format: 'jsonl' | 'csv';
  /** CSV columns; default the first records' fields. */
  columns?: string[];
}

interface Manifest {
  checkpoint: number;
  length: number;
  columns?: string[];
}

export class AppendFileSink implements Sink {
  readonly describe: string;
  readonly #options: AppendSinkOptions;
  readonly #dir: string;
  readonly #base: string;
  #manifest: Manifest = { checkpoint: 0, length: 0 };
  /** The chunk written by the checkpoint in progress. */
  #chunk: { checkpoint: number; file: string } | undefined;

  constructor(options: AppendSinkOptions) {
    this.#options = options;
    this.#dir = dirname(options.path);
    this.#base = basename(options.path);
    this.describe = `${options.format} file '${options.path}'`;
    if (options.columns !== undefined) this.#manifest.columns = options.columns;
  }

  async open(_context: SinkContext): Promise<void> {
    ensureDir(this.#dir, this.describe);
  }

  async recover(last: number): Promise<void> {
    const manifestFile = this.#manifestFile();
    const file = this.#options.path;
    if (existsSync(manifestFile)) {
      const saved = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      this.#manifest = { ...saved, ...(this.#options.columns === undefined ? {} : { columns: this.#options.columns }) };
    } else {
      // A file this sink never wrote: keep what it holds and append after it.
      this.#manifest.length = existsSync(file) ? statSync(file).size : 0;
      this.#saveManifest(this.#manifest);
    }
    // An app reset starts its checkpoints again from 1: what the manifest counts is committed all the same.
    if (this.#manifest.checkpoint > last) this.#manifest.checkpoint = last;
    truncateDurable(file, this.#manifest.length);
    const chunks: { checkpoint: number; file: string }[] = [];
    const prefix = `.${this.#base}.chunk-`;
    for (const name of readdirSync(this.#dir)) {
      if (!name.startsWith(prefix)) continue;
      const checkpoint = Number(name.slice(prefix.length));
      const chunk = join(this.#dir, name);
      if (Number.isInteger(checkpoint) && checkpoint > this.#manifest.checkpoint && checkpoint <= last) chunks.push({ checkpoint, file: chunk });
      else removeIfThere(chunk);
    }
    chunks.sort((a, b) => a.checkpoint - b.checkpoint);
    for (const chunk of chunks) this.#append(chunk.checkpoint, chunk.file);
    syncDir(this.#dir);
    this.#chunk = undefined;
  }

  async write(batch: SinkBatch<unknown>): Promise<void> {
    if (batch.records.length === 0) return;
    const file = join(this.#dir, `.${this.#base}.chunk-${batch.checkpoint}`);
    writeDurable(file, [this.#encode(batch.records)]);
    this.#chunk = { checkpoint: batch.checkpoint, file };
  }

  async commit(checkpoint: number): Promise<void> {
    const chunk = this.#chunk;
    if (chunk?.checkpoint !== checkpoint) return;
    this.#append(checkpoint, chunk.file);
    this.#chunk = undefined;
  }

  async abort(checkpoint: number): Promise<void> {
    if (this.#chunk?.checkpoint !== checkpoint) return;
    removeIfThere(this.#chunk.file);
    this.#chunk = undefined;
  }

  async close(): Promise<void> {}

  /** Appends a chunk at the committed length, fsyncs, records it in the manifest, removes the chunk. */
  #append(checkpoint: number, chunkFile: string): void {
    const file = this.#options.path;
    let bytes: Uint8Array = readFileSync(chunkFile);
    const length = this.#manifest.length;
    if (this.#options.format === 'csv' && length === 0) {
      const header = csvHeader(this.#manifest.columns ?? []);
      const joined = new Uint8Array(header.length + bytes.length);
      joined.set(header);
      joined.set(bytes, header.length);
      bytes = joined;
    }
    const fd = openSync(file, existsSync(file) ? 'r+' : 'w');
    try {
      writeAll(fd, bytes, length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#saveManifest({ ...this.#manifest, checkpoint, length: length + bytes.length });
    removeIfThere(chunkFile);
  }

  #encode(records: readonly unknown[]): Uint8Array {
    if (this.#options.format === 'jsonl') return encodeJsonl(records);
    if (this.#manifest.columns === undefined) this.#saveManifest({ ...this.#manifest, columns: csvColumns(records) });
    return encodeCsv(records, this.#manifest.columns!);
  }

  #saveManifest(manifest: Manifest): void {
    const file = this.#manifestFile();
    writeDurable(`${file}.tmp`, [utf8(JSON.stringify(manifest))]);
    renameDurable(`${file}.tmp`, file);
    this.#manifest = manifest;
  }

  #manifestFile(): string {
    return join(this.#dir, `.${this.#base}.manifest`);
  }
}
