/**
 * Checks an LMDB data file against its own header before it is mapped. LMDB maps the file and
 * trusts its meta pages: a file cut short (a copy that stopped, a full disk) makes the first read
 * past its end a SIGBUS, and damaged meta pages can crash the process before any error is
 * returned; both on every restart, with nothing printed. Reading the two meta pages with plain
 * file reads first turns that into a refusal that names the file.
 *
 * The layout read here (LMDB 1.x as built into lmdb-js, 64-bit, little-endian): pages 0 and 1
 * are meta pages. A page starts with a 24-byte header (pgno u64, txnid u64, pad u16,
 * flags u16 with P_META = 0x08, lower/upper u32). The meta follows: magic u32 = 0xBEEFC0DE,
 * version u32, address u64, mapsize u64, then two 48-byte database records (the first one's
 * leading u32 is the page size), then last_pg u64 (the highest page in use) and txnid u64. The
 * meta with the higher txnid is the current one; the file must hold pages 0..last_pg.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SluiceError } from '../core/index.ts';

const PAGE_HEADER = 24;
const P_META = 0x08;
const MAGIC = 0xbeefc0de;
const META_SIZE = 8 + 8 + 48 * 2 + 8 + 8 + 8;

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnid: bigint;
}

/** Throws STATE_CORRUPT when `path` exists but is not a whole LMDB file; a missing or empty file is a fresh start. */
export function checkLmdbFile(path: string, advice: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const first = readMeta(fd, 0, path, advice);
    const second = readMeta(fd, first.pageSize, path, advice);
    const current = second.txnid > first.txnid ? second : first;
    const needed = (current.lastPage + 1n) * BigInt(current.pageSize);
    if (BigInt(size) < needed) {
      throw new SluiceError('STATE_CORRUPT', `the state file ${path} is cut short: ${size} bytes, but its header says it holds ${needed} (pages 0..${current.lastPage} of ${current.pageSize} bytes); it cannot be read safely. ${advice}`);
    }
  } finally {
    closeSync(fd);
  }
}

function readMeta(fd: number, offset: number, path: string, advice: string): Meta {
  const page = Buffer.alloc(PAGE_HEADER + 8 + META_SIZE);
  const read = readSync(fd, page, 0, page.length, offset);
  const which = offset === 0 ? 'first' : 'second';
  if (read < page.length) throw new SluiceError('STATE_CORRUPT', `the state file ${path} is cut short: it ends inside its ${which} header page. ${advice}`);
  const flags = page.readUInt16LE(18);
  const magic = page.readUInt32LE(PAGE_HEADER);
  if ((flags & P_META) === 0 || magic !== MAGIC) {
    throw new SluiceError('STATE_CORRUPT', `the state file ${path} has a damaged ${which} header page (no LMDB meta page at byte ${offset}); it cannot be read safely. ${advice}`);
  }
  const meta = PAGE_HEADER + 8; // past magic and version
  const pageSize = page.readUInt32LE(meta + 16);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new SluiceError('STATE_CORRUPT', `the state file ${path} has a damaged ${which} header page (page size ${pageSize}). ${advice}`);
  }
  const lastPage = page.readBigUInt64LE(meta + 16 + 96);
  const txnid = page.readBigUInt64LE(meta + 16 + 96 + 8);
  return { pageSize, lastPage, txnid };
}
