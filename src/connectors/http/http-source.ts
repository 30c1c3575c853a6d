/**
 * `sources.http`: a push source. Producers POST JSON lines (one JSON value per line) to
 * `http://127.0.0.1:<port><path>`; the response comes when the checkpoint holding the request's
 * records has committed (200 `{"accepted":n}`), so a producer that got no 200 sends again: nothing
 * acknowledged is lost (a crash after the commit but before the response repeats a request:
 * at-least-once toward the sender).
 *
 * The buffer between producers and the pipeline holds at most `buffer` records. When the pipeline
 * falls behind and a request does not fit, `onFull` decides:
 * - `'block'` (default): 429 with `Retry-After`, none of the request taken; the producer slows down.
 * - `'drop'`: the records that fit are taken, the rest dropped and counted (`{"accepted","dropped"}`).
 * - `'shed'`: above `shedAbove` of the buffer, records for which `shed(value)` is true are dropped
 *   (load shedding by a rule: the cheap ones go first); what still does not fit is refused with 429.
 * `stats` counts what it did; each reader also publishes its counts on `sluice:push-source` (for
 * `/metrics` and the dashboard, see src/api/connector.ts). A malformed line is refused with 400 naming its line; nothing of that
 * request is taken.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Source, SourceContext, SourceReader, SourceRecord } from '../../api/index.ts';
import { SluiceError, utf8 } from '../../core/index.ts';
import { emptyStats, PushSourceReport, type PushSourceStats } from '../push-report.ts';
import { Arrivals } from '../arrivals.ts';

export interface HttpSourceOptions {
  port: number;
  /** The POST path (default '/'). */
  path?: string;
  /** Records held between producers and the pipeline (default 10,000). */
  buffer?: number;
  /** What happens when a request does not fit (default 'block'). */
  onFull?: 'block' | 'drop' | 'shed';
  /** With `onFull: 'shed'`: records to drop first when the buffer is above `shedAbove`. */
  shed?: (value: any) => boolean;
  /** Fraction of the buffer above which shedding starts (default 0.5). */
  shedAbove?: number;
  /** Seconds a refused producer is told to wait (default 1). */
  retryAfterSeconds?: number;
  /** Largest request body in bytes (default 16 MiB). */
  maxBodyBytes?: number;
}

/** What the source did, for metrics. */
export type HttpSourceStats = PushSourceStats;

interface Waiting {
  /** The sequence number of the request's last record. */
  last: number;
  respond: () => void;
  fail: (status: number, message: string) => void;
}

export class HttpSource implements Source {
  readonly describe: string;
  readonly stats: HttpSourceStats = emptyStats();
  readonly #options: Required<Omit<HttpSourceOptions, 'shed'>> & { shed: ((value: any) => boolean) | undefined };

