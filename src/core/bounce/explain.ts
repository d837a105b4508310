// Explain a parsed bounce: what the receiver's code means, and which of the domain's audit findings cause it.
// Pure: the audit is passed in (the caller runs it); no I/O here.
import { compareText } from '../text.js';
import ipaddr from 'ipaddr.js';
import { isIpAddress } from '../ip.js';
import { compareFindings, SEVERITY_ORDER, type DomainAudit, type Finding } from '../model.js';
import { BOUNCE_TABLE, receiverName, type BounceCode, type BounceTable, type Confidence } from './codes.js';
import type { ParsedBounce } from './parse.js';

export type Verdict = 'explained' | 'not-explained' | 'not-dns' | 'unknown-code' | 'inconclusive' | 'not-checked' | 'not-audited';

/** The rule of the optional blocklist lookup (AuditOptions.blocklists): no finding of it exists when the check is off. */
export const BLOCKLIST_RULE = 'ptr.listed';

/** Where the blocklist check is turned on: views/settings.ejs, fieldset "DNS" (the CLI reads the same stored settings). */
export const BLOCKLIST_SETTING = 'an admin turns it on in Settings, under DNS: "Check the sending IPs against blocklists"';

/** What the caller knows beyond the bounce and the audit; each surface says how to choose a domain in its own words. */
export interface ExplainOptions {
  /**
   * The domain the user chose to audit (the audit passed in is of it): it is the explanation's domain, whatever the
   * bounce names. Null/undefined: the domain comes from the bounce.
   */
  chosenDomain?: string | null;
  /**
   * Whether the audit looked the sending IPs up on blocklists (`ptr.listed`). false: the check was off, so a blocklist
   * cause was never looked for. undefined: not known (treated as looked).
   */
  blocklistsChecked?: boolean;
  /** How to choose the domain on this surface, for the note when the bounce names none ("choose the domain below"). */
  chooseDomainHint?: string;
  /** Where the blocklist check is turned on, for the note when it was off (default BLOCKLIST_SETTING). */
  blocklistsHint?: string;
  /** The blocklist zones the audit queried (the check on): a bounce naming another one was not looked up. */
  blocklistZones?: readonly string[];
}

/**
 * The blocklist zones a rejection names ("blocked using zen.spamhaus.org", "listed at bl.spamcop.net", "listed in
 * b.barracudacentral.org"), lower case, in order.
 */
export function namedBlocklists(text: string): string[] {
  const out: string[] = [];
  const re = /\b(?:using|listed (?:at|on|in|by)|(?:block|black)listed (?:at|on|in|by))\s+(?:the\s+)?([a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)+)/gi;
  for (const m of text.matchAll(re)) {
    const z = m[1].toLowerCase().replace(/\.$/, '');
    if (/\.[a-z]{2,}$/.test(z) && !out.includes(z)) out.push(z);
  }
  return out;
}

