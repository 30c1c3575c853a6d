/**
 * `sources.mqtt`: JSON messages of MQTT topics (the `mqtt` client, MQTT 5), read as one partition.
 *
 * The guarantee is at-least-once at best, and says so: MQTT has no offsets to replay from, so
 * a restored checkpoint cannot go back to a message. With QoS 1 (the default) the source keeps a
 * persistent session (a fixed client id, `clean: false`, a session that does not expire) and
 * acknowledges a message (PUBACK) only after the checkpoint that holds it has committed. A crash
 * before that leaves the message unacknowledged, and the broker delivers it again to the next
 * session: nothing is lost, but a message whose checkpoint committed just before the crash (its
 * PUBACK not yet sent) comes again, as do messages redelivered after a reconnect. With QoS 0 the
 * broker never delivers again: at-most-once.
 *
 * The broker limits how many messages are unacknowledged at once (`receiveMaximum` asks for up to
 * that many; mosquitto also has `max_inflight_messages`), so at most that many flow per checkpoint
 * interval, and it queues a bounded number for an offline session (mosquitto
 * `max_queued_messages`): beyond it, messages are dropped by the broker. When the buffer here is
 * full the client stops reading from the socket, so the broker holds the rest.
 *
 * A payload that is not JSON is dead-lettered (with its topic in the error); a message's event
 * time, when the stream gives no `timestamp`, is its arrival time.
 */
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Source, SourceContext, SourceReader, SourceRecord } from '../../api/index.ts';
import { SluiceError } from '../../core/index.ts';
import { emptyStats, PushSourceReport, type PushSourceStats } from '../push-report.ts';
import { redact } from '../url.ts';
import { Arrivals } from '../arrivals.ts';

export interface MqttSourceOptions {
  /** The broker: `mqtt://127.0.0.1:1883` (also `mqtts://`, `ws://`, with user and password in it). */
  url: string;
  /** A topic filter (`sensors/+/temperature`, `events/#`), or several with `topics`. */
  topic?: string;
  topics?: string[];
  /** 1 (default): at-least-once, acknowledged after the checkpoint; 0: at-most-once. */
  qos?: 0 | 1;
  /** The session's client id; default `sluice-<app>-<source stage>`, so a restart resumes the session. */
  clientId?: string;
  /** Messages held between the broker and the pipeline (default 10,000). */
  buffer?: number;
  /** Unacknowledged messages the broker may send at once (MQTT 5 Receive Maximum; default 10,000). */
  receiveMaximum?: number;
}

type Resolved = Required<Omit<MqttSourceOptions, 'topic' | 'clientId'>> & { clientId: string | undefined };

function checkOptions(options: MqttSourceOptions): Resolved {
  const example = "sources.mqtt({ url: 'mqtt://127.0.0.1:1883', topic: 'sensors/#', qos: 1 })";
  if (options === null || typeof options !== 'object') throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt() takes options; write ${example}`);
  const { url, topic, qos = 1, clientId, buffer = 10_000, receiveMaximum = 10_000 } = options;
  if (typeof url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt(): url must be a broker URL such as 'mqtt://127.0.0.1:1883', got ${JSON.stringify(url)}`);
  const topics = options.topics ?? (topic === undefined ? [] : [topic]);
  if (topic !== undefined && options.topics !== undefined) throw new SluiceError('INVALID_ARGUMENT', 'sources.mqtt(): give topic or topics, not both');
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t.length === 0)) throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt(): name the topic filter to read, such as { topic: 'sensors/#' }; write ${example}`);
  if (qos !== 0 && qos !== 1) {
    throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt(): qos must be 1 (at-least-once: acknowledged after the checkpoint) or 0 (at-most-once), got ${JSON.stringify(qos)}; QoS 2 cannot make the pipeline exactly-once without replay, so use 1`);
  }
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length === 0)) throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt(): clientId must be a non-empty string, got ${JSON.stringify(clientId)}`);
  for (const [what, n] of [['buffer', buffer], ['receiveMaximum', receiveMaximum]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 65535 * (what === 'buffer' ? 1000 : 1)) throw new SluiceError('INVALID_ARGUMENT', `sources.mqtt(): ${what} must be a positive number of messages${what === 'receiveMaximum' ? ' up to 65535' : ''}, got ${JSON.stringify(n)}`);
  }
  return { url, topics, qos, clientId, buffer, receiveMaximum };
}

export class MqttSource implements Source {
  readonly describe: string;
  readonly stats: PushSourceStats = emptyStats();
  readonly #options: Resolved;

  constructor(options: MqttSourceOptions) {
    this.#options = checkOptions(options);
    this.describe = `mqtt ${this.#options.topics.join(', ')} at ${redact(this.#options.url)} (qos ${this.#options.qos})`;
  }

  async open(context: SourceContext): Promise<SourceReader> {
    const reader = new MqttReader(this.#options, this.describe, this.stats, context);
    await reader.connect();
    return reader;
  }
}

/** A message received and not yet acknowledged: its sequence number and the PUBACK held back. */
interface Unacked {
  seq: number;
  puback: Packet | undefined;
}

