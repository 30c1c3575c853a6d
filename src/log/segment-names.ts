/** Names of segment files: `<base>.<ext>`, or `<base>.g<generation>.<ext>` once compaction rewrote the segment (see segment-files.ts). */

export type SegmentExt = 'log' | 'index' | 'timeindex';

export function segmentName(base: number): string {
  return String(base).padStart(20, '0');
}

/**
 * The file name of a segment's log or index: generation 0 files (never rewritten, or rewritten
 * before names carried generations) are named by base alone.
 */
export function segmentFileName(base: number, fileGeneration: number | undefined, ext: SegmentExt): string {
  return fileGeneration ? `${segmentName(base)}.g${fileGeneration}.${ext}` : `${segmentName(base)}.${ext}`;
}

const SEGMENT_FILE = /^(\d{20})(?:\.g(\d+))?\.(log|index|timeindex)$/;

/** The base, file generation and kind of a segment file's name, or undefined for other names. */
export function parseSegmentFileName(name: string): { base: number; fileGeneration: number; ext: SegmentExt } | undefined {
  const match = SEGMENT_FILE.exec(name);
  if (!match) return undefined;
  return { base: Number(match[1]), fileGeneration: match[2] === undefined ? 0 : Number(match[2]), ext: match[3] as SegmentExt };
}
