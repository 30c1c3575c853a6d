// The dashboard: full history from /api/snapshot once, then one snapshot a second from
// /events (server-sent events). Charts are uPlot; everything else is plain DOM.


const token = new URLSearchParams(location.search).get('token');
const withToken = (path) => (token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path);
const $ = (id) => document.getElementById(id);

const state = { job: null, series: [], plan: null, graph: null, charts: {}, wmKeys: '', threadCount: -1 };

const fmt = (n, digits = 0) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const time = (ms) => new Date(ms).toLocaleTimeString('en-GB');

function chart(id, series, options = {}) {
  const target = $(id);
  const width = Math.max(300, target.clientWidth || 520);
  const opts = {
    width,
    height: 200,
    scales: { x: { time: true } },
    axes: [{ stroke: '#8b98a5', grid: { stroke: '#2a3440' } }, { stroke: '#8b98a5', grid: { stroke: '#2a3440' }, size: 60 }],
    legend: { live: false },
    series: [{}, ...series.map((s) => ({ width: 1.6, ...s }))],
    ...options,
  };
  target.textContent = '';
  return new uPlot(opts, [[], ...series.map(() => [])], target);
}

const COLORS = ['#4fb3ff', '#3fb950', '#d29922', '#f85149', '#a371f7', '#39c5cf', '#ff7b72', '#e3b341', '#7ee787', '#f778ba', '#ffa657', '#c9d1d9'];

function ensureCharts() {
  if (state.charts.throughput) return;
  state.charts.throughput = chart('chart-throughput', [
    { label: 'records in/s', stroke: COLORS[0] },
    { label: 'results out/s', stroke: COLORS[1] },
  ]);
  state.charts.latency = chart('chart-latency', [
    // Seconds without a commit have no samples: draw across them.
    { label: 'p50 committed', stroke: COLORS[1], spanGaps: true },
    { label: 'p99 committed', stroke: COLORS[3], spanGaps: true },
    { label: 'p99 processed', stroke: COLORS[2], dash: [4, 4], spanGaps: true },
  ]);
  state.charts.lag = chart('chart-lag', [
    { label: 'consumer lag', stroke: COLORS[0] },
    { label: 'late (total)', stroke: COLORS[2] },
    { label: 'dead letters (total)', stroke: COLORS[3] },
  ]);
}

function watermarkChart(keys) {
  const id = keys.join('|');
  if (state.wmKeys === id && state.charts.watermarks) return;
  state.wmKeys = id;
  state.charts.watermarks = chart(
    'chart-watermarks',
    keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length] })),
  );
}

// One line per thread, in percent of its time; redrawn when the run's thread count changes.
function threadsChart(count) {
  if (state.threadCount === count && state.charts.threads) return;
  state.threadCount = count;
  state.charts.threads = chart(
    'chart-threads',
    Array.from({ length: count }, (_, i) => ({ label: `thread ${i}`, stroke: COLORS[i % COLORS.length] })),
    { scales: { x: { time: true }, y: { range: [0, 100] } } },
  );
}

function threadLoads() {
  const s = state.series;
  const last = s[s.length - 1];
  const count = last?.threads?.length ?? 0;
  threadsChart(count);
  state.charts.threads.setData([s.map((p) => p.time / 1000), ...Array.from({ length: count }, (_, i) => s.map((p) => (p.threads?.[i] === undefined ? null : p.threads[i] * 100)))]);
  // The last few seconds, averaged: one second alone jumps with the rounds that fall in it.
  const recent = s.slice(-5);
  const list = $('threads-load');
  list.textContent = '';
  for (let i = 0; i < count; i++) {
    const loads = recent.map((p) => p.threads?.[i]).filter((x) => x !== undefined);
    const li = document.createElement('li');
    li.dataset.thread = String(i);
    li.textContent = `thread ${i}: ${fmt((loads.reduce((a, x) => a + x, 0) / Math.max(1, loads.length)) * 100)}% busy`;
    list.appendChild(li);
  }
}

