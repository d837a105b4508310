// Classification of every foreign name, IP, key and id: this server / keep (a mail service) / stale (a previous
// host) / unknown. Evidence, strongest first: this server's IPs, hostname, HELO and relay; the knowledge base;
// traces of the previous host inside the zone itself (old NS/SOA names, an old mail. A record); the PTR name of a
// foreign IP. A mail service is never stale, and neither is mail.<domain> when the panel routes the domain's mail
// elsewhere (it is then most likely the customer's current mail server). What cannot be decided is unknown; an unknown
// that is only a lookup without an answer (a PTR or address timeout) is marked so (isUnanswered), never "nothing known".
// A provider is judged against the current host, not only by its kind (mail-auth.md §8: "decide staleness by comparing
// with the current host"): the provider this server's own host name / HELO belongs to is this server, and — when the
// panel routes the domain's mail elsewhere — a provider the domain's MX points at is where its mail is delivered, so
// its names (SPF includes, DKIM selectors, MX hosts) are a service the customer uses, hosting company or not; the MX
// hosts' providers are found by name, else (a name of the customer's own, such as mail.<domain>) by the PTR name of
// their addresses. With the panel delivering the domain's mail here (routing local), a live MX at a hosting provider is
// either left from a previous host or where the customer's mailboxes still are (the website moved, the mail stayed):
// the MX host stays stale (the mx check says how to settle it either way), but that provider's SPF terms, DKIM
// selectors and MailChannels ids are unknown — kept unless the customer selects them, never dropped on a guess that
// would take SPF away from mail the mailboxes send. An MX address that is the panel's own old mail.<domain> record (a
// trace) points at no such provider: that record is the previous host's, and so is what it names. A host that
// resolves to an address of this server's host name / HELO is this server, whatever it is called (the panel lists only
// the domain's outbound IPs: a dedicated IP while the MX names the shared one, or the reverse). An address the zone's
// mail.<domain> still names (a trace) is the previous host's only when it is neither such an address nor in this
// server's own network by its PTR name.
import { createPublicKey } from 'node:crypto';
import type { Knowledge, Provider } from '../knowledge/index.js';
import type { Classifier } from './checks/context.js';
import { canonName, inZone, registrableDomain } from './domain.js';
import { ownRecordAt } from './spf/own.js';
import { canonicalIpv6, cidrContains, isIpAddress, reverseName } from './ip.js';
import { rsaPublicKeyDer } from './dkim/der.js';
import { parseDkimRecord } from './dkim/record.js';
import { genericPtrReason } from './checks/ptr.js';
import type { Classification, MailSettings, Zone } from './model.js';
import { mxExchange, RecordIndex } from './zone.js';
import { resolveAddresses, type Resolver } from './resolver.js';
import { filterList, mapList } from './arrays.js';
import { parseTermShared, withDomainSpec, type SpfTerm } from './spf/parse.js';
import { termTarget } from './spf/tree.js';
import { ipTermRange, permissiveRange, qualifierEffect } from './spf/terms.js';

// Small bounded memo for pure string → value functions that bulk audits call with the same arguments many times.
function memo<V>(max: number, fn: (k: string) => V): (k: string) => V {
  const m = new Map<string, V>();
  return (k) => {
    const hit = m.get(k);
    if (hit !== undefined || m.has(k)) return hit as V;
    if (m.size >= max) m.clear();
    const v = fn(k);
    m.set(k, v);
    return v;
  };
}


export function orgDomain(host: string): string {
  return registrableDomain(canonName(host));
}

const C = (cls: Classification['class'], reason: string, extra?: Partial<Classification>): Classification =>
  extra ? { class: cls, reason, ...extra } : { class: cls, reason };

/**
 * Classifications that are `unknown` only because a lookup got no answer (timeout, SERVFAIL, REFUSED): no evidence
 * either way, unlike "matches nothing known". Marked by identity, so the Classification type stays as it is.
 */
const UNANSWERED = new WeakSet<Classification>();
function unanswered(reason: string, extra?: Partial<Classification>): Classification {
  const c = C('unknown', reason, extra);
  UNANSWERED.add(c);
  return c;
}

/** Is this classification `unknown` only because DNS did not answer (so nothing may be concluded from it)? */
export function isUnanswered(c: Classification): boolean {
  return UNANSWERED.has(c);
}

/**
 * `this-server` classifications of a name that is this server's only because it sits at this server's provider — the
 * organisation of its host name / HELO (also when the relay shares it), or a provider of the knowledge base its host
 * name / HELO belongs to (other than that provider's inbound mail front, knowledge inboundMx) — and not because it is
 * this server's host name, HELO, relay host or another name of the relay service. Such a
 * name may as well be another machine there: whether it is this server is for its addresses to say (the mx check
 * asks). Marked by identity, with the words naming that provider ("this server's own provider (hostgator.com)"), so the
 * Classification type stays as it is and no caller re-derives the rule.
 */
const SERVER_NETWORK = new WeakMap<Classification, string>();
function atServerNetwork(c: Classification, network: string): Classification {
  SERVER_NETWORK.set(c, network);
  return c;
}

/**
 * Where a `this-server` verdict comes only from the name's provider (see SERVER_NETWORK): the words naming it, e.g.
 * "this server's own provider (newhost.example)". Null when the name is this server's own (host name, HELO, the relay
 * service's names, the provider's inbound mail front) or its addresses are, and for any other classification.
 */
export function serverNetwork(c: Classification): string | null {
  return SERVER_NETWORK.get(c) ?? null;
}

/**
 * `unknown` classifications of an address that is not this server's outbound IP but whose PTR name is in this server's
 * own network (its organisation, or the knowledge provider its host name / HELO belongs to): another machine there, or
 * another address of this server. Marked by identity with the words naming that network, so that a host resolving to
 * such an address is classified as a name at this server's provider (atServerNetwork): the mx check then compares
 * addresses, and the SPF fix keeps it — never a previous host's.
 */
const IN_SERVER_NETWORK = new WeakMap<Classification, string>();
function inServerNetwork(c: Classification, network: string): Classification {
  IN_SERVER_NETWORK.set(c, network);
  return c;
}

/** `c` with another reason, marked as `c` is (unanswered, at or in this server's network). */
function reworded(c: Classification, reason: string): Classification {
  const out = { ...c, reason };
  if (UNANSWERED.has(c)) UNANSWERED.add(out);
  const at = SERVER_NETWORK.get(c);
  if (at !== undefined) SERVER_NETWORK.set(out, at);
  const inside = IN_SERVER_NETWORK.get(c);
  if (inside !== undefined) IN_SERVER_NETWORK.set(out, inside);
  return out;
}

/** MX hosts (the first few without a provider by name) whose addresses' PTR names findDelivery reads, and addresses per host. */
const DELIVERY_PTR_HOSTS = 4;
const DELIVERY_PTR_ADDRESSES = 2;

/**
 * Where the domain's mail is delivered: the providers its MX hosts belong to — the live MX and, with the panel routing
 * the mail elsewhere, the panel's copy of the zone too.
 */
