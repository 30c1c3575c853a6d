/** Kafka's error codes as Sluice errors: what the engine branches on gets its own code, the rest say what failed. */
import { type ErrorCode, SluiceError } from '../../core/index.ts';

/** Kafka protocol error names (the client's `apiId`) that Sluice names with its own codes. */
const CODES: Readonly<Record<string, ErrorCode>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'TOPIC_NOT_FOUND',
  UNKNOWN_TOPIC_ID: 'TOPIC_NOT_FOUND',
  TOPIC_ALREADY_EXISTS: 'TOPIC_EXISTS',
  INVALID_TOPIC_EXCEPTION: 'INVALID_TOPIC_NAME',
  INVALID_PARTITIONS: 'INVALID_ARGUMENT',
  OFFSET_OUT_OF_RANGE: 'OFFSET_OUT_OF_RANGE',
  PRODUCER_FENCED: 'PRODUCER_FENCED',
  INVALID_PRODUCER_EPOCH: 'PRODUCER_FENCED',
  TRANSACTIONAL_ID_NOT_FOUND: 'INVALID_TXN_STATE',
  INVALID_TXN_STATE: 'INVALID_TXN_STATE',
  ILLEGAL_GENERATION: 'ILLEGAL_GENERATION',
  UNKNOWN_MEMBER_ID: 'ILLEGAL_GENERATION',
  FENCED_INSTANCE_ID: 'ILLEGAL_GENERATION',
  REBALANCE_IN_PROGRESS: 'ILLEGAL_GENERATION',
  CORRUPT_MESSAGE: 'CORRUPT_RECORD',
};

/** The first Kafka protocol error name inside `error` (the client nests them), if any. */
export function kafkaErrorName(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length > 0) {
    const e = stack.pop();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { apiId, errors, cause } = e as { apiId?: unknown; errors?: unknown; cause?: unknown };
    if (typeof apiId === 'string' && apiId !== '') return apiId;
    if (Array.isArray(errors)) stack.push(...errors);
    if (cause !== undefined) stack.push(cause);
  }
  return undefined;
}

/** `error` from the client as a SluiceError saying what `doing` was (already Sluice errors pass through). */
export function kafkaError(error: unknown, doing: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const name = kafkaErrorName(error);
  const code = (name !== undefined ? CODES[name] : undefined) ?? 'IO_FAILED';
  const why = name ?? (error instanceof Error ? error.message : String(error));
  const hint = code === 'PRODUCER_FENCED' ? ': a newer writer with the same transactional id took over (another process of this app?)' : '';
  return new SluiceError(code, `Kafka: ${doing} failed: ${why}${hint}`, { cause: error });
}

/** Runs `action`, turning client errors into SluiceErrors about `doing`. */
export async function kafkaCall<T>(doing: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw kafkaError(error, doing);
  }
}
