// Knowledge as data: provider fingerprints (providers.json) with a source per entry. Lookups only — no policy here.
import providersData from './providers.json' with { type: 'json' };

/**
 * hosting: a previous host's leftovers are stale candidates. mail-service / report-processor: kept.
 * shared-infrastructure: filtering or relay networks many hosts share; a match names the network, not a host, so it is
 * never evidence of a previous host (classified unknown).
 * (Policy on top — the current server's own provider, a provider the domain's mail is delivered to — lives in
 * src/core/classify.ts.)
 */
export type ProviderKind = 'hosting' | 'mail-service' | 'report-processor' | 'shared-infrastructure';
export interface Provider {
  id: string;
  name: string;
  kind: ProviderKind;
  /**
   * Host patterns of the provider's SPF includes. A pattern is a host-name suffix matched on label boundaries
   * ("websitewelcome.com" matches "gator123.websitewelcome.com"), or — ending in "." — a leading pattern: the host's
   * first labels, "*" standing for any run of characters within one label, followed by at least one more label
   * ("dc-*._spfm." matches "dc-aa1b2c3d4e._spfm.customer.example").
   */
  spf: string[];
  /** Host patterns of the provider's other names (MX, NS, PTR, report hosts), in the same syntax as `spf`. */
  hosts: string[];
  /** DKIM selectors: exact names, or — ending in "-" — a prefix ("hs1-" matches "hs1-4242424"). */
  dkimSelectors?: string[];
  /**
   * Host-name suffixes (as in `hosts`) of the provider's own inbound mail: MX hosts that take its hosting customers'
   * mail and pass it on to the server hosting the domain (a filtering front), rather than being one server among its
   * others. An MX there is this server's when the provider is this server's, whatever its addresses.
   */
  inboundMx?: string[];
  /**
   * A relay network a server sends its mail through (a smarthost): a smarthost, or an SPF include host an admin lists,
   * that is one of the provider's names means the server relays through it, and its SPF include is the provider's
   * first `spf` entry (relayOf). Mailhealth knows one: MailChannels (its `_mailchannels` lockdown record is checked).
   */
  relay?: boolean;
  confidence: 'high' | 'medium' | 'low';
  source: string;
  note?: string;
}

export interface Knowledge {
  providers: Provider[];
  /**
   * Provider whose SPF include (or host pattern) matches a host name. Leading patterns are tried first, then the
   * longest matching suffix; on one pattern, SPF-include entries win over host suffixes (the first provider to list it).
   */
  matchHost(host: string): Provider | null;
  /** Providers (of any kind) that publish keys at this selector. */
  selectorProviders(selector: string): Provider[];
  /** Display name of a provider id (e.g. "mailchannels" → "MailChannels"); the id itself when unknown. */
  displayName(id: string): string;
  /**
   * Providers (of any kind) a bare name denotes — such as a MailChannels account id, or the provider part of a sender
   * id: compared case-insensitively with each provider's `id` and its display name written as one word ("DreamHost" →
   * "dreamhost"; each name of "Bluehost / JustHost (Unified Layer)", without the parenthesis) — not its host names'
   * labels, which include generic words. Exact matches only: "dreamhostmc" names nobody.
   */
  providersNamed(name: string): Provider[];
}

const KINDS: ReadonlySet<string> = new Set<ProviderKind>(['hosting', 'mail-service', 'report-processor', 'shared-infrastructure']);
const SUFFIX = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const LEADING = /^(?:[a-z0-9_*-]+\.)+$/;
const SELECTOR = /^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_-])?$/;

/** What is wrong with a providers list (empty when nothing is): the data format above, checked before use. */
export function validateProviders(providers: Provider[]): string[] {
  const errors: string[] = [];
  const ids = new Set<string>();
  for (const p of providers) {
    const at = `provider ${JSON.stringify(p.id)}`;
    if (!p.id || ids.has(p.id)) errors.push(`${at}: missing or duplicate id`);
    ids.add(p.id);
    if (!p.name) errors.push(`${at}: no name`);
    if (!KINDS.has(p.kind)) errors.push(`${at}: unknown kind ${JSON.stringify(p.kind)}`);
    if (!p.source || !p.source.trim()) errors.push(`${at}: no source`);
    if (!['high', 'medium', 'low'].includes(p.confidence)) errors.push(`${at}: confidence ${JSON.stringify(p.confidence)}`);
    for (const pat of p.inboundMx ?? []) {
      if (!SUFFIX.test(pat) || !pat.includes('.')) errors.push(`${at}: bad inbound MX suffix ${JSON.stringify(pat)} (a lower-case suffix such as "example.com")`);
      else if (!(p.hosts ?? []).some((h) => pat === h || pat.endsWith(`.${h}`))) errors.push(`${at}: inbound MX suffix ${JSON.stringify(pat)} is not under one of its hosts`);
    }
    for (const pat of [...(p.spf ?? []), ...(p.hosts ?? [])]) {
      const ok = pat.endsWith('.') ? LEADING.test(pat) && pat.includes('*') : SUFFIX.test(pat) && pat.includes('.');
      if (!ok) errors.push(`${at}: bad host pattern ${JSON.stringify(pat)} (a lower-case suffix such as "example.com", or a leading pattern with "*" ending in ".")`);
    }
    if (p.relay !== undefined && typeof p.relay !== 'boolean') errors.push(`${at}: relay ${JSON.stringify(p.relay)} (true or absent)`);
    if (p.relay && !(p.spf ?? []).length) errors.push(`${at}: a relay with no SPF include`);
    for (const s of p.dkimSelectors ?? []) {
      if (!SELECTOR.test(s)) errors.push(`${at}: bad DKIM selector ${JSON.stringify(s)} (lower case; a prefix ends in "-")`);
    }
  }
  return errors;
}

