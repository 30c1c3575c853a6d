/**
 * How an operator reports a record it could not process (user code threw, a value would not
 * encode). The runtime decides: dead-letter the record and go on, or stop the pipeline.
 */
import type { Element } from './operator.ts';

/** Called with the failing element; throws when the pipeline must stop instead. */
export type RecordErrorHandler = (element: Element | undefined, error: unknown, operator: string) => void;

/** The default for harnesses: every failure stops, as nothing would otherwise see it. */
export const rethrow: RecordErrorHandler = (_element, error) => {
  throw error;
};

/** A key as error messages show it: strings quoted, other keys as JSON (so 1 and '1' differ). */
export function describeKey(key: unknown): string {
  try {
    return typeof key === 'string' ? `'${key}'` : String(JSON.stringify(key));
  } catch {
    return String(key);
  }
}
