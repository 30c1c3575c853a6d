/**
 * Creating a topic and bringing lost topics back, with the files beside the metadata in mind:
 * - creation validates first, commits the metadata (refusing when files of a topic by that name
 *   are still on disk, which creation would otherwise hide), and only then makes the
 *   directories and `topic.json`, outside the cross-process lock; when that fails (no inodes, no
 *   space) the topic is taken back out and whatever was made is removed;
 * - rebuilding puts topics whose directories hold a `topic.json` but which the metadata does not
 *   know back into the metadata (see rebuild.ts).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../core/index.ts';
import type { MetaStore, PartitionMeta, TopicMeta } from './meta.ts';
import { rebuildTopicLocked } from './rebuild.ts';
import { SegmentFile } from './segment-files.ts';
import { type TopicConfig, topicMeta, validateTopicConfig } from './topic-config.ts';
import { holdsSegments, listTopicDirs, readTopicFile, topicDir, writeTopicFile } from './topic-files.ts';

/** Creates topic `name` in the metadata and on disk; returns its settings. */
export function createTopic(meta: MetaStore, dataDir: string, name: string, config: TopicConfig, now: number): TopicMeta {
  validateTopicConfig(name, config);
  const created = meta.locked(() => {
    if (meta.get(['topic', name])) {
      throw new SluiceError('TOPIC_EXISTS', `topic '${name}' already exists; use \`sluice topic describe ${name}\` to see it`);
    }
    const dirs = listTopicDirs(dataDir).filter((d) => d.name === name);
    const leftover = dirs.find((d) => holdsSegments(d.path));
    if (leftover) {
      const fix = readTopicFile(leftover.path)
        ? 'run `sluice log repair` to bring it back, or delete that directory to start over'
        : 'it has no topic.json (an older version made it), so it cannot be rebuilt: move that directory away to start over';
      throw new SluiceError(
        'TOPIC_EXISTS',
        `topic '${name}' is not in the log's metadata, but its files are in ${leftover.path}; ${fix} (creating the topic would hide its records)`,
      );
    }
    // Above every directory id on disk too: the counter may have been lost with the metadata.
    let id = meta.nextCounter('topicId');
    for (const dir of listTopicDirs(dataDir)) if (dir.id >= id) id = dir.id + 1;
    meta.put(['counter', 'topicId'], id);
    const topic = topicMeta(name, config, id, now);
    for (let p = 0; p < topic.partitions; p++) meta.put(['part', name, p], emptyPartition(now));
    meta.put(['topic', name], topic);
    return topic;
  });
  const dir = topicDir(dataDir, created);
  try {
    for (let p = 0; p < created.partitions; p++) {
      mkdirSync(join(dir, String(p)), { recursive: true });
      SegmentFile.open(join(dir, String(p)), 0, 0, undefined, true)?.close();
    }
    writeTopicFile(dir, created);
  } catch (error) {
    meta.locked(() => {
      const current = meta.get<TopicMeta>(['topic', name]);
      if (current?.id !== created.id) return;
      meta.remove(['topic', name]);
      for (let p = 0; p < created.partitions; p++) meta.remove(['part', name, p]);
    });
    rmSync(dir, { recursive: true, force: true });
    throw new SluiceError('IO_FAILED', `creating the files of topic '${name}' in ${dir} failed (${(error as Error).message}); nothing was created`, {
      cause: error,
    });
  }
  return created;
}

function emptyPartition(now: number): PartitionMeta {
  return {
    segments: [{ base: 0, next: 0, bytes: 0, maxTimestamp: Number.NEGATIVE_INFINITY, createdAt: now, generation: 0 }],
    logStart: 0,
    next: 0,
    openTxns: {},
    abortedVersion: 0,
  };
}

/** Writes `topic.json` for a topic that has none (created by an older version). */
export function ensureTopicFile(dataDir: string, topic: TopicMeta): void {
  const dir = topicDir(dataDir, topic);
  if (existsSync(join(dir, 'topic.json')) || !existsSync(dir)) return;
  try {
    writeTopicFile(dir, topic);
  } catch {
    // A read-only or full disk: the copy is written at the next chance.
  }
}

export interface RebuiltTopic {
  name: string;
  dir: string;
}

/**
 * Under its own lock: puts back every topic whose directory has a `topic.json` and whose name
 * the metadata does not know (the newest directory per name). Returns what it rebuilt.
 */
export function rebuildMissingTopics(meta: MetaStore, dataDir: string): RebuiltTopic[] {
  return meta.locked(() => {
    const newest = new Map<string, { dir: string; topic: TopicMeta }>();
    for (const entry of listTopicDirs(dataDir)) {
      const topic = readTopicFile(entry.path);
      if (!topic || topic.name !== entry.name || topic.id !== entry.id || meta.get(['topic', topic.name])) continue;
      const seen = newest.get(topic.name);
      if (!seen || seen.topic.id < topic.id) newest.set(topic.name, { dir: entry.path, topic });
    }
    const rebuilt: RebuiltTopic[] = [];
    for (const { dir, topic } of newest.values()) {
      rebuildTopicLocked(meta, dir, topic);
      rebuilt.push({ name: topic.name, dir });
    }
    return rebuilt;
  });
}

/** At open: when the metadata knows no topic but topic files are on disk (meta.sqlite lost or new), rebuilds them, with a warning. */
export function rebuildOnOpen(meta: MetaStore, dataDir: string): void {
  if (meta.range(['topic'])[Symbol.iterator]().next().done !== true) return;
  const rebuilt = rebuildMissingTopics(meta, dataDir);
  if (rebuilt.length === 0) return;
  process.emitWarning(
    `the log's metadata did not know ${rebuilt.length === 1 ? 'topic' : 'topics'} ${rebuilt.map((t) => `'${t.name}'`).join(', ')} found on disk: rebuilt from their files (consumer group offsets and transactions could not be recovered)`,
    { code: 'SLUICE_METADATA_REBUILT' },
  );
}
