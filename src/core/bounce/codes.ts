// The receivers' rejection codes and fingerprints (src/knowledge/bounce-codes.json), typed and checked once at load.
// Pure: the table is a module import, no file or network I/O.
import raw from '../../knowledge/bounce-codes.json' with { type: 'json' };

export type Confidence = 'high' | 'medium' | 'low';

/** One receiver's wording for one rejection. */
export interface BounceCode {
  id: string;
  /** Receiver id from `receivers` ("generic" = any receiver). */
  receiver: string;
  /** Enhanced status code, e.g. "5.7.26"; null when the receiver sends none (e.g. BT's bare 554). */
  code: string | null;
  /** SMTP reply code, e.g. "550". */
  reply?: string | null;
  cause: string;
  /** Plain language for a hosting customer. */
  meaning: string;
  /** Distinctive lower-case fragments of the receiver's wording. */
  phrases: string[];
  /**
   * Rule patterns whose findings can produce this rejection, most likely first: an exact rule id ("spf.missing"),
   * optionally limited to one severity ("dkim.weak-key:fail"). In the JSON an entry may also name a shared set
   * ("@spf-fail", from `ruleSets`); the loaded table holds the expanded list. Empty: no DNS record the audit checks
   * causes it.
   */
  rules: string[];
  /** Keys of `outsideDns`: what to check outside the domain's DNS. */
  outside: string[];
  source: string;
  confidence: Confidence;
  /** Only applies when one of `phrases` is in the reply (several wordings share one code). */
  requirePhrase?: boolean;
}

/** How to tell who rejected the mail. */
export interface ReceiverFingerprint {
  id: string;
  name: string;
  /** Host-name suffixes of the receiver's MX / reporting hosts. */
  hosts: string[];
  /** Lower-case fragments of the receiver's reply text. */
  phrases: string[];
  /** Mailbox domains the receiver hosts (weak evidence: the recipient's domain). */
  recipientDomains: string[];
  source: string;
}

export interface BounceTable {
  receivers: ReceiverFingerprint[];
  /** Named lists of rule patterns shared by several codes (e.g. "spf-fail": what makes SPF fail). */
  ruleSets?: Record<string, string[]>;
  outsideDns: Record<string, string>;
  defaultOutsideDns: string[];
  codes: BounceCode[];
}

const CODE_RE = /^[245]\.\d{1,3}\.\d{1,3}$/;
/** An exact rule id, optionally limited to one severity. No prefixes: a prefix ("spf.") blames findings that cannot cause the rejection. */
const RULE_PATTERN_RE = /^[a-z]+\.[a-z][a-z-]*(?::(?:fail|warn))?$/;
const RULE_SET_REF_RE = /^@[a-z][a-z0-9-]*$/;
const REPLY_RE = /^[245]\d\d$/;

function isStrArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Check a table's shape and cross-references. Returns a list of problems (empty = valid). */
export function validateBounceTable(data: unknown): string[] {
  const errs: string[] = [];
  if (!data || typeof data !== 'object') return ['table is not an object'];
  const t = data as Record<string, unknown>;
  if (!Array.isArray(t.receivers)) errs.push('receivers: not an array');
  if (!Array.isArray(t.codes)) errs.push('codes: not an array');
  if (!t.outsideDns || typeof t.outsideDns !== 'object') errs.push('outsideDns: not an object');
  if (!isStrArray(t.defaultOutsideDns)) errs.push('defaultOutsideDns: not a string array');
  if (t.ruleSets !== undefined && (!t.ruleSets || typeof t.ruleSets !== 'object' || Array.isArray(t.ruleSets))) errs.push('ruleSets: not an object');
  if (errs.length) return errs;
  const ruleSets = (t.ruleSets ?? {}) as Record<string, unknown>;
  for (const [name, list] of Object.entries(ruleSets)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) errs.push(`ruleSets.${name}: name must be lower case letters, digits and '-'`);
    if (!isStrArray(list) || list.length === 0) errs.push(`ruleSets.${name}: not a non-empty string array`);
    else for (const r of list) if (!RULE_PATTERN_RE.test(r)) errs.push(`ruleSets.${name}: "${r}" is not a rule id (optionally with :fail or :warn)`);
  }
  const outside = t.outsideDns as Record<string, unknown>;
  const receiverIds = new Set<string>();
  for (const [i, r] of (t.receivers as unknown[]).entries()) {
    const x = r as Record<string, unknown>;
    const where = `receivers[${i}]`;
    if (typeof x.id !== 'string' || !x.id) errs.push(`${where}: id missing`);
    else receiverIds.add(x.id);
    if (typeof x.name !== 'string') errs.push(`${where}: name missing`);
    for (const k of ['hosts', 'phrases', 'recipientDomains']) if (!isStrArray(x[k])) errs.push(`${where}: ${k} not a string array`);
    if (isStrArray(x.phrases) && x.phrases.some((p) => p !== p.toLowerCase())) errs.push(`${where}: phrases must be lower case`);
  }
  if (!receiverIds.has('generic')) errs.push('receivers: no "generic" fallback');
  for (const k of t.defaultOutsideDns as string[]) if (typeof outside[k] !== 'string') errs.push(`defaultOutsideDns: unknown key ${k}`);
  const ids = new Set<string>();
  for (const [i, c] of (t.codes as unknown[]).entries()) {
    const x = c as Record<string, unknown>;
    const where = `codes[${i}] (${String(x.id)})`;
    if (typeof x.id !== 'string' || !x.id) errs.push(`${where}: id missing`);
    else if (ids.has(x.id)) errs.push(`${where}: duplicate id`);
    else ids.add(x.id);
    if (typeof x.receiver !== 'string' || !receiverIds.has(x.receiver)) errs.push(`${where}: unknown receiver`);
    if (x.code !== null && (typeof x.code !== 'string' || !CODE_RE.test(x.code))) errs.push(`${where}: code must be like 5.7.26 or null`);
    if (x.reply !== undefined && x.reply !== null && (typeof x.reply !== 'string' || !REPLY_RE.test(x.reply))) errs.push(`${where}: reply must be like 550`);
    for (const k of ['cause', 'meaning', 'source']) if (typeof x[k] !== 'string' || !(x[k] as string).trim()) errs.push(`${where}: ${k} missing`);
    for (const k of ['phrases', 'rules', 'outside']) if (!isStrArray(x[k])) errs.push(`${where}: ${k} not a string array`);
    if (isStrArray(x.phrases) && x.phrases.some((p) => p !== p.toLowerCase() || !p.trim())) errs.push(`${where}: phrases must be non-empty and lower case`);
    if (isStrArray(x.rules)) {
      for (const r of x.rules) {
        if (RULE_SET_REF_RE.test(r)) {
          if (!isStrArray(ruleSets[r.slice(1)])) errs.push(`${where}: unknown rule set ${r}`);
        } else if (!RULE_PATTERN_RE.test(r)) errs.push(`${where}: rules must be rule ids (optionally with :fail or :warn) or @rule-sets, not "${r}"`);
      }
    }
    if (isStrArray(x.outside)) for (const k of x.outside) if (typeof outside[k] !== 'string') errs.push(`${where}: unknown outside key ${k}`);
    if (!['high', 'medium', 'low'].includes(x.confidence as string)) errs.push(`${where}: confidence must be high, medium or low`);
    if (x.requirePhrase === true && isStrArray(x.phrases) && x.phrases.length === 0) errs.push(`${where}: requirePhrase without phrases`);
    if (x.code === null && (x.reply === null || x.reply === undefined) && x.requirePhrase !== true) errs.push(`${where}: no code, no reply and no requirePhrase: would never match`);
  }
  return errs;
}

/** Validate a table and expand its `@rule-set` references (the input is not modified). */
export function loadBounceTable(data: unknown): BounceTable {
  const errs = validateBounceTable(data);
  if (errs.length) throw new Error(`invalid bounce code table: ${errs.join('; ')}`);
  const t = data as BounceTable;
  const sets = t.ruleSets ?? {};
  const expand = (rules: string[]) => [...new Set(rules.flatMap((r) => (r.startsWith('@') ? sets[r.slice(1)] : [r])))];
  return { ...t, codes: t.codes.map((c) => ({ ...c, rules: expand(c.rules) })) };
}

/** The shipped table. */
export const BOUNCE_TABLE: BounceTable = loadBounceTable(raw);

export function receiverName(table: BounceTable, id: string): string {
  return table.receivers.find((r) => r.id === id)?.name ?? id;
}