interface MailDelivery {
  /**
   * Provider id → the domain's MX hosts at that provider: the host name when the name is the provider's, else
   * "host → address (PTR name)" when the address's PTR name is.
   */
  providers: Map<string, string[]>;
  /**
   * Set when where the mail goes is not fully known: the live MX lookup got no answer (the panel's copy of the zone may
   * be stale: the domain's DNS may be served elsewhere — the providers its MX names still count), or an MX host's
   * address (or its PTR name) could not be looked up.
   */
  error?: string;
}

/**
 * One canonical form of a base64 public key, so that encodings of one key compare equal: RSA (SPKI or bare PKCS#1)
 * → `rsa:<PKCS#1 DER>`; Ed25519 (SPKI or the raw 32 bytes RFC 8463 publishes) → `ed25519:<raw 32 bytes>`; other
 * types → SPKI DER. Null if it does not decode.
 */
export function canonicalKey(b64: string): string | null {
  return canonicalKeyMemo(b64);
}

/** The canonical key a zone record publishes (a TXT DKIM record with a readable p=), else null. */
export function publishedKey(r: { type: string; value: string; txt?: string[] | null } | null | undefined): string | null {
  if (!r || r.type.toUpperCase() !== 'TXT') return null;
  const k = parseDkimRecord(r.txt ?? [r.value]).publicKey;
  return k ? canonicalKey(k) : null;
}
const canonicalKeyMemo = memo(1024, canonicalKeyUncached);

function canonicalKeyUncached(b64: string): string | null {
  const clean = b64.replace(/\s+/g, '');
  if (!clean) return null;
  const rsa = rsaPublicKeyDer(clean);
  if (rsa) return 'rsa:' + rsa.toString('base64');
  const der = Buffer.from(clean, 'base64');
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      const k = createPublicKey({ key: der, format: 'der', type });
      if (k.asymmetricKeyType === 'rsa') return 'rsa:' + k.export({ type: 'pkcs1', format: 'der' }).toString('base64');
      const spki = k.export({ type: 'spki', format: 'der' });
      if (k.asymmetricKeyType === 'ed25519') return 'ed25519:' + spki.subarray(spki.length - 32).toString('base64');
      return spki.toString('base64');
    } catch {
      /* try next */
    }
  }
  return der.length === 32 ? 'ed25519:' + der.toString('base64') : null; // raw Ed25519
}

export interface ClassifierInput {
  domain: string;
  zone: Zone | null;
  /** The zone's records by name, when the caller has built them already (an audit has). */
  zoneIndex?: RecordIndex | null;
  settings: MailSettings;
  resolver: Resolver;
  knowledge: Knowledge;
}

export function makeClassifier(input: ClassifierInput): Classifier {
  return new AuditClassifier(input);
}

/** One domain's classifier. A class, not closures: bulk audits make one per domain, and methods cost nothing to make. */
/** An address as the classifier's maps key it: IPv6 in the one spelling (src/core/ip.ts ipv6Text), IPv4 as written. */
function ipKey(ip: string): string {
  return ip.includes(':') ? (canonicalIpv6(ip) ?? ip) : ip;
}

class AuditClassifier implements Classifier {
  private readonly domain: string;
  private readonly settings: MailSettings;
  private readonly resolver: Resolver;
  private readonly knowledge: Knowledge;
  private readonly serverIps: string[];
  private readonly hostName: string;
  private readonly heloName: string;
  private readonly serverSelector: string;
  private readonly serverOrgs: Set<string>;
  /** Providers (knowledge) that this server's host name / HELO belong to: id → the server's name at it. */
  private readonly serverProviders = new Map<string, string>();
  /** With mail routed elsewhere: the MX hosts of the panel's copy of the zone. */
  private readonly zoneMx: string[] = [];
  private delivery: Promise<MailDelivery> | null = null;
  /** liveMxAt, made once (it is handed to .then for every SPF term of a domain delivered here). */
  private readonly liveMxCheck = (c: Classification): Classification | Promise<Classification> => this.liveMxAt(c);
  private readonly domainOrg: string;
  private readonly relayHost: string | null;
  private readonly relayOrg: string | null;
  /** Traces of the previous host inside the panel's own copy of the zone: org → why, ip → why. */
  private readonly traceOrgs = new Map<string, string>();
  private readonly traceIps = new Map<string, string>();
  /** With mail routed elsewhere (panel setting): mail.<domain>'s foreign addresses → their class (keep or unknown). */
  private readonly remoteMailIps = new Map<string, Classification>();
  private readonly hostMemo = new Map<string, Promise<Classification>>();
  private readonly ipMemo = new Map<string, Promise<Classification>>();
  /** This server's host name / HELO addresses by family (asked only to judge a trace address), address → name. */
  private readonly serverNameAddrs = new Map<'A' | 'AAAA', Promise<Map<string, string>>>();

  constructor({ domain, zone, zoneIndex, settings, resolver, knowledge }: ClassifierInput) {
    this.domain = domain;
    this.settings = settings;
    this.resolver = resolver;
    this.knowledge = knowledge;
    this.serverIps = settings.ips;
    this.hostName = canonName(settings.hostname);
    this.heloName = canonName(settings.helo);
    this.serverSelector = settings.dkim.selector.toLowerCase();
    this.serverOrgs = new Set([orgDomain(settings.hostname), orgDomain(settings.helo)]);
    this.domainOrg = orgDomain(domain);
    this.relayHost = settings.relay?.host ? canonName(settings.relay.host) : null;
    this.relayOrg = this.relayHost ? orgDomain(this.relayHost) : null;
    for (const name of [this.hostName, this.heloName]) {
      const p = name ? knowledge.matchHost(name) : null;
      if (p && !this.serverProviders.has(p.id)) this.serverProviders.set(p.id, name);
    }
    if (zone) {
      const index = zoneIndex ?? new RecordIndex(zone.records);
      if (settings.routing === 'remote') {
        for (const r of index.at(domain, 'MX')) {
          const h = mxExchange(r);
          if (h && h !== '.') this.zoneMx.push(h);
        }
      }
      this.findTraces(index);
    }
  }

  /** A foreign name at the provider this server's own host name / HELO belongs to (no trace of a previous host). */
  private atServerProvider(host: string): boolean {
    if (!this.serverProviders.size) return false;
    const p = this.knowledge.matchHost(host);
    return p !== null && this.serverProviders.has(p.id);
  }

  /**
   * With mail routed elsewhere (panel setting), the providers the domain's MX hosts belong to — the live MX and the
   * panel's copy of the zone together (either may be the one in use: keeping is the safe side). Null with local
   * routing: the mail is delivered here, and an MX elsewhere is the mx check's concern (stale or mismatched).
   */
  private mailDelivery(): Promise<MailDelivery> | null {
    if (this.settings.routing !== 'remote') return null;
    return this.delivered();
  }

  /** MailDelivery whatever the routing (with routing local: the live MX alone, the panel's copy names no MX here). */
  private delivered(): Promise<MailDelivery> {
    return (this.delivery ??= this.findDelivery());
  }

