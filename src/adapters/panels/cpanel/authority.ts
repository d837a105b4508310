// Whose nameservers serve a cPanel zone: has_local_authority's answer (UAPI and WHM, shared/reference/cpanel.md §5)
// read as cPanel computes it, plus the server's own nameservers where the adapter can read them (/etc/wwwacct.conf).
// Shared by the cPanel (UAPI) and WHM adapters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonName } from '../../../core/domain.js';
import { panelName } from '../listed.js';

/** One has_local_authority item: `{domain, zone, local_authority: 0|1, nameservers: [...], error}` (§5). */
export interface AuthorityItem {
  domain?: unknown;
  zone?: unknown;
  local_authority?: unknown;
  nameservers?: unknown;
  error?: unknown;
}

function names(v: unknown): string[] {
  return (Array.isArray(v) ? v : []).map((n) => canonName(String(n ?? ''))).filter(Boolean);
}

/** The item for `name` (the zone asked about), else the only one. */
export function authorityItemFor(items: readonly AuthorityItem[], name: string): AuthorityItem | null {
  const n = panelName(name);
  return items.find((x) => panelName(String(x.domain ?? '')) === n) ?? (items.length === 1 ? items[0] : null);
}

/**
 * The nameservers that serve this server's copy of a zone, for core to compare with the live NS (core's `authority()`:
 * authoritative when a live NS is one of them; none → the fixes become records to publish elsewhere). `serverNs`: the
 * server's own nameservers when the adapter can read them (/etc/wwwacct.conf on the server), else [].
 *
 * has_local_authority is cPanel's cheap check (its source, Cpanel/DnsUtils/Authority.pm, which cpanel.md §5 cites):
 * it compares the local SOA serial with the one public DNS serves and lists the zone's public nameservers. So:
 * - `local_authority` 1: public DNS serves this very zone: its public nameservers are this server's — also names no
 *   server-wide list knows, such as a reseller's branded nameservers (they are taken over /etc/wwwacct.conf).
 *   INFERRED caveat: a zone copied here unchanged from the previous host (same serial) would read 1 as well; nothing
 *   the API gives tells that apart.
 * - `local_authority` 0 with an `error`: cPanel's own DNS lookup failed — DNS trouble, not an answer. With `serverNs`
 *   core asks DNS itself (its own lookup failing makes it `unknown`); without, nothing here can say whose zone it is,
 *   and [] is the safe reading (publish-elsewhere: nothing is written). Reporting it as "unknown" needs a core field
 *   (see the adapter notes); until then that case reads as not authoritative.
 * - `local_authority` 0 without an error: the public serial differs from the local one. That is a zone served
 *   elsewhere (a copy left here after the domain moved), and also this server's own zone right after any write (by
 *   mailhealth, the Zone Editor, cPanel's SPF updates) until the secondaries and resolver caches catch up — cPanel
 *   compares with what its resolver sees. Even when the public nameservers are exactly the zone's own apex NS records
 *   (the delegation points at the NS this zone lists), that does not tell the two apart: an imported zone (copied from
 *   the old host, listing the old host's NS, while the registrar still points there) looks the same. Only the server's
 *   own nameservers do: with `serverNs` core compares the live NS with them (this server's zone → authoritative, the
 *   old host's → not); without (a remote API: the user-level UAPI and remote WHM expose no call for them), [] — the
 *   safe reading: right after a write a domain reads as not authoritative (fixes become records to publish) until
 *   public DNS serves the new serial.
 * - no item (the call failed or was refused): `serverNs`, else [].
 */
export function nameserversFromAuthority(item: AuthorityItem | null, serverNs: readonly string[]): string[] {
  const error = item?.error;
  const failed = error !== undefined && error !== null && String(error) !== '';
  if (item && !failed && Number(item.local_authority) === 1) {
    const ns = names(item.nameservers);
    if (ns.length) return [...new Set(ns)];
  }
  return [...serverNs];
}

/**
 * Why whose nameservers serve the zone cannot be told (MailSettings.nameserversUnknown): cPanel's own check of public
 * DNS failed (`error`) and the server's own nameservers are not known here. Undefined otherwise.
 */
export function authorityUnknown(item: AuthorityItem | null, serverNs: readonly string[]): string | undefined {
  if (serverNs.length) return undefined;
  if (!item) return 'cPanel gave no answer to has_local_authority (the call failed or was refused)';
  const error = item.error;
  if (error === undefined || error === null || String(error) === '') return undefined;
  // An error that is not text is shown as JSON (fuzz QA: "[object Object]").
  return `cPanel could not check whether public DNS serves this zone (${typeof error === 'string' ? error : JSON.stringify(error)})`;
}

/**
 * NS, NS2, NS3, NS4 from /etc/wwwacct.conf (cPanel's Basic WebHost Manager Setup: the nameservers new zones get); []
 * when unreadable. INFERRED (cPanel's source, not cpanel.md): the file is readable by cPanel users —
 * Cpanel/Config/LoadWwwAcctConf.pm reads it as a non-root process, the secrets live in the root-only
 * wwwacct.conf.shadow —, so the cPanel page running as the customer can read it too.
 */
