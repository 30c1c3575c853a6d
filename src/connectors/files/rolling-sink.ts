/**
 * A directory of rolling part files, exactly-once (Flink's two-phase file sink): readers that
 * glob `path/**\/*.parquet` (or `*.jsonl`, `*.csv`) see only parts whose checkpoint committed.
 *
 * Files under `path`:
 * - `part-000001.parquet`: a committed part, visible.
 * - `.part-000002.staging`: the open part's records, one frame per checkpoint it spans (staging.ts).
 * - `.part-000002.pending-17`: the part encoded when it rolled at checkpoint 17, fsynced, hidden
 *   and without the output suffix until checkpoint 17 commits; then renamed to `part-000002.parquet`.
 * - `.schema.json`: the columns (and Parquet types) every part uses, fixed by the first part.
 *
 * A part rolls at the first checkpoint after it has been open `rollEvery` (processing time), and at
 * a run's last checkpoint. Recovery from the last committed checkpoint L: a pending file of a
 * checkpoint <= L is renamed visible (its commit was cut short), a later one is deleted, and the
 * staging file keeps only frames of checkpoints <= L: what comes after is written again from the input.
 * A staging file beside the visible part of its number is left over from a commit cut short
 * between the rename and its removal: it is removed, as its rows are in the part.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sink, SinkBatch, SinkContext } from '../../api/index.ts';
import { SluiceError } from '../../core/index.ts';
import { ensureDir, removeIfThere, renameDurable, syncDir, writeDurable } from './durable.ts';
import { csvColumns, csvHeader, EXTENSIONS, encodeCsv, encodeJsonl, encodeParquet, type FileFormat, inferParquetSchema, type ParquetSchema } from './formats.ts';
import { appendFrame, recoverFrames, truncateDurable } from './staging.ts';

export interface RollingSinkOptions {
  /** The directory of the parts. */
  path: string;
  format: FileFormat;
  /** How long a part stays open before it rolls at a checkpoint. */
  rollEveryMs: number;
  /** Parquet column types; default from the first part's records. */
  schema?: ParquetSchema;
  /** CSV columns; default the first part's fields. */
  columns?: string[];
}

interface Layout {
  /** Parquet types, or CSV columns. */
  schema?: ParquetSchema;
  columns?: string[];
}

const PART = /^part-(\d+)\.(parquet|jsonl|csv)$/;
const STAGING = /^\.part-(\d+)\.staging$/;
const PENDING = /^\.part-(\d+)\.pending-(\d+)$/;

export class RollingFileSink implements Sink {
  readonly describe: string;
  readonly #options: RollingSinkOptions;
  #layout: Layout = {};
  #seq = 1;
  /** The open part's records (also in its staging file). */
  #rows: unknown[] = [];
  #openedAt: number | undefined;
  #clock: () => number = Date.now;
  /** The part rolled by the checkpoint in progress, waiting for its commit. */
  #rolled: { checkpoint: number; file: string } | undefined;
  /** Frames appended by the checkpoint in progress, to undo on abort. */
  #appended: { checkpoint: number; lengthBefore: number; count: number } | undefined;

  constructor(options: RollingSinkOptions) {
    this.#options = options;
    this.describe = `${options.format} files under '${options.path}'`;
    if (options.schema !== undefined) this.#layout.schema = options.schema;
    if (options.columns !== undefined) this.#layout.columns = options.columns;
  }