  /**
   * With the panel delivering the domain's mail here (routing local): a hosting provider's name that is stale (`c`, a
   * previous host's by the knowledge base: it carries the provider) while the domain's live MX delivers its mail to
   * that provider is unknown instead — the MX may be the previous host's left over, or the customer's mailboxes may
   * still be there and send with it (the SPF include, DKIM selector or MailChannels id); the mx check's mx.stale says
   * how to settle which (an MX address that is a trace — the panel's own old mail.<domain> record — names no provider
   * here: deliveryByAddress). When where the live MX delivers could not be told (no answer), unknown (unanswered), never
   * stale. Asked only for such a name (the live MX is then looked up), so every other answer stays as it is.
   * With routing remote, byProvider and hostedLockdownId have decided already (the delivery counts there).
   */
  private liveMxAt(c: Classification): Classification | Promise<Classification> {
    if (c.class !== 'stale' || !c.provider || this.settings.routing !== 'local') return c;
    const id = c.provider;
    const extra = c.source ? { provider: id, source: c.source } : { provider: id };
    return this.delivered().then((d) => {
      const mx = d.providers.get(id);
      if (mx) {
        const name = this.knowledge.displayName(id);
        return C('unknown', `${c.reason}, but ${this.domain}'s live MX delivers its mail to ${name} (MX ${mx.join(', ')}) while the panel delivers it on this server: ${this.eitherWay(name, 'mail sent from them uses it')}`, extra);
      }
      if (d.error) return unanswered(`${c.reason}; whether ${this.domain}'s live MX still delivers its mail there could not be told: ${d.error}`, extra);
      return c;
    });
  }

  /** The two readings of a live MX at `provider` while the panel delivers the domain's mail here, in words. */
  private eitherWay(provider: string, use: string): string {
    return `if ${this.domain}'s mailboxes are still at ${provider}, ${use}; if that MX is left from a previous host, point it at this server (mx.stale says how)`;
  }

  private async findDelivery(): Promise<MailDelivery> {
    const providers = new Map<string, string[]>();
    const add = (id: string, evidence: string) => {
      const at = providers.get(id);
      if (!at) providers.set(id, [evidence]);
      else if (!at.includes(evidence)) at.push(evidence);
    };
    const live = await this.resolver.resolve(this.domain, 'MX');
    const hosts = this.zoneMx.slice();
    if (live.status === 'ok') for (const m of live.records) hosts.push(canonName(m.exchange));
    /** MX hosts no provider's name matches (the customer's own names, such as mail.<domain>): judged by their addresses. */
    const unnamed: string[] = [];
    for (const h of hosts) {
      if (!h || h === '.') continue;
      const p = this.knowledge.matchHost(h);
      if (p) add(p.id, h);
      else if (!unnamed.includes(h)) unnamed.push(h);
    }
    // Without the live answer, the panel's copy alone does not say where the mail goes now (it is stale where the
    // domain's DNS is served elsewhere): a provider it does not name is not known to be a previous host's (byProvider:
    // unanswered, never stale). The providers it names are still where mail may go (kept).
    let error = live.status === 'unknown' ? `the MX lookup of ${this.domain} got no answer (${live.error ?? 'DNS error'})` : undefined;
    // A name of the customer's own (mail.<domain> kept at the old host) says nothing by itself: the PTR name of its
    // address tells the provider the mail is delivered to (gator4001.hostgator.com → HostGator). A few hosts and
    // addresses only; the addresses are the mx check's own questions (the run's resolver cache answers them).
    for (const h of unnamed.slice(0, DELIVERY_PTR_HOSTS)) {
      const why = await this.deliveryByAddress(h, add);
      if (why && !error) error = why;
    }
    return error ? { providers, error } : { providers };
  }

  /**
   * The providers an MX host's addresses belong to by their PTR names, added as "host → ip (PTR name)". The panel's
   * own addresses of mail.<domain> count beside the live ones. Returns why it could not be told (no provider found
   * and a lookup without an answer), else null.
   */
  private async deliveryByAddress(host: string, add: (id: string, evidence: string) => void): Promise<string | null> {
    const ips: string[] = host === `mail.${this.domain}` ? [...this.remoteMailIps.keys()] : [];
    let error: string | null = null;
    for (const type of ['A', 'AAAA'] as const) {
      if (ips.length >= DELIVERY_PTR_ADDRESSES) break;
      const a = await this.resolver.resolve(host, type);
      if (a.status === 'unknown') error ??= `the ${type} lookup of MX ${host} got no answer (${a.error ?? 'DNS error'})`;
      for (const ip of a.records as string[]) if (!ips.includes(ip)) ips.push(ip);
    }
    let found = false;
    for (const ip of ips.slice(0, DELIVERY_PTR_ADDRESSES)) {
      // Mail delivered to this server is delivered to no provider. An address the panel's own zone still gives
      // mail.<domain> while the panel delivers the mail here (a trace, routing local) is the old host's server that
      // record was copied from — the previous host's by that evidence, as its `a`/`mx` terms are (classifyIp): no
      // provider its mail would still be delivered to.
      if (!isIpAddress(ip) || this.serverIps.some((s) => cidrContains(s, ip)) || this.traceIps.has(ip)) continue;
      const ptr = await this.resolver.resolve(reverseName(ip), 'PTR');
      if (ptr.status === 'unknown') {
        error ??= `the PTR lookup of ${ip} (MX ${host}) got no answer (${ptr.error ?? 'DNS error'})`;
        continue;
      }
      for (const name of ptr.records) {
        const p = this.knowledge.matchHost(name);
        if (!p) continue;
        add(p.id, `${host} → ${ip} (PTR ${canonName(name)})`);
        found = true;
      }
    }
    return found ? null : error;
  }

  /**
   * A known provider's name, judged against the current host: where the domain's mail is delivered (routing remote,
   * MX there) → keep; this server's own provider → this server; else by kind (hosting → stale, shared → unknown,
   * mail or report service → keep). `what` names the thing classified ("secureserver.net", "selector s1-ionos").
   */
  private byProvider(p: Provider, what: string, delivery: MailDelivery | null, host?: string): Classification {
    const extra = { provider: p.id, source: p.source };
    const mx = delivery?.providers.get(p.id);
    if (mx) {
      return C('keep', `${what} belongs to ${p.name}, where ${this.domain}'s mail is delivered (MX ${mx.join(', ')}; the panel routes its mail elsewhere): a service the customer uses`, extra);
    }
    const mine = this.serverProviders.get(p.id);
    if (mine) {
      const c = C('this-server', `${what} belongs to ${p.name}, the provider this server is at (${mine})`, extra);
      // The provider's inbound mail front (knowledge: inboundMx) takes mail for its servers, this one included; any
      // other name of the provider may be another machine there (the mx check compares addresses).
      return host && p.inboundMx?.some((s) => host === s || host.endsWith(`.${s}`)) ? c : atServerNetwork(c, `this server's own provider (${p.name})`);
    }
    if (p.kind === 'hosting') {
      if (delivery?.error) {
        // Not known because DNS did not answer: marked so (unanswered), nothing is concluded from it.
        return unanswered(`${what} belongs to ${p.name}, a hosting provider; ${this.domain}'s mail is routed elsewhere (panel setting) but ${delivery.error}, so whether its mail is delivered there is unknown`, extra);
      }
      return C('stale', `${what} belongs to ${p.name}, a hosting provider that is not this server`, extra);
    }
    if (p.kind === 'shared-infrastructure') {
      return C('unknown', `${what} is ${p.name}, shared infrastructure used by several hosts and services: it does not identify a previous host`, extra);
    }
    return C('keep', `${what} is ${p.name}, a ${p.kind === 'report-processor' ? 'DMARC report service' : 'mail service'} the customer uses`, extra);
  }

