/**
 * The Nexmark event generator, following the reference generator's rules (Beam's and
 * nexmark-flink's): event kind by `eventId % 50` (0 person, 1-3 auction, 4-49 bid), person and
 * auction ids counted from 1000 in event order, hot auctions/sellers/bidders with probability
 * 1 - 1/ratio (ratios 2/4/4) picked from batches of 100, prices `round(10^(6u) * 100)`,
 * 1000 active people, 100 in-flight auctions, event time `base + eventId * 1e6/tps` µs, and
 * `extra` padding towards 200/500/100-byte people/auctions/bids.
 *
 * Unlike the reference, every event draws from its own PRNG seeded by (seed, eventId) (see
 * prng.ts), so the stream is deterministic for a seed and each event can be made alone.
 * Character draws take one number each (1 in 13 a space or `_`, else a-z, as the reference's
 * two draws give). The Java port (bench/peers/flink) follows this file line by line.
 */
import { Buffer } from 'node:buffer';
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';
import { EventRandom } from './prng.ts';

export interface GeneratorConfig {
  seed: number;
  /** Events per second of event time (the V2 density). */
  tps: number;
  /** Event time of event 0, epoch ms. */
  baseTime: number;
}

export const DEFAULT_CONFIG: GeneratorConfig = { seed: 42, tps: 100_000, baseTime: Date.UTC(2026, 0, 1) };

const PERSON_PROPORTION = 1;
const AUCTION_PROPORTION = 3;
const TOTAL_PROPORTION = 50;
const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const HOT_AUCTION_RATIO = 2;
const HOT_SELLER_RATIO = 4;
const HOT_BIDDER_RATIO = 4;
/** Hot ids are the first of the latest batch of this many. */
const HOT_BATCH = 100;
const ACTIVE_PEOPLE = 1000;
const IN_FLIGHT_AUCTIONS = 100;
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const PERSON_BYTES = 200;
const AUCTION_BYTES = 500;
const BID_BYTES = 100;
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
const CHANNELS = 10_000;
/** Salts of the PRNG streams of channel URLs (not events). */
const HOT_URL_SALT = 0x2545f491;
const CHANNEL_URL_SALT = 0x6c8e9cf5;

const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];

/** Event time of an event, epoch ms: `base + floor(eventId * 1e6 / tps / 1000)`. */
export function eventTime(config: GeneratorConfig, eventId: number): number {
  return config.baseTime + Math.floor((eventId * 1000) / config.tps);
}

export function lastBase0PersonId(eventId: number): number {
  const epoch = Math.floor(eventId / TOTAL_PROPORTION);
  let offset = eventId % TOTAL_PROPORTION;
  if (offset >= PERSON_PROPORTION) offset = PERSON_PROPORTION - 1;
  return epoch * PERSON_PROPORTION + offset;
}

export function lastBase0AuctionId(eventId: number): number {
  let epoch = Math.floor(eventId / TOTAL_PROPORTION);
  let offset = eventId % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
}

/** One of the active people, or one of the next few to join. */
function nextBase0PersonId(eventId: number, random: EventRandom): number {
  const numPeople = lastBase0PersonId(eventId) + 1;
  const active = Math.min(numPeople, ACTIVE_PEOPLE);
  return numPeople - active + random.nextLong(active + PERSON_ID_LEAD);
}

/** One of the auctions likely still in flight, or one of the next few. */
function nextBase0AuctionId(eventId: number, random: EventRandom): number {
  const maxAuction = lastBase0AuctionId(eventId);
  const minAuction = Math.max(maxAuction - IN_FLIGHT_AUCTIONS, 0);
  return minAuction + random.nextLong(maxAuction - minAuction + 1 + AUCTION_ID_LEAD);
}

function nextPrice(random: EventRandom): number {
  return Math.round(10 ** (random.nextDouble() * 6) * 100);
}

/** Scratch for building strings flat: a string grown by `+=` per character is a rope of `length` nodes. */
const chars = Buffer.allocUnsafe(1024);

/** `length` characters: 1 in 13 is `special`, the rest a-z, one draw each. */
function exactString(random: EventRandom, length: number, special = ' '): string {
  const specialCode = special.charCodeAt(0);
  for (let i = 0; i < length; i++) {
    const r = random.nextInt(13 * 26);
    chars[i] = r < 26 ? specialCode : 97 + (r % 26);
  }
  return chars.toString('latin1', 0, length);
}

/** Between 3 and maxLength - 1 characters. */
function nextString(random: EventRandom, maxLength: number, special = ' '): string {
  return exactString(random, 3 + random.nextInt(maxLength - 3), special);
}

/** Padding so the event's size averages `average` bytes (within +-20%). */
function nextExtra(random: EventRandom, currentSize: number, average: number): string {
  if (currentSize > average) return '';
  const wanted = average - currentSize;
  const delta = Math.round(wanted * 0.2);
  const size = wanted - delta + (delta === 0 ? 0 : random.nextInt(2 * delta));
  return exactString(random, size);
}

