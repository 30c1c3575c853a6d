package sluice.nexmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import sluice.nexmark.Canonical.Row;
import sluice.nexmark.Model.Auction;
import sluice.nexmark.Model.Bid;
import sluice.nexmark.Model.Event;
import sluice.nexmark.Model.Person;

/** The queries of bench/nexmark/queries in the DataStream API, producing the same rows. */
final class Queries {
  private Queries() {}

  static final TypeInformation<Row> ROW = Types.GENERIC(Row.class);

  /** The query's output: rows, or for q0 the events themselves (made rows only for the checksum). */
  static DataStream<?> build(String name, DataStream<Event> events) {
    DataStream<Bid> bids = events.filter(e -> e.bid != null).map(e -> e.bid).returns(Bid.class);
    switch (name) {
      case "q0":
        return events;
      case "q1":
        return bids.map(b -> Canonical.row("auction", b.auction, "bidder", b.bidder, "price", 0.908 * b.price, "dateTime", b.dateTime, "extra", b.extra)).returns(ROW);
      case "q2":
        return bids.filter(b -> b.auction % 123 == 0).map(b -> Canonical.row("auction", b.auction, "price", b.price)).returns(ROW);
      case "q3":
        return q3(events);
      case "q5":
        return q5(bids);
      case "q7":
        return q7(bids);
      case "q8":
        return q8(events);
      case "q11":
        return q11(bids);
      case "q14":
        return bids.filter(b -> 0.908 * b.price > 1_000_000 && 0.908 * b.price < 50_000_000).map(Queries::q14Row).returns(ROW);
      case "q22":
        return bids.map(b -> {
          String[] parts = b.url.split("/", -1);
          return Canonical.row("auction", b.auction, "bidder", b.bidder, "price", b.price, "channel", b.channel,
              "dir1", parts.length > 3 ? parts[3] : null, "dir2", parts.length > 4 ? parts[4] : null, "dir3", parts.length > 5 ? parts[5] : null);
        }).returns(ROW);
      default:
        throw new IllegalArgumentException("unknown query " + name);
    }
  }