  /** The apex NS and SOA, and mail.<domain>'s A and AAAA. */
  private findTraces(index: RecordIndex): void {
    const { domain, serverIps, serverOrgs, domainOrg } = this;
    const panelNsOrgs = new Set(this.settings.nameservers.map(orgDomain));
    // A zone this server does not serve (no nameservers of its own for it) may list the DNS host in use: its NS and
    // SOA are no trace of a previous host then.
    const served = this.settings.nameservers.length > 0;
    for (const r of served ? index.at(domain, 'NS') : []) {
      const o = orgDomain(r.value);
      if (!panelNsOrgs.has(o) && o !== domainOrg && !serverOrgs.has(o) && !this.atServerProvider(r.value)) this.traceOrgs.set(o, `the zone still lists the old nameserver ${r.value}`);
    }
    for (const r of served ? index.at(domain, 'SOA') : []) {
      const space = r.value.search(/\s/);
      const mname = space < 0 ? r.value : r.value.slice(0, space); // the first field
      const o = orgDomain(mname);
      if (mname && !panelNsOrgs.has(o) && o !== domainOrg && !serverOrgs.has(o) && !this.atServerProvider(mname)) {
        this.traceOrgs.set(o, `the zone's SOA names ${mname}, not this server's nameservers`);
      }
    }
    const mailName = `mail.${domain}`;
    const mailAddrs = index.at(mailName, 'A').concat(index.at(mailName, 'AAAA'));
    if (!mailAddrs.length) return;
    // A foreign mail.<domain> is the previous host's only while this server receives the domain's mail. When the
    // panel routes it elsewhere, mail.<domain> is most likely where it goes now: never stale (the SPF fix would
    // de-authorise the customer's live mail server). Kept when the zone's MX names it, unknown otherwise.
    const remote = this.settings.routing !== 'local';
    const mxNamesIt = remote && index.at(domain, 'MX').some((r) => mxExchange(r) === mailName);
    for (const r of mailAddrs) {
      if (serverIps.some((ip) => cidrContains(ip, r.value))) continue;
      // Keyed in the one spelling (ipv6Text) whatever the panel adapter gave, as the lookups are (classifyIp).
      const key = ipKey(r.value);
      if (!remote) {
        this.traceIps.set(key, `the zone's mail.${domain} still points at ${r.value}, not this server`);
      } else if (mxNamesIt) {
        this.remoteMailIps.set(
          key,
          C('keep', `mail for ${domain} is routed elsewhere (panel setting) and its MX is ${mailName} (${r.value}): that is likely the customer's current mail server`),
        );
      } else {
        this.remoteMailIps.set(
          key,
          C('unknown', `mail for ${domain} is routed elsewhere (panel setting), so ${mailName} (${r.value}) may be the customer's current mail server, not a previous host's`),
        );
      }
    }
  }

  /** A host name the knowledge knows, classified by its provider (null when no provider matches). */
  private fromKnowledge(host: string): Classification | Promise<Classification> | null {
    const p = this.knowledge.matchHost(host);
    if (!p) return null;
    const delivery = this.mailDelivery();
    return delivery ? delivery.then((d) => this.byProvider(p, host, d, host)) : this.byProvider(p, host, null, host);
  }

  ip(ipOrCidr: string): Promise<Classification> {
    let p = this.ipMemo.get(ipOrCidr);
    if (!p) this.ipMemo.set(ipOrCidr, (p = this.classifyIp(ipOrCidr)));
    return p;
  }

  private async classifyIp(ipOrCidr: string): Promise<Classification> {
    const { serverOrgs, traceIps, traceOrgs } = this;
    if (this.serverIps.some((sip) => cidrContains(ipOrCidr, sip))) {
      const slash = ipOrCidr.indexOf('/');
      const single = slash < 0 || ipOrCidr.slice(slash + 1) === (ipOrCidr.includes(':') ? '128' : '32');
      if (single) return C('this-server', `${ipOrCidr} is this server's outbound IP`);
      const inside = this.serverIps.filter((sip) => cidrContains(ipOrCidr, sip));
      return C('this-server', `${ipOrCidr} contains this server's outbound IP${inside.length > 1 ? 's' : ''} ${inside.join(', ')}`);
    }
    const base = ipOrCidr.split('/')[0];
    // The zone's addresses are kept in the one spelling every reader gives (ipv6Text); an ip6: term may be written
    // any way (`ip6:2001:DB8::7`).
    const key = ipKey(base);
    const trace = traceIps.get(key);
    if (trace !== undefined) return this.traceIp(base, trace);
    const remoteMail = this.remoteMailIps.get(key);
    if (remoteMail) return remoteMail;
    if (!isIpAddress(base)) return C('unknown', `${ipOrCidr} is not an IP address`);
    const ptr = await this.resolver.resolve(reverseName(base), 'PTR');
    if (ptr.status === 'unknown') return unanswered(`PTR lookup for ${base} failed (${ptr.error ?? 'DNS error'})`);
    for (const name of ptr.records) {
      const org = orgDomain(name);
      if (serverOrgs.has(org)) {
        return inServerNetwork(C('unknown', `${base} (PTR ${name}) is in the current host's network but is not this server`), `this server's own provider (${org}: ${base} has PTR ${canonName(name)})`);
      }
      const k = await this.fromKnowledge(name);
      if (k && k.class === 'this-server') {
        // The PTR names this server's provider, but the address is not this server's: another machine of that network.
        const provider = this.knowledge.displayName(k.provider ?? '');
        return inServerNetwork(
          C('unknown', `${base} (PTR ${name}) is in the network of this server's provider (${provider}) but is not this server`, {
            provider: k.provider,
            source: k.source,
          }),
          `this server's own provider (${provider}: ${base} has PTR ${canonName(name)})`,
        );
      }
      if (k) return { ...k, reason: `${base} has PTR ${name}: ${k.reason}` };
      const t = traceOrgs.get(orgDomain(name));
      if (t) return C('stale', `${base} has PTR ${name}, at the same provider as before: ${t}`);
    }
    return C('unknown', ptr.records.length ? `${base} has PTR ${ptr.records.join(', ')}, which matches nothing known` : `${base} has no PTR name to identify it`);
  }

