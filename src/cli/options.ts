/**
 * Options every command shares (`--data-dir`, `--json`), strict argument parsers for numbers,
 * and opening the log a command works on.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError, toMillis } from '../core/index.ts';
import { Log } from '../log/index.ts';

export const DEFAULT_DATA_DIR = './.sluice';
export const DATA_DIR_ENV = 'SLUICE_DATA_DIR';

export interface GlobalOptions {
  /** Absolute path of the data directory. */
  dataDir: string;
  json: boolean;
}

/** Adds the global options to the program; commander then accepts them before or after any subcommand. */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('--data-dir <dir>', 'the data directory holding the log').env(DATA_DIR_ENV).default(DEFAULT_DATA_DIR),
    )
    .addOption(new Option('--kafka <host:port>', 'work on this Kafka cluster instead of the data directory (comma-separate several brokers)').env('SLUICE_KAFKA'))
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--verbose', 'on failure, print the stack of the error (and of its causes)');
}

export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{ dataDir?: string; json?: boolean }>();
  return { dataDir: resolve(options.dataDir ?? DEFAULT_DATA_DIR), json: options.json === true };
}

/**
 * Opens the log of the command's data directory, runs `work`, and closes the log whatever happens.
 * Only commands that create things may create a missing data directory: a mistyped `--data-dir`
 * should be an error, not a fresh empty log.
 */
export async function withLog<T>(command: Command, work: (log: Log, options: GlobalOptions) => Promise<T> | T, create = false): Promise<T> {
  const options = globalOptions(command);
  if (!create && !existsSync(join(options.dataDir, 'meta'))) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `no Sluice data directory at ${options.dataDir}; pass --data-dir (or set ${DATA_DIR_ENV}) to use another one, or create a topic there with \`sluice topic create NAME --partitions N\``,
    );
  }
  const log = await Log.open(options.dataDir);
  try {
    return await work(log, options);
  } finally {
    await log.close();
  }
}

/** A parser for an integer option argument of at least `min`. */
export function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, got '${value}'.`);
    if (n < min) throw new InvalidArgumentError(`must be at least ${min}.`);
    return n;
  };
}

/** Milliseconds as a number, or a duration such as '7d'; -1 means no limit. */
export function retentionMs(value: string): number {
  if (value.trim() === '-1') return -1;
  try {
    return toMillis(/^\d+$/.test(value.trim()) ? Number(value) : (value as `${number}ms`), '--retention-ms');
  } catch {
    throw new InvalidArgumentError(`expected milliseconds, a duration such as '7d', or -1 for no limit, got '${value}'.`);
  }
}
