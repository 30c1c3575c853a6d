package sluice.nexmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;
import sluice.nexmark.Model.Event;

/**
 * Runs one Nexmark query on a local Flink MiniCluster in this JVM:
 * {@code Main --query q5 --events N --seed S --parallelism P --runs R}. The events are made
 * before the job starts (as the Sluice side's are) and the source hands them out from memory,
 * subtask k taking events k, k + P, ...; the sink keeps the rows and the checksum is computed
 * after the job. A run's time goes from the first record a source emits to the job's end, so
 * cluster start and job deployment are not counted. Prints one JSON line.
 */
public final class Main {
  static volatile Event[] events;
  static final AtomicLong firstEmit = new AtomicLong(Long.MAX_VALUE);
  static final List<Object> rows = Collections.synchronizedList(new ArrayList<>());

  public static void main(String[] args) throws Exception {
    String query = "q0";
    int count = 1_000_000;
    int seed = 42;
    int parallelism = 1;
    int runs = 3;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--query" -> query = args[i + 1];
        case "--events" -> count = Integer.parseInt(args[i + 1]);
        case "--seed" -> seed = Integer.parseInt(args[i + 1]);
        case "--parallelism" -> parallelism = Integer.parseInt(args[i + 1]);
        case "--runs" -> runs = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Generator generator = new Generator(seed, 100_000);
    Event[] all = new Event[count];
    for (int i = 0; i < count; i++) all[i] = generator.event(i);

    // Warm-up on a slice, as the Sluice side does.
    events = Arrays.copyOf(all, Math.min(count, 50_000));
    run(query, parallelism);
    events = all;
    double[] ms = new double[runs];
    String[] sum = null;
    for (int r = 0; r < runs; r++) {
      ms[r] = run(query, parallelism);
      if (sum == null) sum = Canonical.checksum(rows);
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    double median = runs % 2 == 1 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
    StringBuilder times = new StringBuilder();
    for (double t : ms) times.append(times.length() == 0 ? "" : ",").append(String.format("%.1f", t));
    System.out.printf("{\"query\":\"%s\",\"parallelism\":%d,\"events\":%d,\"ms\":[%s],\"eps\":%d,\"rows\":%s,\"hash\":\"%s\",\"flink\":\"%s\"}%n",
        query, parallelism, count, times, Math.round(count / median * 1000), sum[0], sum[1], org.apache.flink.runtime.util.EnvironmentInformation.getVersion());
  }

  /** One job; returns ms from the first emitted record to the end of the job. */
  static double run(String query, int parallelism) throws Exception {
    rows.clear();
    firstEmit.set(Long.MAX_VALUE);
    Configuration conf = new Configuration();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    env.getConfig().enableObjectReuse();
    env.getConfig().setAutoWatermarkInterval(200);
    WatermarkStrategy<Event> watermarks = WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ZERO).withTimestampAssigner((e, ts) -> e.dateTime);
    var source = env.addSource(new Source()).returns(Event.class).assignTimestampsAndWatermarks(watermarks);
    Queries.build(query, source).addSink(new Keep<>());
    env.execute("nexmark-" + query);
    long end = System.nanoTime();
    return (end - firstEmit.get()) / 1e6;
  }

  static final class Source extends RichParallelSourceFunction<Event> {
    private volatile boolean running = true;

    @Override
    public void run(SourceContext<Event> ctx) {
      int k = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
      int p = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
      firstEmit.accumulateAndGet(System.nanoTime(), Math::min);
      Event[] all = events;
      // The checkpoint lock is held per 1024 records, not per record, to keep its cost small.
      for (int i = k; i < all.length && running; ) {
        synchronized (ctx.getCheckpointLock()) {
          for (int n = 0; n < 1024 && i < all.length; n++, i += p) ctx.collect(all[i]);
        }
      }
    }

    @Override
    public void cancel() {
      running = false;
    }
  }

  /** Keeps what arrives, as Sluice's object-handle sink does; the checksum is computed after the job. */
  static final class Keep<T> implements SinkFunction<T> {
    @Override
    public void invoke(T row, Context context) {
      rows.add(row);
    }
  }
}
