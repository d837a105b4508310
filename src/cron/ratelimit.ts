// A polite DNS rate for the nightly run: a token bucket (GCRA — each taker reserves its slot, so concurrent
// callers need no queue) around a Resolver. Clock and sleep are injectable: tests never wait for real.
import type { Answer, Resolver, RRType } from '../core/resolver.js';

export interface RateLimiter {
  /** Resolves when one more query may go out. Rejects to stop the run (e.g. shutdown). */
  take(): Promise<void>;
}

export interface TokenBucketOptions {
  /** Queries per second (> 0). */
  ratePerSec: number;
  /** Queries allowed back to back before pacing starts. Default: one second's worth (at least 1). */
  burst?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class TokenBucket implements RateLimiter {
  private readonly interval: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Theoretical arrival time of the next conforming query. */
  private tat = -Infinity;

  constructor(opts: TokenBucketOptions) {
    if (!Number.isFinite(opts.ratePerSec) || opts.ratePerSec <= 0) throw new RangeError(`DNS rate must be a positive number of queries per second, got ${opts.ratePerSec}`);
    this.interval = 1000 / opts.ratePerSec;
    this.burst = Math.max(1, Math.floor(opts.burst ?? opts.ratePerSec));
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? realSleep;
  }

  async take(): Promise<void> {
    const now = this.now();
    const tat = Math.max(this.tat, now);
    const wait = tat - (this.burst - 1) * this.interval - now;
    this.tat = tat + this.interval;
    if (wait > 0) await this.sleep(wait);
  }
}

export interface LimitedResolver extends Resolver {
  /** Queries that went through the limiter (cache hits excluded). */
  readonly limited: number;
  /** The limiter's error, once it has thrown: the run must stop. */
  readonly fatal: unknown;
}

/**
 * Every query takes a token first. Repeated questions within the run are answered from a memo without a token
 * (the wire resolver caches too, but the wrapper cannot see its cache). A limiter that throws makes the run fatal:
 * the error is kept in `fatal` and rethrown to the caller.
 */
export function rateLimitedResolver(inner: Resolver, limiter: RateLimiter): LimitedResolver {
  const memo = new Map<string, Promise<Answer>>();
  let limited = 0;
  let fatal: unknown = undefined;
  async function gate(): Promise<void> {
    if (fatal !== undefined) throw fatal;
    try {
      await limiter.take();
    } catch (e) {
      fatal ??= e ?? new Error('rate limiter stopped');
      throw fatal;
    }
    limited++;
  }
  const r: LimitedResolver = {
    reportsCnames: inner.reportsCnames,
    get limited() {
      return limited;
    },
    get fatal() {
      return fatal;
    },
    resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
      const hit = memo.get(key);
      if (hit) return hit as Promise<Answer<T>>;
      const p = gate().then(() => inner.resolve(name, type));
      memo.set(key, p as Promise<Answer>);
      // A failed gate must not poison the memo for a later run of the same resolver, nor may DNS trouble stick.
      p.then(
        (a) => {
          if (a.status === 'unknown' && memo.get(key) === p) memo.delete(key);
        },
        () => memo.delete(key),
      );
      return p;
    },
  };
  if (inner.resolveAt) {
    const at = inner.resolveAt.bind(inner);
    r.resolveAt = async <T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>> => {
      await gate();
      return at(servers, name, type);
    };
  }
  // One domain's audit (core/audit.ts buildContext): as the wire resolver's view, an unknown answer it got is given to
  // it again rather than asked again (and waited out again) by its later checks; every other question goes through
  // this wrapper, token and memo as above — the inner resolver's own view would go round the limiter.
  r.forAudit = (): Resolver => {
    const held = new Map<string, Promise<Answer>>();
    return {
      reportsCnames: inner.reportsCnames,
      ...(r.resolveAt ? { resolveAt: r.resolveAt } : {}),
      resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
        const kept = held.get(key);
        if (kept) return kept as Promise<Answer<T>>;
        const p = r.resolve(name, type);
        p.then(
          (a) => {
            if (a.status === 'unknown') held.set(key, p as Promise<Answer>);
          },
          () => undefined,
        );
        return p;
      },
    };
  };
  return r;
}