  /**
   * An address the zone's mail.<domain> names that is not among the domain's outbound IPs (`trace`: why that points at
   * the previous host). The panel lists only the IPs the domain sends from, so the address may still be this server's
   * own — its main IP, or a dedicated IP the domain does not send from: an address of this server's host name / HELO
   * is this server, and one whose PTR name is in this server's own network is not a previous host's (another address
   * of this server or another machine there: unknown). The PTR is what classifyIp asks of any foreign address; the host
   * name's addresses are asked here and for any host's foreign addresses (classifyHost), once per classifier (and the
   * run's resolver cache answers them again).
   */
  private async traceIp(ip: string, trace: string): Promise<Classification> {
    if (!isIpAddress(ip)) return C('stale', trace);
    const own = await this.serverNameAt(ip);
    if (own) return C('this-server', this.ownAddressReason(ip, own));
    const ptr = await this.resolver.resolve(reverseName(ip), 'PTR');
    if (ptr.status === 'unknown') {
      return unanswered(`${trace}; whether ${ip} is in this server's own network could not be checked: its PTR lookup failed (${ptr.error ?? 'DNS error'})`);
    }
    for (const name of ptr.records) {
      const org = orgDomain(name);
      const p = this.serverOrgs.has(org) ? null : this.knowledge.matchHost(name);
      const network = this.serverOrgs.has(org) ? org : p && this.serverProviders.has(p.id) ? this.knowledge.displayName(p.id) : null;
      if (network === null) continue;
      // A generic name (static-198-51-100-5.clients.provider.example) is the network's default for any address it hands
      // out — this server's other (dedicated) address as much as another customer's machine there: unknown either way,
      // as a named one is (a PTR cannot tell this server's other address from another machine of its company).
      const what = genericPtrReason(name, ip) ? `an address of ${network}'s pool (generic PTR ${name}): another address of this server or another customer's machine there` : `in this server's own network (${network}, PTR ${name}): another address of this server or another machine there`;
      return inServerNetwork(
        C(
          'unknown',
          `the zone's mail.${this.domain} points at ${ip}, which is not ${this.domain}'s outbound IP, but ${ip} is ${what} — not known to be a previous host's`,
          p ? { provider: p.id, source: p.source } : undefined,
        ),
        `this server's own provider (${network}: ${ip} has PTR ${canonName(name)})`,
      );
    }
    return C('stale', trace);
  }

  /** Why `ip`, an address of this server's name `own` that the panel does not list for the domain, is this server. */
  private ownAddressReason(ip: string, own: string): string {
    return `${ip} is an address of this server's host name ${own} (the panel lists ${this.serverIps.join(', ') || 'no address'} as ${this.domain}'s outbound IP${this.serverIps.length === 1 ? '' : 's'})`;
  }

  /** The name of this server (host name or HELO) that has `ip` among its addresses, else null (none, or no answer). */
  private async serverNameAt(ip: string): Promise<string | null> {
    const type = ip.includes(':') ? 'AAAA' : 'A';
    let p = this.serverNameAddrs.get(type);
    if (!p) this.serverNameAddrs.set(type, (p = this.lookupServerNames(type)));
    for (const [addr, name] of await p) if (cidrContains(addr, ip)) return name;
    return null;
  }