function redraw() {
  const s = state.series;
  const xs = s.map((p) => p.time / 1000);
  state.charts.throughput.setData([xs, s.map((p) => p.inPerSec), s.map((p) => p.outPerSec)]);
  state.charts.latency.setData([xs, s.map((p) => p.p50), s.map((p) => p.p99), s.map((p) => p.processedP99)]);
  state.charts.lag.setData([xs, s.map((p) => p.lag), s.map((p) => p.late), s.map((p) => p.deadLetters)]);
  const last = s[s.length - 1];
  const keys = last ? Object.keys(last.watermarks).sort() : [];
  watermarkChart(keys);
  state.charts.watermarks.setData([xs, ...keys.map((k) => s.map((p) => (p.watermarks[k] === null || p.watermarks[k] === undefined ? null : (p.time - p.watermarks[k]) / 1000)))]);
  threadLoads();
}

function figures(job) {
  const s = state.series;
  const last = s[s.length - 1];
  if (!last) return;
  $('fig-in').textContent = fmt(last.inPerSec);
  $('fig-out').textContent = fmt(last.outPerSec);
  // Latency percentiles need samples: use the last few seconds that had commits.
  const withLatency = s.filter((p) => p.p50 !== null).slice(-3);
  const avg = (f) => (withLatency.length === 0 ? null : withLatency.reduce((a, p) => a + f(p), 0) / withLatency.length);
  $('fig-p50').textContent = fmt(avg((p) => p.p50));
  $('fig-p99').textContent = fmt(avg((p) => p.p99));
  $('fig-lag').textContent = fmt(last.lag);
  $('fig-late').textContent = `${fmt(last.late)} / ${fmt(last.deadLetters)}`;
  const health = $('health');
  health.textContent = job.running ? job.health.line : 'stopped';
  health.className = `health ${job.running ? job.health.status : 'behind'}`;
}

function holders(job) {
  const list = $('holders');
  list.textContent = '';
  for (const h of job.health.watermarks) {
    const li = document.createElement('li');
    const wm = h.watermark === null ? 'no watermark yet' : `watermark ${time(h.watermark)}`;
    // Inputs a few hundred ms apart are normal batching; name the holder when it matters.
    let why = h.heldBy ? `inputs within 1 s (lowest ${h.heldBy})` : 'inputs agree';
    if (h.heldBy && h.behindMs >= 1000) why = `held back by ${h.heldBy} (${fmt(h.behindMs / 1000, 1)} s behind the others)`;
    if (h.heldBy && h.behindMs === 0) why = `held back by ${h.heldBy} (no records yet)`;
    const idle = h.idle.length > 0 ? `; idle: ${h.idle.join(', ')}` : '';
    li.textContent = `${h.operator}: ${wm}, ${why}${idle}`;
    if (h.next) {
      const next = document.createElement('div');
      next.className = 'muted';
      next.textContent = h.next;
      li.appendChild(next);
    }
    list.appendChild(li);
  }
}

function checkpoints(job) {
  const c = job.commits;
  const last = c[c.length - 1];
  if (!last) {
    $('checkpoint').textContent = 'no commit yet';
    return;
  }
  const ok = c.filter((x) => x.ok);
  const mean = ok.length === 0 ? 0 : ok.reduce((a, x) => a + x.durationMs, 0) / ok.length;
  const failed = c.length - ok.length;
  const ago = job.lastSuccess === null ? 'never' : `${fmt((Date.now() - job.lastSuccess) / 1000, 1)} s ago`;
  $('checkpoint').textContent = `${job.plan.guarantee}, every ${job.plan.checkpointIntervalMs} ms · last success ${ago} · mean commit ${fmt(mean, 1)} ms over the last ${ok.length}${failed > 0 ? ` · ${failed} failed` : ''}`;
}

function summarize(value) {
  if (value === null || typeof value !== 'object') return String(value);
  if ('kind' in value && 'detail' in value) return `${value.card ?? ''} ${value.detail}`;
  if ('server' in value && 'slowResponses' in value) return `${value.server}: ${value.slowResponses} responses over 1 s in one minute`;
  if ('sensor' in value && 'avg' in value) return `${value.sensor}: average ${value.avg} °C (max ${value.max})`;
  return JSON.stringify(value);
}

