// In-memory token buckets, one per (bucket, identity). Enough for one service process. Time is measured on a monotonic
// clock by default (performance.now: never steps when the wall clock is corrected); an injected clock (the app's, in
// tests) may step back, and a step back then counts as no time passing — never as a bucket draining.
export interface BucketConfig {
  /** Burst size. */
  capacity: number;
  /** Tokens regained per minute. */
  perMinute: number;
}

/** Buckets held before pruning; pruning goes down to PRUNE_TO, so its cost is spread over many new keys. */
export const MAX_KEYS = 10_000;
const PRUNE_TO = Math.floor(MAX_KEYS * 0.9);
/**
 * Past this many, even limiting buckets go (those nearest to refilled first): memory stays bounded. Reaching it needs
 * this many keys emptied at once — for logins, ten scrypt-checked attempts per key within one refill period.
 */
const HARD_MAX = MAX_KEYS * 10;

/** Milliseconds on a clock that never steps (performance.now, from the process's start): the default clock. */
export function monotonicMs(): number {
  return performance.now();
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** The size that triggers the next prune (raised when limiting buckets fill the map, so a prune is not run per key). */
  private pruneAt = MAX_KEYS;
  constructor(
    private readonly config: BucketConfig,
    private readonly now: () => number = monotonicMs,
  ) {}

  /** Take one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.config.capacity, at: t };
    b.tokens = this.refilled(b, t);
    b.at = t;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > this.pruneAt) this.prune(t);
    return ok;
  }

  /** Gives back a token taken for `key` (an attempt that turned out not to count), up to the capacity. */
  give(key: string): void {
    const b = this.buckets.get(key);
    if (!b) return;
    const t = this.now();
    b.tokens = Math.min(this.config.capacity, this.refilled(b, t) + 1);
    b.at = t;
  }

  /**
   * Milliseconds until `take(key)` would succeed: 0 when it would now, Infinity when it never will (a bucket that does
   * not refill). Takes nothing: what a refusal tells the user ("try again in 40 seconds", Retry-After).
   */
  retryAfterMs(key: string): number {
    const b = this.buckets.get(key);
    const t = this.now();
    // A clock that went back since the bucket was last touched: the wait is counted from now (as take() will count it),
    // not from the bucket's time still ahead of the clock.
    if (b && t < b.at) b.at = t;
    const tokens = b ? this.refilled(b, t) : this.config.capacity;
    if (tokens >= 1) return 0;
    if (!b || this.config.perMinute <= 0 || this.config.capacity < 1) return Infinity;
    // (Less a nanosecond: 20 000.000000000004 ms of floating-point refill is 20 000, not 20 001.) Then the answer is
    // checked with the very sum take() will compute: with a fractional rate the rounding can fall a millisecond short,
    // and a client that waits exactly Retry-After must not be refused again.
    let ms = Math.max(1, Math.ceil(((1 - tokens) * 60_000) / this.config.perMinute - 1e-6));
    while (this.refilled(b, t + ms) < 1) ms++;
    return ms;
  }

  /**
   * retryAfterMs in whole seconds, as a refusal says it and sends it in Retry-After: rounded up (a wait under a second
   * is 1, never "now"); 0 when `take(key)` would succeed now; undefined when it never will (a bucket that does not
   * refill: configured so in tests only).
   */
  retryAfterSeconds(key: string): number | undefined {
    const ms = this.retryAfterMs(key);
    if (ms === 0) return 0;
    return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : undefined;
  }

  /** Buckets held (tests). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * The bucket's tokens at time `t`. A `t` before the bucket's time (the clock was stepped back: NTP correcting a fast
   * clock) counts as no time passing: unclamped, the negative interval drained the bucket by the size of the step, and
   * one login before a one-hour step back locked its user out for that hour (QA).
   */
  private refilled(b: { tokens: number; at: number }, t: number): number {
    return Math.min(this.config.capacity, b.tokens + (Math.max(0, t - b.at) / 60_000) * this.config.perMinute);
  }

  /**
   * Forget buckets, fullest first (a full one is the same as a new one). A bucket that is limiting (under one token)
   * stays: dropping it would refill it, so flooding the map with made-up keys (user names at /login) would lift a
   * lockout. Only past HARD_MAX do limiting buckets go too.
   */
  private prune(t: number): void {
    const byFill = [...this.buckets].map(([k, b]) => ({ k, tokens: this.refilled(b, t) })).sort((a, b) => b.tokens - a.tokens);
    let excess = this.buckets.size - PRUNE_TO;
    for (const { k, tokens } of byFill) {
      if (excess <= 0 || (tokens < 1 && this.buckets.size <= HARD_MAX)) break;
      this.buckets.delete(k);
      excess--;
    }
    this.pruneAt = Math.max(MAX_KEYS, this.buckets.size + (MAX_KEYS - PRUNE_TO));
  }
}
