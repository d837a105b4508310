// RFC 7208 check_host() over an injected Resolver. Pure apart from the resolver; never throws for bad input.
// Limits (§4.6.4): 10 DNS-querying terms per evaluation, more than 2 void lookups → permerror, an `mx` with more than
// 10 MX names → permerror, `ptr` / %{p} look at the first 10 PTR names only.
import ipaddr from 'ipaddr.js';
import type { Answer, Resolver, RRType } from '../resolver.js';
import { parseSpf, selectSpf, tokenizeMacroString, type MacroToken, type SpfTerm } from './parse.js';

export type SpfResult = 'none' | 'neutral' | 'pass' | 'fail' | 'softfail' | 'temperror' | 'permerror';

export interface SpfEvaluation {
  result: SpfResult;
  /** Rendered exp= text (only for `fail` when the record has a usable exp=). Absent = the receiver's default. */
  explanation?: string;
  /** DNS-querying terms evaluated (include, a, mx, ptr, exists, redirect). */
  lookups: number;
  voidLookups: number;
  /** What happened, step by step, for people. */
  trace: string[];
  /** Why the result is permerror/temperror/none, in words. */
  reason?: string;
  /**
   * Lookups that got no answer (timeout, SERVFAIL) but that RFC 7208 treats as "no match" rather than temperror
   * (ptr / %{p}: §5.5). The result is what a receiver computes; a checker cannot say whether the term would have
   * matched, so a non-pass result with this set is not proof the sender is unauthorised. Absent when none.
   */
  dnsTrouble?: string[];
  /**
   * The mechanism of the checked domain's own record that matched and decided the result, as written (e.g.
   * "-ip4:203.0.113.0/28", "~all"). Absent when no mechanism of that record matched (its redirect= decided, or no match
   * → neutral) or the evaluation stopped with an error.
   */
  decidedBy?: string;
  /**
   * For each void lookup counted, in order, the term of the checked domain's own record (as written) being evaluated
   * when it was: the term itself, or the include/redirect= whose record made it. A record's term that costs two has two
   * entries. Absent when there was none. Where the void limit ended the evaluation (permerror), a term that matches
   * this sender put before the first of these decides before any void lookup is made.
   */
  voidsAt?: string[];
  /**
   * Where a permerror ended the evaluation: the term of the checked domain's own record (as written) being evaluated —
   * the term itself, or the include/redirect= whose record (or a record further down) was the error. Absent for another
   * result, and for an error of the record itself (its syntax, several SPF records). Terms before it were evaluated
   * without one: a term that matches this sender put before it decides first.
   */
  permerrorAt?: string;
}

export interface CheckHostOptions {
  maxLookups?: number;
  maxVoidLookups?: number;
  /** Domain of the receiving host, for %{r} in explanations (default "unknown"). */
  receiver?: string;
  /** Seconds since the epoch for %{t} (default: now). */
  timestamp?: number;
}

const QUALIFIER_RESULT: Record<string, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

class Abort extends Error {
  constructor(
    public readonly result: 'permerror' | 'temperror',
    public readonly reason: string,
  ) {
    super(reason);
  }
}

interface Inner {
  result: SpfResult;
  /** exp= of the record whose mechanism decided a `fail` (after redirects, never through include). */
  exp?: { spec: string; domain: string };
}

/** A syntactically usable DNS name: ≤253 octets, labels 1–63 octets. */
export function isQueryableName(name: string): boolean {
  const len = name.endsWith('.') ? name.length - 1 : name.length;
  if (len === 0 || len > 253) return false;
  // Every label 1..63 characters (no empty label: no leading dot, no two dots in a row, no trailing dot left).
  let start = 0;
  for (let i = 0; i <= len; i++) {
    if (i === len || name.charCodeAt(i) === 0x2e) {
      const l = i - start;
      if (l === 0 || l > 63) return false;
      start = i + 1;
    }
  }
  return true;
}

const TOPLABEL = /^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$/;