export interface BounceExplanation {
  /** Receiver id ("gmail", "microsoft", …, "generic") and its display name. */
  receiver: string;
  receiverName: string;
  /** The enhanced status code, or the reply code when there is none (BT's "554"). */
  code: string | null;
  replyCode: string | null;
  enhancedCode: string | null;
  /** Plain-language meaning for the customer. */
  meaning: string;
  cause: string | null;
  /** The table entry that matched (null: code not in the table), its source and confidence. */
  entry: string | null;
  source: string | null;
  confidence: Confidence | null;
  domain: string | null;
  ip: string | null;
  /**
   * Audit findings that can cause the bounce, ranked: worst severity first, then the entry's rule order. Only fail/warn
   * findings about this mail (DKIM: the selector this server signs with; PTR/SPF: the bounce's sending IP when named).
   */
  findings: Finding[];
  /** The audit's other problems (fail/warn/unknown) that do not explain this bounce (DNS errors included), worst first. */
  otherFindings: Finding[];
  /** What to check outside the domain's DNS (the entry's own list; plus content, volume, reputation when nothing explains it). */
  outsideDns: string[];
  /** True when at least one fail/warn finding of this mail matches the rules that explain this code. */
  explained: boolean;
  /**
   * What the audit says: explained (findings cause it), not-explained (the table names causes, none applies),
   * not-dns (no DNS record causes this code), unknown-code (not in the table), inconclusive (only DNS errors where the
   * causes would be), not-checked (nothing it checked applies, but a cause it names was not looked for: a blocklist
   * listing with the blocklist check off, or the reverse DNS of a sending IP the audit did not look up), not-audited
   * (no audit was passed in).
   */
  verdict: Verdict;
  /** True when a blocklist listing can cause this code but the audit did not look (the blocklist check is off). */
  blocklistsUnchecked: boolean;
  /**
   * True when missing reverse DNS can cause this code but the audit did not look up the sending IP's PTR (the panel does
   * not say the outbound IP, the server is behind NAT, the bounce's IP is not one of the server's). Not on a server that
   * relays: the PTR is the relay's, a note says so (as for blocklists).
   */
  ptrUnchecked: boolean;
  /** Caveats (no audit, audit of another domain, temporary failure, …). */
  notes: string[];
}

/** Does rule id `rule` fall under `pattern` (an exact id, or a prefix ending in '.')? */
export function ruleMatches(rule: string, pattern: string): boolean {
  return pattern.endsWith('.') ? rule.startsWith(pattern) : rule === pattern || rule.startsWith(pattern + '.');
}

/**
 * The best table entry for a parsed bounce, or null. Scores: phrase 8, code 4, same receiver 2, reply 1.
 * Phrases are matched within one segment of the reply (`segments`: the receiver's own lines, wrapped lines joined), so
 * "DKIM = did not pass" followed by "SPF [d] … = did not pass" never reads as "did not pass SPF".
 */
export function matchBounceCode(
  parsed: Pick<ParsedBounce, 'receiver' | 'replyCode' | 'enhancedCode' | 'text'> & { segments?: string[] },
  table: BounceTable = BOUNCE_TABLE,
): BounceCode | null {
  return matchBounce(parsed, table).best;
}

/**
 * The receiver the matched entry's own wording names, or null: only when no entry of another receiver matches as well
 * (a phrase several receivers use — "sender is unauthenticated" is Gmail's and Yahoo's — names none of them).
 */
export function entryReceiver(
  parsed: Pick<ParsedBounce, 'receiver' | 'replyCode' | 'enhancedCode' | 'text'> & { segments?: string[] },
  table: BounceTable = BOUNCE_TABLE,
): string | null {
  const { best, tied } = matchBounce(parsed, table);
  if (!best || best.receiver === 'generic') return null;
  return tied.every((r) => r === best.receiver || r === 'generic') ? best.receiver : null;
}

function matchBounce(
  parsed: Pick<ParsedBounce, 'receiver' | 'replyCode' | 'enhancedCode' | 'text'> & { segments?: string[] },
  table: BounceTable,
): { best: BounceCode | null; tied: string[] } {
  const segments = (parsed.segments?.length ? parsed.segments : [parsed.text]).map((t) => t.toLowerCase().replace(/\s+/g, ' '));
  const hasPhrase = (e: BounceCode) => e.phrases.some((p) => segments.some((t) => t.includes(p)));
  let best: BounceCode | null = null;
  let bestScore = 0;
  let tied: string[] = [];
  for (const e of table.codes) {
    const phrase = hasPhrase(e);
    if (e.receiver !== 'generic' && e.receiver !== parsed.receiver && !phrase) continue;
    if (e.requirePhrase && !phrase) continue;
    const code =
      e.code !== null
        ? parsed.enhancedCode === e.code
        : !!e.reply && e.reply === parsed.replyCode && parsed.enhancedCode === null;
    if (!code && !phrase) continue;
    // A phrase alone must not carry an entry across classes (a 4xx wording for a 5xx reply is fine; 5.1.1 vs 5.7.x is not).
    if (!code && e.code !== null && parsed.enhancedCode && e.code.split('.')[1] !== parsed.enhancedCode.split('.')[1]) continue;
    const score = (phrase ? 8 : 0) + (code ? 4 : 0) + (e.receiver === parsed.receiver ? 2 : 0) + (e.reply && e.reply === parsed.replyCode ? 1 : 0);
    if (score > bestScore) {
      best = e;
      bestScore = score;
      tied = [e.receiver];
    } else if (score === bestScore) tied.push(e.receiver);
  }
  return { best, tied };
}

