// Live DNS over the wire with our own stub client (./wire.ts): the system's nameservers (/etc/resolv.conf) by default,
// or chosen servers ("host[:port]"). One place maps DNS outcomes: NXDOMAIN/NODATA are answers; timeout/SERVFAIL/REFUSED/
// other rcodes/transport errors are `unknown`; so is, from resolveAt (a zone's own servers), an answer that has no
// records and is not authoritative (AA=0: a lame server's referral or a cache, which say nothing of the zone), and,
// from resolve, an empty answer or an NXDOMAIN (AA=0) of a server that does not recurse and gives no SOA (a referral, a
// lame server: see mapResult), and an answer section that does not answer the question or an NXDOMAIN with records
// (wire.ts: an error). A name longer than DNS allows cannot exist: NXDOMAIN, without asking.
// A per-run cache (shared across domains) makes a common include such as _spf.google.com cost one query per run.
// DNS trouble leaves that cache at once (the next ask goes to the wire again), but one domain's audit, through its own
// view (forAudit), is given an unknown answer to a question it put on the wire again instead of waiting out the same
// timeouts once per check that asks it.
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { NO_SERVER_ADDRESS, type Answer, type RecordData, type Resolver, type RRType } from '../../core/resolver.js';
import { DnsClient, NAME_TOO_LONG, parseServerSpec, rcodeName, systemNameservers, type QueryResult, type QueryWaiter, type ServerAddress } from './wire.js';
import { emptyList } from '../../core/arrays.js';
import { canonName } from '../../core/domain.js';

export interface ResolverOptions {
  /** Keep the list of questions put on the wire for asked() (the benchmark's floor). Off by default: it grows with the run. */
  recordAsked?: boolean;
  /** "host" or "host:port" (IPv6: "[::1]:53"). Empty/undefined: the system's resolvers. */
  servers?: string[];
  timeoutMs?: number;
  /** Attempts per query (a timeout retries on the next server). */
  tries?: number;
  /** Queries in flight at once. */
  concurrency?: number;
  cache?: boolean;
  /**
   * About how many answers are kept (two generations of half each; default DEFAULT_CACHE_SIZE); shared includes stay
   * because hits refresh them.
   */
  cacheSize?: number;
  /** Port used when asking a zone's authoritative servers directly (53; the demo/test servers use others). */
  authoritativePort?: number;
}

/**
 * Answers a run cache keeps by default. A domain's own answers are needed only while it is audited (64 domains in
 * flight ask ~10 each: inside one generation of 1,000), and a shared include stays as long as some domain asks for it
 * every ~100 domains. Measured on the 10,000-domain benchmark against 20,000 (then 5,000): the same queries (10.28 per
 * domain) and cache hit rate (0.597), the same time, and peak RSS 225–234 MB instead of 231–264 (8 alternating runs
 * each); 2,000 against 5,000 (2026-11-28, six runs each, alternating): 10.28 queries a domain, the same time, peak RSS
 * 233.5–250.0 MB against 236.6–260.4 (three of six over 256). 1,000 began to ask again (10.30).
 */
export const DEFAULT_CACHE_SIZE = 2_000;

export interface ResolverStats {
  queries: number;
  cacheHits: number;
  unknown: number;
}

export interface WireResolver extends Resolver {
  /**
   * This resolver as one domain's audit sees it (src/core/audit.ts buildContext): the same run cache, but an `unknown`
   * answer to a question the view put on the wire is kept by the view and given again to it, for as long as the view
   * lives (the audit), instead of being asked again. The resolver itself and other views ask again. A small object per
   * audit; nothing is kept for a good answer. Called on an object made from this resolver that replaces resolve or
   * resolveAt (a wrapper that copied its methods), it returns that object: no view goes round the wrapper's answers.
   */
  forAudit(): Resolver;
  stats(): ResolverStats;
  /** The distinct questions this run asked the wire, e.g. for the benchmark's floor (only with `recordAsked`; else []). */
  asked(): { name: string; type: RRType }[];
  clearCache(): void;
  /** Close the client's sockets; pending queries settle as `unknown` ('resolver closed'). Idempotent. */
  close(): void;
}

