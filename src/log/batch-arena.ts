/**
 * Reusable memory for encoded batches on their way to a segment file.
 *
 * An append encodes its records into a batch before it joins a group; the batch's bytes are
 * dead once the group's write returned. Allocating each batch on its own (12 KiB for 100
 * records of 100 bytes) cost more than encoding it: a fresh, zero-filled backing store per
 * batch, page faults as the allocator handed memory back and took it again, and garbage
 * collection of the external memory. Here batches are carved from large chunks, one after
 * another (so a group's batches mostly lie side by side and go out in one iovec), and a chunk
 * is used again only once every batch carved from it was released: written, or given up.
 * A batch that is never released (an append that failed, kept for a retry) only keeps its
 * chunk from coming back; the garbage collector frees it with its last batch.
 */

/** Big enough for several 1 MiB groups in flight plus the batches queued behind them. */
const CHUNK_BYTES = 4 << 20;
/** Larger batches get memory of their own: they would waste most of a chunk. */
const LARGEST_CARVED = 256 << 10;
/** Chunks kept for reuse beyond the current one. */
const SPARE_CHUNKS = 2;

export class ArenaChunk {
  readonly bytes = new Uint8Array(CHUNK_BYTES);
  used = 0;
  /** Batches carved from this chunk and not released yet. */
  live = 0;
}

let current: ArenaChunk | undefined;
const spare: ArenaChunk[] = [];

/** Memory for a batch of `size` bytes (not zeroed: the encoder writes every byte), and the chunk to release it to. */
export function takeBatchMemory(size: number): { bytes: Uint8Array; chunk: ArenaChunk | undefined } {
  if (size > LARGEST_CARVED) return { bytes: new Uint8Array(size), chunk: undefined };
  let chunk = current;
  if (chunk === undefined || chunk.used + size > CHUNK_BYTES) {
    chunk = spare.pop() ?? new ArenaChunk();
    current = chunk;
  }
  const bytes = chunk.bytes.subarray(chunk.used, chunk.used + size);
  chunk.used += size;
  chunk.live++;
  return { bytes, chunk };
}

/** Says a batch's bytes are no longer read by anyone: its chunk may be reused once all its batches are released. */
export function releaseBatchMemory(chunk: ArenaChunk | undefined): void {
  if (chunk === undefined) return;
  chunk.live--;
  if (chunk.live > 0) return;
  chunk.used = 0;
  if (chunk !== current && spare.length < SPARE_CHUNKS) spare.push(chunk);
}
