package sluice.nexmark;

/** Nexmark events as Flink POJOs (public fields, no-argument constructors), as in bench/nexmark/model.ts. */
final class Model {
  private Model() {}

  /** One event: exactly one of person, auction, bid is set. */
  public static final class Event {
    public Person person;
    public Auction auction;
    public Bid bid;
    public long dateTime;

    public Event() {}

    Event(Person p) { person = p; dateTime = p.dateTime; }
    Event(Auction a) { auction = a; dateTime = a.dateTime; }
    Event(Bid b) { bid = b; dateTime = b.dateTime; }

    Canonical.Row row() {
      if (person != null) return person.row();
      if (auction != null) return auction.row();
      return bid.row();
    }
  }

  public static final class Person {
    public long id;
    public String name;
    public String emailAddress;
    public String creditCard;
    public String city;
    public String state;
    public long dateTime;
    public String extra;

    public Person() {}

    Canonical.Row row() {
      return Canonical.row("type", "person", "id", id, "name", name, "emailAddress", emailAddress, "creditCard", creditCard,
          "city", city, "state", state, "dateTime", dateTime, "extra", extra);
    }
  }

  public static final class Auction {
    public long id;
    public String itemName;
    public String description;
    public long initialBid;
    public long reserve;
    public long dateTime;
    public long expires;
    public long seller;
    public long category;
    public String extra;

    public Auction() {}

    Canonical.Row row() {
      return Canonical.row("type", "auction", "id", id, "itemName", itemName, "description", description, "initialBid", initialBid,
          "reserve", reserve, "dateTime", dateTime, "expires", expires, "seller", seller, "category", category, "extra", extra);
    }
  }

  public static final class Bid {
    public long auction;
    public long bidder;
    public long price;
    public String channel;
    public String url;
    public long dateTime;
    public String extra;

    public Bid() {}

    Canonical.Row row() {
      return Canonical.row("type", "bid", "auction", auction, "bidder", bidder, "price", price, "channel", channel, "url", url,
          "dateTime", dateTime, "extra", extra);
    }
  }
}