/** A name as asked: ASCII lower-cased only (Unicode folding would ask another name), no final dot. */
const norm = canonName;

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

/**
 * `authoritative`: the question went to a zone's own servers (resolveAt), so an absence (NODATA, NXDOMAIN) counts only
 * when the server says it is authoritative (AA). Without AA it is a lame server's referral (NOERROR, no answer, NS in
 * the authority section) or a cache's view: unknown — verify() must never read a removal as done from it. Recursive
 * answers (resolve) come with AA=0 as a rule and are not checked for it; but a question to the resolver wants the
 * answer found by recursion, so an empty NOERROR from a server that does not recurse (RA=0) and gives no SOA (no
 * negative answer) is unknown: a referral to the domain's nameservers (the resolver setting names an authoritative-only
 * server, such as this box's own) or an alias whose target it did not look up say nothing of the records — where
 * NODATA would fail every check of a domain that is merely delegated elsewhere. A real NODATA has an SOA, or AA=1
 * (for the name itself, not an alias's target), or RA=1. The same holds for NXDOMAIN with AA=0 (the client marks it
 * alike): a lame or non-authoritative server's NXDOMAIN is no proof the name is gone, and a fix must not drop an SPF
 * include on it (unknown never changes a zone); a resolver's NXDOMAIN (RA=1, even with no SOA, as systemd-resolved
 * sends it) or the zone's own (AA=1, or an SOA) stays NXDOMAIN.
 */
function mapResult<T extends RRType>(name: string, type: T, r: QueryResult, authoritative: boolean): Answer<T> {
  if (r.kind === 'error') {
    // No name longer than 255 octets exists (a 250-character domain's _dmarc name): answered as such, not "could not
    // check" forever.
    if (r.error === NAME_TOO_LONG) return { name, type, status: 'nxdomain', records: emptyList() };
    return { name, type, status: 'unknown', records: emptyList(), error: r.error };
  }
  if (authoritative && !r.aa && r.records.length === 0 && (r.rcode === 0 || r.rcode === 3)) {
    return { name, type, status: 'unknown', records: emptyList(), error: r.rcode === 0 ? 'not authoritative (referral)' : 'not authoritative' };
  }
  if (!authoritative && r.noRecursion && (!r.aa || r.chain?.length)) {
    const what = r.chain?.length ? 'alias not followed' : r.noRecursion === 'referral' ? 'referral' : r.rcode === 3 ? 'NXDOMAIN from a server not authoritative for the name' : 'no answer';
    return { name, type, status: 'unknown', records: emptyList(), error: `${what} (the DNS resolver is not recursive: set a recursive resolver)` };
  }
  let a: Answer<T>;
  switch (r.rcode) {
    case 0:
      a = { name, type, status: r.records.length ? 'ok' : 'nodata', records: r.records as RecordData[T][] };
      break;
    case 3:
      a = { name, type, status: 'nxdomain', records: emptyList() };
      break;
    default:
      return { name, type, status: 'unknown', records: emptyList(), error: rcodeName(r.rcode) };
  }
  if (r.chain && r.chain.length) a.cnames = r.chain.map(norm);
  return a;
}

/**
 * One question on its way to the wire: waits for a slot (at most `concurrency` in flight, first come first served),
 * asks the client, maps the result to an Answer and settles its promise. A plain object with the client's callback
 * as a method: no async function, semaphore promise or closure per query.
 */
