/**
 * Postgres log sequence numbers, written `X/Y` (two hex halves of a 64-bit WAL position), as
 * bigints to compare and step.
 */

export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** `lsn - 1`: pg-logical-replication's `acknowledge(lsn)` reports `lsn + 1` as flushed. */
export function lsnBefore(lsn: string): string {
  const value = parseLsn(lsn);
  return formatLsn(value > 0n ? value - 1n : 0n);
}
