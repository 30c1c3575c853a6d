package sluice.cep;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;
import org.apache.flink.util.Collector;

/**
 * FlinkCEP peer of the CEP benchmark (bench/cep): the same generated events (the same hash per
 * event number as bench/cep/generated.ts) and the same two patterns, on a local MiniCluster:
 * {@code Main --case foreign|bursts --events N --runs R}. Each match is encoded as the Sluice
 * side's JSON result and hashed the same way (FNV-1a over its UTF-8 bytes, summed mod 2^32), so
 * the match sets can be compared. A run's time goes from the first record the source emits to the
 * job's end. Prints one JSON line.
 */
public final class Main {
  static final int KEYS = 10_000;
  static final long BASE_TS = 1767225600000L; // 2026-01-01T00:00:00Z
  static volatile Ev[] events;
  static final AtomicLong firstEmit = new AtomicLong(Long.MAX_VALUE);

  /** u: user (and card), login or purchase, c: country, n: event number, ts: event time. */
  public static final class Ev {
    public int u;
    public boolean login;
    public int c;
    public int n;
    public long ts;
  }

  static long hash(int n) {
    int x = n + 0x9e3779b9;
    x = (x ^ (x >>> 16)) * 0x85ebca6b;
    x = (x ^ (x >>> 13)) * 0xc2b2ae35;
    return (x ^ (x >>> 16)) & 0xffffffffL;
  }

  static Ev eventAt(int n) {
    Ev e = new Ev();
    e.u = (int) (hash(n) % KEYS);
    e.login = hash(n ^ 0x5bd1e995) % 10 == 0;
    e.c = hash(n ^ 0x27d4eb2f) % 20 == 0 ? (e.u + 1) % 3 : e.u % 3;
    e.n = n;
    e.ts = BASE_TS + (long) n * 10; // 100 events per second of event time
    return e;
  }

  static long fnv(String s) {
    int h = 0x811c9dc5;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 16777619;
    return h & 0xffffffffL;
  }

  public static void main(String[] args) throws Exception {
    String which = "foreign";
    int count = 1_000_000;
    int runs = 2;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--case" -> which = args[i + 1];
        case "--events" -> count = Integer.parseInt(args[i + 1]);
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    events = new Ev[Math.min(count, 100_000)];
    for (int i = 0; i < events.length; i++) events[i] = eventAt(i);
    run(which); // warm-up, as the Sluice side does
    Ev[] all = new Ev[count];
    for (int i = 0; i < count; i++) all[i] = eventAt(i);
    events = all;
    double best = Double.MAX_VALUE;
    long[] result = null;
    for (int r = 0; r < runs; r++) {
      long[] out = run(which);
      double ms = out[2] / 1e6;
      if (ms < best) best = ms;
      result = out;
    }
    System.out.printf("{\"case\":\"%s\",\"events\":%d,\"ms\":%.1f,\"matches\":%d,\"checksum\":%d,\"flink\":\"%s\"}%n",
        which, count, best, result[0], result[1] % 4294967296L, org.apache.flink.runtime.util.EnvironmentInformation.getVersion());
  }

  /** One job: matches, checksum, nanoseconds from the first emitted record to the end. */
  static long[] run(String which) throws Exception {
    firstEmit.set(Long.MAX_VALUE);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
    env.getConfig().enableObjectReuse();
    DataStream<Ev> source = env.addSource(new Source()).returns(Ev.class)
        .assignTimestampsAndWatermarks(WatermarkStrategy.<Ev>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.ts));
    if (which.equals("foreign")) {
      Pattern<Ev, Ev> p = Pattern.<Ev>begin("login").where(SimpleCondition.of((Ev e) -> e.login))
          .followedBy("buy").where(new IterativeCondition<Ev>() {
            @Override
            public boolean filter(Ev e, Context<Ev> ctx) throws Exception {
              if (e.login) return false;
              for (Ev login : ctx.getEventsForPattern("login")) return e.c != login.c;
              return false;
            }
          })
          .within(Duration.ofMinutes(5));
      CEP.pattern(source.keyBy((Ev e) -> e.u), p).process(new Count() {
        @Override
        String encode(Map<String, List<Ev>> m) {
          Ev login = m.get("login").get(0);
          Ev buy = m.get("buy").get(0);
          return "{\"user\":" + login.u + ",\"from\":" + login.c + ",\"to\":" + buy.c + "}";
        }
      }).returns(Long.class).addSink(new Tally());
    } else {
      Pattern<Ev, Ev> p = Pattern.<Ev>begin("tx", AfterMatchSkipStrategy.skipPastLastEvent()).times(4).within(Duration.ofMinutes(1));
      CEP.pattern(source.filter((Ev e) -> !e.login).keyBy((Ev e) -> e.u), p).process(new Count() {
        @Override
        String encode(Map<String, List<Ev>> m) {
          List<Ev> tx = m.get("tx");
          return "{\"card\":" + tx.get(0).u + ",\"first\":" + tx.get(0).n + ",\"last\":" + tx.get(3).n + "}";
        }
      }).returns(Long.class).addSink(new Tally());
    }
    matchCount.set(0);
    checksumSum.set(0);
    env.execute("cep-" + which);
    long end = System.nanoTime();
    return new long[] {matchCount.get(), checksumSum.get(), end - firstEmit.get()};
  }

  /** Encodes each match as the Sluice side's result and emits its hash (CEP functions get no accumulators). */
  abstract static class Count extends PatternProcessFunction<Ev, Long> {
    abstract String encode(Map<String, List<Ev>> match);

    @Override
    public void processMatch(Map<String, List<Ev>> match, Context ctx, Collector<Long> out) {
      out.collect(fnv(encode(match)));
    }
  }

  static final AtomicLong matchCount = new AtomicLong();
  static final AtomicLong checksumSum = new AtomicLong();

  /** Counts the matches and sums their hashes (one JVM, so static counters suffice). */
  static final class Tally implements SinkFunction<Long> {
    @Override
    public void invoke(Long hash, Context context) {
      matchCount.incrementAndGet();
      checksumSum.addAndGet(hash);
    }
  }

  static final class Source extends RichParallelSourceFunction<Ev> {
    volatile boolean running = true;

    @Override
    public void run(SourceContext<Ev> ctx) {
      Ev[] all = events;
      firstEmit.compareAndSet(Long.MAX_VALUE, System.nanoTime());
      for (int i = 0; i < all.length && running; i++) ctx.collect(all[i]);
    }

    @Override
    public void cancel() {
      running = false;
    }
  }
}