class AskJob<T extends RRType = RRType> implements QueryWaiter {
  /** Set by the run cache: on an unknown answer the entry leaves the cache (see resolve()). */
  cached = false;
  /** The audit's view that put the question on the wire: it keeps an unknown answer (AuditView). */
  owner: AuditView | null = null;
  /** Asked of a zone's own servers (resolveAt): see mapResult. */
  authoritative = false;
  promise: Promise<Answer<T>> | null = null;
  constructor(
    readonly run: RunState,
    readonly to: ServerAddress[] | Promise<ServerAddress[]>,
    readonly name: string,
    readonly type: T,
    readonly resolve: (a: Answer<T>) => void,
  ) {}
  start(): void {
    this.run.stats.queries++;
    const to = this.to;
    if (Array.isArray(to)) this.run.client.ask(to, this.name, this.type, this);
    else void to.then((addrs) => this.run.client.ask(addrs, this.name, this.type, this));
  }
  settle(r: QueryResult): void {
    const run = this.run;
    run.release();
    const a = mapResult(this.name, this.type, r, this.authoritative);
    if (a.status === 'unknown') {
      run.stats.unknown++;
      // DNS trouble is not an answer: the next ask goes to the wire again (a lost packet must not stick for the run) —
      // except the asking audit's own (AuditView).
      if (this.cached && this.promise) run.evict(this.type, this.name, this.promise as Promise<Answer>);
      if (this.owner && this.promise) this.owner.hold(this.type, this.name, this.promise as Promise<Answer>);
    }
    this.resolve(a);
  }
}

interface RunState {
  client: DnsClient;
  stats: ResolverStats;
  release(): void;
  evict(type: RRType, name: string, p: Promise<Answer>): void;
}

/** The resolver's resolve(), for an audit's view or (null) the resolver itself. */
type ResolveFor = <T extends RRType>(view: AuditView | null, rawName: string, type: T) => Promise<Answer<T>>;

/**
 * One domain's audit's view of the resolver (WireResolver.forAudit). An audit asks the same question from several
 * checks and stages (the SPF tree walk, the evaluation, the classification of each term); a previous host's name whose
 * DNS is dead timed out each time, one after the other (timeoutMs × tries each: 4 s by default). The view keeps the
 * unknown answers to the questions it put on the wire and gives them again, so the audit waits once per question.
 * Only its own: an answer it joined while another domain's question was in flight is asked again, as across domains.
 * `held` is made at the first unknown answer: an audit that gets none costs this object only.
 */
class AuditView implements Resolver {
  readonly reportsCnames = true;
  held: Generation | null = null;
  constructor(
    private readonly resolveFor: ResolveFor,
    /** Verification after a write asks a zone's own servers and keeps nothing: the resolver's own, as it is. */
    readonly resolveAt: Resolver['resolveAt'],
  ) {}
  resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    return this.resolveFor(this, name, type);
  }
  hold(type: RRType, name: string, p: Promise<Answer>): void {
    (this.held ??= new Generation()).set(type, name, p);
  }
}

