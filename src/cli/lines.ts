/**
 * A strict line reader for `sluice produce`: lines of a byte stream split at '\n' (a '\r' before
 * it dropped), each decoded as UTF-8 with a fatal decoder, so invalid bytes are refused by line
 * number instead of being replaced with U+FFFD. A line longer than `maxLineBytes` is refused as
 * soon as it grows past the limit, without being held whole (a 100 MB line costs its chunks, not
 * 8x its size in strings and copies).
 */

/** A line that cannot be a record: its number, and why (the caller adds what was written). */
export class BadLine extends Error {
  override name = 'BadLine';
  readonly lineNumber: number;
  readonly tooLarge: boolean;

  constructor(lineNumber: number, message: string, tooLarge = false) {
    super(message);
    this.lineNumber = lineNumber;
    this.tooLarge = tooLarge;
  }
}

export interface Line {
  /** 1-based. */
  number: number;
  text: string;
  /** Bytes of the line in the input (without its line break). */
  bytes: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * The lines of `input`. Stops quietly when `signal` aborts (the input may then be destroyed
 * under the reader). Throws a BadLine for invalid UTF-8 or a line over `maxLineBytes`.
 */
export async function* readLines(input: AsyncIterable<Uint8Array>, maxLineBytes: number, signal?: AbortSignal): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  let pending = 0;
  let number = 0;
  const finish = (last: Uint8Array): Line => {
    number++;
    let bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    parts = [];
    pending = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > maxLineBytes) throw tooLong(number, maxLineBytes);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new BadLine(number, 'not valid UTF-8; give text in UTF-8 (binary data can go in as base64 strings)');
    }
    return { number, text, bytes: bytes.length };
  };
  try {
    for await (const chunk of input) {
      let start = 0;
      for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, start)) {
        yield finish(chunk.subarray(start, at));
        start = at + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pending += rest.length;
        // One byte for a '\r' that may end the line.
        if (pending > maxLineBytes + 1) throw tooLong(number + 1, maxLineBytes);
        parts.push(rest);
      }
      if (signal?.aborted) return;
    }
  } catch (error) {
    if (signal?.aborted && !(error instanceof BadLine)) return;
    throw error;
  }
  if (pending > 0) yield finish(new Uint8Array(0));
}

function tooLong(number: number, max: number): BadLine {
  return new BadLine(number, `longer than ${max} bytes, the most a line may have for this topic; it was not read further`, true);
}
