/**
 * `sluice run FILE`: runs a pipeline module (`.ts`, `.mts`, `.js`, `.mjs`). TypeScript runs
 * without a build step: tsx loads it, so syntax Node cannot strip (enums, decorators) works too.
 * The module builds its app and calls `app.run()`; SIGINT/SIGTERM stop it (the app takes its
 * final checkpoint and exits 0).
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { SluiceError } from '../../core/index.ts';
import { DATA_DIR_ENV, globalOptions } from '../options.ts';

const RUNNABLE = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline module (TypeScript or JavaScript) until it finishes or is stopped')
    .argument('<file>', 'the pipeline module: .ts, .mts, .js or .mjs')
    .addHelpText(
      'after',
      `
The module creates \`new Sluice({ name, dataDir: process.env.${DATA_DIR_ENV} ?? './.sluice' })\`,
declares its streams and awaits \`app.run()\` (or \`app.run({ bounded: true })\` for a batch job).
--data-dir is passed to it as ${DATA_DIR_ENV}. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

Examples:
  $ sluice run examples/clicks.ts
  $ sluice run pipeline.mjs --data-dir /var/lib/sluice`,
    )
    .action(async (file: string, _options: unknown, command: Command) => {
      const { dataDir } = globalOptions(command);
      const path = resolve(file);
      if (!existsSync(path)) throw new SluiceError('INVALID_ARGUMENT', `no pipeline module at ${path}`);
      if (!RUNNABLE.has(extname(path))) {
        throw new SluiceError('INVALID_ARGUMENT', `${file}: sluice run takes a .ts, .mts, .js or .mjs module`);
      }
      process.env[DATA_DIR_ENV] = dataDir;
      await importModule(path);
    });
}

/** Imports the module; TypeScript through tsx, so any TypeScript syntax runs. */
async function importModule(path: string): Promise<void> {
  const url = pathToFileURL(path).href;
  if (/\.[mc]?ts$/.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    await tsImport(url, import.meta.url);
    return;
  }
  await import(url);
}
