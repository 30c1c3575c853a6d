/**
 * The HTTP routes: `/metrics` (Prometheus text), `/api/*` (JSON; the planner's report for a job at
 * `/api/jobs/NAME/plan?rate=N`, server/planner.ts; the queryable stores of
 * running apps at `/api/apps/APP/stores/STORE`, their tables at `/api/tables/NAME/KEY` and
 * `/api/tables/NAME?prefix=&limit=`: server/tables.ts), `/events` (server-sent
 * events, a snapshot every second) and the dashboard: one static page with vanilla JS and
 * uPlot, served as files (no build step).
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import type { Collector } from './collector.ts';
import { planCapacity } from './planner.ts';
import { queryStore } from './results.ts';
import { queryTableKey, scanTable } from './tables.ts';

const require = createRequire(import.meta.url);
const UPLOT_DIR = require.resolve('uplot').replace(/uPlot\.cjs\.js$/, '');
const DASHBOARD_DIR = new URL('./dashboard/', import.meta.url);

/** Static files by URL path: [file, content type]. */
const FILES: Record<string, [URL | string, string]> = {
  '/': [new URL('index.html', DASHBOARD_DIR), 'text/html; charset=utf-8'],
  '/dashboard.js': [new URL('dashboard.js', DASHBOARD_DIR), 'text/javascript; charset=utf-8'],
  '/graph.js': [new URL('graph.js', DASHBOARD_DIR), 'text/javascript; charset=utf-8'],
  '/dashboard.css': [new URL('dashboard.css', DASHBOARD_DIR), 'text/css; charset=utf-8'],
  '/vendor/uplot.js': [`${UPLOT_DIR}uPlot.iife.min.js`, 'text/javascript; charset=utf-8'],
  '/vendor/uplot.css': [`${UPLOT_DIR}uPlot.min.css`, 'text/css; charset=utf-8'],
};

export interface AppOptions {
  collector: Collector;
  /** When set, every request must carry it: `Authorization: Bearer T` or `?token=T`. */
  token?: string;
  /**
   * Without a token, the Host headers answered (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`):
   * a page on another site that rebinds its DNS name to 127.0.0.1 sends its own name, and is refused.
   */
  allowedHosts?: ReadonlySet<string>;
  /** Milliseconds between server-sent snapshots (default 1000). */
  eventIntervalMs?: number;
}

export function createApp(options: AppOptions): Hono {
  const { collector, token } = options;
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      // The dashboard loads only its own files; uPlot sets inline styles on its canvas.
      contentSecurityPolicy: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: 'same-origin',
      referrerPolicy: 'no-referrer',
    }),
  );
  const { allowedHosts } = options;
  if (allowedHosts !== undefined) {
    app.use('*', async (c, next) => {
      const host = c.req.header('host');
      if (host === undefined || !allowedHosts.has(host.toLowerCase())) {
        return c.text(`421 Misdirected Request: this server answers only ${[...allowedHosts].join(', ')}\n`, 421);
      }
      await next();
    });
  }
  if (token !== undefined) {
    app.use('*', async (c, next) => {
      const header = c.req.header('authorization');
      const given = header?.startsWith('Bearer ') ? header.slice(7) : c.req.query('token');
      if (given === undefined || !sameSecret(given, token)) {
        return c.text('401 Unauthorized: pass the token as "Authorization: Bearer <token>" or ?token=<token>\n', 401);
      }
      await next();
    });
  }

  app.get('/metrics', async (c) => c.body(await collector.prometheus.text(), 200, { 'content-type': collector.prometheus.contentType }));
  app.get('/api/snapshot', (c) => c.json(collector.snapshot()));
  app.get('/api/apps', (c) => c.json(collector.apps()));
  app.get('/api/jobs', (c) => c.json(collector.snapshot().jobs.map((j) => ({ name: j.name, running: j.running, health: j.health }))));
  app.get('/api/jobs/:name', (c) => {
    const job = collector.snapshot().jobs.find((j) => j.name === c.req.param('name'));
    return job === undefined ? c.json({ error: `no job named '${c.req.param('name')}'` }, 404) : c.json(job);
  });
  app.get('/api/jobs/:name/plan', (c) => {
    const name = c.req.param('name');
    const profile = collector.profile(name);
    if (profile === undefined) return c.json({ error: `no measurements of job '${name}' yet (it needs a few seconds of progress)` }, 404);
    const given = c.req.query('rate');
    const rate = given === undefined || given === '' ? undefined : Number(given);
    if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0)) return c.json({ error: `rate must be a number of records per second, got '${given}'` }, 400);
    return c.json(planCapacity(profile, rate === undefined ? {} : { rate }));
  });
  app.get('/api/apps/:app/stores/:store', (c) => {
    const { status, body } = queryStore(collector.app(c.req.param('app')), c.req.param('app'), c.req.param('store'), c.req.query());
    return c.json(body, status);
  });
  app.get('/api/tables/:name', (c) => {
    const { status, body } = scanTable(collector.appEvents(), c.req.param('name'), c.req.query());
    return c.json(body, status);
  });
  app.get('/api/tables/:name/:key', (c) => {
    const { status, body } = queryTableKey(collector.appEvents(), c.req.param('name'), c.req.param('key'), c.req.query());
    return c.json(body, status);
  });
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      while (open) {
        // The page loads full history from /api/snapshot once; each event carries the newest point only.
        const snap = collector.snapshot();
        const jobs = snap.jobs.map((j) => ({ ...j, series: j.series.slice(-1) }));
        await stream.writeSSE({ event: 'snapshot', data: JSON.stringify({ time: snap.time, jobs }) });
        await stream.sleep(options.eventIntervalMs ?? 1000);
      }
    }),
  );
  for (const [path, [file, type]] of Object.entries(FILES)) {
    app.get(path, async (c) => c.body(await readFile(file), 200, { 'content-type': type, 'cache-control': 'no-cache' }));
  }
  return app;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
