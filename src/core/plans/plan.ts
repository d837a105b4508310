// A fix is a plan: a typed list of changes to the panel's zone with before/after, a hash of the plan and of the zone
// state it was computed from. The preview *is* the plan; apply runs exactly it, hash-checked.
import { versionRunTogether } from '../spf/joins.js';
import { isSpfRecord } from '../spf/parse.js';
import { createHash } from 'node:crypto';
import { canonName } from '../domain.js';
import type { Change, FixKind, ZoneRecord } from '../model.js';
import type { PanelCapabilities } from '../panel.js';
import { recordsAt } from '../zone.js';

export interface PlanAction {
  /** A panel operation besides record edits. */
  kind: 'generate-dkim' | 'refresh-dkim';
  description: string;
}

export interface Plan {
  domain: string;
  check: FixKind;
  /** apply: through the panel. publish-elsewhere: the panel's zone is not the live one — show the records to publish. */
  mode: 'apply' | 'publish-elsewhere';
  changes: Change[];
  actions: PlanAction[];
  /** The zone version the plan was computed from (panel's token; for publish-elsewhere: a hash of the live answers). */
  zoneVersion: string;
  planHash: string;
  /** What the plan does, in words, one line per decision (dropped terms and why, added terms…). */
  notes: string[];
  /** Why it cannot be applied as is (e.g. over 10 SPF lookups: which term to drop). */
  blocked?: string;
  /**
   * The terms (as written) the plan's words — its notes and its block — offer the user to select for removal: set
   * where those words are written, so a surface says how to select one (the CLI's --remove-term) without reading the
   * words. Absent when they offer none. Not part of the hash: like the notes, it follows from what the hash covers.
   */
  selectable?: string[];
  /** Terms the user chose to remove (SPF). Part of the hash. */
  options: PlanOptions;
}

export interface PlanOptions {
  /** Terms (as written) the user selected for removal: SPF terms (unknown ones, a mail service's), or for the lockdown fix Domain Lockdown fields (`auth=ID`) mailhealth could not place. */
  removeTerms?: string[];
}

/** A plan's `selectable` field from the terms its words offer: each once (any case), absent when there is none. */
export function selectableOf(terms: readonly string[]): { selectable?: string[] } {
  const out: string[] = [];
  for (const t of terms) if (!out.some((x) => x.toLowerCase() === t.toLowerCase())) out.push(t);
  return out.length ? { selectable: out } : {};
}

export const PLACEHOLDER_KEY = '<public key of the key generated at apply>';

/**
 * A TXT-record fix at a name that is an alias (CNAME): the record is published by whoever the alias points to (a
 * DMARC or MailChannels service). Adding a TXT beside the alias makes an invalid zone (BIND refuses to load it) and
 * replacing the alias drops that service, so the fix is blocked with this reason; null when `name` is no alias.
 */
export function aliasBlock(records: ZoneRecord[], name: string, what: string): string | null {
  const aliases = recordsAt(records, name, 'CNAME');
  if (!aliases.length) return null;
  return `${name} is ${anAlias(aliases[0])}: the ${what} is published where it points. mailhealth does not add a record beside an alias or replace it; change it at that service, or remove the alias in the panel first.`;
}

/** An alias record in words, as aliasBlock and the undo's refusal (aliasClash) name it: "an alias (CNAME to …)". */
export function anAlias(alias: ZoneRecord): string {
  return `an alias (CNAME to ${alias.value})`;
}

/** Why a record beside an alias is refused, for messages: the rule, its source, and what a name server does. */
export const ALIAS_ALONE = 'a name that is an alias holds no other record (RFC 1034 §3.6.2, RFC 2181 §10.1): the zone would be invalid, and BIND refuses to load it';

/** Types DNS lets stand beside an alias: DNSSEC's own (RFC 2181 §10.1, RFC 4034) — as the files panel's zone check counts them. */
const BESIDE_ALIAS = new Set(['CNAME', 'RRSIG', 'NSEC', 'NSEC3']);

/** Where changes would put an alias and other data at one name (aliasClash): the record added, the alias, the other data. */
export interface AliasClash {
  name: string;
  /** The record the changes add (or write by an edit) that makes the clash: the alias itself, or a record beside one. */
  added: ZoneRecord;
  /** The alias (CNAME) at the name once the changes are written. */
  alias: ZoneRecord;
  /** The other records at the name once the changes are written (not the alias, not DNSSEC's). */
  others: ZoneRecord[];
}

