#!/usr/bin/env node
// The `sluice` command. Node runs the TypeScript sources directly (type stripping), which it
// does by default from 22.18 (and 23.6); older versions get a clear message instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
const strips = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
if (!strips) {
  process.stderr.write(
    `error: sluice needs Node.js 22.18 or newer (it runs TypeScript directly); this is Node ${process.versions.node}.\n` +
      'Run `. scripts/node-env.sh` first to put Node 24 first on PATH, or install Node 22.18+.\n',
  );
  process.exit(1);
}
// Caches the stripped and compiled modules across runs: a short command starts several times faster.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// Node strips no types under node_modules, where an installed Sluice lives: tsx loads it there.
if (import.meta.url.includes('/node_modules/')) (await import('tsx/esm/api')).register();
// A reader that stops early (`sluice topic --help | head -1`) closes the pipe: end quietly, as
// Unix tools do, instead of dying on EPIPE with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
