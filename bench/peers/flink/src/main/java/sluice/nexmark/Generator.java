package sluice.nexmark;

import sluice.nexmark.Model.Auction;
import sluice.nexmark.Model.Bid;
import sluice.nexmark.Model.Event;
import sluice.nexmark.Model.Person;

/** The Nexmark generator of bench/nexmark/generator.ts, line by line: same rules, same seed, same events. */
final class Generator {
  static final long BASE_TIME = 1767225600000L; // 2026-01-01T00:00:00Z
  private static final int PERSON_PROPORTION = 1;
  private static final int AUCTION_PROPORTION = 3;
  private static final int TOTAL_PROPORTION = 50;
  private static final long FIRST_PERSON_ID = 1000;
  private static final long FIRST_AUCTION_ID = 1000;
  private static final long FIRST_CATEGORY_ID = 10;
  private static final int NUM_CATEGORIES = 5;
  private static final int HOT_AUCTION_RATIO = 2;
  private static final int HOT_SELLER_RATIO = 4;
  private static final int HOT_BIDDER_RATIO = 4;
  private static final long HOT_BATCH = 100;
  private static final long ACTIVE_PEOPLE = 1000;
  private static final long IN_FLIGHT_AUCTIONS = 100;
  private static final long PERSON_ID_LEAD = 10;
  private static final long AUCTION_ID_LEAD = 10;
  private static final int PERSON_BYTES = 200;
  private static final int AUCTION_BYTES = 500;
  private static final int BID_BYTES = 100;
  private static final String[] HOT_CHANNELS = {"Google", "Facebook", "Baidu", "Apple"};
  private static final int CHANNELS = 10_000;
  private static final int HOT_URL_SALT = 0x2545f491;
  private static final int CHANNEL_URL_SALT = 0x6c8e9cf5;
  private static final String[] FIRST_NAMES = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
  private static final String[] LAST_NAMES = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
  private static final String[] US_STATES = {"AZ", "CA", "ID", "OR", "WA", "WY"};
  private static final String[] US_CITIES = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"};

  private final int seed;
  private final long tps;
  private final String[] hotUrls = new String[HOT_CHANNELS.length];
  private final String[] channelUrls = new String[CHANNELS];

  Generator(int seed, long tps) {
    this.seed = seed;
    this.tps = tps;
    for (int i = 0; i < hotUrls.length; i++) hotUrls[i] = baseUrl(new EventRandom(seed ^ HOT_URL_SALT, i));
  }

  long eventTime(long eventId) {
    return BASE_TIME + (eventId * 1000) / tps;
  }

  static long lastBase0PersonId(long eventId) {
    long epoch = eventId / TOTAL_PROPORTION;
    long offset = eventId % TOTAL_PROPORTION;
    if (offset >= PERSON_PROPORTION) offset = PERSON_PROPORTION - 1;
    return epoch * PERSON_PROPORTION + offset;
  }

  static long lastBase0AuctionId(long eventId) {
    long epoch = eventId / TOTAL_PROPORTION;
    long offset = eventId % TOTAL_PROPORTION;
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

  private static long nextBase0PersonId(long eventId, EventRandom random) {
    long numPeople = lastBase0PersonId(eventId) + 1;
    long active = Math.min(numPeople, ACTIVE_PEOPLE);
    return numPeople - active + random.nextLong(active + PERSON_ID_LEAD);
  }

  private static long nextBase0AuctionId(long eventId, EventRandom random) {
    long maxAuction = lastBase0AuctionId(eventId);
    long minAuction = Math.max(maxAuction - IN_FLIGHT_AUCTIONS, 0);
    return minAuction + random.nextLong(maxAuction - minAuction + 1 + AUCTION_ID_LEAD);
  }

  /** StrictMath: fdlibm's pow, as V8 computes `10 ** x`. */
  private static long nextPrice(EventRandom random) {
    return Math.round(StrictMath.pow(10.0, random.nextDouble() * 6) * 100);
  }

  private static String exactString(EventRandom random, int length, char special) {
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      int r = random.nextInt(13 * 26);
      chars[i] = r < 26 ? special : (char) (97 + (r % 26));
    }
    return new String(chars);
  }

  private static String nextString(EventRandom random, int maxLength, char special) {
    return exactString(random, 3 + random.nextInt(maxLength - 3), special);
  }

  private static String nextExtra(EventRandom random, int currentSize, int average) {
    if (currentSize > average) return "";
    int wanted = average - currentSize;
    int delta = (int) Math.round(wanted * 0.2);
    int size = wanted - delta + (delta == 0 ? 0 : random.nextInt(2 * delta));
    return exactString(random, size, ' ');
  }