/**
 * Where writing `changes` to a zone holding `records` would leave an alias (CNAME) beside other data at a name a change
 * adds a record to — a record put back beside an alias added since (the undo of a fix whose name the customer then
 * pointed at a DMARC service), or an alias put back beside records added since. Such a zone is invalid (ALIAS_ALONE).
 * Only names the changes add to count: a zone that already holds such a name elsewhere is not this write's doing.
 * Empty when there is none.
 */
export function aliasClash(records: readonly ZoneRecord[], changes: readonly Change[]): AliasClash[] {
  // The zone as the changes would leave it: each change's old record out (the zone's own object, or its twin), its new one in.
  const after = [...records];
  for (const c of changes) {
    const old = c.before;
    if (old) {
      const i = after.findIndex((r) => r === old || (sameResourceRecord(r, old) && r.ttl === old.ttl));
      if (i >= 0) after.splice(i, 1);
    }
    if (c.after) after.push(c.after);
  }
  const out: AliasClash[] = [];
  for (const c of changes) {
    const added = c.after;
    if (!added || out.some((x) => canonName(x.name) === canonName(added.name))) continue;
    const here = recordsAt(after, added.name);
    const alias = here.find((r) => r.type.toUpperCase() === 'CNAME');
    const others = here.filter((r) => !BESIDE_ALIAS.has(r.type.toUpperCase()));
    if (alias && others.length) out.push({ name: added.name, added, alias: added.type.toUpperCase() === 'CNAME' ? added : alias, others });
  }
  return out;
}

/**
 * Why the panel cannot write these changes — a record type it does not write (capabilities.writableTypes) — or null. Known
 * before anything is written: a plan holding such a change is blocked (makePlan; apply re-plans with it and refuses a
 * blocked plan first), so apply never generates a DKIM key (or writes a record) for a write the panel would refuse.
 */
export function unwritableChanges(capabilities: PanelCapabilities | undefined, changes: readonly Change[]): string | null {
  const types = capabilities?.writableTypes?.map((t) => t.toUpperCase());
  if (!types) return null;
  const bad = changes.filter((c) => [c.type, c.before?.type, c.after?.type].some((t) => t !== undefined && !types.includes(t.toUpperCase())));
  if (!bad.length) return null;
  const what = [...new Set(bad.map((c) => `${c.type.toUpperCase()} at ${c.name}`))].join(', ');
  return `This panel writes only ${types.join(' and ')} records through its API, and the fix would change ${what}: change ${bad.length === 1 ? 'that record' : 'those records'} in the panel by hand, then preview the fix again.`;
}

/** The records each fix owns: nothing else may move. */
export function ownedNames(check: FixKind, domain: string, selector: string): { name: string; types: string[] }[] {
  switch (check) {
    case 'spf':
      return [{ name: domain, types: ['TXT'] }];
    case 'dkim':
      return [{ name: `${selector}._domainkey.${domain}`, types: ['TXT', 'CNAME'] }];
    case 'lockdown':
      return [{ name: `_mailchannels.${domain}`, types: ['TXT', 'CNAME'] }];
    case 'dmarc':
      return [{ name: `_dmarc.${domain}`, types: ['TXT', 'CNAME'] }];
  }
}

/** Refuse a change list that touches anything the fix does not own (and, for SPF, a non-SPF apex TXT). */
export function ownershipProblem(check: FixKind, domain: string, selector: string, changes: Change[]): string | null {
  const owned = ownedNames(check, domain, selector);
  for (const c of changes) {
    const ok = owned.some((o) => canonName(o.name) === canonName(c.name) && o.types.includes(c.type.toUpperCase()));
    if (!ok) return `${check} fix may not change ${c.name} ${c.type}`;
    if (check === 'spf') {
      for (const r of [c.before, c.after]) {
        const text = r ? (r.txt ? r.txt.join('') : r.value) : null;
        // A record meant as SPF whose version tag receivers miss (spf/joins.ts versionRunTogether) is the SPF fix's to
        // rewrite in place — as the record it replaces, never as what it writes.
        const meant = r !== null && r === c.before && versionRunTogether(r.txt ?? [r.value]) !== null;
        if (text !== null && !isSpfRecord(text) && !meant) return `the SPF fix may not change the non-SPF TXT record ${JSON.stringify(text.slice(0, 60))}`;
      }
    }
  }
  return null;
}

