// The demo's traffic: a continuous, realistic mix appended to the embedded log. Users browse
// in sessions (views and clicks on popular and long-tail pages), cards pay in their home
// country with the odd burst or outsized amount, servers answer with one of them degrading
// now and then, and sensors report temperatures with one overheating from time to time.
// A few percent of records arrive out of order, a few are late beyond the watermark, a sensor
// gateway goes quiet periodically (an idle partition), and a rare payment has no amount.
import { Log } from 'sluice/log';

export const TOPICS = { clicks: 3, transactions: 3, 'server-metrics': 2, sensors: 2 } as const;

const PAGES = ['/', '/products', '/products/shoes', '/products/hats', '/cart', '/checkout', '/search', '/blog', '/about', '/help', '/account', '/deals'];
const COUNTRIES = ['US', 'US', 'US', 'DE', 'FR', 'GB', 'BR', 'IN', 'JP', 'NG'];
const SERVERS = ['api-1', 'api-2', 'api-3', 'web-1', 'web-2', 'search-1'];
const ENDPOINTS = ['/api/cart', '/api/search', '/api/login', '/api/orders', '/'];
const SENSORS = 16;

const encoder = new TextEncoder();
const json = (v: unknown) => encoder.encode(JSON.stringify(v));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
/** Popular pages first: index drawn with a Zipf-like skew. */
const page = () => PAGES[Math.min(PAGES.length - 1, Math.floor(PAGES.length * Math.random() ** 2.2))];

interface User {
  id: string;
  /** Events left in the current session; 0 when between sessions. */
  left: number;
  /** Wall clock when the next session may start (gaps exceed the 30 s session gap). */
  nextSession: number;
}

interface Card {
  id: string;
  country: string;
  typical: number;
}

export interface GeneratorOptions {
  dataDir: string;
  /** Events per second, all topics together (default 1500). */
  rate?: number;
}

interface Out {
  key: Uint8Array;
  value: Uint8Array;
  timestamp: number;
  partition?: number;
}

export class DemoGenerator {
  readonly #log: Log;
  readonly #rate: number;
  readonly #users: User[] = [];
  readonly #cards: Card[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #ticks = 0;
  /** Events appended so far. */
  sent = 0;

  private constructor(log: Log, rate: number) {
    this.#log = log;
    this.#rate = rate;
    for (let i = 0; i < 300; i++) this.#users.push({ id: `user-${i}`, left: 0, nextSession: Date.now() + Math.random() * 20_000 });
    for (let i = 0; i < 400; i++) this.#cards.push({ id: `card-${1000 + i}`, country: pick(COUNTRIES), typical: 5 + Math.round(Math.random() ** 2 * 200) });
  }

  static async open(options: GeneratorOptions): Promise<DemoGenerator> {
    const log = await Log.open(options.dataDir);
    // An hour of input is kept; older segments go, so a demo left running does not fill the disk.
    for (const [topic, partitions] of Object.entries(TOPICS)) log.ensureTopic(topic, { partitions, retentionMs: 3_600_000, segmentBytes: 16 << 20, segmentMs: 600_000 });
    return new DemoGenerator(log, options.rate ?? 1500);
  }

