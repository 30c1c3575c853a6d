package sluice.nexmark;

/**
 * The per-event PRNG of bench/nexmark/prng.ts, bit for bit: a 32-bit splitmix seeded with
 * murmur3's finalizer from (seed, eventId). Unsigned 32-bit values are held in longs.
 */
final class EventRandom {
  private static final int GOLDEN = 0x9e3779b9;
  private int state;

  EventRandom(int seed, long eventId) {
    int lo = (int) eventId;
    int hi = (int) (eventId >>> 32);
    state = fmix(fmix(seed) ^ lo ^ (hi * GOLDEN));
  }

  static int fmix(int x) {
    x ^= x >>> 16;
    x *= 0x85ebca6b;
    x ^= x >>> 13;
    x *= 0xc2b2ae35;
    x ^= x >>> 16;
    return x;
  }

  long next() {
    state += GOLDEN;
    return fmix(state) & 0xffffffffL;
  }

  /** Uniform in [0, n) for n < 2^21. */
  int nextInt(int n) {
    return (int) ((next() * n) >>> 32);
  }

  double nextDouble() {
    long a = next() >>> 5;
    long b = next() >>> 6;
    return (a * 67108864L + b) / 9007199254740992.0;
  }

  long nextLong(long n) {
    return (long) Math.floor(nextDouble() * n);
  }
}
