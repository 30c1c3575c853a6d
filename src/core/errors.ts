/** The error codes Sluice raises. Each names what happened; messages say what to do. */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_TOPIC_NAME',
  'TOPIC_EXISTS',
  'TOPIC_NOT_FOUND',
  'PARTITION_NOT_FOUND',
  'OFFSET_OUT_OF_RANGE',
  'CORRUPT_RECORD',
  'INVALID_RECORD',
  'DUPLICATE_SEQUENCE',
  'OUT_OF_ORDER_SEQUENCE',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'LOG_CLOSED',
  'DECODE_FAILED',
  'USER_FUNCTION_FAILED',
  'PIPELINE_FAILED',
  'INVALID_PLAN',
  'STATE_INCOMPATIBLE',
  'CHECKPOINT_CORRUPT',
  'STATE_CORRUPT',
  'IO_FAILED',
  'DISK_FULL',
  'STATE_IN_USE',
  'STATE_MISSING',
  'ILLEGAL_GENERATION',
  'STORE_UNAVAILABLE',
  'APP_RUNNING',
  'METADATA_CORRUPT',
  'SINK_FAILED',
  'SOURCE_FAILED',
  'SQL_INVALID',
  'SQL_UNSUPPORTED',
  'DATA_LOST',
  'RECORD_TOO_LARGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where in the input a record came from, for errors and dead letters. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface SluiceErrorOptions {
  cause?: unknown;
  operator?: string;
  position?: SourcePosition;
}

/**
 * The one base error of Sluice.
 * @example
 * throw new SluiceError('TOPIC_NOT_FOUND', "topic 'orders' does not exist; create it with `sluice topic create orders --partitions 3`");
 */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly operator: string | undefined;
  readonly position: SourcePosition | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.operator = options.operator;
    this.position = options.position;
  }
}

/** Whether `error` (from fs, SQLite or LMDB) says the disk or a database file is full. */
export function isDiskFull(error: unknown): boolean {
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'DISK_FULL') return true;
    if (typeof message === 'string' && /database or disk is full|no space left on device|MDB_MAP_FULL/i.test(message)) return true;
  }
  return false;
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * Whether `error` is a Sluice error (with `code`, when given). Recognised by its code, not by
 * `instanceof`: a module loaded twice (a pipeline loaded through a TypeScript loader) has a
 * `SluiceError` class of its own.
 */
export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  if (typeof error !== 'object' || error === null) return false;
  const { code: own, message } = error as { code?: unknown; message?: unknown };
  return typeof message === 'string' && typeof own === 'string' && CODES.has(own) && (code === undefined || own === code);
}