function stripRef(r: ZoneRecord | null): unknown {
  if (!r) return null;
  return { name: canonName(r.name), ttl: r.ttl, type: r.type.toUpperCase(), value: r.value, txt: r.txt ?? null };
}

/** A plan hash as previews give it (hashPlan's output): what apply, the API, the web form and the CLI accept. */
export const PLAN_HASH = /^sha256:[0-9a-f]{64}$/;

/** The prefix of a plan's zoneVersion when it was computed from live DNS (the domain's DNS is served elsewhere). */
export const LIVE_VERSION = 'live:';

export function hashPlan(p: Pick<Plan, 'domain' | 'check' | 'mode' | 'changes' | 'actions' | 'zoneVersion' | 'options'>): string {
  const canonical = JSON.stringify({
    domain: p.domain,
    check: p.check,
    mode: p.mode,
    zoneVersion: p.zoneVersion,
    actions: p.actions.map((a) => a.kind),
    options: { removeTerms: [...(p.options.removeTerms ?? [])].sort() },
    changes: p.changes.map((c) => ({ action: c.action, name: canonName(c.name), type: c.type, ttl: c.ttl, before: stripRef(c.before), beforeRef: c.before?.ref ?? null, after: stripRef(c.after) })),
  });
  return 'sha256:' + createHash('sha256').update(canonical).digest('hex');
}

/** Default TTL for a new record: the TTL of other records at the name, else of the apex SOA/NS, else 3600. */
export function defaultTtl(records: readonly ZoneRecord[], name: string, domain: string): number {
  const here = recordsAt(records, name);
  if (here.length) return here[0].ttl;
  const apex = recordsAt(records, domain);
  const soa = apex.find((r) => r.type === 'SOA');
  if (soa) {
    const min = Number(soa.value.split(/\s+/)[6]);
    return soa.ttl || (Number.isFinite(min) && min > 0 ? min : 3600);
  }
  const ns = apex.find((r) => r.type === 'NS');
  return ns?.ttl ?? apex[0]?.ttl ?? 3600;
}

/** Each fix's name in messages ("the SPF fix"). */
export const FIX_LABEL: Record<FixKind, string> = { spf: 'SPF', dkim: 'DKIM', dmarc: 'DMARC', lockdown: 'lockdown' };

/**
 * Whether two records of a zone are one resource record: the same name, type and data — a TXT record's strings as
 * stored, not only their joined text (`"ab"` and `"a" "b"` are two records to DNS). A zone may hold such copies (a
 * record added twice in a zone editor, a migration tool); DNS serves them as one record (RFC 2181 §5: a record set holds
 * each record once), so receivers, and the checks that read live DNS, see one. The fixes judge the record once, and
 * keep one copy (copiesRemoved), which the audit offers them for (dns.drift, src/core/checks/dns.ts).
 */
export function sameResourceRecord(a: ZoneRecord, b: ZoneRecord): boolean {
  if (a === b) return true;
  const type = a.type.toUpperCase();
  if (canonName(a.name) !== canonName(b.name) || type !== b.type.toUpperCase()) return false;
  // Names in the data compare as names, any case, a final dot or not (RFC 4343): `10 Mail.example.com.` is
  // `10 mail.example.com` (review: the MX copies were two records).
  if (NAME_DATA.has(type) && !a.txt && !b.txt) return nameData(a.value) === nameData(b.value);
  const x = a.txt ?? [a.value];
  const y = b.txt ?? [b.value];
  return x.length === y.length && x.every((c, i) => c === y[i]);
}

/** Types whose data is numbers and names (or an address), compared as names by sameResourceRecord. */
const NAME_DATA = new Set(['MX', 'NS', 'CNAME', 'PTR', 'DNAME', 'SRV', 'A', 'AAAA']);

const nameData = (value: string) =>
  value
    .trim()
    .split(/\s+/)
    .map((f) => f.toLowerCase().replace(/\.$/, ''))
    .join(' ');