  constructor(options: HttpSourceOptions) {
    if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', "sources.http() takes options; write sources.http({ port: 8080, path: '/events' })");
    const { port, path = '/', buffer = 10_000, onFull = 'block', shed, shedAbove = 0.5, retryAfterSeconds = 1, maxBodyBytes = 16 << 20 } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SluiceError('INVALID_ARGUMENT', `sources.http(): port must be a port number (0 for any free one), got ${JSON.stringify(port)}`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw new SluiceError('INVALID_ARGUMENT', `sources.http(): path must start with '/', got ${JSON.stringify(path)}`);
    if (!Number.isInteger(buffer) || buffer < 1) throw new SluiceError('INVALID_ARGUMENT', `sources.http(): buffer must be a positive number of records, got ${JSON.stringify(buffer)}`);
    if (!['block', 'drop', 'shed'].includes(onFull)) throw new SluiceError('INVALID_ARGUMENT', `sources.http(): onFull must be 'block', 'drop' or 'shed', got ${JSON.stringify(onFull)}`);
    if (onFull === 'shed' && typeof shed !== 'function') throw new SluiceError('INVALID_ARGUMENT', "sources.http(): onFull: 'shed' needs a rule, such as { shed: (e) => e.priority === 'low' }");
    if (!(shedAbove >= 0 && shedAbove <= 1)) throw new SluiceError('INVALID_ARGUMENT', `sources.http(): shedAbove is a fraction of the buffer from 0 to 1, got ${JSON.stringify(shedAbove)}`);
    this.#options = { port, path, buffer, onFull, shed, shedAbove, retryAfterSeconds, maxBodyBytes };
    this.describe = `http POST 127.0.0.1:${port}${path}`;
  }

  #reader: HttpReader | undefined;

  async open(context: SourceContext): Promise<SourceReader> {
    const reader = new HttpReader(this.#options, this.stats, new PushSourceReport(context, this.describe, this.stats, this.#options.buffer));
    await reader.listen();
    this.#reader = reader;
    return reader;
  }

  /** The port it listens on once the app runs (the one chosen, for port 0). */
  get port(): number | undefined {
    return this.#reader?.port;
  }
}

class HttpReader implements SourceReader {
  readonly #options: Required<Omit<HttpSourceOptions, 'shed'>> & { shed: ((value: any) => boolean) | undefined };
  readonly #stats: HttpSourceStats;
  readonly #server: Server;
  #buffer: SourceRecord[] = [];
  /** Sequence numbers: records accepted so far, and handed to the pipeline so far. */
  #accepted = 0;
  #handed = 0;
  #waiting: Waiting[] = [];
  #bounded = false;
  readonly #arrivals = new Arrivals();
  readonly #report: PushSourceReport;

  constructor(options: Required<Omit<HttpSourceOptions, 'shed'>> & { shed: ((value: any) => boolean) | undefined }, stats: HttpSourceStats, report: PushSourceReport) {
    this.#options = options;
    this.#stats = stats;
    this.#report = report;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async listen(): Promise<void> {
    this.#server.listen(this.#options.port, '127.0.0.1');
    try {
      await Promise.race([once(this.#server, 'listening'), once(this.#server, 'error').then(([error]) => Promise.reject(error as Error))]);
    } catch (cause) {
      throw new SluiceError('SOURCE_FAILED', `sources.http(): cannot listen on 127.0.0.1:${this.#options.port}: ${(cause as Error).message}`, { cause });
    }
  }

  /** The port it listens on (the one given, or the one chosen for port 0). */
  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  async bound(): Promise<void> {
    this.#bounded = true;
  }

  get done(): boolean {
    return this.#bounded && this.#buffer.length === 0;
  }

  async read(max: number): Promise<SourceRecord[]> {
    const taken = this.#buffer.splice(0, max);
    this.#handed += taken.length;
    this.#stats.buffered = this.#buffer.length;
    this.#report.maybe();
    return taken;
  }

  position(): { handed: number } {
    return { handed: this.#handed };
  }

  /** A push source cannot go back: what a crash lost was never acknowledged, and is sent again. */
  seek(_position: unknown): void {}

  committed(position: unknown): void {
    const handed = (position as { handed?: number }).handed ?? 0;
    const still: Waiting[] = [];
    for (const w of this.#waiting) {
      if (w.last <= handed) w.respond();
      else still.push(w);
    }
    this.#waiting = still;
  }

  async waitForData(timeoutMs: number): Promise<void> {
    if (this.#buffer.length > 0) return;
    await this.#arrivals.wait(timeoutMs);
  }

  async close(): Promise<void> {
    for (const w of this.#waiting) w.fail(503, 'the pipeline stopped before the records were committed; send them again');
    this.#waiting = [];
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#report.publish();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== this.#options.path) {
      reply(404, { error: `POST JSON lines to ${this.#options.path}` });
      return;
    }
    if (req.method !== 'POST') {
      reply(405, { error: `POST JSON lines to ${this.#options.path}` }, { allow: 'POST' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#options.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        reply(413, { error: `the body is larger than ${this.#options.maxBodyBytes} bytes; send smaller requests` });
        return;
      }
      const parsed = parseLines(Buffer.concat(chunks).toString('utf8'));
      if ('error' in parsed) {
        reply(400, { error: parsed.error });
        return;
      }
      this.#accept(parsed.values, reply);
    });
  }

  #accept(values: { value: unknown; line: string }[], reply: (status: number, body: object, headers?: Record<string, string>) => void): void {
    const { buffer: capacity, onFull, shed, shedAbove, retryAfterSeconds } = this.#options;
    const free = capacity - this.#buffer.length;
    let take = values;
    let dropped = 0;
    let shedCount = 0;
    if (onFull === 'shed' && this.#buffer.length + values.length > capacity * shedAbove) {
      take = values.filter((v) => !shed!(v.value));
      shedCount = values.length - take.length;
    }
    if (take.length > free) {
      if (onFull === 'drop') {
        dropped = take.length - free;
        take = take.slice(0, free);
      } else {
        this.#stats.refused++;
        this.#report.maybe();
        reply(429, { error: `the pipeline is behind: ${this.#buffer.length} of ${capacity} records buffered; send again after ${retryAfterSeconds} s` }, { 'retry-after': String(retryAfterSeconds) });
        return;
      }
    }
    const now = Date.now();
    for (const v of take) this.#buffer.push({ value: utf8(v.line), timestamp: now });
    this.#accepted += take.length;
    this.#stats.accepted += take.length;
    this.#stats.dropped += dropped;
    this.#stats.shed += shedCount;
    this.#stats.buffered = this.#buffer.length;
    this.#stats.maxBuffered = Math.max(this.#stats.maxBuffered, this.#buffer.length);
    this.#report.maybe();
    const body = { accepted: take.length, ...(dropped > 0 ? { dropped } : {}), ...(shedCount > 0 ? { shed: shedCount } : {}) };
    if (take.length === 0) {
      reply(200, body);
      return;
    }
    this.#waiting.push({ last: this.#accepted, respond: () => reply(200, body), fail: (status, message) => reply(status, { error: message }) });
    this.#arrivals.wake();
  }
}

function parseLines(text: string): { values: { value: unknown; line: string }[] } | { error: string } {
  const values: { value: unknown; line: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      values.push({ value: JSON.parse(line), line });
    } catch (error) {
      return { error: `line ${i + 1} is not JSON (${(error as Error).message}); nothing of this request was taken` };
    }
  }
  return { values };
}