/** One generation of the run cache: answers by type, then by name (no "type name" key string made per ask). */
class Generation {
  private readonly byType = new Map<string, Map<string, Promise<Answer>>>();
  /** Answers held, over all types. */
  size = 0;
  get(type: string, name: string): Promise<Answer> | undefined {
    return this.byType.get(type)?.get(name);
  }
  set(type: string, name: string, p: Promise<Answer>): void {
    let m = this.byType.get(type);
    if (!m) this.byType.set(type, (m = new Map()));
    const before = m.size;
    m.set(name, p);
    this.size += m.size - before;
  }
  delete(type: string, name: string): void {
    if (this.byType.get(type)?.delete(name)) this.size--;
  }
  clear(): void {
    this.byType.clear();
    this.size = 0;
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
  const maxInFlight = Math.max(1, opts.concurrency ?? 64);
  let inFlight = 0;
  // Questions waiting for a slot, first come first served.
  let waiting: AskJob[] = [];
  let waitHead = 0;
  const useCache = opts.cache ?? true;
  // Two generations instead of a strict LRU (no reordering on every hit): answers live in `cache`; when it is full it
  // becomes `older`, and a hit in `older` moves the answer back. Shared includes, asked all the time, stay.
  let cache = new Generation();
  let older = new Generation();
  const cacheSize = Math.max(100, opts.cacheSize ?? DEFAULT_CACHE_SIZE);
  // The questions put on the wire, in order (an answer asked again after it left the cache appears twice here;
  // asked() gives each question once, and the list is folded when it has grown well past its distinct questions).
  const FOLD_AT = 1 << 18;
  const recordAsked = opts.recordAsked ?? false;
  let askedTypes: RRType[] = [];
  let askedNames: string[] = [];
  let askedFoldAt = FOLD_AT;
  function foldAsked(): void {
    const seen = new Map<string, Set<string>>();
    const types: RRType[] = [];
    const names: string[] = [];
    for (let i = 0; i < askedTypes.length; i++) {
      let set = seen.get(askedTypes[i]);
      if (!set) seen.set(askedTypes[i], (set = new Set()));
      if (set.has(askedNames[i])) continue;
      set.add(askedNames[i]);
      types.push(askedTypes[i]);
      names.push(askedNames[i]);
    }
    askedTypes = types;
    askedNames = names;
    askedFoldAt = Math.max(FOLD_AT, names.length * 2);
  }
  const stats: ResolverStats = { queries: 0, cacheHits: 0, unknown: 0 };
  // A question that settles at once (bad name, closed) releases its slot inside start(): slots released meanwhile are
  // owed and handed on by the loop below, not by a recursion as deep as the queue.
  let releasing = false;
  let owed = 0;
  const run: RunState = {
    client,
    stats,
    release() {
      owed++;
      if (releasing) return;
      releasing = true;
      while (owed > 0) {
        owed--;
        if (waitHead < waiting.length) {
          const next = waiting[waitHead++];
          if (waitHead === waiting.length) {
            waiting = [];
            waitHead = 0;
          } else if (waitHead > 1024 && waitHead * 2 > waiting.length) {
            waiting = waiting.slice(waitHead);
            waitHead = 0;
          }
          next.start(); // the slot passes to the next question; inFlight is unchanged
        } else inFlight--;
      }
      releasing = false;
    },
    evict(type, name, p) {
      if (cache.get(type, name) === p) cache.delete(type, name);
      if (older.get(type, name) === p) older.delete(type, name);
    },
  };

  /** A question for the wire: its job and promise (not started yet: see go()). */
  function job<T extends RRType>(to: ServerAddress[] | Promise<ServerAddress[]>, name: string, type: T): AskJob<T> {
    let j!: AskJob<T>;
    const p = new Promise<Answer<T>>((resolve) => (j = new AskJob(run, to, name, type, resolve)));
    j.promise = p;
    return j;
  }

  function go(j: AskJob<RRType>): void {
    if (inFlight < maxInFlight) {
      inFlight++;
      j.start();
    } else waiting.push(j);
  }

  /**
   * `authoritative`: the servers asked are the zone's own (resolveAt): an answer without the AA bit is not one.
   * `owner`: the audit's view asking, which keeps an unknown answer.
   */
  function ask<T extends RRType>(to: ServerAddress[] | Promise<ServerAddress[]>, name: string, type: T, authoritative = false, owner: AuditView | null = null): Promise<Answer<T>> {
    const j = job(to, name, type);
    if (authoritative) j.authoritative = true;
    j.owner = owner;
    go(j as unknown as AskJob<RRType>);
    return j.promise!;
  }

  /** resolve(), for an audit's view or (view null) the resolver itself. */
  function resolveFor<T extends RRType>(view: AuditView | null, rawName: string, type: T): Promise<Answer<T>> {
    const name = norm(rawName);
    // An unknown answer this audit got already (AuditView): given again, before the run cache is looked at — the audit
    // sees one answer per question, and does not wait on another domain asking it again meanwhile.
    if (view !== null && view.held !== null) {
      const kept = view.held.get(type, name);
      if (kept) {
        stats.cacheHits++;
        return kept as Promise<Answer<T>>;
      }
    }
    if (!useCache) return ask(defaultServers(), name, type, false, view);
    let hit = cache.get(type, name);
    if (!hit && (hit = older.get(type, name))) cache.set(type, name, hit);
    if (hit) {
      stats.cacheHits++;
      return hit as Promise<Answer<T>>;
    }
    const j = job(defaultServers(), name, type);
    const p = j.promise!;
    j.cached = true; // an unknown answer leaves the cache again (AskJob.settle) …
    j.owner = view; // … and stays with the audit that asked, if one did
    cache.set(type, name, p as Promise<Answer>);
    if (recordAsked) {
      askedTypes.push(type);
      askedNames.push(name);
      if (askedNames.length >= askedFoldAt) foldAsked();
    }
    if (cache.size >= cacheSize / 2) {
      older = cache;
      cache = new Generation();
    }
    // Started only now that the answer's place is in the cache: a question that settles at once (bad name, closed
    // resolver) still finds it there to leave.
    go(j as unknown as AskJob<RRType>);
    return p;
  }

  const resolver: WireResolver = {
    reportsCnames: true,
    resolve<T extends RRType>(rawName: string, type: T): Promise<Answer<T>> {
      return resolveFor(null, rawName, type);
    },
    forAudit(this: Resolver | undefined): Resolver {
      // A view is of this resolver as it is. An object made from it that answers otherwise (a wrapper that copied its
      // methods and replaced resolve or resolveAt) is its own resolver: asked as it is, without a view, which would go
      // round its answers to the wire.
      if (this && this !== resolver && (this.resolve !== resolver.resolve || this.resolveAt !== resolver.resolveAt)) return this;
      return new AuditView(resolveFor, resolver.resolveAt);
    },
    async resolveAt<T extends RRType>(servers: string[], rawName: string, type: T): Promise<Answer<T>> {
      const port = opts.authoritativePort ?? 53;
      const addrs: ServerAddress[] = [];
      // A server whose address could not be looked up (SERVFAIL, timeout): not one without an address.
      let lookupError: string | null = null;
      for (const s of servers) {
        const { host } = parseServer(s);
        const fam = isIP(host);
        if (fam) addrs.push({ host, port, family: fam as 4 | 6 });
        else {
          const a = await resolver.resolve(host, 'A');
          for (const ip of a.records) addrs.push({ host: ip, port, family: 4 });
          // A nameserver reachable over IPv6 only.
          if (a.records.length === 0) {
            const aaaa = await resolver.resolve(host, 'AAAA');
            for (const ip of aaaa.records) addrs.push({ host: ip, port, family: 6 });
            const failed = a.status === 'unknown' ? a : aaaa.status === 'unknown' ? aaaa : null;
            if (failed && aaaa.records.length === 0) lookupError ??= `could not look up the address of ${host} (${failed.error ?? 'unknown'})`;
          }
        }
      }
      // NO_SERVER_ADDRESS only when DNS said there is none (NXDOMAIN/NODATA for A and AAAA): verify() leaves such a
      // server out, where one whose address is unknown may be serving the old records.
      if (addrs.length === 0) return { name: norm(rawName), type, status: 'unknown', records: [], error: lookupError ?? NO_SERVER_ADDRESS };
      return ask(addrs, norm(rawName), type, true);
    },
    stats: () => ({ ...stats }),
    asked: () => {
      foldAsked();
      return askedNames.map((name, i) => ({ type: askedTypes[i], name }));
    },
    clearCache: () => {
      cache.clear();
      older.clear();
      askedTypes = [];
      askedNames = [];
      askedFoldAt = FOLD_AT;
    },
    close: () => client.close(),
  };
  return resolver;
}