/** The records with every copy of an earlier one left out (sameResourceRecord): what DNS serves of them. */
export function withoutCopies<T extends ZoneRecord>(records: readonly T[]): T[] {
  const out: T[] = [];
  for (const r of records) if (!out.some((x) => sameResourceRecord(x, r))) out.push(r);
  return out;
}

/** The note on the copies of a record a plan removes (`records`: those at the name it owns), or null when there are none. */
export function copiesNote(records: readonly ZoneRecord[], what: string): string | null {
  const n = records.length - withoutCopies(records).length;
  if (n <= 0) return null;
  return `Removes ${n === 1 ? 'a copy' : `${n} copies`} of the ${what} at ${records[0].name}: the zone holds the same record more than once. DNS serves it once (RFC 2181 §5), so receivers see no change, but editing one copy later would leave two different records there.`;
}

/**
 * A plan that leaves the records at a name as they are but for their copies (sameResourceRecord): the changes that
 * remove every copy after the first, with the note (copiesNote). Empty when there are none.
 */
export function copiesRemoved(records: readonly ZoneRecord[], what: string): { changes: Change[]; notes: string[] } {
  const kept = withoutCopies(records);
  const note = copiesNote(records, what);
  if (!note) return { changes: [], notes: [] };
  const changes: Change[] = records.filter((r) => !kept.includes(r)).map((r) => ({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null }));
  return { changes, notes: [note] };
}

/** Changes that turn the existing records at one name into exactly one desired TXT record. */
export function replaceWithOne(existing: ZoneRecord[], desired: ZoneRecord | null): Change[] {
  const changes: Change[] = [];
  if (!desired) {
    for (const r of existing) changes.push({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
    return changes;
  }
  const same = (r: ZoneRecord) =>
    r.type === desired.type && (r.txt ? r.txt.join('') : r.value) === desired.value && (r.txt ?? [r.value]).every((c) => Buffer.byteLength(c) <= 255);
  const keep = existing.find(same);
  if (keep && existing.length === 1) return [];
  if (keep) {
    for (const r of existing) if (r !== keep) changes.push({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
    return changes;
  }
  const first = existing.find((r) => r.type === desired.type);
  if (first) {
    const after = { ...desired, ttl: first.ttl };
    changes.push({ action: 'edit', name: first.name, type: first.type, ttl: first.ttl, before: first, after });
  } else {
    changes.push({ action: 'add', name: desired.name, type: desired.type, ttl: desired.ttl, before: null, after: desired });
  }
  for (const r of existing) if (r !== first) changes.push({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
  return changes;
}

/** The plan as JSON: the public shape of `mailhealth fix --json` and of the web API. */
export function planJson(plan: Plan) {
  return {
    domain: plan.domain,
    check: plan.check,
    mode: plan.mode,
    planHash: plan.planHash,
    zoneVersion: plan.zoneVersion,
    changes: plan.changes,
    actions: plan.actions,
    notes: plan.notes,
    ...(plan.blocked ? { blocked: plan.blocked } : {}),
  };
}

/** A plan note that asks for a change by hand (a stranger's TXT beside the DMARC record: "remove it by hand"). */
const BY_HAND = /\bby hand\b/i;

/**
 * What a fix preview (CLI, web) and a refused apply say of a plan that changes nothing and is not blocked. "The records
 * are already right" unless a note of the plan asks for a change by hand — a TXT record the DMARC fix leaves beside the
 * DMARC record, which OpenDMARC may read instead (dmarc.compat): there it would contradict that note. A preview shows
 * the notes above this line, so it points at them; a refused apply shows only its reason (`notesShown: false`), so the
 * reason quotes them.
 */
export function nothingToChange(notes: readonly string[], opts: { notesShown?: boolean } = {}): string {
  const byHand = notes.filter((n) => BY_HAND.test(n));
  if (!byHand.length) return 'Nothing to change: the records are already right.';
  if (opts.notesShown === false) return `Nothing for the fix to change. By hand: ${byHand.join(' ')}`;
  return `Nothing for the fix to change: ${byHand.length === 1 ? 'the note above says what to change' : 'the notes above say what to change'} by hand.`;
}
