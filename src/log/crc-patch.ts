/**
 * Patching a batch's CRC32C after a field it covers changed, without reading the batch again.
 *
 * An append learns its base offset only under the lock, and the CRC covers it. Computing the
 * CRC there meant a second pass over bytes that had gone cold since they were encoded; instead
 * the CRC is computed right after encoding (base offset 0, bytes still in cache) and patched:
 * CRC32C is linear over GF(2), so for messages of equal length
 * crc(M xor D) = crc(M) xor crc0(D), where crc0 is the bare register (no initial or final
 * inversion) of the difference D. D is the changed field's xor followed by k zero bytes, and
 * running k zero bytes through the register multiplies it by x^(8k) modulo the polynomial
 * (zlib's crc32_combine does the same). The multiplier depends only on k, so batches of one
 * size share it.
 */

/** CRC32C (Castagnoli), reflected. */
const POLY = 0x82f63b78;
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}
/** X2N[i] = x^(2^i) modulo the polynomial, for every bit of 8k with k below 2^32. */
const X2N = new Int32Array(35);
X2N[0] = 1 << 30; // x^1
for (let i = 1; i < X2N.length; i++) X2N[i] = multiplyModPoly(X2N[i - 1], X2N[i - 1]);

/** The multipliers x^(8k) seen lately, by k (batch sizes repeat). */
const shifts = new Map<number, number>();
const MAX_SHIFTS = 1024;

/** a * b modulo the polynomial, both reflected. */
function multiplyModPoly(a: number, b: number): number {
  let m = 1 << 31;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** x^(8k) modulo the polynomial: the register's change over k zero bytes. */
function zeroBytesShift(k: number): number {
  let shift = shifts.get(k);
  if (shift !== undefined) return shift;
  shift = 1 << 31; // x^0
  for (let n = k, i = 3; n > 0; n = Math.floor(n / 2), i++) if (n % 2 === 1) shift = multiplyModPoly(X2N[i], shift);
  if (shifts.size >= MAX_SHIFTS) shifts.clear();
  shifts.set(k, shift);
  return shift;
}

/**
 * The CRC32C of a message after its bytes at `at` changed from `before` to `after` (same
 * length), given `crc`, its CRC before; `length` is the whole message's length.
 */
export function patchedCrc32c(crc: number, length: number, at: number, before: Uint8Array, after: Uint8Array): number {
  let register = 0;
  for (let i = 0; i < after.length; i++) register = TABLE[(register ^ before[i] ^ after[i]) & 0xff] ^ (register >>> 8);
  const following = length - at - after.length;
  return (crc ^ multiplyModPoly(zeroBytesShift(following), register)) >>> 0;
}
