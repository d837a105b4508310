// Live DNS over the wire with our own stub client (./wire.ts): the system's nameservers (/etc/resolv.conf) by default,
// or chosen servers ("host[:port]"). One place maps DNS outcomes: NXDOMAIN/NODATA are answers; timeout/SERVFAIL/REFUSED/
// other rcodes/transport errors are `unknown`.
// A per-run cache (shared across domains) makes a common include such as _spf.google.com cost one query per run.
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Answer, RecordData, Resolver, RRType } from '../../core/resolver.js';
import { DnsClient, parseServerSpec, rcodeName, systemNameservers, type ServerAddress } from './wire.js';

export interface ResolverOptions {
  /** "host" or "host:port" (IPv6: "[::1]:53"). Empty/undefined: the system's resolvers. */
  servers?: string[];
  timeoutMs?: number;
  /** Attempts per query (a timeout retries on the next server). */
  tries?: number;
  /** Queries in flight at once. */
  concurrency?: number;
  cache?: boolean;
  /** About how many answers are kept (two generations of half each); shared includes stay because hits refresh them. */
  cacheSize?: number;
  /** Port used when asking a zone's authoritative servers directly (53; the demo/test servers use others). */
  authoritativePort?: number;
}

export interface ResolverStats {
  queries: number;
  cacheHits: number;
  unknown: number;
}

export interface WireResolver extends Resolver {
  stats(): ResolverStats;
  /** The distinct questions this run asked the wire, e.g. for the benchmark's floor. */
  asked(): { name: string; type: RRType }[];
  clearCache(): void;
  /** Close the client's sockets; pending queries settle as `unknown` ('resolver closed'). Idempotent. */
  close(): void;
}

/** FIFO limiter: acquire() is null when a slot is free now, else a promise that resolves with the slot handed over. */
class Semaphore {
  private active = 0;
  private waiting: (() => void)[] = [];
  private head = 0;
  constructor(private readonly max: number) {}
  acquire(): Promise<void> | null {
    if (this.active < this.max) {
      this.active++;
      return null;
    }
    return new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++];
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next(); // the slot passes to the next waiter; `active` is unchanged
    } else this.active--;
  }
}

function norm(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export function parseServer(s: string): { host: string; port: number | null } {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m6) return { host: m6[1], port: m6[2] ? Number(m6[2]) : null };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1], port: m[2] ? Number(m[2]) : null };
  return { host: s, port: null };
}

/** Server specs → addresses; host names (not IP literals) are looked up once through the system (getaddrinfo). */
async function toAddresses(specs: string[], defaultPort: number): Promise<ServerAddress[]> {
  const out: ServerAddress[] = [];
  for (const spec of specs) {
    const { host, port } = parseServerSpec(spec, defaultPort);
    const fam = isIP(host.replace(/%.*$/, ''));
    if (fam) {
      out.push({ host, port, family: fam as 4 | 6 });
      continue;
    }
    try {
      for (const a of await lookup(host, { all: true })) out.push({ host: a.address, port, family: a.family === 6 ? 6 : 4 });
    } catch {
      // unresolvable server name: skipped
    }
  }
  return out;
}

function mapResult<T extends RRType>(name: string, type: T, r: Awaited<ReturnType<DnsClient['query']>>): Answer<T> {
  if (r.kind === 'error') return { name, type, status: 'unknown', records: [], error: r.error };
  const cnames = r.chain && r.chain.length ? { cnames: r.chain.map(norm) } : {};
  switch (r.rcode) {
    case 0:
      return { name, type, status: r.records.length ? 'ok' : 'nodata', records: r.records as RecordData[T][], ...cnames };
    case 3:
      return { name, type, status: 'nxdomain', records: [], ...cnames };
    default:
      return { name, type, status: 'unknown', records: [], error: rcodeName(r.rcode) };
  }
}

