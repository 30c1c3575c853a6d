/**
 * The per-event PRNG of the Nexmark generator. Every event gets its own generator seeded from
 * (seed, eventId), so any event can be made alone, in any order, by any engine: the Java port
 * in bench/peers/flink makes the same events bit for bit.
 *
 * Definition (all arithmetic on unsigned 32-bit integers):
 *   fmix(x)      = murmur3's finalizer: x ^= x>>>16; x *= 0x85ebca6b; x ^= x>>>13; x *= 0xc2b2ae35; x ^= x>>>16
 *   state0       = fmix(fmix(seed) ^ lo32(eventId) ^ hi32(eventId) * 0x9e3779b9)   (hi32 = floor(id / 2^32))
 *   next()       = state += 0x9e3779b9; return fmix(state)                          (a 32-bit splitmix)
 *   nextInt(n)   = floor(next() * n / 2^32)                                         (n < 2^21)
 *   nextDouble() = ((next() >>> 5) * 2^26 + (next() >>> 6)) / 2^53
 *   nextLong(n)  = floor(nextDouble() * n)
 */

const GOLDEN = 0x9e3779b9;

export function fmix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export class EventRandom {
  #state: number;

  constructor(seed: number, eventId: number) {
    const lo = eventId >>> 0;
    const hi = Math.floor(eventId / 4294967296) >>> 0;
    this.#state = fmix(fmix(seed >>> 0) ^ lo ^ Math.imul(hi, GOLDEN));
  }

  next(): number {
    this.#state = (this.#state + GOLDEN) | 0;
    return fmix(this.#state);
  }

  /** Uniform in [0, n) for n < 2^21 (the product stays exact in a double). */
  nextInt(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }

  nextDouble(): number {
    const a = this.next() >>> 5;
    const b = this.next() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  nextLong(n: number): number {
    return Math.floor(this.nextDouble() * n);
  }
}
