/**
 * Loading a pipeline module for `sluice run`. Two things a user's own folder gets wrong otherwise:
 * - its package.json says `"type": "commonjs"` (what `npm init -y` writes), or there is none, so
 *   Node and tsx would load `pipeline.ts` as CommonJS, where the top-level `await app.run()`
 *   every example ends with is a syntax error. A pipeline module is an ES module wherever it is:
 *   a resolve hook marks the entry file as `module` (`.cts`/`.cjs` excepted, which say otherwise).
 * - the module imports `sluice`, which must be the very modules this command already loaded
 *   (one `SluiceError` class, one set of metrics channels). tsx is registered globally, without
 *   a namespace, so a module already in Node's cache is reused instead of loaded a second time.
 */
import { register as registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The resolve hook, as an ES module source (hooks run on the loader thread, which must be able
 * to load them wherever Sluice is installed, also under node_modules where Node strips no types).
 * It runs before tsx's, so it can correct the format tsx derived from package.json.
 */
const ENTRY_FORMAT_HOOK = `
let entry;
export function initialize(data) { entry = data.entry; }
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (specifier === entry && result.format !== 'module') return { ...result, format: 'module' };
  return result;
}`;

let typescriptRegistered = false;

/** Imports the pipeline module at `path` as an ES module; TypeScript through tsx, so any TypeScript syntax runs. */
export async function importPipeline(path: string): Promise<void> {
  const url = pathToFileURL(path).href;
  await registerTypeScript();
  if (!/\.c[jt]s$/.test(path)) {
    registerHooks(`data:text/javascript,${encodeURIComponent(ENTRY_FORMAT_HOOK)}`, { data: { entry: url } });
  }
  await import(url);
}

async function registerTypeScript(): Promise<void> {
  // Under node_modules, bin/sluice.mjs has registered tsx already: Node strips no types there.
  if (typescriptRegistered || import.meta.url.includes('/node_modules/')) return;
  const { register } = await import('tsx/esm/api');
  register();
  typescriptRegistered = true;
}
