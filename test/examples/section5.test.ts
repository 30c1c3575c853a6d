// The DESIGN section 5 programs, run as the modules in examples/ hold them (importing 'sluice'),
// on the test kit's log, with results checked against plain-loop references.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowResult } from '../../src/index.ts';
import { TestKit } from '../../src/testing/index.ts';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

void test('section 5 program 1: clicks per URL per 5 minutes, bounded', async () => {
  const kit = new TestKit();
  const events = [];
  for (let i = 0; i < 400; i++) {
    events.push({ url: `/p${i % 4}`, action: i % 3 === 0 ? 'view' : 'click', ts: T0 + i * 3000 + ((i * 7919) % 4000) });
  }
  kit.input('events', events, { partitions: 3 });
  const restore = kit.useAsDefault();
  try {
    await import('../../examples/clicks.ts');
  } finally {
    restore();
  }
  const want = new Map<string, number>();
  const wBefore = new Map<number, number>();
  for (const r of kit.records<(typeof events)[number]>('events')) {
    const w = wBefore.get(r.partition) ?? Number.NEGATIVE_INFINITY;
    wBefore.set(r.partition, Math.max(w, r.value.ts - 5000));
    const e = r.value;
    const end = Math.floor(e.ts / 300_000) * 300_000 + 300_000;
    if (e.action !== 'click' || end <= w) continue;
    const id = `${e.url}|${end - 300_000}`;
    want.set(id, (want.get(id) ?? 0) + 1);
  }
  const got = kit.records<WindowResult<string, number>>('clicks-per-url');
  assert.deepEqual(new Map(got.map((r) => [`${r.value.key}|${r.value.start}`, r.value.value])), want);
  // Each result is keyed by its window's key.
  assert.ok(got.every((r) => r.key === r.value.key));
});

void test('section 5 program 2: hopping sums with lateness and late side output, sessions, hourly totals as strings', async () => {
  const kit = new TestKit();
  type Event = { k: string; v: number; user: string; ts: number };
  const events: Event[] = [];
  for (let i = 0; i < 300; i++) events.push({ k: `k${i % 3}`, v: i % 10, user: `u${i % 5}`, ts: T0 + i * 1000 + (i % 4) * 1500 });
  // After 5 minutes of data: one record 40 s behind (inside the 30 s allowed lateness of some
  // of its windows), and one 3 minutes behind (late for all of them).
  events.push({ k: 'k0', v: 100, user: 'u9', ts: T0 + 300_000 - 40_000 });
  events.push({ k: 'k1', v: 1000, user: 'u9', ts: T0 + 120_000 });
  const orders = [];
  for (let i = 0; i < 120; i++) orders.push({ customer: `c${i % 4}`, total: (i % 7) * 10 + 0.5, ts: T0 + i * 90_000 });
  kit.input('events', events, { partitions: 2, key: (e) => e.k });
  kit.input('orders', orders, { partitions: 2, key: (o) => o.customer });
  const restore = kit.useAsDefault();
  try {
    await import('../../examples/windows.ts');
  } finally {
    restore();
  }

  // Reference: the lateness rule of DESIGN section 4, with each partition's W_before.
  const sums = new Map<string, number>();
  const late: Event[] = [];
  const wantPerUser = new Map<string, number>();
  const wm = new Map<number, number>();
  for (const r of kit.records<Event>('events')) {
    const w = wm.get(r.partition) ?? Number.NEGATIVE_INFINITY;
    wm.set(r.partition, Math.max(w, r.value.ts - 5000));
    let contributed = false;
    for (let start = Math.floor(r.value.ts / 20_000) * 20_000; start > r.value.ts - 60_000; start -= 20_000) {
      if (start + 60_000 + 30_000 <= w) continue;
      contributed = true;
      const id = `${r.value.k}|${start}`;
      sums.set(id, (sums.get(id) ?? 0) + r.value.v);
    }
    if (!contributed) late.push(r.value);
    // A record opens the session [ts, ts + 30s); with no lateness it counts if that is not complete yet.
    if (r.value.ts + 30_000 > w) wantPerUser.set(r.value.user, (wantPerUser.get(r.value.user) ?? 0) + 1);
  }
  const last = new Map<string, number>();
  for (const r of kit.output<WindowResult<string, number>>('sums')) last.set(`${r.key}|${r.start}`, r.value);
  assert.deepEqual(last, sums);
  assert.deepEqual(kit.output('late-events'), late);
  assert.equal(late.length, 1);

  // Sessions: every on-time record counted once, and sessions of a user at least 30 s apart.
  const sessions = kit.output<WindowResult<string, number>>('sessions');
  const perUser = new Map<string, number>();
  for (const s of sessions) perUser.set(s.key, (perUser.get(s.key) ?? 0) + s.value);
  assert.deepEqual(perUser, wantPerUser);
  const byUser = [...sessions].sort((a, b) => a.key.localeCompare(b.key) || a.start - b.start);
  for (let i = 1; i < byUser.length; i++) if (byUser[i].key === byUser[i - 1].key) assert.ok(byUser[i].start >= byUser[i - 1].end);

  const totals = new Map<string, number>();
  for (const o of orders) {
    const id = `${o.customer}|${new Date(Math.floor(o.ts / 3_600_000) * 3_600_000).toISOString()}`;
    totals.set(id, (totals.get(id) ?? 0) + o.total);
  }
  const lines = kit.records<string>('order-analytics-output');
  assert.deepEqual(new Set(lines.map((r) => `${r.key}|${r.value}`)), new Set([...totals].map(([id, t]) => `${id.split('|')[0]}|Window: ${id.split('|')[1]} Total: $${t}`)));
});
