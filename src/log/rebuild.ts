/**
 * Rebuilding a topic's metadata from its files, when meta/meta.sqlite is lost or lost the topic:
 * the settings come from `topic.json` (topic-files.ts), each partition's segments from its
 * segment files, which describe themselves (CRC-checked batches with their base offsets).
 *
 * Choosing the files: per base offset, the newest file generation whose compaction run
 * completed (no `compacting.<run>.*` marker left, see partition-files.ts). A run whose marker is
 * left was killed mid-way: its output is used only where the older file at its base is gone (the
 * old files are deleted after its commit, the first one first). A file whose base lies inside
 * the records of an earlier chosen segment is an old part of a merged one and is skipped.
 * Leftover `.cleaning` files are ignored. Aborted transactions are found again from the abort
 * markers; a transaction with no marker (its bookkeeping is lost) is taken as aborted.
 *
 * What cannot come back: consumer group offsets, producer and transaction state.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, batchCrcValid, CONTROL_ABORT, controlType, isControl, isTransactional, readBatchHeader } from './format.ts';
import type { AbortedRange, MetaStore, PartitionMeta, SegmentMeta, TopicMeta } from './meta.ts';
import { SegmentFile } from './segment-files.ts';
import { parseSegmentFileName } from './segment-names.ts';

const MARKER = /^compacting\.(\d+)\./;

/** Under the lock: puts the topic and its partitions, rebuilt from `dir`, into the metadata. */
export function rebuildTopicLocked(meta: MetaStore, dir: string, topic: TopicMeta): void {
  let generation = 0;
  let producerId = 0;
  for (let p = 0; p < topic.partitions; p++) {
    const rebuilt = rebuildPartition(join(dir, String(p)));
    meta.put(['part', topic.name, p], rebuilt.state);
    meta.put(['aborted', topic.name, p], rebuilt.aborted);
    generation = Math.max(generation, rebuilt.maxGeneration);
    producerId = Math.max(producerId, rebuilt.maxProducerId);
  }
  meta.put(['topic', topic.name], topic);
  // New ids must not meet the old ones in file names (topic directories, compaction runs) or batches.
  raiseCounter(meta, 'topicId', topic.id);
  raiseCounter(meta, 'segmentGeneration', generation);
  raiseCounter(meta, 'producerId', producerId);
}

function raiseCounter(meta: MetaStore, name: string, atLeast: number): void {
  if ((meta.get<number>(['counter', name]) ?? 0) < atLeast) meta.put(['counter', name], atLeast);
}

interface Rebuilt {
  state: PartitionMeta;
  aborted: AbortedRange[];
  maxGeneration: number;
  maxProducerId: number;
}

function rebuildPartition(dir: string): Rebuilt {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // no directory: an empty partition
  }
  const unfinished = new Set<number>();
  for (const name of names) {
    const marker = MARKER.exec(name);
    if (marker) unfinished.add(Number(marker[1]));
  }
  const byBase = new Map<number, number[]>();
  let maxGeneration = 0;
  for (const name of names) {
    const file = parseSegmentFileName(name);
    if (file?.ext !== 'log') continue;
    byBase.set(file.base, [...(byBase.get(file.base) ?? []), file.fileGeneration]);
    maxGeneration = Math.max(maxGeneration, file.fileGeneration);
  }
  const segments: SegmentMeta[] = [];
  const aborted: AbortedRange[] = [];
  const openTxns = new Map<number, [number, number]>();
  let maxProducerId = 0;
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const base of [...byBase.keys()].sort((a, b) => a - b)) {
    if (base < coveredTo) continue;
    const generations = (byBase.get(base) ?? []).sort((a, b) => b - a);
    const finished = generations.filter((g) => !unfinished.has(g));
    const fileGeneration = finished[0] ?? generations[0];
    const file = SegmentFile.open(dir, base, fileGeneration, fileGeneration || undefined);
    if (!file) continue;
    try {
      const size = file.size();
      let pos = 0;
      let next = base;
      let maxTimestamp = Number.NEGATIVE_INFINITY;
      while (pos + BATCH_HEADER_SIZE <= size) {
        const whole = file.read(pos, Math.min(size - pos, readBatchLength(file, pos, size)));
        const check = readBatchHeader(whole, 0, whole.length);
        if (!check.ok || check.header.length > whole.length || !batchCrcValid(whole, 0, check.header.length)) break;
        const { header } = check;
        if (!(header.baseOffset >= next)) break;
        const last = header.baseOffset + header.lastOffsetDelta;
        if (header.producerId > maxProducerId) maxProducerId = header.producerId;
        if (isTransactional(header)) {
          const producer = header.producerId;
          if (isControl(header)) {
            const open = openTxns.get(producer);
            if (open && controlType(whole, 0) === CONTROL_ABORT) aborted.push([producer, open[0], last]);
            openTxns.delete(producer);
          } else {
            const open = openTxns.get(producer);
            openTxns.set(producer, [open ? open[0] : header.baseOffset, last]);
          }
        }
        if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
        next = last + 1;
        pos += header.length;
      }
      // Index files are derived: rebuilt from the log file on first use (recovery).
      segments.push({
        base,
        next,
        bytes: pos,
        maxTimestamp,
        createdAt: statSync(file.logPath).mtimeMs,
        generation: fileGeneration,
        ...(fileGeneration > 0 ? { fileGeneration, cleaned: true } : {}),
      });
      coveredTo = next;
    } finally {
      file.close();
    }
  }
  // A segment spans up to the next one's base (compaction leaves gaps at segment ends).
  for (let i = 0; i < segments.length - 1; i++) segments[i].next = Math.max(segments[i].next, segments[i + 1].base);
  for (const [producer, [first, last]] of openTxns) aborted.push([producer, first, last]);
  if (segments.length === 0) segments.push({ base: 0, next: 0, bytes: 0, maxTimestamp: Number.NEGATIVE_INFINITY, createdAt: Date.now(), generation: 0 });
  const active = segments[segments.length - 1];
  const state: PartitionMeta = { segments, logStart: segments[0].base, next: active.next, openTxns: {}, abortedVersion: 1 };
  return { state, aborted, maxGeneration, maxProducerId };
}

/** The length of the batch at `pos` by its header (the header's size when unreadable, so the read stops there). */
function readBatchLength(file: SegmentFile, pos: number, size: number): number {
  const head = file.read(pos, BATCH_HEADER_SIZE);
  const check = readBatchHeader(head, 0, head.length);
  return check.ok && pos + check.header.length <= size ? check.header.length : BATCH_HEADER_SIZE;
}