  async open(context: SinkContext): Promise<void> {
    this.#clock = context.clock;
    ensureDir(this.#options.path, this.describe);
  }

  async recover(last: number): Promise<void> {
    const dir = this.#options.path;
    let maxSeq = 0;
    for (const name of readdirSync(dir)) {
      const part = PART.exec(name) ?? STAGING.exec(name);
      if (part) maxSeq = Math.max(maxSeq, Number(part[1]));
      const pending = PENDING.exec(name);
      if (pending === null) continue;
      const seq = Number(pending[1]);
      maxSeq = Math.max(maxSeq, seq);
      if (Number(pending[2]) <= last) {
        // Its checkpoint committed but the rename did not happen: finish it.
        const visible = join(dir, this.#partName(seq));
        if (!existsSync(visible)) renameDurable(join(dir, name), visible);
        else removeIfThere(join(dir, name));
        removeIfThere(this.#staging(seq));
      } else {
        removeIfThere(join(dir, name));
      }
    }
    syncDir(dir);
    this.#loadLayout();
    this.#rows = [];
    this.#seq = maxSeq + 1;
    for (const name of readdirSync(dir)) {
      const staging = STAGING.exec(name);
      if (staging === null) continue;
      const seq = Number(staging[1]);
      // A visible part holds all of its staging file's rows: a crash between the rename and the
      // removal left the file behind. Reopening it would roll a second part of the same number
      // over the committed one.
      if (existsSync(join(dir, this.#partName(seq)))) {
        removeIfThere(join(dir, name));
        continue;
      }
      const rows = recoverFrames(join(dir, name), last);
      if (rows.length === 0) {
        removeIfThere(join(dir, name));
        continue;
      }
      if (this.#rows.length > 0) throw new SluiceError('SINK_FAILED', `${this.describe}: two open parts (${this.#partName(this.#seq)} and ${this.#partName(seq)}); remove the directory's hidden files of the one not wanted`);
      this.#rows = rows;
      this.#seq = seq;
    }
    this.#openedAt = this.#rows.length > 0 ? this.#clock() : undefined;
    this.#rolled = undefined;
    this.#appended = undefined;
  }

  async write(batch: SinkBatch<unknown>): Promise<void> {
    const { checkpoint, records, now } = batch;
    if (records.length > 0) this.#openedAt ??= now;
    const due = batch.final || (this.#openedAt !== undefined && now - this.#openedAt >= this.#options.rollEveryMs);
    const total = this.#rows.length + records.length;
    if (due && total > 0) {
      const all = this.#rows.length === 0 ? records : [...this.#rows, ...records];
      const file = join(this.#options.path, `.part-${pad(this.#seq)}.pending-${checkpoint}`);
      writeDurable(file, this.#encode(all));
      syncDir(this.#options.path);
      this.#rolled = { checkpoint, file };
      return;
    }
    if (records.length === 0) return;
    const lengthBefore = appendFrame(this.#staging(this.#seq), checkpoint, records);
    for (const r of records) this.#rows.push(r);
    this.#appended = { checkpoint, lengthBefore, count: records.length };
  }

  async commit(checkpoint: number): Promise<void> {
    this.#appended = undefined;
    const rolled = this.#rolled;
    if (rolled?.checkpoint !== checkpoint) return;
    renameDurable(rolled.file, join(this.#options.path, this.#partName(this.#seq)));
    removeIfThere(this.#staging(this.#seq));
    this.#seq++;
    this.#rows = [];
    this.#openedAt = undefined;
    this.#rolled = undefined;
  }

  async abort(checkpoint: number): Promise<void> {
    if (this.#rolled?.checkpoint === checkpoint) {
      removeIfThere(this.#rolled.file);
      this.#rolled = undefined;
    }
    const appended = this.#appended;
    if (appended?.checkpoint === checkpoint) {
      truncateDurable(this.#staging(this.#seq), appended.lengthBefore);
      this.#rows.length -= appended.count;
      this.#appended = undefined;
    }
  }

  async close(): Promise<void> {}

  #encode(records: readonly unknown[]): Uint8Array[] {
    switch (this.#options.format) {
      case 'jsonl':
        return [encodeJsonl(records)];
      case 'csv': {
        const columns = this.#layout.columns ?? this.#saveLayout({ columns: csvColumns(records) }).columns!;
        return [csvHeader(columns), encodeCsv(records, columns)];
      }
      case 'parquet': {
        const schema = this.#layout.schema ?? this.#saveLayout({ schema: inferParquetSchema(records) }).schema!;
        return [encodeParquet(records, schema)];
      }
    }
  }

  /** Fixes the columns for every later part (and restart): written durably before the first part is. */
  #saveLayout(layout: Layout): Layout {
    const file = join(this.#options.path, '.schema.json');
    writeDurable(`${file}.tmp`, [new TextEncoder().encode(JSON.stringify(layout))]);
    renameDurable(`${file}.tmp`, file);
    this.#layout = { ...this.#layout, ...layout };
    return this.#layout;
  }

  #loadLayout(): void {
    const file = join(this.#options.path, '.schema.json');
    if (!existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Layout;
    // A schema given in the options wins; a saved one keeps parts alike across restarts.
    this.#layout = { ...saved, ...this.#layout };
  }

  #partName(seq: number): string {
    return `part-${pad(seq)}${EXTENSIONS[this.#options.format]}`;
  }

  #staging(seq: number): string {
    return join(this.#options.path, `.part-${pad(seq)}.staging`);
  }
}

function pad(seq: number): string {
  return String(seq).padStart(6, '0');
}
