/** Record headers: names to bytes. */
export type Headers = Record<string, Uint8Array>;

/** A record as the log stores it: bytes, with a timestamp and headers. A null value is a tombstone. */
export interface LogRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Epoch milliseconds. */
  timestamp: number;
  headers?: Headers;
}

/** A record read back from a partition, with its position. */
export interface StoredRecord extends LogRecord {
  topic: string;
  partition: number;
  offset: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A string key is stored as its UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
