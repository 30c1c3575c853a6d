// The entry of an app's worker thread (runtime/threads.ts starts it). Plain JavaScript because
// Node strips no types under node_modules, where an installed Sluice lives: there it registers
// tsx first, as bin/sluice.mjs does, then loads the TypeScript entry.
// The compiled modules cached on disk, as for the main thread: a thread starts several times faster.
(await import('node:module')).enableCompileCache?.();
if (import.meta.url.includes('/node_modules/')) (await import('tsx/esm/api')).register();
await import('./thread-entry.ts');