  /** Appends a batch every 100 ms until `stop()`. */
  start(): void {
    this.#timer = setInterval(() => {
      // One batch at a time: if the disk is slow, skip a tick rather than queue writes.
      this.#running = this.#running.then(() => this.tick()).catch((error: unknown) => {
        process.stderr.write(`demo generator: ${String(error)}\n`);
      });
    }, 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#log.close();
  }

  /** One 100 ms batch across the four topics. */
  async tick(): Promise<void> {
    const now = Date.now();
    const n = Math.max(4, Math.round(this.#rate / 10));
    this.#ticks++;
    const out: Record<keyof typeof TOPICS, Out[]> = { clicks: [], transactions: [], 'server-metrics': [], sensors: [] };
    for (let i = 0; i < n * 0.55; i++) this.#click(now, out.clicks);
    for (let i = 0; i < n * 0.15; i++) this.#transaction(now, out.transactions);
    for (let i = 0; i < n * 0.25; i++) this.#response(now, out['server-metrics']);
    this.#sensors(now, out.sensors);
    const producer = await this.#producer();
    for (const [topic, records] of Object.entries(out)) {
      if (records.length === 0) continue;
      await producer.send(topic, records);
      this.sent += records.length;
    }
  }

  #producerPromise: ReturnType<Log['producer']> | undefined;
  #producer(): ReturnType<Log['producer']> {
    this.#producerPromise ??= this.#log.producer();
    return this.#producerPromise;
  }

  /** Event time: mostly now; 6% out of order by up to 4 s (inside the 5 s bound); 0.4% late by 20-80 s. */
  #eventTime(now: number): number {
    const r = Math.random();
    if (r < 0.004) return now - 20_000 - Math.random() * 60_000;
    if (r < 0.064) return now - Math.random() * 4000;
    return now;
  }

  #click(now: number, out: Out[]): void {
    const idle = this.#users.filter((u) => u.left === 0 && u.nextSession <= now);
    for (const u of idle.slice(0, 3)) u.left = 3 + Math.floor(Math.random() * 25);
    const active = this.#users.filter((u) => u.left > 0);
    if (active.length === 0) return;
    const user = pick(active);
    user.left--;
    if (user.left === 0) user.nextSession = now + 35_000 + Math.random() * 60_000;
    const p = page();
    const action = Math.random() < 0.35 ? 'click' : 'view';
    out.push({ key: encoder.encode(user.id), value: json({ user: user.id, page: p, action, ts: this.#eventTime(now) }), timestamp: now });
  }

  #transaction(now: number, out: Out[]): void {
    const card = pick(this.#cards);
    const r = Math.random();
    let amount: number | null = Math.round(card.typical * (0.3 + Math.random() * 1.4) * 100) / 100;
    let country = Math.random() < 0.97 ? card.country : pick(COUNTRIES);
    if (r < 0.001) amount = null; // a broken upstream record: the pipeline dead-letters it
    else if (r < 0.002) amount = Math.round(card.typical * (12 + Math.random() * 20) * 100) / 100; // outsized
    const burst = r > 0.997 ? 5 : 1; // a card tested in a quick burst: more than 3 in a minute
    if (burst > 1) country = pick(COUNTRIES);
    for (let i = 0; i < burst; i++) {
      out.push({ key: encoder.encode(card.id), value: json({ card: card.id, country, amount, merchant: `m-${Math.floor(Math.random() * 90)}`, ts: this.#eventTime(now) }), timestamp: now });
    }
  }

  #response(now: number, out: Out[]): void {
    const server = pick(SERVERS);
    // Every 3 minutes one server degrades for 40 s.
    const degraded = SERVERS[Math.floor(now / 180_000) % SERVERS.length];
    const slow = server === degraded && now % 180_000 < 40_000;
    const ms = slow ? 600 + Math.random() * 1800 : Math.round(20 + -Math.log(1 - Math.random()) * 80);
    out.push({ key: encoder.encode(server), value: json({ server, endpoint: pick(ENDPOINTS), ms: Math.round(ms), status: Math.random() < 0.01 ? 500 : 200, ts: this.#eventTime(now) }), timestamp: now });
  }

  /** Each sensor reports once a second; sensors on partition 1 sit behind a gateway that drops out for 20 s every 2 minutes. */
  #sensors(now: number, out: Out[]): void {
    if (this.#ticks % 10 !== 0) return;
    const gatewayDown = now % 120_000 > 100_000;
    const hot = Math.floor(now / 90_000) % SENSORS;
    for (let i = 0; i < SENSORS; i++) {
      const partition = i % 2;
      if (partition === 1 && gatewayDown) continue;
      const base = 22 + 4 * Math.sin(now / 60_000 + i);
      const temp = i === hot && now % 90_000 < 45_000 ? 41 + Math.random() * 6 : base + Math.random() * 1.5;
      const sensor = `sensor-${String(i).padStart(2, '0')}`;
      out.push({ key: encoder.encode(sensor), value: json({ sensor, temp: Math.round(temp * 10) / 10, ts: this.#eventTime(now) }), timestamp: now, partition });
    }
  }
}
