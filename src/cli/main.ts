/**
 * cli: the `sluice` command. This module builds the program from the command registrars in
 * `commands/`, runs it, and turns failures into one `error: ...` line on stderr with exit code
 * 1 (2 for usage errors). Run it through `bin/sluice.mjs`, or directly as `node src/cli/main.ts`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { isSluiceError } from '../core/index.ts';
import { registrars } from './commands/index.ts';
import { CommandExit } from './exit.ts';
import { paint } from './format.ts';
import { addGlobalOptions } from './options.ts';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The whole `sluice` program, ready to parse. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Sluice: stream processing for TypeScript on an embedded durable log')
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, writeErr) => writeErr(text.replace(/^error:/, paint('red', 'error:', process.stderr))) })
    // Commander throws instead of exiting, so main() decides the exit code and closes what is open.
    .exitOverride();
  addGlobalOptions(program);
  for (const register of registrars) register(program);
  program.addHelpText(
    'after',
    `
The data directory is --data-dir, else $SLUICE_DATA_DIR, else ./.sluice. Several processes may
use one data directory at once. Exit codes: 0 ok, 1 failure, 2 usage error.

Examples:
  $ sluice topic create events --partitions 3
  $ echo '{"key":"user-1","value":{"action":"click"}}' | sluice produce events
  $ sluice consume events --from-beginning --timeout-ms 1000
  $ sluice topic describe events --json
  $ sluice --data-dir /var/lib/sluice topic list`,
  );
  return program;
}

/** Runs `sluice` with node-style `argv` (node, script, args...); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // Options are parsed before any action runs, so --verbose is known for every failure that matters.
    return reportError(error, program.opts<{ verbose?: boolean }>().verbose === true);
  }
}

function reportError(error: unknown, verbose: boolean): number {
  // Commander has already printed its message (or the help); only the exit code is left to pick.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  if (error instanceof CommandExit) {
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  const label = paint('red', 'error:', process.stderr);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${label} ${message}\n`);
  if (verbose) process.stderr.write(`${stackOf(error)}\n`);
  else if (!isSluiceError(error) && !isSystemError(error)) {
    // Not an error Sluice named: where it came from is what a report (or a fix) needs.
    process.stderr.write('(run again with --verbose to see where it came from)\n');
  }
  return EXIT_FAILURE;
}

/** The stack of `error` and of each of its causes. */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(`${depth === 0 ? '' : 'caused by: '}${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  return parts.join('\n');
}

/** An operating-system error (ENOENT, EACCES, ...): its message says what failed. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv);
