// DMARC fix: a missing record becomes p=none with reports to an address on the domain — unless the organizational
// domain's policy covers the domain (then nothing is published: a record would override it); report destinations at a
// previous host are dropped (postmaster@ the domain when no aggregate address is left), while one at another domain
// that does not authorise the reports yet (RFC 7489 §7.1) is kept; one whose domain is written in Unicode is written with
// its A-label (aLabelReportAddress); report addresses fitted to OpenDMARC's length limits, each one left out said
// (fitReportUris, fitNotes); syntax fixed; policy never tightened silently.
// Where the domain's DNS is served elsewhere (a publish-elsewhere plan over the live records), the panel's own record
// is what the customer set: with no DMARC record live, the record to publish is the panel's — fixed as it would be in
// the panel — not a new default; a live record is fixed as it is (receivers apply it today), taking the panel's
// report addresses where none of its own is left (planDmarc's `panel`).
import type { CheckContext } from '../checks/context.js';
import { authorizationRecord, inheritedFrom, organizationalPolicy } from '../checks/dmarc.js';
import { dmarcTagParts, dmarcVersionCaseOnly, externalAuthName, fitReportUris, isDmarcRecord, OPENDMARC, OPENDMARC_MAX_LIST, OPENDMARC_MAX_URI, openDmarcDropsReports, openDmarcFinds, openDmarcIgnores, openDmarcRefusedTag, openDmarcUriOctets, repairMeantDmarc, repairReportUri, needsExternalAuthorization, parseDmarcRecord, parseReportUri, renderDmarc, type DmarcPolicy, type ReportUri, type ReportUriFit } from '../dmarc/record.js';
import type { ZoneRecord } from '../model.js';
import { joinTxt } from '../resolver.js';
import { recordsAt } from '../zone.js';
import { splitTxt } from '../spf/parse.js';
import { ownedByDmarcFix } from './owned.js';
import { aliasBlock, copiesNote, copiesRemoved, defaultTtl, replaceWithOne, sameResourceRecord, withoutCopies } from './plan.js';
import type { PartialPlan } from './spf.js';
import { aLabelName } from '../domain.js';

const KNOWN = ['v', 'p', 'sp', 'np', 'adkim', 'aspf', 'fo', 'pct', 'rf', 'ri', 'rua', 'ruf', 't', 'psd'];
const STRENGTH: Record<DmarcPolicy, number> = { none: 0, quarantine: 1, reject: 2 };
/** What a record that leaves the tag out means (RFC 7489 §6.3, DMARCbis t=): it agrees with one that writes it. */
const DEFAULTS: Record<string, string> = { adkim: 'r', aspf: 'r', fo: '0', pct: '100', rf: 'afrf', ri: '86400', t: 'n' };

function asPolicy(v: string | undefined): DmarcPolicy | undefined {
  const l = v?.toLowerCase();
  return l === 'none' || l === 'quarantine' || l === 'reject' ? l : undefined;
}

function weakest(ps: (DmarcPolicy | undefined)[]): DmarcPolicy | undefined {
  return ps.reduce<DmarcPolicy | undefined>((a, b) => (b && (!a || STRENGTH[b] < STRENGTH[a]) ? b : a), undefined);
}

/** Every tag of a record in order, names lower case, duplicates included (the parser keeps only the first). */
function tagList(text: string): { pairs: [string, string][]; bad: string[] } {
  const pairs: [string, string][] = [];
  const bad: string[] = [];
  for (const t of dmarcTagParts(text)) {
    if (t.name === null) bad.push(t.part);
    else pairs.push([t.name, t.value]);
  }
  return { pairs, bad };
}

/**
 * The same tags with the same values (names compared without case, values as written): the first two (v, then p) in
 * place, the others in any order — receivers read them alike, so a record is not rewritten only to reorder them (a kept
 * report address before fo= would otherwise be moved behind it).
 */
function samePairs(a: [string, string][], b: [string, string][]): boolean {
  const key = ([k, v]: [string, string]) => `${k.toLowerCase()}=${v.trim()}`;
  const head = (x: [string, string][]) => x.slice(0, 2).map(key).join(';');
  const rest = (x: [string, string][]) => x.slice(2).map(key).sort().join(';');
  return a.length === b.length && head(a) === head(b) && rest(a) === rest(b);
}

/**
 * Whether a DMARC record as written (`written`) says what `value` says, to every receiver: both read without an error
 * (RFC 7489, the check's dmarc.syntax) and without anything OpenDMARC ignores or drops (the check's dmarc.compat), the
 * same policies (p=, sp= — p= where it is left out —, np= — sp= where left out), the same other tags (one left out has its
 * default, DEFAULTS; values compared without case), and the same report addresses in the same order (an address
 * written twice counted once: receivers send it its reports once). What may differ is what receivers read alike: the
 * order of the tags (RFC 7489's grammar puts p= second, but receivers read it anywhere: the check's remark), unknown
 * tags (ignored, RFC 7489 §6.3), spacing and a final ";".
 */
export function sameMeaning(written: string, value: string): boolean {
  const a = parseDmarcRecord(written);
  const b = parseDmarcRecord(value);
  if (a.errors.length || b.errors.length) return false;
  if (openDmarcIgnores(written).length || openDmarcDropsReports(written).length) return false;
  const low = (v: string | undefined) => v?.trim().toLowerCase();
  const policies = (r: typeof a) => {
    const p = low(r.tags.p);
    const sp = low(r.tags.sp) ?? p;
    return [p, sp, low(r.tags.np) ?? sp].join(';');
  };
  if (policies(a) !== policies(b)) return false;
  for (const k of ['adkim', 'aspf', 'fo', 'pct', 'rf', 'ri', 't', 'psd']) if ((low(a.tags[k]) ?? DEFAULTS[k]) !== (low(b.tags[k]) ?? DEFAULTS[k])) return false;
  const uris = (us: readonly ReportUri[]) => {
    const seen = new Set<string>();
    return us.filter((u) => !seen.has(u.address.toLowerCase()) && seen.add(u.address.toLowerCase())).map((u) => u.raw);
  };
  return uris(a.rua).join(',') === uris(b.rua).join(',') && uris(a.ruf).join(',') === uris(b.ruf).join(',');
}

/**
 * A report address whose domain is written in Unicode ("mailto:dmarc@bücher.example", or "dmarc@bücher.example" without
 * the scheme), as receivers can read it: that domain as its A-label ("mailto:dmarc@xn--bcher-kva.example"). A report
 * URI is ASCII (RFC 7489 §6.4: a URI, RFC 3986), so receivers cannot read it as written, but the mailbox the customer
 * chose is plain: the fix keeps it rather than sending the reports to postmaster@. Null when there is nothing to
 * write so — no "@", a domain the domain validator refuses, or non-ASCII left elsewhere (in the local part).
 */
