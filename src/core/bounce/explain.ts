// Explain a parsed bounce: what the receiver's code means, and which of the domain's audit findings cause it.
// Pure: the audit is passed in (the caller runs it); no I/O here.
import { compareFindings, SEVERITY_ORDER, type DomainAudit, type Finding } from '../model.js';
import { BOUNCE_TABLE, receiverName, type BounceCode, type BounceTable, type Confidence } from './codes.js';
import type { ParsedBounce } from './parse.js';

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
  /** Audit findings that explain the bounce, ranked: worst severity first, then the entry's rule order. */
  findings: Finding[];
  /** The audit's other problems (fail/warn/unknown) that do not explain this bounce, worst first. */
  otherFindings: Finding[];
  /** What to check outside the domain's DNS (the entry's own list; plus content, volume, reputation when nothing explains it). */
  outsideDns: string[];
  /** True when at least one fail/warn finding matches the rules that explain this code. */
  explained: boolean;
  /** Caveats (no audit, audit of another domain, temporary failure, …). */
  notes: string[];
}

/** Does rule id `rule` fall under `pattern` (an exact id, or a prefix ending in '.')? */
export function ruleMatches(rule: string, pattern: string): boolean {
  return pattern.endsWith('.') ? rule.startsWith(pattern) : rule === pattern || rule.startsWith(pattern + '.');
}

/** The best table entry for a parsed bounce, or null. Scores: phrase 8, code 4, same receiver 2, reply 1. */
export function matchBounceCode(parsed: Pick<ParsedBounce, 'receiver' | 'replyCode' | 'enhancedCode' | 'text'>, table: BounceTable = BOUNCE_TABLE): BounceCode | null {
  const text = parsed.text.toLowerCase().replace(/\s+/g, ' ');
  let best: BounceCode | null = null;
  let bestScore = 0;
  for (const e of table.codes) {
    if (e.receiver !== 'generic' && e.receiver !== parsed.receiver && !e.phrases.some((p) => text.includes(p))) continue;
    const phrase = e.phrases.some((p) => text.includes(p));
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
    }
  }
  return best;
}

function rankFindings(findings: Finding[], rules: string[]): { matched: Finding[]; other: Finding[] } {
  const relevant = findings.filter((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown');
  const ruleIndex = (f: Finding) => {
    const i = rules.findIndex((p) => ruleMatches(f.rule, p));
    return i < 0 ? Infinity : i;
  };
  const matched = relevant
    .filter((f) => ruleIndex(f) !== Infinity)
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || ruleIndex(a) - ruleIndex(b) || a.rule.localeCompare(b.rule));
  const other = relevant
    .filter((f) => ruleIndex(f) === Infinity)
    .sort(compareFindings);
  return { matched, other };
}

function fallbackMeaning(parsed: ParsedBounce): string {
  const c = parsed.enhancedCode ?? parsed.replyCode ?? '';
  if (c.startsWith('4')) return 'The receiver temporarily refused the message; the sending server will retry. Its reply text says why.';
  return 'The receiver refused the message. This code is not in the explainer\'s table; its reply text says why.';
}

export function explainBounce(parsed: ParsedBounce, audit: DomainAudit | null, codes: BounceTable = BOUNCE_TABLE): BounceExplanation {
  const entry = matchBounceCode(parsed, codes);
  const rules = entry?.rules ?? [];
  const notes: string[] = [];
  const { matched, other } = audit ? rankFindings(audit.findings, rules) : { matched: [], other: [] };
  const explained = matched.some((f) => f.severity === 'fail' || f.severity === 'warn');

  const outsideKeys = [...(entry?.outside ?? [])];
  if (!explained) for (const k of codes.defaultOutsideDns) if (!outsideKeys.includes(k)) outsideKeys.push(k);
  const outsideDns = outsideKeys.map((k) => codes.outsideDns[k]).filter((t): t is string => typeof t === 'string');

  const domain = parsed.domain ?? audit?.domain ?? null;
  if (!audit) {
    notes.push(parsed.domain ? `The domain ${parsed.domain} was not audited, so no DNS records were checked.` : 'The bounce does not name the sender\'s domain: choose the domain to audit it.');
  } else {
    if (parsed.domain && parsed.domain !== audit.domain && !parsed.domain.endsWith('.' + audit.domain)) {
      notes.push(`The bounce names ${parsed.domain}, but the audit is of ${audit.domain}.`);
    }
    if (rules.length === 0) notes.push('This rejection is not caused by a DNS record the audit checks.');
    else if (!explained) {
      notes.push(
        matched.length
          ? 'The audit could not finish the checks that would explain this (DNS errors); try again later.'
          : 'Nothing in the audit explains this rejection: the DNS records it checks look right.',
      );
    }
  }
  if (!entry) notes.push('This code is not in the explainer\'s table; the meaning is general.');
  if ((parsed.enhancedCode ?? parsed.replyCode ?? '').startsWith('4')) notes.push('This is a temporary refusal: the server retries, but the receiver starts rejecting if the cause stays.');

  return {
    receiver: parsed.receiver,
    receiverName: receiverName(codes, parsed.receiver),
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
    findings: matched,
    otherFindings: other,
    outsideDns,
    explained,
    notes,
  };
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
    otherFindings: ex.otherFindings,
    notes: [...ex.notes, ...extraNotes],
  };
}