  private async lookupServerNames(type: 'A' | 'AAAA'): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const names = this.heloName && this.heloName !== this.hostName ? [this.hostName, this.heloName] : [this.hostName];
    for (const name of names) {
      if (!name) continue;
      const a = await this.resolver.resolve(name, type);
      if (a.status === 'ok') for (const addr of a.records as string[]) if (!out.has(addr)) out.set(addr, name);
    }
    return out;
  }

  host(rawHost: string): Promise<Classification> {
    const host = canonName(rawHost);
    let p = this.hostMemo.get(host);
    if (!p) this.hostMemo.set(host, (p = this.classifyHost(host)));
    return p;
  }

  private async classifyHost(host: string): Promise<Classification> {
    const { settings, relayHost, serverIps } = this;
    if (host === this.hostName || host === this.heloName) return C('this-server', `${host} is this server's host name`);
    const org = orgDomain(host);
    // The relay host is this server's by name, and so are the relay service's other names (its inbound mail, the
    // service the host chose for its mail); a name at this server's own organisation, which the relay shares, only by
    // where it is (another machine there, unless its addresses say otherwise).
    if (relayHost && (host === relayHost || org === this.relayOrg)) {
      const c = C('this-server', `this server relays its mail through ${this.knowledge.displayName(settings.relay!.provider)} (${relayHost})`);
      return host !== relayHost && this.serverOrgs.has(org) && !inZone(host, this.domain) ? atServerNetwork(c, `this server's own provider (${org})`) : c;
    }
    if (this.serverOrgs.has(org) && !inZone(host, this.domain)) {
      return atServerNetwork(C('this-server', `${host} is at this server's own provider (${org})`), `this server's own provider (${org})`);
    }
    const k = this.fromKnowledge(host);
    if (k) return k;
    const t = this.traceOrgs.get(org);
    if (t) return C('stale', `${host} is at the same provider as the old DNS: ${t}`);
    // Follow the name to its addresses.
    const { a, aaaa } = await resolveAddresses(this.resolver, host);
    if (a.status === 'unknown' && aaaa.status === 'unknown') return unanswered(`${host} could not be resolved (${a.error ?? 'DNS error'})`);
    const ips: string[] = a.records.concat(aaaa.records);
    if (ips.some((ip) => serverIps.some((s) => cidrContains(s, ip)))) return C('this-server', `${host} resolves to this server (${ips.join(', ')})`);
    // An address of this server's host name / HELO is this server although the domain does not send from it (the panel
    // lists only the domain's outbound IPs: a dedicated IP while the MX or mail.<domain> names the main one, or the
    // reverse): this server, whatever the other addresses are, as above — whatever the host is called.
    for (const ip of ips) {
      if (!isIpAddress(ip)) continue;
      const own = await this.serverNameAt(ip);
      if (own) return C('this-server', `${host} resolves to ${ip}: ${this.ownAddressReason(ip, own)}`);
    }
    // An address whose PTR lookup got no answer may be the previous host's: the host is then not known, not "nothing
    // known" (kept unless another address decides).
    let noAnswer: Classification | null = null;
    let network: { ip: string; c: Classification; words: string } | null = null;
    for (const ip of ips) {
      const c = await this.ip(ip);
      if (c.class === 'stale' || c.class === 'keep' || this.remoteMailIps.has(ip)) return { ...c, reason: `${host} resolves to ${ip}: ${c.reason}` };
      if (!noAnswer && isUnanswered(c)) noAnswer = c;
      const words: string | undefined = network ? undefined : IN_SERVER_NETWORK.get(c);
      if (words) network = { ip, c, words };
    }
    if (noAnswer) return unanswered(`${host} resolves to ${ips.join(', ')}, which is not this server, and could not be identified: ${noAnswer.reason}`);
    // An address in this server's own network by its PTR name alone: another address of this server, or another machine
    // of the same company (the server a customer moved from, within one provider) — a PTR cannot tell which, so the host
    // is unknown: never a previous host's on that evidence, never this server's either (the customer may still select
    // an SPF term naming it for removal).
    if (network) {
      const { ip, c, words } = network;
      const extra = c.provider ? { provider: c.provider, ...(c.source ? { source: c.source } : {}) } : undefined;
      return C('unknown', `${host} resolves to ${ip}, at ${words}: not this server's outbound IP, so another address of this server or another machine there`, extra);
    }
    if (!ips.length && (a.status === 'unknown' || aaaa.status === 'unknown')) {
      return unanswered(`${host} has no address on one family and the other lookup got no answer (${(a.status === 'unknown' ? a : aaaa).error ?? 'DNS error'})`);
    }
    return C('unknown', ips.length ? `${host} resolves to ${ips.join(', ')}, which is not this server and matches nothing known` : `${host} has no address`);
  }

  /**
   * An `a`/`mx` term with a prefix length (`a/24`, `mx//64`): it matches every address in the networks of its host's
   * addresses (RFC 7208 §5.6), so it is this server's when one of those networks holds a server IP; else `otherwise`
   * (how its host alone was classified). When a lookup that could have found such a network got no answer (the MX, or
   * an exchanger's / the host's A or AAAA: timeout, SERVFAIL), the term is unknown (unanswered), never `otherwise`: a
   * host known by name as a previous host's (stale) may still have an address whose network holds this server's IP, and
   * the SPF fix would drop a term this server's mail passes with. A mail service's term (keep) stays kept either way.
   */
  private async widened(term: string, t: Readonly<SpfTerm>, target: string, otherwise: Classification): Promise<Classification> {
    const hosts: string[] = [];
    let noAnswer: string | null = null;
    if (t.mechanism === 'mx') {
      const mx = await this.resolver.resolve(target, 'MX');
      if (mx.status === 'ok') for (const m of mx.records) if (m.exchange && m.exchange !== '.') hosts.push(m.exchange);
      if (mx.status === 'unknown') noAnswer = `the MX lookup of ${target} got no answer (${mx.error ?? 'DNS error'})`;
    } else hosts.push(target);
    for (const h of hosts) {
      for (const [type, bits] of [['A', t.cidr4], ['AAAA', t.cidr6]] as const) {
        if (bits === undefined) continue;
        const a = await this.resolver.resolve(h, type);
        if (a.status === 'unknown') noAnswer ??= `the ${type} lookup of ${h} got no answer (${a.error ?? 'DNS error'})`;
        if (a.status !== 'ok') continue;
        for (const ip of a.records as string[]) {
          const inside = this.serverIps.filter((sip) => cidrContains(`${ip}/${bits}`, sip));
          if (inside.length) return C('this-server', `${term}: ${h} resolves to ${ip}, whose /${bits} network holds this server's outbound IP ${inside.join(', ')}`);
        }
      }
    }
    if (noAnswer && otherwise.class !== 'keep') {
      const extra = otherwise.provider ? { provider: otherwise.provider, ...(otherwise.source ? { source: otherwise.source } : {}) } : undefined;
      return unanswered(`${term}: ${noAnswer}, so whether the networks it covers hold this server's outbound IP is not known (by name alone: ${otherwise.reason})`, extra);
    }
    return otherwise;
  }

  /** An `mx` term: the domain's exchangers, classified as hosts. */
  private async mxTarget(target: string): Promise<Classification> {
    const mx = await this.resolver.resolve(target, 'MX');
    if (mx.status === 'unknown') return unanswered(`could not resolve MX of ${target} (${mx.error ?? 'DNS error'})`);
    const hosts = filterList(mapList(mx.records, (m) => m.exchange), (h) => h && h !== '.');
    // Almost always one exchanger: no Promise.all (and its garbage) for that.
    const classes = hosts.length === 1 ? [await this.host(hosts[0])] : await Promise.all(hosts.map((h) => this.host(h)));
    // An exchanger that is this server by name or address says so; one only at this server's provider (another
    // machine there, or another address of this server) says which, and keeps that mark.
    if (classes.some((c) => c.class === 'this-server' && serverNetwork(c) === null)) return C('this-server', `an MX of ${target} is this server`);
    const near = classes.find((c) => c.class === 'this-server');
    if (near) return atServerNetwork({ ...near, reason: `mx of ${target}: ${near.reason}` }, serverNetwork(near)!);
    const stale = classes.find((c) => c.class === 'stale');
    if (stale) return { ...stale, reason: `mx of ${target}: ${stale.reason}` };
    const keep = classes.find((c) => c.class === 'keep');
    if (keep) return { ...keep, reason: `mx of ${target}: ${keep.reason}` };
    const noAnswer = classes.find(isUnanswered);
    if (noAnswer) return unanswered(`mx of ${target}: ${noAnswer.reason}`);
    return C(
      'unknown',
      hosts.length
        ? `${target}'s mail server${hosts.length === 1 ? ` ${hosts[0]} matches` : `s ${hosts.join(', ')} match`} nothing known`
        : `${target} has no MX`,
    );
  }

  // spfTerm and reportAddress return promises without being async functions: most answers are known at once, and
  // these run for every term and report address of every domain.
  spfTerm(term: string): Promise<Classification> {
    const known = this.spfTermNow(term);
    return known instanceof Promise ? known : Promise.resolve(known);
  }

  private spfTermNow(term: string): Classification | Promise<Classification> {
    // Read by the SPF parser itself, so every valid term is readable here — `a/24`, `mx//64`, `a:host/24//64` (RFC 7208
    // §5.6 dual CIDR lengths) included.
    const t = parseTermShared(term);
    if (!t.hasMacro || t.kind === 'invalid' || t.error) return this.spfTermAs(term, t);
    // %{d} and %{o} alone name one name for the domain's mail (receivers expand both to the domain in its own record, the
    // terms this classifies): the term is judged as that name — include:%{d}._spf.oldhost.example is the previous
    // host's record for this domain as surely as one written out (spf/tree.ts walks it so). Other macros depend on the
    // message.
    const name = termTarget(t, this.domain);
    if (!name) return C('unknown', `${term} uses macros: it is evaluated per message and cannot be resolved statically`);
    const as = withDomainSpec(t, name);
    const named = (x: Classification): Classification => reworded(x, `it names ${name} for ${this.domain}'s mail — ${x.reason}`);
    const c = this.spfTermAs(as, parseTermShared(as));
    return c instanceof Promise ? c.then(named) : named(c);
  }

  /** spfTermNow for `term`, read as `t`: any macro left in it depends on the message. */
  private spfTermAs(term: string, t: Readonly<SpfTerm>): Classification | Promise<Classification> {
    if (t.kind === 'invalid' || t.error) return C('unknown', `${term} is not a term mailhealth can read`);
    if (t.hasMacro) return C('unknown', `${term} uses macros: it is evaluated per message and cannot be resolved statically`);
    const c = this.spfTermPositive(term, t);
    // Only an answer that took DNS (a host, an address, the MX) can be a hosting provider's: with routing local, such
    // a term is asked where the live MX delivers (liveMxAt). Synchronous answers are never a provider's stale.
    const local = this.settings.routing === 'local' && c instanceof Promise;
    // A term with "-", "~" or "?" that would be this server's (covers its IP, names its host or relay) does not
    // authorise it: a match fails, softfails or neutralises this server's mail (RFC 7208 §4.6.2).
    if (t.kind !== 'mechanism' || t.qualifier === '+' || t.mechanism === 'all') return local ? (c as Promise<Classification>).then(this.liveMxCheck) : c;
    const judge = (x: Classification): Classification =>
      x.class === 'this-server'
        ? C('unknown', `its "${t.qualifier}" qualifier ${qualifierEffect(t.qualifier)} this server's mail instead of authorising it (${x.reason})`)
        : x;
    if (!(c instanceof Promise)) return judge(c);
    return local ? c.then((x) => this.liveMxAt(judge(x))) : c.then(judge);
  }

  /**
   * What a term names, as if its qualifier were "+". Of the modifiers only redirect= names a sender: exp= names the
   * text receivers show when they reject, and whose that name is (the customer's, a previous host's) is judged by
   * spf/exp.ts (judgeExp, with the record's other terms as evidence), which the SPF check and fix ask instead — neither
   * hands an exp= or an unknown modifier here. One given anyway is unknown, never kept.
   */
  private spfTermPositive(term: string, t: Readonly<SpfTerm>): Classification | Promise<Classification> {
    if (t.kind === 'modifier') {
      // The domain's own record, redirected to, never comes here: the check reports that loop as the permerror it is
      // (or the term as ignored, beside `all`), and the SPF fix drops it before classifying.
      if (t.modifier === 'redirect') {
        const own = this.ownRecord(t);
        return own ? C('unknown', `${own} is an SPF record of ${this.domain}'s own: whom it authorises is judged by its terms`) : this.host(t.domainSpec ?? '');
      }
      return C('unknown', `${term} is a modifier that names no sender: there is nothing to classify`);
    }
    switch (t.mechanism) {
      case 'all':
        return C('this-server', 'the policy for everyone else');
      case 'ip4':
      case 'ip6': {
        const range = ipTermRange(t) ?? '';
        const wide = permissiveRange(t);
        if (wide) return C('unknown', `it covers ${wide}: it names no particular sender, it lets nearly every server on the internet send`);
        // As written (the bare address, or address/prefix): a bare address is the same key the mx check's use.
        const cidr = t.mechanism === 'ip4' ? t.cidr4 : t.cidr6;
        return this.ip(cidr === undefined ? t.ip! : range);
      }
      case 'a':
      case 'mx': {
        const wide = permissiveRange(t);
        if (wide) return C('unknown', `it covers ${wide}: it names no particular sender, it lets nearly every server on the internet send`);
        const target = t.domainSpec ?? this.domain;
        // `a` and `a:<host>` classify the same host the same way; `mx` goes through the domain's exchangers.
        const c = t.mechanism === 'a' ? this.host(target) : this.mxTarget(target);
        return t.cidr4 === undefined && t.cidr6 === undefined ? c : c.then((x) => (x.class === 'this-server' ? x : this.widened(term, t, target, x)));
      }
      case 'include': {
        // The domain's own record, included, never comes here (see redirect above). A record below the domain
        // (include:_spf.<domain>) is the customer's own list of senders, judged by its terms (spf/own.ts), not a host
        // to judge by its addresses (it has none: it was "has no address").
        // (One the knowledge names — GoDaddy's dc-…._spfm.<domain>, the record its DNS writes a customer's connected
        // services into — is classified as that.)
        const own = this.ownRecord(t);
        if (own) return C('unknown', `${own} is an SPF record of ${this.domain}'s own: whom it authorises is judged by its terms`);
        return this.host(t.domainSpec ?? '');
      }
      case 'ptr':
        return C('unknown', 'ptr is slow, deprecated (RFC 7208 §5.5) and ignored by many receivers');
      case 'exists':
        return C('unknown', `${term} is evaluated per message`);
      default:
        return C('unknown', `${term} is not a term mailhealth recognises`);
    }
  }

  /** The record of the domain's own an include:/redirect= leads to (spf/own.ts), unless the knowledge names it. */
  private ownRecord(t: Readonly<SpfTerm>): string | null {
    return ownRecordAt(this.domain, t, this.knowledge);
  }

  dkimKey(selector: string, publicKeyB64: string | null, aliases?: readonly string[]): Promise<Classification> {
    const { settings, domain } = this;
    const sel = selector.toLowerCase();
    if (sel === this.serverSelector) {
      // No key to compare with: a panel that signs with a key it does not hand over (Plesk without the key file) may sign
      // with this one or not; one that does not sign and has no key signs with none (the DKIM fix replaces it with the
      // key the panel generates, unless it is left alone) — whose it is, a previous host's or a sending service's, is
      // not known either way.
      if (!settings.dkim.publicKey) {
        return Promise.resolve(
          C(
            'unknown',
            settings.dkim.signing
              ? `this server signs ${domain}'s mail with a key mailhealth cannot read here, so whether it is this key is not known`
              : `this server has no DKIM key for ${domain} and does not sign its mail, so this key is not one it signs with`,
          ),
        );
      }
      if (!publicKeyB64) return Promise.resolve(C('unknown', 'the record has no public key'));
      const a = canonicalKey(publicKeyB64);
      const b = canonicalKey(settings.dkim.publicKey);
      if (a && b && a === b) return Promise.resolve(C('this-server', `the key at ${sel}._domainkey is the key this server signs with`));
      return Promise.resolve(C('stale', `the key at ${sel}._domainkey is not the key this server signs with — most likely the previous host's`));
    }
    // This server's own key published at another selector (another provider's name, as it may be) is this server's,
    // whoever else uses the name.
    if (publicKeyB64 && settings.dkim.publicKey) {
      const a = canonicalKey(publicKeyB64);
      if (a && a === canonicalKey(settings.dkim.publicKey)) {
        return Promise.resolve(
          C('this-server', `the key at ${sel}._domainkey is the key this server signs with, but this server signs with selector ${this.serverSelector}: receivers look for it at ${this.serverSelector}._domainkey`),
        );
      }
    }
    const delivery = this.mailDelivery();
    return delivery ? delivery.then((d) => this.otherSelector(sel, aliases, d)) : Promise.resolve(this.liveMxAt(this.otherSelector(sel, aliases, null)));
  }

  /**
   * A key at a selector that is not this server's. A selector published as a CNAME is classified by the provider of
   * its target (mail-auth.md §2: follow the CNAME, report the target) — "s1" is SendGrid's name and IONOS's, the
   * target tells which. Else by the providers that use the selector's name.
   */
  private otherSelector(sel: string, aliases: readonly string[] | undefined, delivery: MailDelivery | null): Classification {
    const { knowledge } = this;
    for (const target of aliases ?? []) {
      const p = knowledge.matchHost(target);
      if (p) return this.byProvider(p, `${sel}._domainkey (an alias of ${target})`, delivery);
    }
    const ps = knowledge.selectorProviders(sel);
    if (!ps.length) {
      const to = aliases?.length ? ` (an alias of ${aliases[aliases.length - 1]}, which matches no known provider)` : '';
      return C('unknown', `selector ${sel}${to} is not this server's and matches no known mail service`);
    }
    // Several providers may use one name: the provider the domain's mail is delivered to, then this server's own, then
    // the mail services using it (kept); stale only when every provider using the name is a previous-host candidate.
    const what = `selector ${sel}`;
    const delivered = ps.find((p) => delivery?.providers.has(p.id));
    if (delivered) return this.byProvider(delivered, what, delivery);
    const mine = ps.find((p) => this.serverProviders.has(p.id));
    if (mine) return this.byProvider(mine, what, delivery);
    const services = ps.filter((p) => p.kind === 'mail-service' || p.kind === 'report-processor');
    if (services.length) return C('keep', `${sel} is a selector of ${services.map((p) => p.name).join(' / ')}`, { provider: services[0].id, source: services[0].source });
    return this.byProvider(ps.find((p) => p.kind === 'shared-infrastructure') ?? ps[0], what, delivery);
  }

  /**
   * lockdownId for an id naming only hosting providers, none this server's: stale — unless `delivery` (mail routed
   * elsewhere: where it is delivered) says the mail goes to that provider (kept: unknown) or could not be told
   * (unanswered, never stale).
   */
  private hostedLockdownId(what: string, named: readonly Provider[], delivery: MailDelivery | null, account: string | undefined): Classification {
    const p = named.find((x) => delivery?.providers.has(x.id)) ?? named[0];
    const extra = { provider: p.id, source: p.source };
    if (delivery) {
      const mx = delivery.providers.get(p.id);
      // With routing local, `delivery` is the live MX alone (liveMxAt: the MX may be left over, or the mailboxes there).
      const remote = this.settings.routing === 'remote';
      if (mx && remote) {
        return C('unknown', `${what} names ${p.name}, where ${this.domain}'s mail is delivered (MX ${mx.join(', ')}; the panel routes its mail elsewhere): mail sent there may go out through that account`, extra);
      }
      if (mx) {
        return C('unknown', `${what} names ${p.name}, where ${this.domain}'s live MX delivers its mail (MX ${mx.join(', ')}) while the panel delivers it on this server: ${this.eitherWay(p.name, 'mail sent from them may go out through that account')}`, extra);
      }
      if (delivery.error) {
        // Not known because DNS did not answer: marked so (unanswered), nothing is concluded from it.
        return remote
          ? unanswered(`${what} names ${p.name}, a hosting provider; ${this.domain}'s mail is routed elsewhere (panel setting) but ${delivery.error}, so whether its mail is delivered there is unknown`, extra)
          : unanswered(`${what} names ${p.name}, a hosting provider that is not this server; whether ${this.domain}'s live MX still delivers its mail there could not be told: ${delivery.error}`, extra);
      }
    }
    return C('stale', `${what} names ${p.name}, a hosting provider that is not this server: left by a previous host (this host's MailChannels account is ${account})`, extra);
  }

  /**
   * A Domain Lockdown id (`auth=`, or the provider part of `senderid=`/`sidw=`, before the first "|"). Any field that
   * matches lets a message through (mail-auth.md §4), so an id that is not this host's account is not wrong by itself:
   * the customer may send through a MailChannels account of their own (the Email API) beside the host. It is stale
   * only with evidence that it is a previous host's:
   *  - it names a hosting provider of the knowledge base (Knowledge.providersNamed: its id, the first label of its host
   *    names, its name as one word — `dreamhost` ↔ DreamHost), and every provider the name denotes is one (a name a
   *    mail service shares proves nothing), unless that provider is this server's own (another account of the current
   *    host, not a leftover) or — the panel routing the domain's mail elsewhere — the one its mail is delivered to
   *    (mail sent there may go out through that account). Where it is delivered is MailDelivery's answer, as for every
   *    other remote-routing decision here (byProvider): the live MX and the panel's copy together, then the PTR names
   *    of unnamed MX hosts' addresses — not the panel's copy alone, which is stale where the domain's DNS is served
   *    elsewhere, asked only when it decides. With the panel delivering the mail here (routing local), a live MX at
   *    that provider leaves the id unknown as well (liveMxAt: the MX left over, or the mailboxes still there). When
   *    DNS does not answer, the id is unknown (unanswered), never stale;
   *  - it names the organisation of the old nameservers / SOA the zone still lists (traceOrgs: the first label of
   *    that registrable domain, or all of it), the same evidence that makes an SPF include there stale. Sound because
   *    those names are only recorded when they are neither this server's nor the domain's own: the id then names the
   *    host the domain came from, which a customer's own account would hardly be called after.
   * Anything else is unknown: the fix keeps it unless the user selects it for removal. Only exact names count —
   * "hostgatormc" is not "hostgator": a customer's account may be called anything.
   */
  lockdownId(field: 'auth' | 'senderid' | 'sidw', value: string): Classification | Promise<Classification> {
    const relay = this.settings.relay;
    const mine = relay && relay.provider === 'mailchannels' ? relay.authId?.toLowerCase() : undefined;
    const v = value.toLowerCase();
    const id = field === 'auth' ? v : v.split('|')[0];
    if (mine && id === mine) return C('this-server', `${value} is this host's MailChannels account id`);
    if (!relay || relay.provider !== 'mailchannels') {
      return C('stale', `this server does not relay through MailChannels; ${field}=${value} was set up by a previous host`);
    }
    if (!mine) return C('unknown', `this server relays through MailChannels but its account id is not configured (set it in the admin settings), so ${field}=${value} cannot be checked`);
    const what = field === 'auth' ? `${field}=${value}` : `${field}=${value} (provider ${value.split('|')[0]})`;
    const named = this.knowledge.providersNamed(id);
    if (named.length && named.every((p) => p.kind === 'hosting')) {
      const own = named.find((p) => this.serverProviders.has(p.id));
      if (own) {
        return C('unknown', `${what} names ${own.name}, the provider this server is at (${this.serverProviders.get(own.id)}), but not this host's MailChannels account (${relay.authId}): another account of this host, or the customer's own`, { provider: own.id, source: own.source });
      }
      // Where the mail is delivered decides (the live MX, and with the panel routing it elsewhere its copy too; with
      // routing local the live MX at that provider leaves it unknown, see liveMxAt). Asked only here: it takes DNS, and
      // every other answer is synchronous — no promise per id.
      return this.delivered().then((d) => this.hostedLockdownId(what, named, d, relay.authId));
    }
    for (const [org, why] of this.traceOrgs) {
      if (id === org || id === org.split('.')[0]) return C('stale', `${what} names ${org}, the previous host: ${why} (this host's MailChannels account is ${relay.authId})`);
    }
    return C('unknown', `${what} is not this host's MailChannels account (${relay.authId}), and nothing identifies it: the customer's own MailChannels account, or a previous host's`);
  }

  reportAddress(address: string): Promise<Classification> {
    return Promise.resolve(this.reportAddressNow(address));
  }

  private reportAddressNow(address: string): Classification | Promise<Classification> {
    const at = address.lastIndexOf('@');
    const host = canonName(at >= 0 ? address.slice(at + 1) : address);
    const org = orgDomain(host);
    if (inZone(host, this.domain) || org === this.domainOrg) return C('this-server', `${address} is on the domain itself`);
    if (this.serverOrgs.has(org)) return C('this-server', `${address} is at this server's host`);
    const k = this.fromKnowledge(host);
    if (k) return k;
    const t = this.traceOrgs.get(org);
    if (t) return C('stale', `${host} is at the same provider as the old DNS: ${t}`);
    return C('unknown', `${host} matches nothing known`);
  }
}