class MqttReader implements SourceReader {
  readonly #options: Resolved;
  readonly #describe: string;
  readonly #stats: PushSourceStats;
  readonly #context: SourceContext;
  readonly #report: PushSourceReport;
  #client: MqttClient | undefined;
  #buffer: SourceRecord[] = [];
  /** Sequence numbers: messages received so far, and handed to the pipeline so far. */
  #received = 0;
  #handed = 0;
  /** QoS 1 messages in arrival order, by message id while unacknowledged. */
  #unacked = new Map<number, Unacked>();
  /** The client waits for this before it reads the next packet: the buffer is full. */
  #blocked: (() => void) | undefined;
  readonly #arrivals = new Arrivals();
  /** Messages up to this sequence number are in a committed checkpoint. */
  #committedHanded = 0;
  #bounded = false;
  #failure: SluiceError | undefined;

  constructor(options: Resolved, describe: string, stats: PushSourceStats, context: SourceContext) {
    this.#options = options;
    this.#describe = describe;
    this.#stats = stats;
    this.#context = context;
    this.#report = new PushSourceReport(context, describe, stats, options.buffer);
  }

  async connect(): Promise<void> {
    const { url, qos, topics, receiveMaximum } = this.#options;
    const clientId = this.#options.clientId ?? `sluice-${this.#context.app}-${this.#context.name}`;
    const client = mqtt.connect(url, {
      clientId,
      clean: qos === 0,
      protocolVersion: 5,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      properties: { ...(qos === 1 ? { sessionExpiryInterval: 0xffffffff } : {}), receiveMaximum },
    });
    this.#client = client;
    // Set before the session's queued messages arrive.
    client.handleMessage = (packet, callback) => this.#receive(packet, callback);
    this.#holdPubacks(client);
    // A new connection: the broker sends every unacknowledged message again, so the PUBACKs held for the old one are void.
    client.on('close', () => this.#unacked.clear());
    client.on('error', (error) => this.#context.warn(`${this.#describe}: ${error.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.subscribeAsync(topics, { qos });
    } catch (cause) {
      await client.endAsync(true);
      throw new SluiceError('SOURCE_FAILED', `${this.#describe}: cannot subscribe: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * The client sends a PUBACK as soon as `handleMessage` returns, and reads the next packet only
   * then; a PUBACK must wait for the checkpoint, the next packet must not. So the PUBACK packet
   * is kept here (the client is told it was sent) and sent when the checkpoint holding its message
   * commits. (mqtt's `_sendPacket`, pinned by the exact version in package.json.)
   */
  #holdPubacks(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket(packet: Packet, cb?: (error?: Error) => void): void };
    const send = internal._sendPacket.bind(client);
    internal._sendPacket = (packet, cb) => {
      const waiting = packet.cmd === 'puback' && packet.messageId !== undefined ? this.#unacked.get(packet.messageId) : undefined;
      if (waiting === undefined || waiting.seq <= this.#committedHanded) {
        if (waiting !== undefined) this.#unacked.delete(packet.messageId!);
        send(packet, cb);
        return;
      }
      waiting.puback = packet;
      cb?.();
    };
    this.#sendNow = send;
  }

  #sendNow: ((packet: Packet) => void) | undefined;

  #receive(packet: IPublishPacket, callback: (error?: Error) => void): void {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const record: SourceRecord = { value: new Uint8Array(payload), timestamp: this.#context.clock() };
    try {
      JSON.parse(payload.toString('utf8'));
    } catch (error) {
      record.error = `an MQTT message on topic '${packet.topic}' is not JSON (${(error as Error).message})`;
    }
    this.#buffer.push(record);
    this.#received++;
    if (packet.qos === 1 && packet.messageId !== undefined) this.#unacked.set(packet.messageId, { seq: this.#received, puback: undefined });
    this.#stats.accepted++;
    this.#stats.buffered = this.#buffer.length;
    this.#stats.maxBuffered = Math.max(this.#stats.maxBuffered, this.#buffer.length);
    this.#report.maybe();
    this.#arrivals.wake();
    if (this.#buffer.length < this.#options.buffer) callback();
    else this.#blocked = () => callback();
  }

  async bound(): Promise<void> {
    this.#bounded = true;
  }

  get done(): boolean {
    return this.#bounded && this.#buffer.length === 0;
  }

  async read(max: number): Promise<SourceRecord[]> {
    if (this.#failure !== undefined) throw this.#failure;
    const taken = this.#buffer.splice(0, max);
    this.#handed += taken.length;
    this.#stats.buffered = this.#buffer.length;
    if (this.#blocked !== undefined && this.#buffer.length < this.#options.buffer) {
      const resume = this.#blocked;
      this.#blocked = undefined;
      resume();
    }
    this.#report.maybe();
    return taken;
  }

  position(): { handed: number } {
    return { handed: this.#handed };
  }

  /** MQTT cannot go back: what a crash lost was never acknowledged, and the broker sends it again. */
  seek(_position: unknown): void {}

  /** The checkpoint holding the first `handed` messages committed: their PUBACKs go out. */
  committed(position: unknown): void {
    const handed = (position as { handed?: number }).handed ?? 0;
    this.#committedHanded = Math.max(this.#committedHanded, handed);
    for (const [id, u] of this.#unacked) {
      if (u.seq > handed) break;
      if (u.puback === undefined) break; // the client has not answered it yet: it is sent when it does
      this.#sendNow?.(u.puback);
      this.#unacked.delete(id);
    }
  }

  async waitForData(timeoutMs: number): Promise<void> {
    if (this.#buffer.length > 0) return;
    await this.#arrivals.wait(timeoutMs);
  }

  async close(): Promise<void> {
    this.#failure ??= new SluiceError('SOURCE_FAILED', `${this.#describe}: closed`);
    await this.#client?.endAsync();
    this.#report.publish();
  }
}