export function aLabelReportAddress(piece: string): string | null {
  if (!/[^\x00-\x7f]/.test(piece)) return null;
  const at = piece.lastIndexOf('@');
  if (at < 1) return null;
  // The domain ends where a mailto: header (?…) or a !size suffix starts.
  const stop = piece.slice(at + 1).search(/[?!]/);
  const end = stop < 0 ? piece.length : at + 1 + stop;
  const name = aLabelName(piece.slice(at + 1, end));
  if (!name) return null;
  const out = `${piece.slice(0, at + 1)}${name}${piece.slice(end)}`;
  return /[^\x00-\x7f]/.test(out) ? null : out;
}

/**
 * A DMARC record as the character-strings of its TXT record, at most 255 bytes each (RFC 1035 §3.3.14). Receivers join
 * the strings with nothing between them (as for SPF, RFC 7208 §3.3, and DKIM, RFC 6376 §3.6.2.2), so any cut is valid;
 * each cut is made just after the last ";", "," or space within the 255 bytes, so that no report address is cut in
 * two: a reader that joins the strings with a space (checkdmarc and trustymail once did, mail-auth.md §10.5) still reads
 * the same tags — whitespace is allowed around ";" and "," (RFC 7489 §6.4) — while a space inside a mailto: URI makes
 * it unreadable. Only a run of 255 bytes without any of them is cut where it must (never inside a UTF-8 sequence).
 */
export function dmarcStrings(value: string, max = 255): string[] {
  return splitTxt(value, max, [0x3b, 0x2c, 0x20]);
}

/** The length of a record's longest string when the zone stores one over 255 bytes (live DNS cannot carry it; BIND refuses such a zone), else null. */
function longString(r: ZoneRecord): number | null {
  const longest = Math.max(...(r.txt ?? [r.value]).map((c) => Buffer.byteLength(c)));
  return longest > 255 ? longest : null;
}

/** Where reports go when the record has none left: RFC 5321 requires postmaster@ to exist on every mail domain. */
export function defaultReportAddress(domain: string): string {
  return `mailto:postmaster@${domain}`;
}

/**
 * Whether the fix can write defaultReportAddress for this domain: not for a name of 238 octets or more, whose
 * postmaster@ URI is over OPENDMARC_MAX_URI — OpenDMARC would refuse the whole record over it. Such a record asks for
 * no aggregate reports instead (said in a note: defaultReportNote).
 */
export function defaultReportFits(domain: string): boolean {
  return openDmarcUriOctets(defaultReportAddress(domain)) <= OPENDMARC_MAX_URI;
}

function defaultReportNote(domain: string): string {
  return `Asks for no aggregate reports: postmaster@${domain} would be a report URI of ${openDmarcUriOctets(defaultReportAddress(domain))} octets, and ${OPENDMARC} refuses the whole DMARC record over one of ${OPENDMARC_MAX_URI + 1} octets or more. Add a shorter report address of your own if you want them.`;
}

/**
 * The notes of fitting a rua=/ruf= list to OpenDMARC's limits (fitReportUris): each URI written without its !size
 * suffix or dropped named, with why, and what the customer loses — receivers following RFC 7489 would have sent reports
 * there. Dropping is the lesser loss: a URI over 255 octets makes OpenDMARC ignore the whole record (no policy at all
 * at its receivers), a list over 511 octets makes it send no report of that kind to any address; the URIs written
 * first are kept, and each other one is said, never dropped silently.
 */
function fitNotes(tag: 'rua' | 'ruf', fit: ReportUriFit): string[] {
  const kind = tag === 'rua' ? 'aggregate' : 'failure';
  const out: string[] = [];
  for (const s of fit.shortened)
    out.push(
      `Writes ${tag} ${s.from} as ${s.to}: with its !size suffix the URI is ${s.octets} octets, and ${OPENDMARC} refuses the whole DMARC record over a report URI of ${OPENDMARC_MAX_URI + 1} octets or more; without it, it is the same mailbox (the suffix only asks receivers to send nothing larger, and DMARCbis dropped it).`,
    );
  for (const t of fit.tooLong)
    out.push(
      `Drops ${tag} ${t.uri}: it is ${t.octets} octets long, and ${OPENDMARC} refuses the whole DMARC record over a report URI of ${OPENDMARC_MAX_URI + 1} octets or more, so its receivers would apply no DMARC policy at all. Receivers that follow RFC 7489 send their ${kind} reports there today and will not any more: if that mailbox is still needed, give it an address of at most ${OPENDMARC_MAX_URI} octets as a URI and add it back.`,
    );
  if (fit.left.length) {
    const them = fit.left.length === 1 ? 'it' : 'them';
    out.push(
      `Drops ${tag} ${fit.left.join(', ')}: ${OPENDMARC} skips a ${tag}= list of ${OPENDMARC_MAX_LIST + 1} octets or more whole (it then sends no ${kind} reports to any of its addresses), and with ${them} the list would be ${fit.octets} octets; the fix keeps the addresses, in the order written, that fit in ${OPENDMARC_MAX_LIST} octets. Receivers that follow RFC 7489 send ${them} no more ${kind} reports: to keep one, put it before others in the record or take others out.`,
    );
  }
  return out;
}

/**
 * One item of a rua=/ruf= list (the text between commas) with each address whose domain is written in Unicode written
 * with its A-label (aLabelReportAddress; each address of the item, when several are separated by spaces): `item` as
 * the fix reads it on (the text as written when none is), `aLabels` each address so rewritten, in order. The fix's
 * reading, and the check's words for what the fix repairs.
 */
export function aLabelReportItem(written: string): { item: string; aLabels: { from: string; to: string }[] } {
  const pieces = written.trim().split(/\s+/);
  const aLabels: { from: string; to: string }[] = [];
  const ascii = pieces.map((x) => {
    const a = aLabelReportAddress(x);
    if (a) aLabels.push({ from: x, to: a });
    return a ?? x;
  });
  return { item: aLabels.length ? ascii.join(' ') : written, aLabels };
}

/** One piece of a rua=/ruf= value as the DMARC fix reads it, in the order written: a URI, or a note on a repair or a drop. */
type ReportItem = { uri: ReportUri } | { note: string };

/**
 * A rua=/ruf= value as the DMARC fix reads it (pure): an item receivers cannot read but that is plainly meant as report
 * addresses (`local@domain` without mailto:, URIs separated by spaces) is repaired (repairReportUri), a domain written
 * in Unicode is written as its A-label (aLabelReportAddress), and what still is no URI is dropped — each said in a note,
 * in the order written, among the URIs it leaves.
 */