export function readWwwacctNameservers(root: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(root, 'etc/wwwacct.conf'), 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^NS[234]?\s+(\S+)\s*$/.exec(line.trim());
    if (m) out.push(canonName(m[1]));
  }
  return out;
}

/**
 * What one has_local_authority call for one or more zones gave: its items, or the reason it was refused. A call that
 * got no answer (transport error, timeout) throws instead.
 */
export type AuthorityAnswer = { ok: true; items: AuthorityItem[] } | { ok: false; reason: string };

/**
 * Does a refusal name `zone`? cPanel refuses a whole has_local_authority call when one of its domains is not the
 * caller's, naming those domains: “The account “X” does not control the “a.example” and “b.example” domains.”
 * (Whostmgr/API/1/Utils/Domains.pm). A name inside a longer name (a.example in shop.a.example) does not count.
 */
export function reasonNames(reason: string, zone: string): boolean {
  const text = reason.toLowerCase();
  const z = canonName(zone);
  if (!z) return false;
  for (let i = text.indexOf(z); i >= 0; i = text.indexOf(z, i + 1)) {
    const before = i > 0 ? text[i - 1] : '';
    const after = text.slice(i + z.length, i + z.length + 2);
    if (/[a-z0-9.-]/.test(before)) continue;
    if (/^[a-z0-9-]/.test(after) || /^\.[a-z0-9]/.test(after)) continue;
    return true;
  }
  return false;
}

interface AuthorityListing {
  domains: readonly string[];
  index: Map<string, number>;
  zoneOf: (domain: string) => string | null;
}

interface Prefetched {
  at: number;
  zone: string;
  p: Promise<AuthorityItem | null>;
}

/**
 * has_local_authority for a bulk run, in batches. cPanel's function takes several domains in one call (`domain`,
 * `domain-1`, `domain-2`, … — WHM API 1 and UAPI docs, https://api.docs.cpanel.net/openapi/whm/operation/has_local_authority;
 * Whostmgr/API/1/DNS.pm passes them all to Cpanel::DnsUtils::Authority::has_local_authority, which looks their SOAs up
 * together) and answers one item per domain, in the order asked.
 *
 * - Outside a bulk run a read asks for its own zone alone: exactly the call a single-domain read made before.
 * - A bulk run is a listing (`listed`, from listDomains) whose domains are read one after another: once a second
 *   domain is read within `TTL_MS` of another, a read that has to ask also asks for the zones of the next listed
 *   domains not read lately (after it in the listing, then before it; up to `BATCH` zones a call); those domains then
 *   take that answer when their turn comes (within `TTL_MS`). Each domain takes a prefetched answer once: reading it
 *   again asks again, as before. Reads of a zone already being asked wait for that call.
 * - A call that fails (no answer, refused) gives null — "no answer", never "not authoritative" — to every domain that
 *   waited on it; the domains only read ahead keep nothing, so each asks again when its turn comes. A refusal that
 *   names some of the zones (not the caller's, e.g. removed meanwhile) is asked again once without them.
 * - A write to a zone (`forget`) drops what is known about it: the next read asks again.
 */
/**
 * Whether something timed `at` is less than AuthorityBatcher.TTL_MS old at `t`. An age below zero (a clock that went
 * back: the injected one may be a wall clock) is not recent: asked again, never kept for as long as the step.
 */
function recent(t: number, at: number): boolean {
  const age = t - at;
  return age >= 0 && age < AuthorityBatcher.TTL_MS;
}

export class AuthorityBatcher {
  /** Zones asked in one call at most. */
  static BATCH = 50;
  /** How long a prefetched answer is used, and how close together two reads count as one bulk run. */
  static TTL_MS = 60_000;
  /** Listings kept (one per identity that listed its domains), the most recent last. */
  private static readonly LISTINGS = 32;

  private readonly listings = new Map<string, AuthorityListing>();
  private readonly ahead = new Map<string, Prefetched>();
  private readonly inflight = new Map<string, Promise<AuthorityItem | null>>();
  /** When each domain was last read: a domain read within TTL_MS is not read ahead again. */
  private readonly readAt = new Map<string, number>();
  private last: { domain: string; at: number } | null = null;
  private sweptAt = 0;