/** A rule pattern of the table: an exact rule id, optionally limited to one severity ("dkim.weak-key:fail"). */
function patternMatches(f: Finding, pattern: string): boolean {
  const colon = pattern.indexOf(':');
  if (colon < 0) return ruleMatches(f.rule, pattern);
  return ruleMatches(f.rule, pattern.slice(0, colon)) && f.severity === pattern.slice(colon + 1);
}

/** The same address however it is written ("2001:DB8::1" = "2001:db8:0::1"); null when `s` is not one. */
function canonIp(s: string | undefined | null): string | null {
  if (!s || !ipaddr.isValid(s)) return null;
  try {
    return ipaddr.process(s).toNormalizedString();
  } catch {
    return null;
  }
}

/** The IP a finding is about, when its subject starts with one (ptr.*: "203.0.113.5", "203.0.113.5 @ zen.spamhaus.org"; spf.server-not-authorized). */
function subjectIp(f: Finding): string | null {
  if (!f.subject) return null;
  const first = f.subject.trim().split(/\s/, 1)[0];
  // isIpAddress first: ipaddr.isValid alone also takes odd IPv4 spellings ("10", "0x0a.1") that are no address here.
  return isIpAddress(first) ? canonIp(first) : null;
}

/** DKIM findings only the selector this server signs with gets (see src/core/checks/dkim.ts), and the fix offered only there. */
const SERVER_SELECTOR_RULES = new Set(['dkim.ok', 'dkim.key-mismatch', 'dkim.missing', 'dkim.signing-off', 'dkim.no-mail']);

/** The selectors this server signs the domain's mail with, as the audit saw them. */
function serverSelectors(findings: Finding[]): Set<string> {
  const out = new Set<string>();
  for (const f of findings) {
    if (f.check === 'dkim' && f.subject && (SERVER_SELECTOR_RULES.has(f.rule) || f.fix === 'dkim')) out.add(f.subject.toLowerCase());
  }
  return out;
}

interface Ranked {
  /** fail/warn findings that can produce this rejection for this mail. */
  causes: Finding[];
  /** unknown (DNS error) findings of the checks that would explain it: the audit could not tell. */
  inconclusive: Finding[];
  /** Everything else the audit found wrong (fail/warn/unknown), the inconclusive ones included. */
  other: Finding[];
}

/**
 * Which findings can cause this rejection: a rule the table names for the code, severity fail or warn (an info or
 * pass finding is no problem), and about this mail — a DKIM finding only on the selector this server signs with (a key
 * another sender publishes does not sign this mail), a PTR/SPF finding about an IP only when it is the bounce's sending
 * IP (when the bounce names one).
 */
