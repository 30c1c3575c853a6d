/**
 * Result checksums, identical across engines (the Java peer implements the same rules):
 * each row as canonical JSON (object keys sorted, integers in decimal, other numbers with
 * three decimals, as `toFixed(3)` and Java's HALF_UP BigDecimal both round the exact binary
 * value), hashed with 32-bit FNV-1a over its UTF-16 code units; the row hashes sorted as
 * unsigned integers and hashed again (FNV-1a over their little-endian bytes). Row order, which
 * differs between engines, does not matter; the row count is reported beside the hash.
 */

export interface Checksum {
  rows: number;
  /** 8 hex digits. */
  hash: string;
}

export function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Accumulates row hashes; `result()` sorts them and hashes the sorted list. */
export class ChecksumBuilder {
  #hashes = new Uint32Array(1024);
  #count = 0;

  add(row: unknown): void {
    if (this.#count === this.#hashes.length) {
      const grown = new Uint32Array(this.#hashes.length * 2);
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[this.#count++] = fnv1a(canonical(row));
  }

  result(): Checksum {
    const sorted = this.#hashes.subarray(0, this.#count).sort();
    let h = 0x811c9dc5;
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i];
      for (let shift = 0; shift < 32; shift += 8) {
        h ^= (v >>> shift) & 0xff;
        h = Math.imul(h, 0x01000193);
      }
    }
    return { rows: this.#count, hash: (h >>> 0).toString(16).padStart(8, '0') };
  }
}

export function checksumOf(rows: Iterable<unknown>): Checksum {
  const builder = new ChecksumBuilder();
  for (const row of rows) builder.add(row);
  return builder.result();
}

export function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a.rows === b.rows && a.hash === b.hash;
}