function reportValueItems(tag: 'rua' | 'ruf', value: string): ReportItem[] {
  const out: ReportItem[] = [];
  const items = value.split(',').flatMap((written) => {
    const { item, aLabels } = aLabelReportItem(written);
    for (const { from, to } of aLabels) out.push({ note: `Writes ${tag} ${from} as ${to}: report addresses in a DMARC record are ASCII only, so receivers cannot read a domain written in Unicode there; it is the same mailbox, its domain written as its A-label.` });
    const r = repairReportUri(item);
    if (!r) return [item];
    const why = [r.mailto ? 'a report address needs the mailto: scheme' : '', r.split ? 'report addresses are separated by commas' : ''].filter(Boolean).join('; ');
    out.push({ note: `Repairs ${tag} ${item.trim()} as ${r.uris.join(',')}: ${why}.` });
    return r.uris;
  });
  for (const part of items) {
    if (!part.trim()) continue;
    const { uri, errors } = parseReportUri(part);
    out.push(uri ? { uri } : { note: `Drops ${tag} ${part.trim()}: ${errors.join('; ')}.` });
  }
  return out;
}

/** The report URIs of one tag the DMARC fix has taken so far (as it writes them), and their addresses in lower case. */
export interface ReportsTaken {
  kept: string[];
  seen: Set<string>;
}

/**
 * Takes one rua=/ruf= value into `into`: each URI it reads there (reportValueItems), each address once (an address
 * written twice is sent its reports once), a mailto: address left out where `drops` says so (the plan's: a previous
 * host's, said in its note); `say` gets the notes of reportValueItems.
 */
async function takeReportValue(tag: 'rua' | 'ruf', value: string, into: ReportsTaken, drops: (uri: ReportUri) => Promise<boolean>, say: (note: string) => void): Promise<void> {
  for (const item of reportValueItems(tag, value)) {
    if ('note' in item) {
      say(item.note);
      continue;
    }
    const { uri } = item;
    if (into.seen.has(uri.address.toLowerCase())) continue;
    into.seen.add(uri.address.toLowerCase());
    if (uri.scheme === 'mailto' && uri.domain && (await drops(uri))) continue;
    into.kept.push(uri.raw);
  }
}

/**
 * The report URIs of one tag the DMARC fix takes from the records it merges (`texts`, in order): every value of the
 * tag in each (a tag written twice too), taken by takeReportValue — before OpenDMARC's limits (fitReportUris) and
 * before the panel's addresses or postmaster@ stand in for none. The one reading of them for the plan and for the
 * check, which says what the fix keeps (with `drops` as the plan's, and no notes).
 */
export async function takeReports(tag: 'rua' | 'ruf', texts: readonly string[], drops: (uri: ReportUri) => Promise<boolean>, say: (note: string) => void): Promise<ReportsTaken> {
  const into: ReportsTaken = { kept: [], seen: new Set() };
  for (const text of texts) for (const [k, v] of tagList(text).pairs) if (k === tag) await takeReportValue(tag, v, into, drops, say);
  return into;
}

/**
 * The sp=/np= values the DMARC fix drops from a DMARC record receivers read whose p= is not one policy (missing, not a
 * policy, or given more than once): receivers apply no sp=/np= from it today — they read it as p=none when it has a
 * report address and p= is not given twice (`readAsNone`, RFC 7489 §6.6.3), else they apply nothing — so keeping one
 * stricter than none would newly apply it; the fix writes p=none (planAt: such a record counts as p=none, and its
 * "Drops sp=…" notes). Values that are no policy are not here (dropped as invalid). Null when none is dropped.
 */
export function unappliedPolicyTags(text: string): { dropped: { tag: 'sp' | 'np'; value: string }[]; readAsNone: boolean } | null {
  const { pairs } = tagList(text);
  const ps = pairs.filter(([k]) => k === 'p');
  if (ps.length === 1 && asPolicy(ps[0][1])) return null;
  const dropped: { tag: 'sp' | 'np'; value: string }[] = [];
  for (const [k, v] of pairs) if ((k === 'sp' || k === 'np') && asPolicy(v) !== undefined && asPolicy(v) !== 'none') dropped.push({ tag: k, value: v });
  return dropped.length ? { dropped, readAsNone: ps.length <= 1 && parseDmarcRecord(text).rua.length > 0 } : null;
}

/**
 * Where the domain's DNS is served elsewhere: the panel's zone (src/core/plans/index.ts passes it with the live
 * records). Its DMARC record is the one the customer set, and the one receivers read once the nameservers point here.
 */
export interface DmarcPanelZone {
  records: readonly ZoneRecord[];
}

/** The panel's DMARC record as the fix would leave it (planned over the panel's zone alone), or the alias there. */
type PanelDmarc =
  | { kind: 'none' }
  | { kind: 'alias'; target: string }
  | {
      kind: 'record';
      /** The panel's record(s) as written. */
      written: string[];
      /** The record the fix makes of them: what is published at the live DNS host when it has none. */
      value: string;
      ttl: number;
      /** What fixing them did (dropped addresses, repairs…), in the fix's words. */
      notes: string[];
      /** Its aggregate report addresses, checked — none when the fix fell back to postmaster@. */
      rua: string[];
    };

/** Where the records planned over come from: the zone receivers read (the panel's, or live DNS), or the panel's zone read to publish elsewhere. */
type Origin = 'zone' | 'panel';

interface Planned {
  plan: PartialPlan;
  /** The one DMARC record the plan leaves at the name, null when it leaves none (or publishes none). */
  value: string | null;
  /** Whether the aggregate report address is the default (none of the record's was left). */
  ruaDefault: boolean;
}

/**
 * `panel`: only for a publish-elsewhere plan (`records` are the live ones): the panel's zone. With no DMARC record
 * live, the panel's is published instead of the default one — fixed as the fix would fix it in the panel (a previous
 * host's report addresses dropped, syntax repaired, an unreadable record's policy not switched on); its policy is kept
 * (nothing applies today, so nothing is weakened), and a note says when it enforces. With a DMARC record live, that
 * record is fixed as today (receivers apply it: never weakened, never tightened silently); only where none of its
 * aggregate report addresses is left are the panel's record's taken before postmaster@, and a note names the panel's
 * record when it differs. An organizational policy that applies still means nothing is published, and an alias at the
 * panel's _dmarc blocks the plan (the service behind it publishes the record; a TXT in its place would drop it).
 */
