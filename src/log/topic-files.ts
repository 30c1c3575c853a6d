/**
 * A topic's directory beside the metadata: `topics/<name>.<id>/` holds `topic.json` (the
 * topic's settings, a copy of its TopicMeta) and a directory per partition. The copy lets the
 * metadata be rebuilt from the files when meta/meta.sqlite is lost (see rebuild.ts).
 *
 * `topic.json` is written atomically: to `topic.json.tmp`, fsynced, renamed over the old one,
 * and the directory fsynced, so a crash leaves the old copy or the new one, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TopicMeta } from './meta.ts';
import { parseSegmentFileName } from './segment-names.ts';

export const TOPIC_FILE = 'topic.json';

/** `topics/<name>.<id>` of a data directory. */
export function topicDir(dataDir: string, meta: Pick<TopicMeta, 'name' | 'id'>): string {
  return join(dataDir, 'topics', `${meta.name}.${meta.id}`);
}

/** Writes `topic.json` into the topic's directory, atomically. */
export function writeTopicFile(dir: string, meta: TopicMeta): void {
  const temp = join(dir, `${TOPIC_FILE}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(meta, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, TOPIC_FILE));
  syncDirectory(dir);
}

/** The settings in a topic directory's `topic.json`, or undefined when it has none (or an unreadable one). */
export function readTopicFile(dir: string): TopicMeta | undefined {
  const path = join(dir, TOPIC_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as TopicMeta;
    return typeof meta.name === 'string' && Number.isSafeInteger(meta.id) && Number.isSafeInteger(meta.partitions) ? meta : undefined;
  } catch {
    return undefined;
  }
}

export interface TopicDirEntry {
  name: string;
  id: number;
  path: string;
}

/** The topic directories of a data directory (`<name>.<id>`). */
export function listTopicDirs(dataDir: string): TopicDirEntry[] {
  let names: string[];
  try {
    names = readdirSync(join(dataDir, 'topics'));
  } catch {
    return [];
  }
  const entries: TopicDirEntry[] = [];
  for (const entry of names) {
    const match = /^(.+)\.(\d+)$/.exec(entry);
    if (match) entries.push({ name: match[1], id: Number(match[2]), path: join(dataDir, 'topics', entry) });
  }
  return entries;
}

/** Whether a topic directory holds any segment file (records, or a partition once created). */
export function holdsSegments(dir: string): boolean {
  let partitions: string[];
  try {
    partitions = readdirSync(dir);
  } catch {
    return false;
  }
  for (const partition of partitions) {
    if (!/^\d+$/.test(partition)) continue;
    try {
      if (readdirSync(join(dir, partition)).some((name) => parseSegmentFileName(name)?.ext === 'log')) return true;
    } catch {
      // not a directory
    }
  }
  return false;
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
