// The pipeline graph: every operator of the plan as a box, chains and exchanges (dashed) as
// edges, laid out in columns by depth. Rates update in place without rebuilding the SVG. A
// two-input operator (a join) is drawn with its two inputs: the plumbing that brings them
// together (api/two-input.ts: maps `P.left` and `P.right`, their union `P.inputs`, the keyBy
// `P.key`) is left out, and each input's edge goes to the operator the keyBy feeds.


const SVG = 'http://www.w3.org/2000/svg';
const W = 168;
const H = 46;
const COL = 196;
const ROW = 58;

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function shorten(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

const STATEFUL = new Set(['window', 'process', 'rolling', 'windowJoin', 'intervalJoin', 'pattern', 'table', 'stream-table-join', 'table-join', 'fk-subscribe', 'fk-lookup', 'fk-result']);

function kindOf(op) {
  if (op.kind === 'source') return 'source';
  if (op.kind === 'sink' || op.kind === 'print') return 'sink';
  if (STATEFUL.has(op.kind)) return 'stateful';
  return 'stateless';
}

/** Drops the plumbing of each two-input operator (see the top), joining its inputs' edges to that operator. */
function collapseTwoInputs(nodes, edges) {
  const prefixes = [...nodes.keys()].filter((id) => id.endsWith('.inputs')).map((id) => id.slice(0, -'.inputs'.length));
  let out = edges;
  for (const p of prefixes) {
    const parts = [`${p}.left`, `${p}.right`, `${p}.inputs`, `${p}.key`];
    if (!parts.every((id) => nodes.has(id))) continue;
    const targets = out.filter((e) => e.from === `${p}.key`).map((e) => e.to);
    if (targets.length === 0) continue;
    const inputs = out.filter((e) => (e.to === parts[0] || e.to === parts[1]) && !parts.includes(e.from));
    out = out.filter((e) => !parts.includes(e.from) && !parts.includes(e.to));
    for (const e of inputs) for (const to of targets) out.push({ from: e.from, to, exchange: true, side: e.to === parts[0] ? 'left' : 'right' });
    for (const id of parts) nodes.delete(id);
    for (const to of targets) nodes.get(to).twoInput = true;
  }
  return out;
}

/** Builds the SVG for a job's plan; returns an object whose update(rates, slow) refreshes numbers. */
function renderGraph(container, stages) {
  // One box per logical operator: an operator after a union runs in each input's stage (the
  // physical plan copies it there), so its copies share the box, keyed by the operator's name.
  const nodes = new Map();
  /** Box id -> the `stage.index` of each physical copy, whose rates add up. */
  const copies = new Map();
  const idOf = new Map();
  for (const stage of stages) {
    for (const op of stage.ops) {
      const physical = `${stage.id}.${op.index}`;
      idOf.set(physical, op.name);
      if (!nodes.has(op.name)) nodes.set(op.name, { id: op.name, op, stage, inputs: [] });
      copies.set(op.name, [...(copies.get(op.name) ?? []), physical]);
    }
  }
  const edges = [];
  const edgeKeys = new Set();
  const addEdge = (from, to, exchange) => {
    if (to === undefined || edgeKeys.has(`${from}>${to}`)) return;
    edgeKeys.add(`${from}>${to}`);
    edges.push({ from, to, exchange });
  };
  for (const stage of stages) {
    for (const op of stage.ops) {
      for (const j of op.next) addEdge(op.name, idOf.get(`${stage.id}.${j}`), false);
      for (const t of op.exchanges) addEdge(op.name, idOf.get(`${t}.0`), true);
    }
  }
  const drawn = collapseTwoInputs(nodes, [...edges]);
  edges.length = 0;
  edges.push(...drawn);
  for (const e of edges) nodes.get(e.to)?.inputs.push(e.from);
  // Depth: longest path from a source; rows: order of a depth-first walk from each source.
  const depth = new Map();
  const depthOf = (id) => {
    if (depth.has(id)) return depth.get(id);
    depth.set(id, 0);
    const n = nodes.get(id);
    const d = n.inputs.length === 0 ? 0 : 1 + Math.max(...n.inputs.map(depthOf));
    depth.set(id, d);
    return d;
  };
  for (const id of nodes.keys()) depthOf(id);
  const order = [];
  const seen = new Set();
  const walk = (id) => {
    if (seen.has(id)) return;
    seen.add(id);
    order.push(id);
    for (const e of edges) if (e.from === id) walk(e.to);
  };
  for (const [id, n] of nodes) if (n.inputs.length === 0) walk(id);
  for (const id of nodes.keys()) walk(id);
  const used = new Map();
  let lastRow = 0;
  const pos = new Map();
  for (const id of order) {
    const col = depth.get(id);
    const parent = nodes.get(id).inputs.map((p) => pos.get(p)).find(Boolean);
    let row = Math.max(parent ? parent.row : lastRow, used.get(col) ?? 0);
    if (!parent) row = Math.max(row, ...[...used.values()]);
    used.set(col, row + 1);
    lastRow = row;
    pos.set(id, { col, row });
  }
  const cols = Math.max(...[...pos.values()].map((p) => p.col)) + 1;
  const rows = Math.max(...[...pos.values()].map((p) => p.row)) + 1;
  container.textContent = '';
  const svg = el('svg', { viewBox: `0 0 ${cols * COL + 10} ${rows * ROW + 10}`, height: rows * ROW + 10, role: 'img', 'aria-label': 'pipeline graph' }, container);
  const xy = (id) => {
    const p = pos.get(id);
    return { x: 5 + p.col * COL, y: 5 + p.row * ROW };
  };
  for (const e of edges) {
    const a = xy(e.from);
    const b = xy(e.to);
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    const mx = (x1 + x2) / 2;
    const path = el('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: e.exchange ? 'exchange' : '', ...(e.side ? { 'data-side': e.side, 'data-to': e.to } : {}) }, svg);
    if (e.side) el('title', {}, path).textContent = `${e.side} input of ${e.to}`;
  }
  const rateText = new Map();
  const partialText = new Map();
  const boxes = new Map();
  for (const [id, n] of nodes) {
    const { x, y } = xy(id);
    const g = el('g', { class: `node ${kindOf(n.op)}${n.twoInput ? ' two-input' : ''}`, transform: `translate(${x},${y})`, 'data-op': n.op.name }, svg);
    el('rect', { width: W, height: H }, g);
    // A sink is best known by its topic; generated names (sink-7) say nothing.
    const label = n.op.kind === 'sink' ? `→ ${n.op.detail.replace(/^to '([^']*)'.*$/, '$1')}` : n.op.name;
    el('text', { x: 8, y: 16 }, g).textContent = shorten(label, 24);
    const title = el('title', {}, g);
    title.textContent = `${n.op.name}: ${n.op.detail}`;
    const kind = n.op.kind === 'keyBy' ? `keyBy · ${n.stage.tasks} tasks` : n.op.kind === 'source' ? `${n.stage.tasks} partitions` : n.op.kind;
    const kindText = el('text', { x: 8, y: 31, class: 'kind' }, g);
    kindText.textContent = shorten(kind, 18);
    if (n.op.kind === 'pattern') partialText.set(id, kindText);
    const rate = el('text', { x: W - 8, y: 31, class: 'rate', 'text-anchor': 'end' }, g);
    rate.textContent = '0/s';
    rateText.set(id, rate);
    boxes.set(id, g);
  }
  return {
    update(rates, slowName, partials = {}) {
      // A pattern operator shows the partial matches it holds (summed over its copies).
      for (const [id, text] of partialText) text.textContent = `pattern · ${formatCount(copies.get(id).reduce((sum, physical) => sum + (partials[physical] ?? 0), 0))} partial`;
      for (const [id, text] of rateText) text.textContent = `${formatRate(copies.get(id).reduce((sum, physical) => sum + (rates[physical] ?? 0), 0))}/s`;
      for (const [id, g] of boxes) g.classList.toggle('slow', slowName !== null && nodes.get(id).op.name === slowName);
    },
  };
}

function formatCount(n) {
  return n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : String(n);
}

function formatRate(r) {
  if (r >= 10_000) return `${(r / 1000).toFixed(0)}k`;
  if (r >= 1000) return `${(r / 1000).toFixed(1)}k`;
  return r >= 10 ? r.toFixed(0) : r.toFixed(1);
}
