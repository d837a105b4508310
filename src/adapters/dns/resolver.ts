// Live DNS over the wire (Node's c-ares resolver): system resolver by default, or chosen servers ("host[:port]").
// One place maps DNS errors: NXDOMAIN/NODATA are answers; timeout/SERVFAIL/REFUSED/connection errors are `unknown`.
// A per-run cache (shared across domains) makes a common include such as _spf.google.com cost one query per run.
import { Resolver as NodeResolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Answer, RecordData, Resolver, RRType } from '../../core/resolver.js';

export interface ResolverOptions {
  /** "host" or "host:port" (IPv6: "[::1]:53"). Empty/undefined: the system's resolvers. */
  servers?: string[];
  timeoutMs?: number;
  /** Attempts per query (c-ares retries on timeout). */
  tries?: number;
  /** Queries in flight at once. */
  concurrency?: number;
  cache?: boolean;
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
  clearCache(): void;
}

function mapError(err: unknown): { status: 'nxdomain' | 'nodata' | 'unknown'; error?: string } {
  const code = (err as { code?: string }).code ?? '';
  switch (code) {
    case 'ENOTFOUND':
      return { status: 'nxdomain' };
    case 'ENODATA':
      return { status: 'nodata' };
    case 'ETIMEOUT':
      return { status: 'unknown', error: 'timeout' };
    case 'ESERVFAIL':
      return { status: 'unknown', error: 'servfail' };
    case 'EREFUSED':
      return { status: 'unknown', error: 'refused' };
    case 'ECONNREFUSED':
      return { status: 'unknown', error: 'connection refused' };
    default:
      return { status: 'unknown', error: code || (err instanceof Error ? err.message : String(err)) };
  }
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function norm(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

async function rawQuery<T extends RRType>(r: NodeResolver, name: string, type: T): Promise<RecordData[T][]> {
  switch (type) {
    case 'A':
      return (await r.resolve4(name)) as RecordData[T][];
    case 'AAAA':
      return (await r.resolve6(name)) as RecordData[T][];
    case 'TXT':
      return (await r.resolveTxt(name)) as RecordData[T][];
    case 'MX':
      return (await r.resolveMx(name)).map((m) => ({ priority: m.priority, exchange: norm(m.exchange) })) as RecordData[T][];
    case 'NS':
      return (await r.resolveNs(name)).map(norm) as RecordData[T][];
    case 'CNAME':
      return (await r.resolveCname(name)).map(norm) as RecordData[T][];
    case 'PTR':
      return (await r.resolvePtr(name)).map(norm) as RecordData[T][];
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

export function parseServer(s: string): { host: string; port: number | null } {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m6) return { host: m6[1], port: m6[2] ? Number(m6[2]) : null };
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1], port: m[2] ? Number(m[2]) : null };
  return { host: s, port: null };
}

function makeNodeResolver(servers: string[] | undefined, timeoutMs: number, tries: number): NodeResolver {
  const r = new NodeResolver({ timeout: timeoutMs, tries });
  if (servers && servers.length) r.setServers(servers);
  return r;
}

export function createResolver(opts: ResolverOptions = {}): WireResolver {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const tries = opts.tries ?? 2;
  const node = makeNodeResolver(opts.servers, timeoutMs, tries);
  const sem = new Semaphore(opts.concurrency ?? 64);
  const useCache = opts.cache ?? true;
  const cache = new Map<string, Promise<Answer>>();
  const stats: ResolverStats = { queries: 0, cacheHits: 0, unknown: 0 };

  async function ask<T extends RRType>(r: NodeResolver, name: string, type: T): Promise<Answer<T>> {
    return sem.run(async () => {
      stats.queries++;
      try {
        const records = await rawQuery(r, name, type);
        return { name, type, status: records.length ? 'ok' : 'nodata', records };
      } catch (err) {
        const m = mapError(err);
        if (m.status === 'unknown') stats.unknown++;
        return { name, type, status: m.status, records: [], ...(m.error ? { error: m.error } : {}) };
      }
    });
  }

  const resolver: WireResolver = {
    resolve<T extends RRType>(rawName: string, type: T): Promise<Answer<T>> {
      const name = norm(rawName);
      if (!useCache) return ask(node, name, type);
      const key = `${type} ${name}`;
      const hit = cache.get(key);
      if (hit) {
        stats.cacheHits++;
        return hit as Promise<Answer<T>>;
      }
      const p = ask(node, name, type);
      cache.set(key, p as Promise<Answer>);
      return p;
    },
    async resolveAt<T extends RRType>(servers: string[], rawName: string, type: T): Promise<Answer<T>> {
      const port = opts.authoritativePort ?? 53;
      const addrs: string[] = [];
      for (const s of servers) {
        const { host } = parseServer(s);
        if (isIP(host)) addrs.push(isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);
        else {
          const a = await resolver.resolve(host, 'A');
          for (const ip of a.records) addrs.push(`${ip}:${port}`);
        }
      }
      if (addrs.length === 0) return { name: norm(rawName), type, status: 'unknown', records: [], error: 'no address for the authoritative servers' };
      return ask(makeNodeResolver(addrs, timeoutMs, tries), norm(rawName), type);
    },
    stats: () => ({ ...stats }),
    clearCache: () => cache.clear(),
  };
  return resolver;
}