  /**
   * Local item suggestion: category-10 auctions joined with their sellers in OR, ID or CA. The
   * reference's regular join of two append-only streams: both sides kept in keyed state (by
   * person id and auction seller), each pair emitted once, whichever side comes first.
   */
  static DataStream<Row> q3(DataStream<Event> events) {
    DataStream<Person> persons = events.filter(e -> e.person != null && (e.person.state.equals("OR") || e.person.state.equals("ID") || e.person.state.equals("CA")))
        .map(e -> e.person).returns(Person.class);
    DataStream<Auction> auctions = events.filter(e -> e.auction != null && e.auction.category == 10).map(e -> e.auction).returns(Auction.class);
    return persons.keyBy(p -> p.id).connect(auctions.keyBy(a -> a.seller)).process(new KeyedCoProcessFunction<Long, Person, Auction, Row>() {
      private transient ValueState<Person> person;
      private transient ListState<Auction> waiting;

      @Override
      public void open(OpenContext context) {
        person = getRuntimeContext().getState(new ValueStateDescriptor<>("person", Person.class));
        waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("auctions", Auction.class));
      }

      @Override
      public void processElement1(Person p, Context ctx, Collector<Row> out) throws Exception {
        person.update(p);
        for (Auction a : waiting.get()) out.collect(q3Row(a, p));
        waiting.clear();
      }

      @Override
      public void processElement2(Auction a, Context ctx, Collector<Row> out) throws Exception {
        Person p = person.value();
        if (p != null) out.collect(q3Row(a, p));
        else waiting.add(a);
      }
    }).returns(ROW);
  }

  static Row q3Row(Auction a, Person p) {
    return Canonical.row("name", p.name, "city", p.city, "state", p.state, "id", a.id);
  }

  /** Counts per auction per hopping window; then, per window end, the auctions with the most. */
  static DataStream<Row> q5(DataStream<Bid> bids) {
    DataStream<Tuple4<Long, Long, Long, Long>> counts = bids
        .keyBy(b -> b.auction)
        .window(SlidingEventTimeWindows.of(Duration.ofSeconds(10), Duration.ofSeconds(2)))
        .aggregate(new Count<>(), new ProcessWindowFunction<Long, Tuple4<Long, Long, Long, Long>, Long, TimeWindow>() {
          @Override
          public void process(Long auction, Context ctx, Iterable<Long> n, Collector<Tuple4<Long, Long, Long, Long>> out) {
            out.collect(Tuple4.of(auction, n.iterator().next(), ctx.window().getStart(), ctx.window().getEnd()));
          }
        });
    return counts
        .keyBy(t -> t.f3)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(2)))
        .aggregate(new Hottest(), new ProcessWindowFunction<Hot, Row, Long, TimeWindow>() {
          @Override
          public void process(Long end, Context ctx, Iterable<Hot> hot, Collector<Row> out) {
            Hot h = hot.iterator().next();
            for (long auction : h.auctions) out.collect(Canonical.row("auction", auction, "num", h.num, "start", h.start, "end", end));
          }
        })
        .returns(ROW);
  }

  /** The leading bids of each 10 s tumbling window (one key, as in the DSL version). */
  static DataStream<Row> q7(DataStream<Bid> bids) {
    return bids
        .keyBy(b -> 0L)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
        .aggregate(new Highest(), new ProcessWindowFunction<List<Bid>, Row, Long, TimeWindow>() {
          @Override
          public void process(Long key, Context ctx, Iterable<List<Bid>> leaders, Collector<Row> out) {
            for (Bid b : leaders.iterator().next()) {
              out.collect(Canonical.row("auction", b.auction, "bidder", b.bidder, "price", b.price, "dateTime", b.dateTime, "extra", b.extra));
            }
          }
        })
        .returns(ROW);
  }

  /**
   * The persons who opened an auction in the 10 s window they registered in: each seller's
   * auction count per window (a result carries the window's end - 1), window-joined with the
   * persons on id, as the DSL version does.
   */
  static DataStream<Row> q8(DataStream<Event> events) {
    DataStream<Person> persons = events.filter(e -> e.person != null).map(e -> e.person).returns(Person.class);
    DataStream<Tuple2<Long, Long>> sellers = events
        .filter(e -> e.auction != null)
        .map(e -> e.auction)
        .returns(Auction.class)
        .keyBy(a -> a.seller)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
        .aggregate(new Count<>(), new ProcessWindowFunction<Long, Tuple2<Long, Long>, Long, TimeWindow>() {
          @Override
          public void process(Long seller, Context ctx, Iterable<Long> n, Collector<Tuple2<Long, Long>> out) {
            out.collect(Tuple2.of(seller, ctx.window().getStart()));
          }
        });
    return persons
        .join(sellers)
        .where(p -> p.id, Types.LONG)
        .equalTo(s -> s.f0, Types.LONG)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
        .apply((Person p, Tuple2<Long, Long> s) -> Canonical.row("id", p.id, "name", p.name, "starttime", s.f1), ROW);
  }

  /**
   * Sessions per bidder. Flink merges session windows that touch (end == start); Sluice merges
   * only overlapping ones. A gap of 10 s - 1 ms in Flink merges exactly the bids Sluice's 10 s
   * gap merges, and its windows end 1 ms earlier, so the row's end adds that 1 ms back.
   */
  static DataStream<Row> q11(DataStream<Bid> bids) {
    return bids
        .keyBy(b -> b.bidder)
        .window(EventTimeSessionWindows.withGap(Duration.ofMillis(9_999)))
        .aggregate(new Count<>(), new ProcessWindowFunction<Long, Row, Long, TimeWindow>() {
          @Override
          public void process(Long bidder, Context ctx, Iterable<Long> n, Collector<Row> out) {
            out.collect(Canonical.row("bidder", bidder, "bid_count", n.iterator().next(), "start", ctx.window().getStart(), "end", ctx.window().getEnd() + 1));
          }
        })
        .returns(ROW);
  }

  static Row q14Row(Bid b) {
    double price = 0.908 * b.price;
    long hour = Math.floorDiv(b.dateTime, 3_600_000L) % 24;
    String type = hour >= 8 && hour <= 18 ? "dayTime" : hour <= 6 || hour >= 20 ? "nightTime" : "otherTime";
    long c = 0;
    for (int i = b.extra.indexOf('c'); i >= 0; i = b.extra.indexOf('c', i + 1)) c++;
    return Canonical.row("auction", b.auction, "bidder", b.bidder, "price", price, "bidTimeType", type, "dateTime", b.dateTime, "extra", b.extra, "c_counts", c);
  }

  static final class Count<T> implements AggregateFunction<T, Long, Long> {
    @Override public Long createAccumulator() { return 0L; }
    @Override public Long add(T value, Long acc) { return acc + 1; }
    @Override public Long getResult(Long acc) { return acc; }
    @Override public Long merge(Long a, Long b) { return a + b; }
  }

  public static final class Hot {
    public long num;
    public long start;
    public List<Long> auctions = new ArrayList<>();
  }

  static final class Hottest implements AggregateFunction<Tuple4<Long, Long, Long, Long>, Hot, Hot> {
    @Override public Hot createAccumulator() { return new Hot(); }

    @Override
    public Hot add(Tuple4<Long, Long, Long, Long> c, Hot acc) {
      if (c.f1 > acc.num) {
        acc.num = c.f1;
        acc.start = c.f2;
        acc.auctions = new ArrayList<>();
        acc.auctions.add(c.f0);
      } else if (c.f1 == acc.num) acc.auctions.add(c.f0);
      return acc;
    }

    @Override public Hot getResult(Hot acc) { return acc; }
    @Override public Hot merge(Hot a, Hot b) { throw new UnsupportedOperationException("tumbling windows never merge"); }
  }

  static final class Highest implements AggregateFunction<Bid, List<Bid>, List<Bid>> {
    @Override public List<Bid> createAccumulator() { return new ArrayList<>(); }

    @Override
    public List<Bid> add(Bid b, List<Bid> acc) {
      if (acc.isEmpty() || b.price > acc.get(0).price) {
        acc.clear();
        acc.add(b);
      } else if (b.price == acc.get(0).price) acc.add(b);
      return acc;
    }

    @Override public List<Bid> getResult(List<Bid> acc) { return acc; }
    @Override public List<Bid> merge(List<Bid> a, List<Bid> b) { throw new UnsupportedOperationException("tumbling windows never merge"); }
  }
}