/** Leading patterns compiled, by pattern: each is compiled once, however many knowledge bases or questions use it. */
const leadingCompiled = new Map<string, RegExp>();

function leadingRegExp(pat: string): RegExp {
  const known = leadingCompiled.get(pat);
  if (known) return known;
  const body = pat
    .slice(0, -1)
    .split('.')
    .map((label) => label.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('[^.]*'))
    .join('\\.');
  const re = new RegExp(`^${body}\\.[^.]`);
  leadingCompiled.set(pat, re);
  return re;
}

/**
 * Whether `host` is one of `provider`'s SPF include hosts: a leading pattern of its `spf` matches it, or it is one of
 * its suffix patterns or a name under one (any case, a trailing dot or not) — the rule matchHost applies, asked of this
 * provider's `spf` alone, whichever provider matchHost would give the host to.
 */
export function spfPatternMatches(provider: Provider, host: string): boolean {
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return provider.spf.some((pat) => (pat.endsWith('.') ? leadingRegExp(pat).test(h) : h === pat || h.endsWith(`.${pat}`)));
}

export function makeKnowledge(providers: Provider[]): Knowledge {
  const errors = validateProviders(providers);
  if (errors.length) throw new Error(`invalid provider knowledge: ${errors.join('; ')}`);
  // Host patterns (SPF includes and host suffixes, lower case) → the provider that wins them: the first provider to
  // list a pattern. A host matches a pattern when it is the pattern or ends in "." + pattern, and the longest pattern
  // wins, so walking the host's suffixes from the longest down finds the winner in a few map lookups.
  // Leading patterns (few) are tried before, one regular expression each.
  // The providers list is fixed once the knowledge is made.
  const byPattern = new Map<string, Provider>();
  // Bare names → the providers they name (in list order, each once).
  const byName = new Map<string, Provider[]>();
  const name = (n: string, p: Provider) => {
    if (!n) return;
    const at = byName.get(n);
    if (!at) byName.set(n, [p]);
    else if (!at.includes(p)) at.push(p);
  };
  // Only the provider's id and its name as one word: the first labels of its host names include generic words
  // (jellyfish, privateemail, your-server, web-hosting) that a customer's own account may well be called (review).
  for (const p of providers) {
    name(p.id.toLowerCase(), p);
    for (const part of p.name.replace(/\([^)]*\)/g, '').split('/')) name(part.toLowerCase().replace(/[^a-z0-9]/g, ''), p);
  }
  const leading: { re: RegExp; p: Provider }[] = [];
  for (const p of providers) {
    for (const pat of p.spf.concat(p.hosts)) {
      if (pat.endsWith('.')) leading.push({ re: leadingRegExp(pat), p });
      else if (!byPattern.has(pat)) byPattern.set(pat, p);
    }
  }
  return {
    providers,
    matchHost(host) {
      let h = host.toLowerCase();
      if (h.endsWith('.')) h = h.slice(0, -1);
      for (let i = 0; i < leading.length; i++) if (leading[i].re.test(h)) return leading[i].p;
      const whole = byPattern.get(h);
      if (whole) return whole;
      for (let i = h.indexOf('.'); i >= 0; i = h.indexOf('.', i + 1)) {
        const p = byPattern.get(h.slice(i + 1));
        if (p) return p;
      }
      return null;
    },
    selectorProviders(selector) {
      const s = selector.toLowerCase();
      return providers.filter((p) => (p.dkimSelectors ?? []).some((x) => (x.endsWith('-') ? s.length > x.length && s.startsWith(x) : x === s)));
    },
    displayName(id) {
      return providers.find((p) => p.id === id)?.name ?? id;
    },
    providersNamed(n) {
      return byName.get(n.trim().toLowerCase())?.slice() ?? [];
    },
  };
}

export const defaultKnowledge: Knowledge = makeKnowledge((providersData as { providers: Provider[] }).providers);

/** A relay network (a provider marked `relay`): its provider id and the SPF include host it documents. */
export interface Relay {
  provider: string;
  include: string;
}

const relayOfProvider = (p: Provider | null | undefined): Relay | null => (p?.relay && p.spf.length ? { provider: p.id, include: p.spf[0] } : null);

/**
 * The relay network a host name belongs to — a smarthost, or an SPF include host an admin lists — when it is one of a
 * relay provider's names (matchHost: the name or a name under it, any case, a trailing dot or not): `mail.mailchannels.net`
 * → MailChannels with its include `relay.mailchannels.net`. Null for any other host (another smarthost is named by its
 * own host). The one place the adapters recognise a relay, so the knowledge stays in providers.json.
 */
export function relayOf(host: string, knowledge: Knowledge = defaultKnowledge): Relay | null {
  return host ? relayOfProvider(knowledge.matchHost(host)) : null;
}

/** The relay a provider id names ("mailchannels"), when that provider is a relay; else null. */
export function relayById(id: string, knowledge: Knowledge = defaultKnowledge): Relay | null {
  return relayOfProvider(knowledge.providers.find((p) => p.id === id));
}