export async function planDmarc(ctx: CheckContext, records: ZoneRecord[], panel?: DmarcPanelZone): Promise<PartialPlan> {
  const fromPanel = panel ? await panelDmarc(ctx, panel.records) : null;
  return (await planAt(ctx, records, 'zone', fromPanel)).plan;
}

/** The panel's DMARC record at _dmarc (its records meant as DMARC only), as the fix would leave it. */
async function panelDmarc(ctx: CheckContext, records: readonly ZoneRecord[]): Promise<PanelDmarc> {
  const name = `_dmarc.${ctx.domain}`;
  const alias = recordsAt(records, name, 'CNAME')[0];
  if (alias) return { kind: 'alias', target: alias.value };
  const textOf = (r: ZoneRecord) => (r.txt ? r.txt.join('') : r.value);
  // Its DMARC records and records meant as DMARC: anything else there (a verification token, an SPF record published
  // there by mistake) is the panel's zone's own business, not part of the record to publish.
  const own = recordsAt(records, name, 'TXT').filter((r) => isDmarcRecord(textOf(r)) || repairMeantDmarc(textOf(r)) !== null);
  if (!own.length) return { kind: 'none' };
  const planned = await planAt(ctx, own, 'panel', null);
  if (planned.value === null) return { kind: 'none' };
  const rua = planned.ruaDefault ? [] : (tagList(planned.value).pairs.find(([k]) => k === 'rua')?.[1].split(',') ?? []);
  return { kind: 'record', written: own.map(textOf), value: planned.value, ttl: own[0].ttl, notes: planned.plan.notes, rua };
}

