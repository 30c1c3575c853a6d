/**
 * `sources`: the sources outside the log that ship with Sluice, each read with its position in
 * every checkpoint (see docs/semantics.md).
 */
import type { Source } from '../api/index.ts';
import { FileSource, type FileSourceOptions } from './files/file-source.ts';

/**
 * JSON lines or CSV files matching a glob; bounded unless `watch: true`.
 * @example
 * const events = app.source(sources.file({ path: 'events/*.jsonl', format: 'jsonl' }), { timestamp: (e) => e.ts });
 */
function file<T = any>(options: FileSourceOptions): Source<T> {
  return new FileSource(options) as Source<T>;
}

export const sources = { file };