/** §4.3: a domain check_host() can start from — an FQDN with at least two labels and a proper top-level label. */
export function isValidSpfDomain(domain: string): boolean {
  const n = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (!isQueryableName(n) || /[^\x21-\x7e]/.test(n)) return false;
  const labels = n.split('.');
  return labels.length >= 2 && TOPLABEL.test(labels[labels.length - 1]);
}

function reverseName(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (ip.kind() === 'ipv4') return `${ip.toByteArray().reverse().join('.')}.in-addr.arpa`;
  return `${nibbles(ip as ipaddr.IPv6).reverse().join('.')}.ip6.arpa`;
}

function nibbles(ip: ipaddr.IPv6): string[] {
  return ip
    .toByteArray()
    .flatMap((b) => [b >> 4, b & 15])
    .map((n) => n.toString(16));
}

/** URL-escape for upper-case macro letters (§7.3): everything but unreserved characters. */
function urlEscape(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

type Macro = Extract<MacroToken, { kind: 'macro' }>;

/** One macro with its transformers (§7.3): split on the delimiters, reversed, the rightmost parts kept, joined with "."; URL-escaped for an upper-case letter. */
function expandMacro(t: Macro, value: string): string {
  if (t.digits !== undefined || t.reverse || t.delimiters) {
    const delims = t.delimiters || '.';
    let parts = value.split(new RegExp(`[${delims.replace(/[-\\\]^/]/g, '\\$&')}]`));
    if (t.reverse) parts = parts.reverse();
    if (t.digits !== undefined && t.digits < parts.length) parts = parts.slice(parts.length - t.digits);
    value = parts.join('.');
  }
  return t.upper ? urlEscape(value) : value;
}

/** An expanded domain-spec as the name looked up (§7.3): the trailing dot dropped, truncated from the left to 253 octets. */
function asTargetName(name: string): string {
  if (name.endsWith('.')) name = name.slice(0, -1);
  while (name.length > 253 && name.includes('.')) name = name.slice(name.indexOf('.') + 1);
  return name;
}

/**
 * The name a domain-spec names for the domain's own mail, expanded as check_host expands it (RFC 7208 §7.3, the same
 * transformers), when its only macros are %{d} — the domain whose record holds the term (`domain`: the checked domain
 * in its own record, the included or redirected-to name in the record an include or redirect= leads to) — and %{o},
 * the MAIL FROM domain (`sender`: the checked domain, in every record its own leads to). Neither depends on the message:
 * `include:%{d}._spf.example.net` is as fixed a name as a plain one. Null when another macro (%{i}, %{s}, %{l}, %{h},
 * %{p}, %{v}: the client, the sender's local part) makes it depend on the message, or the spec is no macro-string.
 */
export function staticDomainSpec(spec: string, domain: string, sender: string): string | null {
  const t = tokenizeMacroString(spec);
  if ('error' in t) return null;
  let out = '';
  for (const x of t.tokens) {
    if (x.kind !== 'macro') out += x.text;
    else if (x.letter === 'd' || x.letter === 'o') out += expandMacro(x, x.letter === 'd' ? domain : sender);
    else return null;
  }
  return asTargetName(out);
}

function sameAddress(a: ipaddr.IPv4 | ipaddr.IPv6, b: string): boolean {
  try {
    const p = ipaddr.process(b);
    return p.kind() === a.kind() && p.toNormalizedString() === a.toNormalizedString();
  } catch {
    return false;
  }
}

class Evaluation {
  lookups = 0;
  voids = 0;
  readonly trace: string[] = [];
  /** See SpfEvaluation.dnsTrouble. */
  readonly dnsTrouble: string[] = [];
  /** See SpfEvaluation.decidedBy. */
  decidedBy: string | undefined;
  /** See SpfEvaluation.voidsAt. */
  readonly voidsAt: string[] = [];
  /** The term of the checked domain's own record being evaluated (what voidsAt and permerrorAt record). */
  top: string | undefined;
  private readonly ip: ipaddr.IPv4 | ipaddr.IPv6;
  private readonly v4: boolean;
  private readonly local: string;
  private readonly senderDomain: string;
  private pCache = new Map<string, Promise<string>>();
  private readonly maxLookups: number;
  private readonly maxVoids: number;

  constructor(
    private readonly resolver: Resolver,
    ip: string,
    sender: string,
    private readonly helo: string,
    private readonly opts: CheckHostOptions,
  ) {
    this.ip = ipaddr.process(ip);
    this.v4 = this.ip.kind() === 'ipv4';
    const at = sender.lastIndexOf('@');
    const local = at < 0 ? '' : sender.slice(0, at);
    this.local = local === '' ? 'postmaster' : local;
    this.senderDomain = at < 0 ? sender : sender.slice(at + 1);
    this.maxLookups = opts.maxLookups ?? 10;
    this.maxVoids = opts.maxVoidLookups ?? 2;
  }

  private async query<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    return this.resolver.resolve(name, type);
  }

  private countLookup(term: string): void {
    this.lookups++;
    if (this.lookups > this.maxLookups) throw new Abort('permerror', `more than ${this.maxLookups} DNS-querying terms (at "${term}")`);
  }

  private countVoid(what: string): void {
    this.voids++;
    if (this.top !== undefined) this.voidsAt.push(this.top);
    this.trace.push(`void lookup #${this.voids}: ${what}`);
    if (this.voids > this.maxVoids) throw new Abort('permerror', `more than ${this.maxVoids} void DNS lookups (at ${what})`);
  }

  // ------------------------------------------------------------------------------------------ macros

  private async macroValue(letter: string, domain: string): Promise<string> {
    switch (letter) {
      case 's':
        return `${this.local}@${this.senderDomain}`;
      case 'l':
        return this.local;
      case 'o':
        return this.senderDomain;
      case 'd':
        return domain;
      case 'i':
        return this.v4 ? this.ip.toString() : nibbles(this.ip as ipaddr.IPv6).join('.');
      case 'v':
        return this.v4 ? 'in-addr' : 'ip6';
      case 'h':
        return this.helo;
      case 'p':
        return this.validatedName(domain);
      case 'c':
        return this.v4 ? this.ip.toString() : (this.ip as ipaddr.IPv6).toRFC5952String();
      case 'r':
        return this.opts.receiver ?? 'unknown';
      case 't':
        return String(this.opts.timestamp ?? Math.floor(Date.now() / 1000));
      default:
        return '';
    }
  }

  async expandTokens(tokens: MacroToken[], domain: string): Promise<string> {
    let out = '';
    for (const t of tokens) out += t.kind === 'macro' ? expandMacro(t, await this.macroValue(t.letter, domain)) : t.text;
    return out;
  }

  /** Expand a domain-spec into a target name: §7.3 truncation to 253 octets, trailing dot dropped. */
  async targetName(spec: string, domain: string): Promise<string> {
    const t = tokenizeMacroString(spec);
    if ('error' in t) throw new Abort('permerror', t.error); // parse already rejected it
    return asTargetName(await this.expandTokens(t.tokens, domain));
  }

  /** %{p}: a validated host name of the client IP (§7.3), preferring the domain itself, then its subdomains. */
  private validatedName(domain: string): Promise<string> {
    const key = domain.toLowerCase();
    let p = this.pCache.get(key);
    if (!p) {
      p = this.validatedNames().then((names) => {
        const d = key.replace(/\.$/, '');
        return (
          names.find((n) => n.toLowerCase() === d) ??
          names.find((n) => n.toLowerCase().endsWith(`.${d}`)) ??
          names[0] ??
          'unknown'
        );
      });
      this.pCache.set(key, p);
    }
    return p;
  }

  private async validatedNames(countVoid = false): Promise<string[]> {
    const rev = reverseName(this.ip);
    const ans = await this.query(rev, 'PTR');
    if (ans.status === 'unknown') {
      this.trace.push(`ptr: ${rev} PTR: DNS error (${ans.error ?? 'unknown'}), no match`);
      this.dnsTrouble.push(`${rev} PTR: DNS error (${ans.error ?? 'unknown'})`);
      return [];
    }
    if (ans.status !== 'ok' || ans.records.length === 0) {
      if (countVoid) this.countVoid(`${rev} PTR`);
      return [];
    }
    const names = ans.records.slice(0, 10).map((n) => n.replace(/\.$/, ''));
    const out: string[] = [];
    for (const name of names) {
      if (!isQueryableName(name)) continue;
      const a = await this.query(name, this.v4 ? 'A' : 'AAAA');
      if (a.status === 'unknown') this.dnsTrouble.push(`${name} ${this.v4 ? 'A' : 'AAAA'}: DNS error (${a.error ?? 'unknown'})`);
      if (a.status === 'ok' && a.records.some((r) => sameAddress(this.ip, r))) out.push(name);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ check_host

  async checkHost(domain: string, depth: number): Promise<Inner> {
    const d = domain.replace(/\.$/, '');
    if (!isValidSpfDomain(d)) {
      this.trace.push(`${d}: not a valid domain name → none`);
      return { result: 'none' };
    }
    const txt = await this.query(d, 'TXT');
    if (txt.status === 'unknown') throw new Abort('temperror', `${d} TXT: DNS error (${txt.error ?? 'unknown'})`);
    if (txt.status !== 'ok') {
      this.trace.push(`${d}: no TXT records → none`);
      return { result: 'none' };
    }
    const sel = selectSpf(txt.records);
    if (sel.status === 'none') {
      this.trace.push(`${d}: no SPF record → none`);
      return { result: 'none' };
    }
    if (sel.status === 'multiple') throw new Abort('permerror', `${d}: ${sel.records.length} SPF records`);
    const record = sel.record;
    this.trace.push(`${d}: ${record}`);
    const parsed = parseSpf(record);
    if (parsed.errors.length) throw new Abort('permerror', `${d}: ${parsed.errors.map((e) => e.reason).join('; ')}`);

    for (const term of parsed.terms) {
      if (term.kind !== 'mechanism') continue;
      if (depth === 0) this.top = term.raw;
      const matched = await this.matches(term, d, depth);
      if (matched) {
        const result = QUALIFIER_RESULT[term.qualifier];
        this.trace.push(`${d}: ${term.raw} matched → ${result}`);
        if (depth === 0) this.decidedBy = term.raw;
        return { result, ...(result === 'fail' && parsed.exp ? { exp: { spec: parsed.exp.domainSpec!, domain: d } } : {}) };
      }
    }
    if (parsed.redirect) {
      if (depth === 0) this.top = parsed.redirect.raw;
      this.countLookup(parsed.redirect.raw);
      const target = await this.targetName(parsed.redirect.domainSpec!, d);
      this.trace.push(`${d}: ${parsed.redirect.raw} → ${target}`);
      const inner = isQueryableName(target) ? await this.checkHost(target, depth + 1) : { result: 'none' as const };
      if (inner.result === 'none') throw new Abort('permerror', `${parsed.redirect.raw}: target ${target} has no SPF record`);
      return inner;
    }
    this.trace.push(`${d}: no mechanism matched → neutral`);
    return { result: 'neutral' };
  }

  private inCidr(addr: string, cidr4: number | undefined, cidr6: number | undefined): boolean {
    try {
      const a = ipaddr.parse(addr);
      if (a.kind() !== this.ip.kind()) return false;
      const bits = this.v4 ? (cidr4 ?? 32) : (cidr6 ?? 128);
      return this.ip.match(a, bits);
    } catch {
      return false;
    }
  }

  private async addressLookup(name: string, what: string): Promise<string[]> {
    const type = this.v4 ? 'A' : 'AAAA';
    const ans = await this.query(name, type);
    if (ans.status === 'unknown') throw new Abort('temperror', `${what}: ${name} ${type}: DNS error (${ans.error ?? 'unknown'})`);
    if (ans.status !== 'ok' || ans.records.length === 0) {
      this.countVoid(`${name} ${type}`);
      return [];
    }
    return ans.records;
  }

  private async matches(term: SpfTerm, domain: string, depth: number): Promise<boolean> {
    switch (term.mechanism) {
      case 'all':
        return true;
      case 'ip4':
      case 'ip6': {
        if ((term.mechanism === 'ip4') !== this.v4) return false;
        const net = ipaddr.parse(term.ip!);
        const bits = this.v4 ? (term.cidr4 ?? 32) : (term.cidr6 ?? 128);
        return this.ip.match(net, bits);
      }
      case 'include': {
        this.countLookup(term.raw);
        const target = await this.targetName(term.domainSpec!, domain);
        this.trace.push(`${domain}: ${term.raw} → ${target}`);
        const inner = isQueryableName(target) ? await this.checkHost(target, depth + 1) : { result: 'none' as const };
        switch (inner.result) {
          case 'pass':
            return true;
          case 'fail':
          case 'softfail':
          case 'neutral':
            return false;
          case 'none':
            throw new Abort('permerror', `${term.raw}: target ${target} has no SPF record`);
          default:
            throw new Abort(inner.result, `${term.raw}: ${inner.result}`);
        }
      }
      case 'a': {
        this.countLookup(term.raw);
        const target = term.domainSpec !== undefined ? await this.targetName(term.domainSpec, domain) : domain;
        if (!isQueryableName(target)) {
          this.trace.push(`${domain}: ${term.raw}: "${target}" is not a usable DNS name → no match`);
          return false;
        }
        const addrs = await this.addressLookup(target, term.raw);
        return addrs.some((a) => this.inCidr(a, term.cidr4, term.cidr6));
      }
      case 'mx': {
        this.countLookup(term.raw);
        const target = term.domainSpec !== undefined ? await this.targetName(term.domainSpec, domain) : domain;
        if (!isQueryableName(target)) {
          this.trace.push(`${domain}: ${term.raw}: "${target}" is not a usable DNS name → no match`);
          return false;
        }
        const mx = await this.query(target, 'MX');
        if (mx.status === 'unknown') throw new Abort('temperror', `${term.raw}: ${target} MX: DNS error (${mx.error ?? 'unknown'})`);
        if (mx.status !== 'ok' || mx.records.length === 0) {
          this.countVoid(`${target} MX`);
          return false;
        }
        const hosts = [...mx.records]
          .sort((a, b) => a.priority - b.priority)
          .map((m) => m.exchange.replace(/\.$/, ''))
          .filter((h) => h !== ''); // null MX (RFC 7505)
        if (hosts.length > 10) throw new Abort('permerror', `${term.raw}: ${target} has ${hosts.length} MX names (more than 10)`);
        // Every MX name is looked up before the comparison (RFC 7208 §5.4: "performs an address lookup on each MX name
        // returned. The <ip> is compared to each returned IP address"), as pyspf does: a name without an address of the
        // sender's family after the one that matches is still a void lookup, and past the limit a permerror. Stopping at
        // the first match said "authorised" where such receivers answer permerror (differential QA).
        let matched = false;
        for (const h of hosts) {
          if (!isQueryableName(h)) continue;
          const addrs = await this.addressLookup(h, term.raw);
          if (!matched && addrs.some((a) => this.inCidr(a, term.cidr4, term.cidr6))) matched = true;
        }
        return matched;
      }
      case 'ptr': {
        this.countLookup(term.raw);
        const target = (term.domainSpec !== undefined ? await this.targetName(term.domainSpec, domain) : domain).toLowerCase();
        const names = await this.validatedNames(true);
        return names.some((n) => {
          const l = n.toLowerCase();
          return l === target || l.endsWith(`.${target}`);
        });
      }
      case 'exists': {
        this.countLookup(term.raw);
        const target = await this.targetName(term.domainSpec!, domain);
        if (!isQueryableName(target)) {
          this.trace.push(`${domain}: ${term.raw}: "${target}" is not a usable DNS name → no match`);
          return false;
        }
        const ans = await this.query(target, 'A');
        if (ans.status === 'unknown') throw new Abort('temperror', `${term.raw}: ${target} A: DNS error (${ans.error ?? 'unknown'})`);
        if (ans.status !== 'ok' || ans.records.length === 0) {
          this.countVoid(`${target} A`);
          return false;
        }
        return true;
      }
      default:
        return false;
    }
  }

  /** §6.2: the explanation, or undefined (receiver default) on any trouble. exp lookups count toward no limit. */
  async explain(exp: { spec: string; domain: string }): Promise<string | undefined> {
    try {
      const name = await this.targetName(exp.spec, exp.domain);
      if (!isQueryableName(name)) return undefined;
      const ans = await this.query(name, 'TXT');
      if (ans.status !== 'ok' || ans.records.length !== 1) return undefined;
      const text = ans.records[0].join('');
      if (/[^\x20-\x7e]/.test(text)) return undefined;
      const t = tokenizeMacroString(text, { letters: 'slodiphvcrt', allowSpace: true });
      if ('error' in t) return undefined;
      return await this.expandTokens(t.tokens, exp.domain);
    } catch {
      return undefined;
    }
  }
}

/**
 * RFC 7208 check_host(). `sender` is the MAIL FROM address ("local@domain"; an empty local part means "postmaster"),
 * `domain` the domain to check (normally the sender's domain, or the HELO name), `helo` the HELO/EHLO name.
 */
export async function checkHost(
  ip: string,
  domain: string,
  sender: string,
  helo: string,
  resolver: Resolver,
  options: CheckHostOptions = {},
): Promise<SpfEvaluation> {
  if (!ipaddr.isValid(ip)) {
    return { result: 'permerror', lookups: 0, voidLookups: 0, trace: [`invalid client IP "${ip}"`], reason: `invalid client IP "${ip}"` };
  }
  const ev = new Evaluation(resolver, ip, sender, helo, options);
  try {
    const inner = await ev.checkHost(domain, 0);
    const out: SpfEvaluation = { result: inner.result, lookups: ev.lookups, voidLookups: ev.voids, trace: ev.trace };
    if (ev.dnsTrouble.length) out.dnsTrouble = ev.dnsTrouble;
    if (ev.decidedBy !== undefined) out.decidedBy = ev.decidedBy;
    if (ev.voidsAt.length) out.voidsAt = ev.voidsAt;
    if (inner.result === 'fail' && inner.exp) {
      const explanation = await ev.explain(inner.exp);
      if (explanation !== undefined) out.explanation = explanation;
    }
    return out;
  } catch (err) {
    if (err instanceof Abort) {
      ev.trace.push(`${err.result}: ${err.reason}`);
      return {
        result: err.result,
        lookups: ev.lookups,
        voidLookups: ev.voids,
        trace: ev.trace,
        reason: err.reason,
        ...(ev.dnsTrouble.length ? { dnsTrouble: ev.dnsTrouble } : {}),
        ...(ev.voidsAt.length ? { voidsAt: ev.voidsAt } : {}),
        ...(err.result === 'permerror' && ev.top !== undefined ? { permerrorAt: ev.top } : {}),
      };
    }
    throw err;
  }
}

/**
 * The SMTP view: check MAIL FROM (or, for an empty MAIL FROM, "postmaster@" + HELO) as RFC 7208 §2.4 describes.
 */
export async function checkMailFrom(
  ip: string,
  mailFrom: string,
  helo: string,
  resolver: Resolver,
  options: CheckHostOptions = {},
): Promise<SpfEvaluation> {
  const sender = mailFrom === '' ? `postmaster@${helo}` : mailFrom.includes('@') ? mailFrom : `postmaster@${mailFrom}`;
  const domain = sender.slice(sender.lastIndexOf('@') + 1);
  return checkHost(ip, domain, sender, helo, resolver, options);
}
