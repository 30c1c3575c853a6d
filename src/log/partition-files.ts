/**
 * The files of a partition's directory against its metadata: what recovery deletes, and the
 * damage `describe` reports.
 *
 * The metadata names every live segment file (base and file generation). Anything else with a
 * segment file's name is left over: the old files of segments compaction replaced (deleted after
 * its commit), or the new files of a compaction killed before its commit. A compaction in
 * progress announces itself with a marker file `compacting.<run>.<pid>.<start>`; while its owner
 * lives, files of its run are left alone.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive, SELF_START } from '../core/index.ts';
import type { PartitionMeta, SegmentMeta } from './meta.ts';
import { parseSegmentFileName, segmentFileName } from './segment-names.ts';

const MARKER = /^compacting\.(\d+)\.(\d+)\.(.*)$/;

/** Announces this process's compaction run in `dir`; returns the marker's path, to remove when done. */
export function writeCompactionMarker(dir: string, run: number): string {
  const path = join(dir, `compacting.${run}.${process.pid}.${SELF_START}`);
  writeFileSync(path, '');
  return path;
}

/** Under the lock: deletes files the metadata does not name (and markers of dead compactions). */
export function removeUnnamedFiles(dir: string, state: PartitionMeta): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no directory: the partition's damage is reported elsewhere
  }
  const named = new Set(state.segments.map((s) => `${s.base}.${s.fileGeneration ?? 0}`));
  const liveRuns = new Set<number>();
  for (const name of names) {
    const marker = MARKER.exec(name);
    if (!marker) continue;
    if (isProcessAlive(Number(marker[2]), marker[3])) liveRuns.add(Number(marker[1]));
    else rmSync(join(dir, name), { force: true });
  }
  for (const name of names) {
    const file = parseSegmentFileName(name);
    if (file) {
      if (named.has(`${file.base}.${file.fileGeneration}`) || liveRuns.has(file.fileGeneration)) continue;
      rmSync(join(dir, name), { force: true });
    } else if (name.endsWith('.cleaning')) {
      rmSync(join(dir, name), { force: true }); // an older version's compaction output
    }
  }
}

/** The names of all files of `segment`. */
export function segmentFileNames(segment: SegmentMeta): string[] {
  return (['log', 'index', 'timeindex'] as const).map((ext) => segmentFileName(segment.base, segment.fileGeneration, ext));
}

/** Deletes the files of `segment` (after a commit stopped naming them). */
export function removeFilesOf(dir: string, segment: SegmentMeta): void {
  for (const name of segmentFileNames(segment)) rmSync(join(dir, name), { force: true });
}
