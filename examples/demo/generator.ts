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

/** Shares of the events other than sensor readings (which come at a fixed 16 a second). */
const SHARES = { clicks: 0.55, transactions: 0.17, 'server-metrics': 0.28 } as const;
/** Clicks a session has on average (3 to 27), and the average gap between a user's sessions (35 to 95 s). */
const CLICKS_PER_SESSION = 15;
const SESSION_GAP_MS = 65_000;

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
  /** Users in a session, and users between sessions. */
  readonly #active: User[] = [];
  readonly #resting: User[] = [];
  /** Users whose gap is over, waiting for their next session. */
  readonly #ready: User[] = [];
  readonly #cards: Card[] = [];
  #nextCard = 0;
  /** Fractions of an event carried to the next tick, so each topic gets its share exactly. */
  readonly #carry: Record<keyof typeof SHARES, number> = { clicks: 0, transactions: 0, 'server-metrics': 0 };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #ticks = 0;
  /** Events appended so far. */
  sent = 0;

  private constructor(log: Log, rate: number) {
    this.#log = log;
    this.#rate = rate;
    // Enough users that their sessions, with the gaps between them, supply the clicks the rate asks
    // for (twice over, so there is always someone in a session): with a fixed 300 users the
    // clicks were capped near 70 a second and a 1500/s demo ran at about 660/s.
    const clicksPerSecond = Math.max(0, rate - SENSORS) * SHARES.clicks;
    const users = Math.max(300, Math.ceil((2 * clicksPerSecond * SESSION_GAP_MS) / 1000 / CLICKS_PER_SESSION));
    for (let i = 0; i < users; i++) this.#resting.push({ id: `user-${i}`, left: 0, nextSession: Date.now() + Math.random() * 20_000 });
    // Enough cards that each pays about every 45 s, in turn (a shuffled cycle): ordinary use never
    // makes 4 payments in a minute, so the burst rules fire only for the rare tested card (with
    // 400 cards picked at random each paid ~38 times a minute and the rule fired for 398 of them).
    const transactionsPerSecond = Math.max(0, rate - SENSORS) * SHARES.transactions;
    const cards = Math.max(400, Math.ceil(transactionsPerSecond * 45));
    for (let i = 0; i < cards; i++) this.#cards.push({ id: `card-${1000 + i}`, country: pick(COUNTRIES), typical: 5 + Math.round(Math.random() ** 2 * 200) });
    for (let i = cards - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.#cards[i], this.#cards[j]] = [this.#cards[j], this.#cards[i]];
    }
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

  /** One 100 ms batch across the four topics: a tenth of the rate, sensor readings included. */
  async tick(now = Date.now()): Promise<void> {
    this.#ticks++;
    const out: Record<keyof typeof TOPICS, Out[]> = { clicks: [], transactions: [], 'server-metrics': [], sensors: [] };
    const rest = Math.max(0, this.#rate - SENSORS) / 10;
    this.#wake(now);
    for (let i = this.#take('clicks', rest); i > 0; i--) this.#click(now, out.clicks);
    for (let i = this.#take('transactions', rest); i > 0; i--) this.#transaction(now, out.transactions);
    for (let i = this.#take('server-metrics', rest); i > 0; i--) this.#response(now, out['server-metrics']);
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

  /** Whole events of `topic`'s share this tick; the fraction left over goes to the next. */
  #take(topic: keyof typeof SHARES, events: number): number {
    this.#carry[topic] += events * SHARES[topic];
    const whole = Math.floor(this.#carry[topic]);
    this.#carry[topic] -= whole;
    return whole;
  }

  /** Users whose gap between sessions is over become ready for the next one (once a tick, not per click). */
  #wake(now: number): void {
    for (let i = this.#resting.length - 1; i >= 0; i--) {
      if (this.#resting[i].nextSession > now) continue;
      this.#ready.push(this.#resting[i]);
      this.#resting[i] = this.#resting[this.#resting.length - 1];
      this.#resting.pop();
    }
  }

  #click(now: number, out: Out[]): void {
    for (let k = 0; k < 3 && this.#ready.length > 0; k++) {
      const u = this.#ready.pop()!;
      u.left = 3 + Math.floor(Math.random() * 25);
      this.#active.push(u);
    }
    if (this.#active.length === 0) return;
    const at = Math.floor(Math.random() * this.#active.length);
    const user = this.#active[at];
    user.left--;
    if (user.left === 0) {
      user.nextSession = now + 35_000 + Math.random() * 60_000;
      this.#active[at] = this.#active[this.#active.length - 1];
      this.#active.pop();
      this.#resting.push(user);
    }
    const p = page();
    const action = Math.random() < 0.35 ? 'click' : 'view';
    out.push({ key: encoder.encode(user.id), value: json({ user: user.id, page: p, action, ts: this.#eventTime(now) }), timestamp: now });
  }

  #transaction(now: number, out: Out[]): void {
    const card = this.#cards[this.#nextCard++ % this.#cards.length];
    const r = Math.random();
    let amount: number | null = Math.round(card.typical * (0.3 + Math.random() * 1.4) * 100) / 100;
    let country = Math.random() < 0.97 ? card.country : pick(COUNTRIES);
    if (r < 0.001) amount = null; // a broken upstream record: the pipeline dead-letters it
    else if (r < 0.0013) amount = Math.round(card.typical * (12 + Math.random() * 20) * 100) / 100; // outsized, rare
    const burst = r > 0.9997 ? 5 : 1; // a card tested in a quick burst: more than 3 in a minute, rare
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