export function createResolver(opts: ResolverOptions = {}): WireResolver {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const tries = opts.tries ?? 2;
  const client = new DnsClient({ timeoutMs, tries });
  const specs = opts.servers && opts.servers.length ? opts.servers : systemNameservers();
  // IP literals are ready at once; host names are looked up on first use.
  const literal = specs.every((sp) => isIP(parseServerSpec(sp).host.replace(/%.*$/, '')) !== 0);
  let servers: Promise<ServerAddress[]> | null = null;
  let ready: ServerAddress[] | null = null;
  if (literal) {
    ready = specs.map((sp) => {
      const { host, port } = parseServerSpec(sp, 53);
      return { host, port, family: isIP(host.replace(/%.*$/, '')) as 4 | 6 };
    });
  }
  function defaultServers(): ServerAddress[] | Promise<ServerAddress[]> {
    if (ready) return ready;
    servers ??= toAddresses(specs, 53).then((a) => (ready = a));
    return servers;
  }
  const sem = new Semaphore(opts.concurrency ?? 64);
  const useCache = opts.cache ?? true;
  // Two generations instead of a strict LRU (no reordering on every hit): answers live in `cache`; when it is full it
  // becomes `older`, and a hit in `older` moves the answer back. Shared includes, asked all the time, stay.
  let cache = new Map<string, Promise<Answer>>();
  let older = new Map<string, Promise<Answer>>();
  const cacheSize = Math.max(100, opts.cacheSize ?? 20_000);
  const askedKeys = new Set<string>();
  const stats: ResolverStats = { queries: 0, cacheHits: 0, unknown: 0 };

  async function ask<T extends RRType>(to: ServerAddress[] | Promise<ServerAddress[]>, name: string, type: T): Promise<Answer<T>> {
    const wait = sem.acquire();
    if (wait) await wait;
    try {
      stats.queries++;
      const addrs = Array.isArray(to) ? to : await to;
      const a = mapResult(name, type, await client.query(addrs, name, type));
      if (a.status === 'unknown') stats.unknown++;
      return a;
    } finally {
      sem.release();
    }
  }

  const resolver: WireResolver = {
    reportsCnames: true,
    resolve<T extends RRType>(rawName: string, type: T): Promise<Answer<T>> {
      const name = norm(rawName);
      if (!useCache) return ask(defaultServers(), name, type);
      const key = `${type} ${name}`;
      let hit = cache.get(key);
      if (!hit && (hit = older.get(key))) cache.set(key, hit);
      if (hit) {
        stats.cacheHits++;
        return hit as Promise<Answer<T>>;
      }
      const p = ask(defaultServers(), name, type);
      cache.set(key, p as Promise<Answer>);
      askedKeys.add(key);
      // DNS trouble is not an answer: the next ask goes to the wire again (a lost packet must not stick for the run).
      void p.then((a) => {
        if (a.status === 'unknown') {
          if (cache.get(key) === p) cache.delete(key);
          if (older.get(key) === p) older.delete(key);
        }
      });
      if (cache.size >= cacheSize / 2) {
        older = cache;
        cache = new Map();
      }
      return p;
    },
    async resolveAt<T extends RRType>(servers: string[], rawName: string, type: T): Promise<Answer<T>> {
      const port = opts.authoritativePort ?? 53;
      const addrs: ServerAddress[] = [];
      for (const s of servers) {
        const { host } = parseServer(s);
        const fam = isIP(host);
        if (fam) addrs.push({ host, port, family: fam as 4 | 6 });
        else {
          const a = await resolver.resolve(host, 'A');
          for (const ip of a.records) addrs.push({ host: ip, port, family: 4 });
        }
      }
      if (addrs.length === 0) return { name: norm(rawName), type, status: 'unknown', records: [], error: 'no address for the authoritative servers' };
      return ask(addrs, norm(rawName), type);
    },
    stats: () => ({ ...stats }),
    asked: () =>
      [...askedKeys].map((k) => {
        const i = k.indexOf(' ');
        return { type: k.slice(0, i) as RRType, name: k.slice(i + 1) };
      }),
    clearCache: () => {
      cache.clear();
      older.clear();
      askedKeys.clear();
    },
    close: () => client.close(),
  };
  return resolver;
}