function results(job) {
  const topics = job.results;
  const ranked = topics.filter((t) => t.leaders).sort((a, b) => (b.topic.includes('page') ? 1 : 0) - (a.topic.includes('page') ? 1 : 0));
  const top = $('top');
  top.textContent = '';
  if (ranked[0]) {
    const l = ranked[0].leaders;
    $('top-window').textContent = `${ranked[0].topic}, window ${time(l.start)}–${time(l.end)}`;
    const max = Math.max(1, ...l.entries.map((e) => e[1]));
    for (const [key, value] of l.entries) {
      const li = document.createElement('li');
      li.textContent = `${key} — ${fmt(value)}`;
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round((value / max) * 120)}px`;
      li.appendChild(bar);
      top.appendChild(li);
    }
  }
  const alerts = [];
  for (const t of topics) if (t.topic.includes('alert')) for (const r of t.recent) alerts.push({ topic: t.topic, ...r });
  alerts.sort((a, b) => b.timestamp - a.timestamp);
  const list = $('alerts');
  list.textContent = '';
  if (alerts.length === 0) list.innerHTML = '<li class="muted">none yet</li>';
  for (const a of alerts.slice(0, 14)) {
    const li = document.createElement('li');
    const kind = document.createElement('span');
    kind.className = 'alert-kind';
    kind.textContent = a.topic.replace(/-alerts?$/, '');
    li.append(`${time(a.timestamp)} `, kind, ` ${summarize(a.value)}`);
    list.appendChild(li);
  }
  const body = $('results').querySelector('tbody');
  body.textContent = '';
  for (const t of [...topics].sort((a, b) => a.topic.localeCompare(b.topic))) {
    const tr = document.createElement('tr');
    const latest = t.recent[t.recent.length - 1];
    const td = (text) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      tr.appendChild(cell);
      return cell;
    };
    td(t.topic);
    td(fmt(t.total));
    const code = document.createElement('code');
    code.textContent = latest ? JSON.stringify(latest.value).slice(0, 220) : '';
    td('').appendChild(code);
    body.appendChild(tr);
  }
}

const bytes = (b) => (b === null || b === undefined ? '–' : b < 1024 ? `${fmt(b)} B` : b < 1048576 ? `${fmt(b / 1024, 1)} KiB` : `${fmt(b / 1048576, 1)} MiB`);
const pct = (x) => (x === null || x === undefined ? '–' : `${fmt(x * 100)}%`);
const PLAN_STATUS = { ok: 'within capacity', 'near-capacity': 'near capacity', 'over-capacity': 'over capacity', 'no-input': 'no input measured yet' };

// The planner panel: the snapshot's report at the measured rate, or a what-if rate's from the API.
async function planner(job) {
  const rate = $('plan-rate').value;
  let report = job.planner;
  if (rate !== '') {
    const response = await fetch(withToken(`api/jobs/${encodeURIComponent(job.name)}/plan?rate=${encodeURIComponent(rate)}`));
    report = response.ok ? await response.json() : null;
  }
  const panel = $('planner');
  panel.dataset.status = report ? report.status : 'none';
  if (!report) {
    $('plan-status').textContent = 'measuring…';
    $('plan-status').className = 'health starting';
    return;
  }
  $('plan-per-core').textContent = fmt(report.capacity.perCore);
  $('plan-sustainable').textContent = fmt(report.capacity.sustainable);
  $('plan-parallelism').textContent = `records/s at parallelism ${report.capacity.parallelism} (${report.capacity.partitions} partitions, ${report.capacity.cores} cores)`;
  $('plan-cost').textContent = fmt(report.measured.perRecordUs, 2);
  $('plan-checkpoints').textContent = `µs, and checkpoints ${pct(report.measured.checkpointShare)} of a core`;
  $('plan-utilization').textContent = pct(report.at.utilization);
  $('plan-latency').textContent = report.at.fallingBehindBy > 0 ? '∞' : fmt(report.at.latencyMs, 1);
  $('plan-backpressure').textContent = pct(report.measured.backpressure);
  const behind = report.at.fallingBehindBy > 0 ? `, falling behind by ${fmt(report.at.fallingBehindBy)} records/s` : '';
  $('plan-at').textContent = `at ${fmt(report.at.rate)} records/s (measured ${fmt(report.measured.rate)})${behind}`;
  $('plan-status').textContent = PLAN_STATUS[report.status] ?? report.status;
  $('plan-status').className = `health ${report.status === 'over-capacity' ? 'behind' : report.status === 'ok' ? '' : 'starting'}`;
  const advice = $('plan-advice');
  advice.textContent = '';
  for (const a of report.advice) {
    const li = document.createElement('li');
    li.textContent = `${a.change}: ${a.effect}`;
    advice.appendChild(li);
  }
  const body = $('plan-costs').querySelector('tbody');
  body.textContent = '';
  // The costliest ten; the rest summed in one line.
  const shown = report.costs.slice(0, 10);
  const rest = report.costs.slice(10);
  if (rest.length > 0) shown.push({ name: `${rest.length} more`, costUs: rest.reduce((x, c) => x + c.costUs, 0), share: rest.reduce((x, c) => x + c.share, 0), kind: 'operators' });
  for (const c of shown) {
    const tr = document.createElement('tr');
    for (const text of [c.name, fmt(c.costUs, 2), pct(c.share), c.kind]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  const windows = $('plan-windows');
  windows.textContent = '';
  for (const w of report.windows) {
    const li = document.createElement('li');
    li.textContent = `${w.operator}: ${fmt(w.recordsPerWindow)} records per window, ${fmt(w.keys)} keys, ${bytes(w.bytesPerKey)} per key, ${bytes(w.bytesPerWindow)} per window, state ${bytes(w.bytesAtRate)} at this rate`;
    windows.appendChild(li);
  }
}

/** Push sources: accepted, the buffer against its bound, and what the backpressure strategy refused, dropped or shed. */
function pushSources(job) {
  const sources = job.pushSources ?? [];
  $('push-sources').hidden = sources.length === 0;
  const body = $('push-table').querySelector('tbody');
  body.textContent = '';
  for (const s of sources) {
    const tr = document.createElement('tr');
    for (const text of [`${s.source} (${s.describe})`, fmt(s.accepted), `${fmt(s.buffered)} of ${fmt(s.capacity)} (max ${fmt(s.maxBuffered)})`, fmt(s.refused), fmt(s.dropped), fmt(s.shed)]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      tr.appendChild(cell);
    }
    body.appendChild(tr);
  }
}

function render(job) {
  if (!job) return;
  planner(job).catch(() => {});
  if (state.plan !== job.plan.time) {
    state.plan = job.plan.time;
    state.graph = renderGraph($('graph'), job.plan.stages);
  }
  const last = state.series[state.series.length - 1];
  state.graph.update(last ? last.operators : {}, job.health.slowOperator, last?.partialMatches ?? {});
  ensureCharts();
  redraw();
  figures(job);
  holders(job);
  checkpoints(job);
  results(job);
  pushSources(job);
}

function chooseJob(jobs) {
  const select = $('job');
  const names = jobs.map((j) => j.name);
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.textContent = '';
    for (const n of names) select.add(new Option(n, n));
    if (state.job && names.includes(state.job)) select.value = state.job;
  }
  state.job = state.job && names.includes(state.job) ? state.job : names[0] ?? null;
  return jobs.find((j) => j.name === state.job);
}

async function start() {
  const snap = await (await fetch(withToken('api/snapshot'))).json();
  const job = chooseJob(snap.jobs);
  if (job) state.series = job.series.slice();
  render(job);
  $('job').addEventListener('change', async (e) => {
    state.job = e.target.value;
    const full = await (await fetch(withToken(`api/jobs/${encodeURIComponent(state.job)}`))).json();
    state.series = full.series.slice();
    state.plan = null;
    render(full);
  });
  const events = new EventSource(withToken('events'));
  events.addEventListener('snapshot', (e) => {
    const data = JSON.parse(e.data);
    $('status').textContent = 'live';
    $('status').className = 'pill live';
    $('clock').textContent = time(data.time);
    const current = chooseJob(data.jobs);
    if (!current) return;
    const point = current.series[0];
    if (point && (state.series.length === 0 || point.time > state.series[state.series.length - 1].time)) {
      state.series.push(point);
      if (state.series.length > 300) state.series.shift();
    }
    render(current);
  });
  events.onerror = () => {
    $('status').textContent = 'disconnected';
    $('status').className = 'pill down';
  };
}

start().catch((error) => {
  $('status').textContent = `error: ${error.message}`;
  $('status').className = 'pill down';
});