function rankFindings(findings: Finding[], rules: string[], ip: string | null): Ranked {
  const selectors = serverSelectors(findings);
  const bounceIp = canonIp(ip);
  const checks = new Set(rules.map((r) => r.slice(0, r.indexOf('.'))));
  const concernsThisMail = (f: Finding) => {
    if (f.check === 'dkim' && f.subject && !selectors.has(f.subject.toLowerCase())) return false;
    const fip = subjectIp(f);
    return !(fip && bounceIp && fip !== bounceIp);
  };
  const ruleIndex = (f: Finding) => {
    const i = rules.findIndex((p) => patternMatches(f, p));
    return i < 0 ? Infinity : i;
  };
  const relevant = findings.filter((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown');
  const causes = relevant
    .filter((f) => f.severity !== 'unknown' && ruleIndex(f) !== Infinity && concernsThisMail(f))
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || ruleIndex(a) - ruleIndex(b) || compareText(a.rule, b.rule));
  const inconclusive = relevant.filter(
    (f) => f.severity === 'unknown' && (f.rule === `${f.check}.dns-error` ? checks.has(f.check) : rules.some((p) => ruleMatches(f.rule, p.split(':')[0]))) && concernsThisMail(f),
  );
  const other = relevant.filter((f) => !causes.includes(f)).sort(compareFindings);
  return { causes, inconclusive, other };
}

/** On a server that relays (ptr.relay): the reverse DNS a receiver checks is the relay's, never this server's to set. */
const PTR_RELAY_NOTE =
  'This server sends its mail through a relay (ptr.relay): receivers see the relay\'s address and its reverse DNS (PTR), which the audit does not look up — a missing or wrong PTR there is for the relay\'s operator to fix; ask its support.';

/**
 * Why the audit did not look up the reverse DNS of the address this mail left from, as a note; null when it did (a
 * ptr finding is about the bounce's sending IP, or — the bounce naming none — about a public address of the server) or
 * cannot tell (no ptr finding at all). Never "nothing explains it" for a PTR rejection of an address nobody looked up.
 * (A relaying server is PTR_RELAY_NOTE's: not this server's address at all, as for blocklists.)
 */
function ptrNotChecked(findings: Finding[], ip: string | null): string | null {
  const sending = ip ? `the sending IP ${ip}` : 'the sending IP';
  if (findings.some((f) => f.rule === 'ptr.ip-unknown')) {
    return `The panel does not say which IP this server's mail leaves from, so the audit did not check the reverse DNS (PTR) of ${sending}: look it up${ip ? ` (dig -x ${ip})` : ''} — it needs a PTR name that resolves back to the same IP, set by whoever owns the IP (the data centre or ISP).`;
  }
  const known: string[] = [];
  for (const f of findings) {
    const fip = f.check === 'ptr' ? subjectIp(f) : null;
    if (fip && !known.includes(fip)) known.push(fip);
  }
  if (!known.length) return null;
  const bounceIp = canonIp(ip);
  if (bounceIp && known.includes(bounceIp)) return null;
  const isPrivate = (a: string) => findings.some((f) => f.rule === 'ptr.private-ip' && subjectIp(f) === a);
  const list = known.map((a) => (isPrivate(a) ? `${a}, a private address` : a)).join('; ');
  if (bounceIp) {
    return `The sending IP ${ip} is not one the audit knows for this server (${list}): its reverse DNS (PTR) was not checked. The mail may leave from another address (NAT, another server or a relay): look up the PTR of ${ip} (dig -x ${ip}) — it needs a name that resolves back to the same IP, set by whoever owns the IP.`;
  }
  if (known.every(isPrivate)) {
    return `The audit knows only private addresses for this server (${list}): the public address its mail leaves from (NAT) was not checked, and the bounce does not name it. Look up that address's reverse DNS (PTR): it needs a name that resolves back to the same IP, set by whoever owns the IP.`;
  }
  return null;
}

/** Rule patterns of reverse DNS (not the blocklist lookup, also a ptr.* rule). */
function ptrRulesOf(rules: string[]): string[] {
  return rules.filter((p) => p.startsWith('ptr.') && p.split(':')[0] !== BLOCKLIST_RULE);
}

/**
 * The entries whose own wording names a blocklist (the reply says the IP is listed). The other entries with a blocklist
 * rule (a deferral for volume or complaints, a rate limit for unsolicited mail) name a reputation problem a listing is
 * only one sign of.
 */
export const NAMES_A_BLOCKLIST: ReadonlySet<string> = new Set(['generic-blocklist', 'yahoo-5.7.1-blocked', 'microsoft-5.7.1-own-blocklist']);

function fallbackMeaning(parsed: ParsedBounce): string {
  const c = parsed.enhancedCode ?? parsed.replyCode ?? '';
  if (c.startsWith('4')) return 'The receiver temporarily refused the message; the sending server will retry. Its reply text says why.';
  return 'The receiver refused the message. This code is not in the explainer\'s table; its reply text says why.';
}

export function explainBounce(parsed: ParsedBounce, audit: DomainAudit | null, codes: BounceTable = BOUNCE_TABLE, opts: ExplainOptions = {}): BounceExplanation {
  const entry = matchBounceCode(parsed, codes);
  const rules = entry?.rules ?? [];
  const notes: string[] = [];
  const { causes, inconclusive, other } = audit ? rankFindings(audit.findings, rules, parsed.ip) : { causes: [], inconclusive: [], other: [] };
  const explained = causes.length > 0;
  // A blocklist listing can cause this code, and the audit never looked (the check is off and it has no ptr.listed finding).
  const blocklistRules = rules.filter((p) => p.split(':')[0] === BLOCKLIST_RULE);
  // A server that sends through a relay (ptr.relay): the address a receiver blocks is the relay's — not looked up,
  // and not this server's to clear.
  const relayed = !!audit && audit.findings.some((f) => f.rule === 'ptr.relay');
  // The check on, but the blocklist the bounce names is not one it queries.
  const named = namedBlocklists(parsed.text);
  const zones = opts.blocklistZones;
  const zoneMissing =
    opts.blocklistsChecked !== false && zones && zones.length && named.length && !named.some((z) => zones.some((q) => z === q || z.endsWith('.' + q) || q.endsWith('.' + z))) ? named[0] : null;
  // A listing of the address the bounce names (ptr.listed's subject is "<ip> @ <zone>"); any, when it names none.
  const bounceIp = canonIp(parsed.ip);
  const listed = !!audit && audit.findings.some((f) => f.rule === BLOCKLIST_RULE && (!bounceIp || canonIp(f.subject?.split(' @ ')[0]) === bounceIp));
  // IPv6 addresses are not looked up on blocklists (src/core/checks/ptr.ts): with the check on, still not looked up.
  const v6NotLooked = opts.blocklistsChecked !== false && !!bounceIp && bounceIp.includes(':');
  const blocklistsUnchecked = !!audit && blocklistRules.length > 0 && !relayed && !listed && (opts.blocklistsChecked === false || zoneMissing !== null || v6NotLooked);
  // Missing reverse DNS can cause this code, no finding of it explains this mail, and the audit never looked up the
  // sending IP's PTR.
  const ptrRules = ptrRulesOf(rules);
  const ptrNote =
    audit && !relayed && ptrRules.length && !causes.some((f) => ptrRules.some((p) => patternMatches(f, p))) && !inconclusive.some((f) => f.check === 'ptr')
      ? ptrNotChecked(audit.findings, parsed.ip)
      : null;
  const ptrUnchecked = ptrNote !== null;
  // The entry of one receiver's own wording names who refused it, whatever the fingerprints said ("generic").
  const receiver = entryReceiver(parsed, codes) ?? parsed.receiver;

  const outsideKeys = [...(entry?.outside ?? [])];
  if (!explained) for (const k of codes.defaultOutsideDns) if (!outsideKeys.includes(k)) outsideKeys.push(k);
  const outsideDns = outsideKeys.map((k) => codes.outsideDns[k]).filter((t): t is string => typeof t === 'string');

  const chosen = opts.chosenDomain || null;
  const domain = chosen ?? parsed.domain ?? audit?.domain ?? null;
  let verdict: Verdict;
  if (!audit) {
    verdict = 'not-audited';
    notes.push(
      domain
        ? `The domain ${domain} was not audited, so no DNS records were checked.`
        : `The bounce does not name the sender's domain: ${opts.chooseDomainHint ?? 'name the domain to audit (--domain in the CLI, the domain field of the web page and of the API)'}.`,
    );
  } else {
    if (chosen && parsed.domain && parsed.domain !== chosen) {
      notes.push(`The bounce names ${parsed.domain}, but you chose ${chosen}: the explanation uses ${chosen} and its audit.`);
    } else if (!chosen && parsed.domain && parsed.domain !== audit.domain && !parsed.domain.endsWith('.' + audit.domain)) {
      notes.push(`The bounce names ${parsed.domain}, but the audit is of ${audit.domain}.`);
    }
    const offNote = () =>
      v6NotLooked && opts.blocklistsChecked !== false
        ? `The sending IP ${parsed.ip} is an IPv6 address, and the audit looks up only IPv4 addresses on blocklists: whether it is listed was not checked — look it up on the blocklist's own site.`
        : zoneMissing
        ? `The bounce names the blocklist ${zoneMissing}, which is not among those the audit queries (${zones!.join(', ')}): the audit did not look whether the sending IP${parsed.ip ? ` ${parsed.ip}` : ''} is on it — an admin adds it in Settings, under DNS: "Blocklist zones", then explain the bounce again.`
        : `The blocklist check is off, so the audit did not look whether the sending IP${parsed.ip ? ` ${parsed.ip}` : ''} is on a blocklist (${blocklistRules.length < rules.length ? 'one cause of this rejection' : entry && NAMES_A_BLOCKLIST.has(entry.id) ? 'the cause this rejection names' : 'the only cause of this rejection the audit can check'}): ${opts.blocklistsHint ?? BLOCKLIST_SETTING}, then explain the bounce again.`;
    if (relayed && blocklistRules.length > 0 && !listed) {
      notes.push(
        'This server sends its mail through a relay (ptr.relay): the address a receiver blocks is the relay\'s, which the audit does not look up on blocklists — a listing of it is for the relay\'s operator to clear; ask its support.',
      );
    }
    if (relayed && ptrRules.length > 0 && !causes.some((f) => f.check === 'ptr')) notes.push(PTR_RELAY_NOTE);
    if (explained) {
      verdict = 'explained';
      if (blocklistsUnchecked) notes.push(offNote());
      if (ptrNote) notes.push(ptrNote);
    }
    else if (!entry) {
      // An unknown code: the explainer cannot tell which records could cause it (nor that none could).
      verdict = 'unknown-code';
      notes.push('The explainer does not know this code, so it cannot tell which DNS records could cause it: compare the reply\'s words with the audit\'s problems.');
    } else if (rules.length === 0) {
      verdict = 'not-dns';
      notes.push('This rejection is not caused by a DNS record the audit checks.');
    } else if (inconclusive.length) {
      verdict = 'inconclusive';
      notes.push('The audit could not finish the checks that would explain this (DNS errors); try again later.');
      if (blocklistsUnchecked) notes.push(offNote());
      if (ptrNote) notes.push(ptrNote);
    } else if (blocklistsUnchecked || ptrNote) {
      // Never "nothing explains it" when the likeliest cause was not looked for.
      verdict = 'not-checked';
      if (blocklistsUnchecked) notes.push(offNote());
      if (ptrNote) notes.push(ptrNote);
      const unchecked = (blocklistsUnchecked ? blocklistRules.length : 0) + (ptrNote ? ptrRules.length : 0);
      if (unchecked < rules.length) notes.push('None of the DNS findings the audit did check can cause it.');
    } else {
      verdict = 'not-explained';
      notes.push(
        'Nothing in the audit explains this rejection: none of the domain\'s DNS findings can cause it. Look outside DNS: the sending IP\'s reputation, the message content, and the other points under what to check outside DNS.',
      );
    }
  }
  if (!entry) notes.push('This code is not in the explainer\'s table; the meaning is general.');
  if (parsed.otherCodes?.length) {
    notes.push(
      `The bounce holds other replies too (${parsed.otherCodes.join(', ')}): this explains ${parsed.enhancedCode ?? parsed.replyCode ?? 'the first'}${parsed.enhancedCode?.split('.')[1] === '7' ? ', the one about sender authentication or policy' : ''}. Paste another reply on its own to explain it.`,
    );
  }
  if ((parsed.enhancedCode ?? parsed.replyCode ?? '').startsWith('4')) notes.push('This is a temporary refusal: the server retries, but the receiver starts rejecting if the cause stays.');

  return {
    receiver,
    receiverName: receiverName(codes, receiver),
    code: parsed.enhancedCode ?? parsed.replyCode,
    replyCode: parsed.replyCode,
    enhancedCode: parsed.enhancedCode,
    meaning: entry?.meaning ?? fallbackMeaning(parsed),
    cause: entry?.cause ?? null,
    entry: entry?.id ?? null,
    source: entry?.source ?? null,
    confidence: entry?.confidence ?? null,
    domain,
    ip: parsed.ip,
    findings: causes,
    otherFindings: other,
    outsideDns,
    explained,
    verdict,
    blocklistsUnchecked,
    ptrUnchecked,
    notes,
  };
}

/** Why no DNS was checked, as the caller knows it: the bounce names no domain, or one outside the user's scope. */
export type AuditState = 'audited' | 'no-domain' | 'out-of-scope' | 'not-audited';

/**
 * The one line over the findings, for the CLI and the web page: what the DNS audit says about this bounce — or that
 * no audit ran, and why (never "nothing in the DNS explains it" when no DNS was checked).
 */
export function dnsHeadline(ex: BounceExplanation, state: AuditState): string {
  if (ex.verdict !== 'not-audited') {
    switch (ex.verdict) {
      case 'explained':
        return 'What in the DNS causes it:';
      case 'not-dns':
        return 'This bounce is not caused by a DNS record.';
      case 'unknown-code':
        return 'The explainer does not know this code, so it cannot tell whether the domain\'s DNS causes it.';
      case 'inconclusive':
        return 'The DNS checks that would explain this bounce could not finish (DNS errors): try again later.';
      case 'not-checked':
        if (ex.blocklistsUnchecked && ex.ptrUnchecked) {
          return 'The audit did not check blocklists (the blocklist check is off) nor the sending IP\'s reverse DNS (PTR), and nothing else it checked explains this bounce.';
        }
        if (ex.ptrUnchecked) return 'The audit did not check the sending IP\'s reverse DNS (PTR), and nothing else it checked explains this bounce.';
        return 'The audit did not check blocklists (the blocklist check is off), and nothing else it checked explains this bounce.';
      default:
        return 'Nothing in the domain\'s DNS explains this bounce.';
    }
  }
  if (state === 'no-domain' || !ex.domain) return 'No DNS records were checked: the bounce does not name the sender\'s domain.';
  if (state === 'out-of-scope') return `No DNS records were checked: ${ex.domain} is not a domain you may audit here, so only the code is explained.`;
  return `No DNS records were checked: ${ex.domain} was not audited, so only the code is explained.`;
}

/** The public JSON of an explanation: `mailhealth explain --json` and `POST /api/explain` share it. */
export function explanationJson(ex: BounceExplanation, extraNotes: string[] = []) {
  return {
    receiver: ex.receiver,
    code: ex.code,
    meaning: ex.meaning,
    domain: ex.domain,
    ip: ex.ip,
    findings: ex.findings,
    outsideDns: ex.outsideDns,
    explained: ex.explained,
    verdict: ex.verdict,
    otherFindings: ex.otherFindings,
    notes: [...ex.notes, ...extraNotes],
  };
}
