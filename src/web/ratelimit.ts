// In-memory token buckets, one per (bucket, identity). Enough for one service process.
export interface BucketConfig {
  /** Burst size. */
  capacity: number;
  /** Tokens regained per minute. */
  perMinute: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly config: BucketConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.config.capacity, at: t };
    b.tokens = Math.min(this.config.capacity, b.tokens + ((t - b.at) / 60_000) * this.config.perMinute);
    b.at = t;
    if (this.buckets.size > 10_000) this.buckets.clear();
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    return true;
  }
}