  /**
   * `now`: the clock answers and reads are aged by — milliseconds that only go forward (default performance.now()), not
   * the wall clock: set back, it would make ages negative and a prefetched answer good for as long as the step.
   */
  constructor(
    private readonly ask: (zones: string[]) => Promise<AuthorityAnswer>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A listing of domains (in the order a bulk run reads them) and the zone each is in. */
  listed(key: string, domains: readonly string[], zoneOf: (domain: string) => string | null): void {
    const list = domains.map(canonName);
    this.listings.delete(key);
    this.listings.set(key, { domains: list, index: new Map(list.map((d, i) => [d, i] as [string, number]).reverse()), zoneOf });
    while (this.listings.size > AuthorityBatcher.LISTINGS) this.listings.delete(this.listings.keys().next().value as string);
  }

  /** The has_local_authority item for `zone`, the zone `domain` is in; null when no answer came for it. */
  itemFor(domain: string, zone: string): Promise<AuthorityItem | null> {
    const d = canonName(domain);
    const z = canonName(zone);
    const t = this.now();
    const bulk = !!this.last && this.last.domain !== d && recent(t, this.last.at);
    this.last = { domain: d, at: t };
    this.readAt.set(d, t);
    this.sweep(t);
    const pre = this.ahead.get(d);
    if (pre) {
      this.ahead.delete(d);
      if (pre.zone === z && recent(t, pre.at)) return pre.p;
    }
    const flying = this.inflight.get(z);
    if (flying) return flying;
    const zones = [z];
    const readAhead: [string, string][] = bulk ? this.readAhead(d, zones, t) : [];
    const answer = this.fetch(zones);
    const byZone = new Map<string, Promise<AuthorityItem | null>>();
    for (const x of zones) {
      const p = answer.then((m) => m.get(x) ?? null);
      byZone.set(x, p);
      this.inflight.set(x, p);
      void p.then(() => {
        if (this.inflight.get(x) === p) this.inflight.delete(x);
      });
    }
    for (const [w, wz] of readAhead) {
      const p = byZone.get(wz) ?? this.inflight.get(wz);
      if (!p) continue;
      const entry: Prefetched = { at: t, zone: wz, p };
      this.ahead.set(w, entry);
      // Nothing is kept from a failed call: the domains read ahead ask again when their turn comes.
      void p.then((item) => {
        if (!item && this.ahead.get(w) === entry) this.ahead.delete(w);
      });
    }
    return byZone.get(z)!;
  }

  /** Forget what is known about a zone (a write changed it, or may have): the next read asks again. */
  forget(zone: string): void {
    const z = canonName(zone);
    this.inflight.delete(z);
    for (const [d, e] of this.ahead) if (e.zone === z) this.ahead.delete(d);
  }

  /**
   * The domains listed after `d` (in the most recent listing that has it; then those before it) that were not read
   * lately and have no answer prefetched, and their zones: new zones are added to `zones` up to BATCH.
   */
  private readAhead(d: string, zones: string[], t: number): [string, string][] {
    const listing = [...this.listings.values()].reverse().find((l) => l.index.has(d));
    if (!listing) return [];
    const out: [string, string][] = [];
    const taken = new Set(zones);
    const n = listing.domains.length;
    const from = listing.index.get(d)!;
    for (let k = 1; k < n; k++) {
      const w = listing.domains[(from + k) % n];
      if (w === d) continue;
      const have = this.ahead.get(w);
      if (have && recent(t, have.at)) continue;
      const read = this.readAt.get(w);
      if (read !== undefined && recent(t, read)) continue;
      const found = listing.zoneOf(w);
      if (!found) continue;
      const wz = canonName(found);
      if (!taken.has(wz) && !this.inflight.has(wz)) {
        if (taken.size >= AuthorityBatcher.BATCH) break;
        taken.add(wz);
        zones.push(wz);
      }
      out.push([w, wz]);
    }
    return out;
  }

  /** One call for `zones` (again without the zones a refusal names); every zone maps to its item, or null. */
  private async fetch(zones: readonly string[]): Promise<Map<string, AuthorityItem | null>> {
    const out = new Map<string, AuthorityItem | null>();
    let rest = [...zones];
    for (let attempt = 0; attempt < 2 && rest.length; attempt++) {
      let a: AuthorityAnswer;
      try {
        a = await this.ask(rest);
      } catch {
        break;
      }
      if (a.ok) {
        const byName = new Map<string, AuthorityItem>();
        for (const it of a.items) {
          const n = panelName(String(it.domain ?? ''));
          if (n && !byName.has(n)) byName.set(n, it);
        }
        rest.forEach((z, i) => {
          // One zone: read as a single-domain call always was. Several: by name (cPanel answers in the order asked,
          // each item naming its domain; an item without a name is taken by position when the counts agree).
          const item = rest.length === 1 ? authorityItemFor(a.items, z) : (byName.get(z) ?? (a.items.length === rest.length && (a.items[i].domain ?? '') === '' ? a.items[i] : null));
          out.set(z, item);
        });
        break;
      }
      const named = rest.length > 1 ? rest.filter((z) => reasonNames(a.reason, z)) : [];
      if (!named.length || named.length === rest.length) break;
      rest = rest.filter((z) => !named.includes(z));
    }
    for (const z of zones) if (!out.has(z)) out.set(z, null);
    return out;
  }

  /** Drop prefetched answers and read times past their time (at most once per TTL). */
  private sweep(t: number): void {
    if (recent(t, this.sweptAt)) return;
    this.sweptAt = t;
    for (const [d, e] of this.ahead) if (!recent(t, e.at)) this.ahead.delete(d);
    for (const [d, at] of this.readAt) if (!recent(t, at)) this.readAt.delete(d);
  }
}