/** A record's text for a note: quoted, at most 80 characters. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

async function planAt(ctx: CheckContext, records: ZoneRecord[], origin: Origin, panel: PanelDmarc | null): Promise<Planned> {
  const fromPanel = origin === 'panel';
  const name = `_dmarc.${ctx.domain}`;
  const textOf = (r: ZoneRecord) => (r.txt ? r.txt.join('') : r.value);
  const atName = recordsAt(records, name, 'TXT');
  const notes: string[] = [];
  const alias = aliasBlock(records, name, 'DMARC policy');
  if (alias) return { plan: { changes: [], notes, blocked: alias }, value: null, ruaDefault: false };
  const ttl = atName[0]?.ttl ?? defaultTtl(records, name, ctx.domain);
  // The records this fix owns (ownedByDmarcFix). Any other TXT at the name (a site-verification token, say) is not a
  // mail record: RFC 7489 receivers ignore it (§6.6.3 discards records not starting with the version tag), and the fix
  // leaves it alone (QA: a verification token at _dmarc was deleted with every DMARC fix) — but beside the DMARC record
  // the fix leaves there, OpenDMARC may read it instead (the check's dmarc.compat): the notes say so (leftNote).
  const existing = atName.filter((r) => ownedByDmarcFix(textOf(r)));
  const left = atName.filter((r) => !existing.includes(r)).map(textOf);
  /** The notes on those records, first in a plan: `beside`, whether the plan leaves a DMARC record at the name. */
  const leaving = (beside: boolean) => left.map((t) => leftNote(t, name, beside));
  // The records receivers read — isDmarcRecord, as the check counts them: `v=dmarc1; p=none` is not one (the version
  // value is case-sensitive), so it is never merged.
  // Copies of one record (the same strings: a record added twice) are one record to DNS (RFC 2181 §5), as receivers and
  // the check read them: judged once, never "several records" to merge; the plan keeps one (dmarcCopies below, which
  // dns.drift offers the fix for).
  const strict = withoutCopies(existing.filter((r) => isDmarcRecord(textOf(r))));
  // Records meant as DMARC that receivers cannot read (the check's dmarc.syntax): repaired, keeping their tags — only
  // where the domain has no readable record and no policy is inherited. Beside a readable record one is just removed:
  // receivers ignore it, and its policy must not enter the merge (it would weaken the one that applies).
  const meant = new Map<ZoneRecord, string>();
  if (strict.length === 0) {
    // No record of its own: receivers apply the organizational domain's policy (its sp=, else p=; RFC 7489 §6.6.3).
    // A record here would override it, so none is published where that policy applies (the check says
    // dmarc.inherited) — a p=none record would weaken a reject to monitoring only. (The panel's record, read to publish
    // elsewhere, comes here only once the zone receivers read has been judged so.)
    const inherited = fromPanel ? null : await organizationalPolicy(ctx);
    if (inherited?.state === 'unknown') {
      return {
        plan: { changes: [], notes: [], blocked: `Could not read the DMARC record of ${inherited.org}, which may apply to ${ctx.domain} (DNS ${inherited.answer.error ?? 'error'} for _dmarc.${inherited.org}): no change until DNS answers.` },
        value: null,
        ruaDefault: false,
      };
    }
    if (inherited?.state === 'applies') {
      const out = [`Publishes no DMARC record: ${ctx.domain} has none of its own and inherits p=${inherited.policy} from ${inherited.org} (${inheritedFrom(inherited)}). A record at ${name} would override that policy for ${ctx.domain} (RFC 7489 §6.6.3).`];
      if (panel?.kind === 'record') out.push(`The panel's zone has a DMARC record for ${ctx.domain} (${quoted(panel.written[0])}); it is not published at the live DNS host for that reason.`);
      return { plan: { changes: [], notes: out }, value: null, ruaDefault: false };
    }
    for (const r of withoutCopies(existing)) {
      const fixed = repairMeantDmarc(textOf(r));
      if (fixed) meant.set(r, fixed);
    }
    if (meant.size === 0) {
      // The panel's zone, read to publish elsewhere, has no record to publish: nothing (no default is made up there).
      if (fromPanel) return { plan: { changes: [], notes: [] }, value: null, ruaDefault: false };
      const wrongAll = existing;
      for (const r of withoutCopies(wrongAll)) notes.push(`Removes ${JSON.stringify(textOf(r).slice(0, 60))} from ${name}: it is not a DMARC record.`);
      if (inherited?.state === 'none' && inherited.why) notes.push(`No policy applies to ${ctx.domain} today: it has no DMARC record of its own, and ${inherited.why}.`);
      if (panel?.kind === 'alias') {
        return {
          plan: {
            changes: [],
            notes: [...leaving(false), ...notes],
            blocked: `The live DNS has no DMARC record for ${ctx.domain}, and the panel's zone has ${name} as an alias (CNAME to ${panel.target}): a DMARC service publishes the record there. mailhealth publishes no TXT record in its place (that would drop the service): publish the same alias at the live DNS host, or point the nameservers at this server.`,
          },
          value: null,
          ruaDefault: false,
        };
      }
      if (panel?.kind === 'record') {
        // What the customer set in the panel — its policy and report addresses, fixed as the fix would fix it there —
        // rather than a new default. Receivers apply no DMARC policy today, so no policy is weakened; one that enforces
        // is said (this server's mail must pass SPF or DKIM there before it applies).
        const value = panel.value;
        const fixed = panel.written.length !== 1 || !samePairs(tagList(panel.written[0]).pairs, tagList(value).pairs);
        notes.push(
          `Publishes the panel's DMARC record (${quoted(panel.written.length === 1 ? panel.written[0] : panel.written.join(' + '))}) instead of a new one: the live DNS has no DMARC record for ${ctx.domain}, and this is the record set in the panel, which applies once the nameservers point at this server${fixed ? ' — with the changes below, as the DMARC fix makes them in the panel' : ''}.`,
        );
        for (const n of panel.notes) notes.push(/^The record\b/.test(n) ? n.replace(/^The record/, "The panel's record") : `The panel's record: ${n.charAt(0).toLowerCase()}${n.slice(1)}`);
        const p = asPolicy(parseDmarcRecord(value).tags.p);
        if (p && p !== 'none')
          notes.push(
            `Keeps p=${p}, the panel's policy: receivers apply no DMARC policy to ${ctx.domain} today (the live DNS has no record), so from then on they ${p === 'reject' ? 'reject' : 'quarantine'} its mail that passes neither SPF nor DKIM for ${ctx.domain}. Publish the records of the SPF and DKIM fixes at the same host first.`,
          );
        const desired: ZoneRecord = { name, ttl: panel.ttl, type: 'TXT', value, txt: dmarcStrings(value) };
        return { plan: { changes: [...replaceWithOne(wrongAll, null), { action: 'add', name, type: 'TXT', ttl: panel.ttl, before: null, after: desired }], notes: [...leaving(true), ...notes] }, value, ruaDefault: panel.rua.length === 0 };
      }
      const fits = defaultReportFits(ctx.domain);
      const value = fits ? `v=DMARC1; p=none; rua=${defaultReportAddress(ctx.domain)}` : 'v=DMARC1; p=none';
      notes.push(`Publishes a monitoring-only DMARC record (p=none)${fits ? ` with aggregate reports to postmaster@${ctx.domain}` : ''}${panel?.kind === 'none' ? ` (the panel's zone has no DMARC record for ${ctx.domain} either)` : ''}.`);
      if (!fits) notes.push(defaultReportNote(ctx.domain));
      const desired: ZoneRecord = { name, ttl, type: 'TXT', value, txt: dmarcStrings(value) };
      return { plan: { changes: [...replaceWithOne(wrongAll, null), { action: 'add', name, type: 'TXT', ttl, before: null, after: desired }], notes: [...leaving(true), ...notes] }, value, ruaDefault: fits };
    }
  }
  const dmarcs = strict.length ? strict : existing.filter((r) => meant.has(r));
  /** The records the plan makes into the one it leaves: the DMARC records, with their copies. */
  const dmarcCopies = existing.filter((r) => dmarcs.some((d) => sameResourceRecord(d, r)));
  for (const [r] of meant) notes.push(`Rewrites ${JSON.stringify(textOf(r).slice(0, 60))} in DMARC's syntax (v=DMARC1 first, tags separated by ";"), keeping its tags: receivers cannot read it as written.`);
  for (const r of withoutCopies(existing)) {
    if (dmarcCopies.includes(r)) continue;
    if (repairMeantDmarc(textOf(r)) !== null)
      notes.push(`Removes ${JSON.stringify(textOf(r).slice(0, 60))} from ${name}: it is meant as DMARC but receivers cannot read it (a DMARC record starts with "v=DMARC1;"), so they apply the DMARC record beside it; its policy is not merged in.`);
    else notes.push(`Removes ${JSON.stringify(textOf(r).slice(0, 60))} from ${name}: it is not a DMARC record.`);
  }
  const wrong = existing.filter((r) => !dmarcCopies.includes(r));

  const texts = dmarcs.map((r) => meant.get(r) ?? (r.txt ? r.txt.join('') : r.value));
  const lists = texts.map(tagList);
  const note = (n: string) => {
    if (!notes.includes(n)) notes.push(n);
  };
  const label = (i: number) => (dmarcs.length > 1 ? `The record ${JSON.stringify(texts[i].slice(0, 60))}` : 'The record');
  // A readable record without a valid p= (missing, or one value that is not a policy) but with a valid rua=: receivers
  // act as if it were `v=DMARC1; p=none` (RFC 7489 §6.6.3) — for subdomains too, its sp=/np= not applied. Without a
  // valid rua (or with p given twice, which makes it invalid) they apply no DMARC policy from it at all.
  const asNone = lists.map((l, i) => {
    const ps = l.pairs.filter(([k]) => k === 'p');
    return !meant.has(dmarcs[i]) && ps.length <= 1 && !asPolicy(ps[0]?.[1]) && parseDmarcRecord(texts[i]).rua.length > 0;
  });
  // What receivers do with a record as it is: today, for the records they read; for the panel's record read to publish
  // elsewhere, what they would do with it (they do not read it yet).
  const apply = fromPanel ? 'would apply' : 'apply';
  const now = fromPanel ? '' : ' today';
  // Several DMARC records (copies are one): receivers apply none of them, not one as p=none (RFC 7489 §6.6.3) — the
  // check's dmarc.multiple, and its dmarc.syntax in the same words. The notes on one record say so rather than what
  // receivers would do with that record alone (review: "receivers apply it as p=none today" beside dmarc.multiple).
  // What the fix does with each record is the same either way.
  const several = strict.length > 1;
  const noneOfSeveral = `receivers ${apply} no DMARC policy at all while ${fromPanel ? "the panel's zone" : 'the domain'} has several DMARC records`;
  const today = (i: number) => (several ? noneOfSeveral : asNone[i] ? `receivers ${apply} it as p=none${now} (it has a report address, RFC 7489 §6.6.3)` : `receivers ${apply} none${now}`);
  for (const l of lists) for (const b of l.bad) note(`Drops ${JSON.stringify(b)}: it is not a tag=value pair.`);

  // Each record's own policy. A record whose p is missing, invalid or given more than once is one receivers apply no
  // policy from today, so it counts as p=none and sp=np=none: the fixed record never enforces more than today.
  const own = lists.map((l, i): DmarcPolicy | null => {
    const ps = l.pairs.filter(([k]) => k === 'p').map(([, v]) => v);
    // A record receivers cannot read applies no policy today: its written policy is not switched on silently.
    // Readable but for whitespace before v= (` v=DMARC1; p=reject`) or the version's case: lenient receivers (parsers
    // that trim, or compare case-insensitively) apply its policy today, and it is what was meant (review: a leading
    // space turned p=reject into p=none).
    const text = textOf(dmarcs[i]);
    const spaced = text !== text.trimStart() && isDmarcRecord(text.trimStart());
    if (meant.has(dmarcs[i]) && (spaced || dmarcVersionCaseOnly(text.trimStart()) !== null) && ps.length === 1 && asPolicy(ps[0])) {
      note(
        spaced
          ? `${label(i)} starts with whitespace before v=DMARC1, so receivers following RFC 7489 discard it: the fix writes it without and keeps its p=${asPolicy(ps[0])}.`
          : `${label(i)} writes its version as ${JSON.stringify(text.trim().split(';')[0])}, which receivers following RFC 7489 discard: the fix writes v=DMARC1 and keeps its p=${asPolicy(ps[0])}.`,
      );
      return asPolicy(ps[0])!;
    }
    if (meant.has(dmarcs[i])) {
      const wrote = ps.length === 1 ? asPolicy(ps[0]) : undefined;
      // OpenDMARC does not check where v= stands (`p=reject; v=DMARC1` is p=reject to it: third-judge QA), so its
      // receivers may apply the written policy today — said, as the fix weakens it there.
      const lenient = /(^|;)\s*v=DMARC1\s*(;|$)/.test(text) && !/^\s*v\s*=/i.test(text);
      if (wrote && wrote !== 'none')
        note(
          `${label(i)} says p=${wrote}, but receivers cannot read it, so they ${apply} no DMARC policy${fromPanel ? ' from it' : ' today'}: the fix publishes p=none (monitoring only) and keeps its other tags — set p=${wrote} yourself once SPF and DKIM pass for this server's mail.${
            lenient ? ` (${OPENDMARC} does not check where v= stands, so its receivers may apply p=${wrote} already.)` : ''
          }`,
        );
      return null;
    }
    if (ps.length === 1 && asPolicy(ps[0])) {
      // An invalid sp= makes RFC 7489 receivers read the record as one without a valid p (§6.6.3 step 6): the fix
      // drops the sp= and keeps the p= that was written — which then applies: said, as it may enforce more than today.
      const badSp = l.pairs.find(([k, v]) => k === 'sp' && !asPolicy(v));
      if (badSp && asPolicy(ps[0]) !== 'none') {
        const rfc = parseDmarcRecord(texts[i]).rua.length > 0 ? 'as p=none' : 'as no policy at all';
        note(
          several
            ? `${label(i)} has the invalid sp=${badSp[1]}: ${noneOfSeveral}; with sp= dropped, its p=${asPolicy(ps[0])} counts in the merge as written.`
            : `${label(i)} has the invalid sp=${badSp[1]}, so receivers following RFC 7489 ${apply} it ${rfc}${now}: with sp= dropped its p=${asPolicy(ps[0])} applies (lenient receivers may apply it already).`,
        );
      }
      return asPolicy(ps[0])!;
    }
    if (ps.length === 0)
      note(
        dmarcs.length > 1
          ? `${label(i)} has no p= policy, so ${several ? `the fix uses p=none: ${noneOfSeveral}` : asNone[i] ? today(i) : `receivers ${apply} none from it${now}`}.`
          : asNone[i]
            ? `Adds the missing p=none (the record had no policy; receivers ${fromPanel ? 'would apply' : 'already apply'} it as p=none, since it has a report address).`
            : 'Adds the missing p=none (the record had no policy).',
      );
    else if (ps.length > 1) note(`${label(i)} sets p more than once (${ps.map((v) => `p=${v}`).join(', ')}), which makes it invalid: ${several ? noneOfSeveral : `receivers ${apply} no DMARC policy${fromPanel ? ' from it' : ' today'}`}, so the fix uses p=none (monitoring only) rather than picking one.`);
    else {
      // OpenDMARC accepts the start of a policy's name, whitespace removed (`p=r`, `p=quar`: third-judge QA), so its
      // receivers may apply that policy today — said, as the fix weakens it there.
      const w = ps[0].replace(/\s+/g, '').toLowerCase();
      const full = w ? (['none', 'quarantine', 'reject'] as const).find((x) => x.startsWith(w)) : undefined;
      note(`${label(i)} has p=${ps[0]}, which is not a policy: ${today(i)}, so the fix uses p=none.${full && full !== 'none' ? ` (${OPENDMARC} accepts the start of a policy's name and reads it as p=${full}: set p=${full} yourself if that is what was meant.)` : ''}`);
    }
    return null;
  });
  // Tags other than v, p, rua, ruf: unknown and invalid ones dropped; the valid values kept per record, in order.
  const order: string[] = [];
  const valid = lists.map((l) => {
    const m = new Map<string, string[]>();
    for (const [k, v] of l.pairs) {
      if (k === 'v' || k === 'p' || k === 'rua' || k === 'ruf') continue;
      if (!KNOWN.includes(k)) {
        note(`Drops the unknown tag ${k}=${v}.`);
        continue;
      }
      // The probe carries a valid rua: without one an invalid sp= also draws the record-level "no valid rua" error,
      // which would be the probe's, not the customer's record's (review).
      const errs = parseDmarcRecord(`v=DMARC1; p=none; rua=mailto:dmarc@example.net; ${k}=${v}`).errors;
      if (errs.length) {
        note(`Drops ${k}=${v}: ${errs.join('; ')}.`);
        continue;
      }
      const refused = openDmarcRefusedTag(k, v);
      if (refused) {
        note(`Drops ${k}=${v}: ${refused}.`);
        continue;
      }
      if (!order.includes(k)) order.push(k);
      m.set(k, [...(m.get(k) ?? []), v]);
    }
    return m;
  });
  // Never tighten: the weakest policy among the records, for the domain (p), subdomains (sp, default p) and
  // non-existent subdomains (np, default sp); a tag given twice in one record counts with its weakest value.
  const eff = own.map((p, i) => {
    if (!p) return { p: 'none' as DmarcPolicy, sp: 'none' as DmarcPolicy, np: 'none' as DmarcPolicy };
    const sp = weakest((valid[i].get('sp') ?? []).map(asPolicy)) ?? p;
    return { p, sp, np: weakest((valid[i].get('np') ?? []).map(asPolicy)) ?? sp };
  });
  const policy = weakest(eff.map((e) => e.p))!;
  // Receivers apply none of several records today (or of records they cannot read): the weakest policy written is
  // kept, so no record's own policy is tightened, but the merged record does switch a policy on — said, not "nothing
  // is tightened" (review: merging two p=reject records turns reject on).
  const untilOne = several ? noneOfSeveral : `receivers ${apply} no DMARC policy from them${now}, since they cannot read them as written`;
  if (dmarcs.length > 1) notes.push(`Merges ${dmarcs.length} DMARC records into one, keeping the weakest policy among them (p=${policy}): ${untilOne}, so p=${policy} applies only once they are one.`);
  const tags: Record<string, string> = { v: 'DMARC1', p: policy };
  for (const k of order) {
    const written = valid.flatMap((m) => m.get(k) ?? []);
    if (k === 'sp' || k === 'np') {
      const out = weakest(eff.map((e) => e[k]))!;
      valid.forEach((m, i) => {
        if (own[i]) return;
        const that = dmarcs.length > 1 ? `the record ${JSON.stringify(texts[i].slice(0, 60))}` : 'that record';
        for (const v of m.get(k) ?? [])
          if (asPolicy(v) !== 'none')
            note(
              several
                ? `Drops ${k}=${v} from ${that}, whose p= is not one policy: ${noneOfSeveral}, so keeping it would newly apply ${v.toLowerCase()} to ${k === 'sp' ? 'subdomains' : 'non-existent subdomains'}.`
                : asNone[i]
                  ? `Drops ${k}=${v}: receivers ${apply} ${that} as p=none${now} (it has no valid p= but a report address, RFC 7489 §6.6.3), to ${k === 'sp' ? 'subdomains' : 'non-existent subdomains'} too, so keeping it would newly apply ${v.toLowerCase()} to them.${
                      // One record without p=: the customer's policy for subdomains, kept by adding p= by hand (the
                      // check's dmarc.syntax warning says the same before the fix is applied).
                      dmarcs.length === 1 && lists[i].pairs.every(([t]) => t !== 'p') ? ` To keep ${k}=${v}, add p= yourself (p=none, right after v=DMARC1) instead of applying this fix.` : ''
                    }`
                  : `Drops ${k}=${v}: receivers ${fromPanel ? 'would ignore' : 'ignore'} ${that}${now}, so keeping it would newly apply ${v.toLowerCase()} to ${k === 'sp' ? 'subdomains' : 'non-existent subdomains'}.`,
            );
      });
      // Written when a record that applies says so, or when it differs from its default.
      if (out === (k === 'sp' ? policy : weakest(eff.map((e) => e.sp))) && !valid.some((m, i) => own[i] && m.has(k))) continue;
      tags[k] = out;
      if (written.some((v) => asPolicy(v) !== out) && own.every(Boolean))
        note(
          `Sets ${k}=${out}: the weakest ${k === 'sp' ? 'subdomain' : 'non-existent subdomain'} policy among ${written.map((v) => `${k}=${v}`).join(', ')} and the records without ${k} (which apply their ${k === 'sp' ? 'p' : 'sp'}), ${
            // Beside several records nothing applies today (the merge note): no record's own policy is tightened.
            dmarcs.length > 1 ? "so no record's own policy is tightened" : 'so nothing is tightened'
          }.`,
        );
      continue;
    }
    // Other tags: records that leave a tag out have its default. Kept when every record agrees; otherwise the value
    // that enforces least (the lowest pct, t=y test mode), or the tag is dropped (its default: relaxed alignment,
    // standard reporting options).
    const all = valid.flatMap((m) => m.get(k) ?? (DEFAULTS[k] !== undefined ? [DEFAULTS[k]] : []));
    const distinct = [...new Set(all.map((v) => v.toLowerCase()))];
    if (distinct.length === 1) tags[k] = written[0];
    else if (k === 'pct' && all.every((v) => /^\d{1,3}$/.test(v) && Number(v) <= 100)) {
      tags.pct = String(Math.min(...all.map(Number)));
      note(`Sets pct=${tags.pct}, the lowest among ${distinct.map((v) => `pct=${v}`).join(', ')}, so no more mail is affected than today.`);
    } else if (k === 't' && distinct.includes('y')) {
      tags.t = 'y';
      note('Keeps t=y (test mode): one of the records has it, so the policy is not enforced today.');
    } else note(`Drops ${k}: the values disagree (${distinct.map((v) => `${k}=${v}`).join(', ')}), so it is left at its default${DEFAULTS[k] ? ` (${k}=${DEFAULTS[k]})` : ''}.`);
  }
  // Report destinations: every address of every record (a working one is never dropped), each checked once.
  let ruaDefault = false;
  for (const tag of ['rua', 'ruf'] as const) {
    /**
     * Whether the fix drops a mailto: address it reads (takeReports): a previous host's. An address at another domain
     * that does not authorise the reports (RFC 7489 §7.1) is kept: the customer chose it, receivers send nothing there
     * until that domain publishes the authorisation, and once it does the reports arrive with no change here.
     * Replacing it would undo that choice (QA: reports meant for a domain of the customer's own, or a DMARC service not
     * yet set up, were sent to postmaster@ instead). Only whether it is authorised is said; a DNS error on that lookup
     * decides nothing either.
     */
    const drops = async (uri: ReportUri): Promise<boolean> => {
      const c = await ctx.classifier.reportAddress(uri.address);
      if (c.class === 'stale') {
        notes.push(`Drops ${tag} ${uri.address}: ${c.reason}.`);
        return true;
      }
      if (needsExternalAuthorization(ctx.domain, uri.domain)) {
        const authName = externalAuthName(ctx.domain, uri.domain);
        const a = await ctx.resolver.resolve(authName, 'TXT');
        if (a.status === 'unknown') notes.push(`Keeps ${tag} ${uri.address}: whether ${uri.domain} accepts reports for ${ctx.domain} could not be checked (DNS ${a.error ?? 'error'} for ${authName}).`);
        else if (!(a.status === 'ok' && a.records.map(joinTxt).some((t) => /^v\s*=\s*DMARC1/i.test(t))))
          notes.push(
            `Keeps ${tag} ${uri.address}, although ${uri.domain} does not authorise reports for ${ctx.domain} yet: receivers send none there until ${authorizationRecord(ctx.domain, uri.domain)} is published in ${uri.domain}'s DNS (RFC 7489 §7.1). Take it out of the record yourself if it is not wanted.`,
          );
      }
      return false;
    };
    const taken = await takeReports(tag, texts, drops, note);
    const { kept } = taken;
    // What OpenDMARC reads of the list (fitReportUris: each URI at most 255 octets, the list at most 511), each URI
    // left out said (note() says a note once: the list is fitted again after the panel's addresses are taken).
    const fitted = () => {
      const fit = fitReportUris(kept);
      for (const n of fitNotes(tag, fit)) note(n);
      return fit.kept;
    };
    let written = fitted();
    // Publishing elsewhere a live record none of whose aggregate addresses is left: the panel's record's addresses
    // (the customer's choice, checked again here) before a new default.
    if (!written.length && tag === 'rua' && panel?.kind === 'record' && panel.rua.length) {
      const had = lists.some((l) => l.pairs.some(([k]) => k === 'rua'));
      notes.push(`Takes the aggregate report address${panel.rua.length > 1 ? 'es' : ''} of the panel's DMARC record (${panel.rua.join(',')}): ${had ? "none of the live record's is left" : 'the live record has none'}.`);
      for (const v of panel.rua) await takeReportValue(tag, v, taken, drops, note);
      written = fitted();
    }
    if (written.length) tags[tag] = written.join(',');
    else if (tag === 'rua' && (lists.some((l) => l.pairs.some(([k]) => k === 'rua')) || !own.some(Boolean))) {
      // postmaster@ stands in for report addresses the record had and lost (a previous host's, unreadable ones), and
      // goes into a record receivers apply nothing from today (it is a new record in effect). A record that applies a
      // policy and never asked for aggregate reports is left without them: that is the customer's choice, the check
      // passes it (dmarc.ok; "no rua" is only a remark), and a fix made for something else (a previous host's ruf) must
      // not start sending every receiver's daily reports to a mailbox nobody chose (QA: `v=DMARC1; p=none` was
      // rewritten although the audit passed it).
      if (defaultReportFits(ctx.domain)) {
        tags.rua = defaultReportAddress(ctx.domain);
        ruaDefault = true;
        notes.push(`Sends aggregate reports to postmaster@${ctx.domain}.`);
      } else notes.push(defaultReportNote(ctx.domain));
    }
  }
  const ordered: Record<string, string> = { v: tags.v, p: tags.p };
  for (const [k, v] of Object.entries(tags)) if (!(k in ordered)) ordered[k] = v;
  const value = renderDmarc(ordered);
  // Publishing elsewhere over a live DMARC record: the record receivers apply today is what is fixed (its policy never
  // weakened, nor tightened silently). When the panel's record differs, say so: it is what applies once the
  // nameservers point here, and publishing it before then is the customer's call.
  const differs =
    panel?.kind === 'record' && !samePairs(tagList(value).pairs, tagList(panel.value).pairs) && !sameMeaning(panel.value, value)
      ? `The panel's zone has another DMARC record for ${ctx.domain} (${quoted(panel.written.join(' + '))}): this plan fixes the record the live DNS serves, since receivers apply that one today and the fix neither weakens nor silently tightens a policy. The panel's record applies once the nameservers point at this server; to publish it at the live DNS host before then, change the record there by hand.`
      : null;
  // One record that already says what the fix would write (sameMeaning: only its spelling differs — tag order, unknown
  // tags, spacing, the case of a value): left exactly as it is — a fix never rewrites a record receivers already read
  // the same way, and no finding of the check offers it for such a record (review: `v=DMARC1; p=none; foo=bar; rua=…`
  // was dmarc.ok, and the fix rewrote it without foo=bar; `v=DMARC1; rua=…; p=none`, p= moved with no note). Those
  // differences ride along only when the record is rewritten for a reason a finding gives.
  // A record stored as a string over 255 bytes is rewritten even then: DNS cannot carry it as stored (the panel's zone
  // can hold it; BIND refuses to load such a zone), so it is published as several strings of at most 255 bytes.
  const long = dmarcs.length === 1 ? longString(dmarcs[0]) : null;
  // …unless OpenDMARC's lookup misses its version as written (`V=DMARC1`, `v = DMARC1`): rewritten with v=DMARC1, said.
  const missed = dmarcs.length === 1 && meant.size === 0 && !openDmarcFinds(textOf(dmarcs[0]));
  if (dmarcs.length === 1 && wrong.length === 0 && meant.size === 0 && lists[0].bad.length === 0 && long === null && !missed && sameMeaning(texts[0], value)) {
    // A stranger's TXT beside it stays too, and is said (leftNote): the check warns about it (dmarc.compat, no fix),
    // and the preview of a fix that changes nothing says what to do about it by hand.
    // Copies of it (judged once above) go.
    const copies = copiesRemoved(dmarcCopies, 'DMARC record');
    return { plan: { changes: copies.changes, notes: [...leaving(true), ...(differs ? [differs] : []), ...copies.notes] }, value: textOf(dmarcs[0]), ruaDefault };
  }
  if (missed)
    notes.push(
      `Writes the version as v=DMARC1 (the record has ${JSON.stringify(textOf(dmarcs[0]).split(';')[0].trim())}): RFC 7489 allows that spelling, but OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) takes a TXT record for DMARC only when it holds "v=DMARC1" exactly so, and applies no DMARC policy without it.`,
    );
  if (long !== null) {
    const n = dmarcStrings(value).length;
    notes.push(`Stores the record as ${n} string${n > 1 ? 's' : ''} of at most 255 bytes: the zone holds it with a string of ${long} bytes, which a TXT record cannot carry (RFC 1035 §3.3.14; BIND refuses to load such a zone). Receivers join the strings with nothing between them.`);
  }
  if (differs) notes.push(differs);
  const desired: ZoneRecord = { name, ttl, type: 'TXT', value, txt: dmarcStrings(value) };
  const copies = copiesNote(dmarcCopies, 'DMARC record');
  return { plan: { changes: [...replaceWithOne(wrong, null), ...replaceWithOne(dmarcCopies, desired)], notes: [...leaving(true), ...notes, ...(copies ? [copies] : [])] }, value, ruaDefault };
}

/**
 * The note on a TXT record at _dmarc that is not the fix's (`text`), left as it is. `beside`: the plan leaves a DMARC
 * record at the name. RFC 7489 receivers pick the DMARC record out, but OpenDMARC reads only the first TXT record of the
 * answer (the check's dmarc.compat), so the note must not call the record harmless there: removing it is a hand edit.
 */
function leftNote(text: string, name: string, beside: boolean): string {
  const head = `Leaves ${JSON.stringify(text.slice(0, 60))} at ${name} as it is: it is not a DMARC record`;
  return beside
    ? `${head}. Receivers following RFC 7489 ignore it, but ${OPENDMARC} reads only the first TXT record DNS returns there, so its receivers find no DMARC policy whenever this one comes first (dmarc.compat): remove it by hand if nothing needs it any more (a verification token that has done its job).`
    : `${head}, and receivers ignore it.`;
}