  private static String baseUrl(EventRandom random) {
    return "https://www.nexmark.com/" + nextString(random, 5, '_') + "/" + nextString(random, 5, '_') + "/" + nextString(random, 5, '_')
        + "/item.htm?query=1";
  }

  Event event(long eventId) {
    EventRandom random = new EventRandom(seed, eventId);
    long timestamp = eventTime(eventId);
    long offset = eventId % TOTAL_PROPORTION;
    if (offset < PERSON_PROPORTION) return new Event(person(eventId, random, timestamp));
    if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return new Event(auction(eventId, random, timestamp));
    return new Event(bid(eventId, random, timestamp));
  }

  private Person person(long eventId, EventRandom random, long timestamp) {
    Person p = new Person();
    p.id = lastBase0PersonId(eventId) + FIRST_PERSON_ID;
    String first = FIRST_NAMES[random.nextInt(FIRST_NAMES.length)];
    p.name = first + " " + LAST_NAMES[random.nextInt(LAST_NAMES.length)];
    String user = nextString(random, 7, ' ');
    p.emailAddress = user + "@" + nextString(random, 5, ' ') + ".com";
    StringBuilder card = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      if (i > 0) card.append(' ');
      card.append(String.format("%04d", random.nextInt(10000)));
    }
    p.creditCard = card.toString();
    p.city = US_CITIES[random.nextInt(US_CITIES.length)];
    p.state = US_STATES[random.nextInt(US_STATES.length)];
    int size = 8 + p.name.length() + p.emailAddress.length() + p.creditCard.length() + p.city.length() + p.state.length();
    p.extra = nextExtra(random, size, PERSON_BYTES);
    p.dateTime = timestamp;
    return p;
  }

  private Auction auction(long eventId, EventRandom random, long timestamp) {
    Auction a = new Auction();
    a.id = lastBase0AuctionId(eventId) + FIRST_AUCTION_ID;
    long seller;
    if (random.nextInt(HOT_SELLER_RATIO) > 0) seller = (lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH;
    else seller = nextBase0PersonId(eventId, random);
    a.seller = seller + FIRST_PERSON_ID;
    a.category = FIRST_CATEGORY_ID + random.nextInt(NUM_CATEGORIES);
    a.initialBid = nextPrice(random);
    long eventsForAuctions = (IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION) / AUCTION_PROPORTION;
    long horizon = eventTime(eventId + eventsForAuctions) - timestamp;
    a.expires = timestamp + 1 + random.nextLong(Math.max(horizon * 2, 1));
    a.itemName = nextString(random, 20, ' ');
    a.description = nextString(random, 100, ' ');
    a.reserve = a.initialBid + nextPrice(random);
    int size = 8 + a.itemName.length() + a.description.length() + 8 + 8 + 8 + 8 + 8;
    a.extra = nextExtra(random, size, AUCTION_BYTES);
    a.dateTime = timestamp;
    return a;
  }

  private Bid bid(long eventId, EventRandom random, long timestamp) {
    Bid b = new Bid();
    long auction;
    if (random.nextInt(HOT_AUCTION_RATIO) > 0) auction = (lastBase0AuctionId(eventId) / HOT_BATCH) * HOT_BATCH;
    else auction = nextBase0AuctionId(eventId, random);
    b.auction = auction + FIRST_AUCTION_ID;
    long bidder;
    if (random.nextInt(HOT_BIDDER_RATIO) > 0) bidder = (lastBase0PersonId(eventId) / HOT_BATCH) * HOT_BATCH + 1;
    else bidder = nextBase0PersonId(eventId, random);
    b.bidder = bidder + FIRST_PERSON_ID;
    b.price = nextPrice(random);
    if (random.nextInt(2) > 0) {
      int i = random.nextInt(HOT_CHANNELS.length);
      b.channel = HOT_CHANNELS[i];
      b.url = hotUrls[i];
    } else {
      int i = random.nextInt(CHANNELS);
      b.channel = "channel-" + i;
      b.url = channelUrl(i);
    }
    b.extra = nextExtra(random, 32, BID_BYTES);
    b.dateTime = timestamp;
    return b;
  }

  private String channelUrl(int i) {
    String url = channelUrls[i];
    if (url == null) {
      EventRandom random = new EventRandom(seed ^ CHANNEL_URL_SALT, i);
      url = baseUrl(random);
      if (random.nextInt(10) == 0) url += "&channel_id=" + i;
      channelUrls[i] = url;
    }
    return url;
  }
}
