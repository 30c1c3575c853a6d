// Folder layering of DESIGN.md section 3: imports point down the list, never up, no circles.
const order = ['core', 'log', 'backend', 'time', 'state', 'api', 'plan', 'operators', 'checkpoint', 'runtime', 'connectors', 'sql', 'testing', 'server', 'cli'];
// What each folder may import besides itself (and core).
const allowed = {
  core: [],
  log: ['core'],
  backend: ['core', 'log'],
  time: ['core'],
  state: ['core'],
  api: ['core', 'time'],
  plan: ['core', 'time', 'api'],
  operators: ['core', 'time', 'state'],
  checkpoint: ['core', 'time', 'state', 'backend', 'log', 'api'],
  runtime: ['core', 'time', 'state', 'backend', 'log', 'api', 'plan', 'operators', 'checkpoint'],
  connectors: ['core', 'time', 'api', 'state', 'backend', 'log', 'checkpoint'],
  sql: ['core', 'time', 'api', 'plan'],
  testing: ['core', 'time', 'state', 'backend', 'log', 'api', 'plan', 'operators', 'runtime', 'checkpoint'],
  server: ['core', 'time', 'state', 'backend', 'log', 'api', 'plan', 'operators', 'runtime', 'checkpoint'],
  cli: order.filter((f) => f !== 'cli'),
};
const forbidden = [
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ...order.map((folder) => ({
    name: `layering-${folder}`,
    comment: `src/${folder} may import only: ${allowed[folder].join(', ') || 'nothing of ours'}`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(?!(${[folder, 'core', ...allowed[folder]].join('|')})/)[^/]+/` },
  })),
];
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