function baseUrl(random: EventRandom): string {
  return `https://www.nexmark.com/${nextString(random, 5, '_')}/${nextString(random, 5, '_')}/${nextString(random, 5, '_')}/item.htm?query=1`;
}

export class NexmarkGenerator {
  readonly config: GeneratorConfig;
  readonly #hotUrls: string[];
  readonly #channelUrls: (string | undefined)[] = new Array(CHANNELS);

  constructor(config: Partial<GeneratorConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.#hotUrls = HOT_CHANNELS.map((_, i) => baseUrl(new EventRandom(this.config.seed ^ HOT_URL_SALT, i)));
  }

  /** The event with this id (0-based). */
  event(eventId: number): NexmarkEvent {
    const random = new EventRandom(this.config.seed, eventId);
    const timestamp = eventTime(this.config, eventId);
    const offset = eventId % TOTAL_PROPORTION;
    if (offset < PERSON_PROPORTION) return this.#person(eventId, random, timestamp);
    if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return this.#auction(eventId, random, timestamp);
    return this.#bid(eventId, random, timestamp);
  }

  /** Events `from` .. `from + count - 1`. */
  events(count: number, from = 0): NexmarkEvent[] {
    const out = new Array<NexmarkEvent>(count);
    for (let i = 0; i < count; i++) out[i] = this.event(from + i);
    return out;
  }

  #person(eventId: number, random: EventRandom, timestamp: number): Person {
    const id = lastBase0PersonId(eventId) + FIRST_PERSON_ID;
    const name = `${FIRST_NAMES[random.nextInt(FIRST_NAMES.length)]} ${LAST_NAMES[random.nextInt(LAST_NAMES.length)]}`;
    const emailAddress = `${nextString(random, 7)}@${nextString(random, 5)}.com`;
    let creditCard = '';
    for (let i = 0; i < 4; i++) creditCard += (i > 0 ? ' ' : '') + String(random.nextInt(10000)).padStart(4, '0');
    const city = US_CITIES[random.nextInt(US_CITIES.length)];
    const state = US_STATES[random.nextInt(US_STATES.length)];
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    const extra = nextExtra(random, size, PERSON_BYTES);
    return { type: 'person', id, name, emailAddress, creditCard, city, state, dateTime: timestamp, extra };
  }

  #auction(eventId: number, random: EventRandom, timestamp: number): Auction {
    const id = lastBase0AuctionId(eventId) + FIRST_AUCTION_ID;
    let seller: number;
    if (random.nextInt(HOT_SELLER_RATIO) > 0) seller = Math.floor(lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH;
    else seller = nextBase0PersonId(eventId, random);
    seller += FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + random.nextInt(NUM_CATEGORIES);
    const initialBid = nextPrice(random);
    // Lengths average the time until IN_FLIGHT_AUCTIONS more auctions exist.
    const eventsForAuctions = Math.floor((IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION) / AUCTION_PROPORTION);
    const horizon = eventTime(this.config, eventId + eventsForAuctions) - timestamp;
    const expires = timestamp + 1 + random.nextLong(Math.max(horizon * 2, 1));
    const itemName = nextString(random, 20);
    const description = nextString(random, 100);
    const reserve = initialBid + nextPrice(random);
    const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
    const extra = nextExtra(random, size, AUCTION_BYTES);
    return { type: 'auction', id, itemName, description, initialBid, reserve, dateTime: timestamp, expires, seller, category, extra };
  }

  #bid(eventId: number, random: EventRandom, timestamp: number): Bid {
    let auction: number;
    if (random.nextInt(HOT_AUCTION_RATIO) > 0) auction = Math.floor(lastBase0AuctionId(eventId) / HOT_BATCH) * HOT_BATCH;
    else auction = nextBase0AuctionId(eventId, random);
    auction += FIRST_AUCTION_ID;
    let bidder: number;
    // The second of the batch, so hot bidders and hot sellers differ.
    if (random.nextInt(HOT_BIDDER_RATIO) > 0) bidder = Math.floor(lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH + 1;
    else bidder = nextBase0PersonId(eventId, random);
    bidder += FIRST_PERSON_ID;
    const price = nextPrice(random);
    let channel: string;
    let url: string;
    if (random.nextInt(2) > 0) {
      const i = random.nextInt(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[i];
      url = this.#hotUrls[i];
    } else {
      const i = random.nextInt(CHANNELS);
      channel = `channel-${i}`;
      url = this.#channelUrl(i);
    }
    const extra = nextExtra(random, 32, BID_BYTES);
    return { type: 'bid', auction, bidder, price, channel, url, dateTime: timestamp, extra };
  }

  /** A channel's URL, from its own PRNG stream; 1 in 10 carries the channel id. */
  #channelUrl(i: number): string {
    let url = this.#channelUrls[i];
    if (url === undefined) {
      const random = new EventRandom(this.config.seed ^ CHANNEL_URL_SALT, i);
      url = baseUrl(random);
      if (random.nextInt(10) === 0) url += `&channel_id=${i}`;
      this.#channelUrls[i] = url;
    }
    return url;
  }
}
