// dns: is the panel's zone the live one (delegation), and does the live answer match the panel's copy?
import { quoteShort } from '../text.js';
import { canonName, inZone, registrableDomain } from '../domain.js';
import type { Classification, Finding, ZoneRecord } from '../model.js';
import { aliasesOf, describeAnswer, joinTxt, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, liveTxt, makeFinding } from './util.js';
import { emptyList, mapList } from '../arrays.js';
import type { FixKind } from '../model.js';
import { partialPlan } from '../plans/partial.js';
import { FIX_LABEL, withoutCopies } from '../plans/plan.js';

interface Authority {
  state: 'authoritative' | 'not-authoritative' | 'undelegated' | 'unknown';
  live: string[];
  /**
   * With 'authoritative': live nameservers that are not this server's beside the ones that are (a delegation split
   * between this server and another DNS host: resolvers ask either).
   */
  foreign?: string[];
  /** For 'unknown': why (a DNS error, or the panel cannot tell whose nameservers serve the zone). */
  why?: string;
  /**
   * For 'unknown': the finding the dns check gives for it — dns.dns-error when the NS lookup got no answer,
   * dns.authority-unknown when the panel cannot tell whose nameservers these are — for messages that cite it.
   */
  rule?: 'dns.dns-error' | 'dns.authority-unknown';
}

/** Live NS versus the panel's nameservers. Shared with the planner (no apply when not authoritative). */
export async function authority(ctx: CheckContext): Promise<Authority> {
  return authorityOf(ctx, (await delegation(ctx)).ns);
}

/**
 * The NS answer that decides who serves the domain's records: its own, or — for a name that is not delegated on its
 * own (a cPanel subdomain kept inside its parent's zone, or a subdomain with a zone of its own on the nameservers that
 * serve its parent, which answer for it from that zone) — the enclosing zone's, found by walking up to the registrable
 * domain as resolvers do. `at` is the name whose NS answered.
 */
async function delegation(ctx: CheckContext): Promise<{ ns: Answer<'NS'>; at: string }> {
  const own = await ctx.resolver.resolve(ctx.domain, 'NS');
  if (own.status === 'unknown' || (own.status === 'ok' && own.records.length > 0)) return { ns: own, at: ctx.domain };
  const org = registrableDomain(canonName(ctx.domain));
  let name = canonName(ctx.domain);
  while (name !== org && inZone(name, org)) {
    name = name.slice(name.indexOf('.') + 1);
    const ns = await ctx.resolver.resolve(name, 'NS');
    if (ns.status === 'unknown' || (ns.status === 'ok' && ns.records.length > 0)) return { ns, at: name };
  }
  return { ns: own, at: ctx.domain };
}

/** The same from an NS answer already received (the dns check has one). */
function authorityOf(ctx: CheckContext, ns: Answer<'NS'>): Authority {
  if (ns.status === 'unknown') return { state: 'unknown', live: emptyList(), why: `DNS error: ${ns.error ?? 'no answer'}`, rule: 'dns.dns-error' };
  if (ns.status !== 'ok') return { state: 'undelegated', live: emptyList() };
  const live = mapList(ns.records, canonName);
  if (!ctx.settings.nameservers.length && ctx.settings.nameserversUnknown) return { state: 'unknown', live, why: ctx.settings.nameserversUnknown, rule: 'dns.authority-unknown' };
  const mine = new Set(ctx.settings.nameservers.map(canonName));
  if (!live.some((n) => mine.has(n))) return { state: 'not-authoritative', live };
  const foreign = live.filter((n) => !mine.has(n));
  return foreign.length ? { state: 'authoritative', live, foreign } : { state: 'authoritative', live };
}

/** Which of these live nameservers are a previous host's, and the first one's classification (null: none). */
export async function staleNameservers(ctx: CheckContext, names: readonly string[]): Promise<{ names: string[]; stale: Classification | null }> {
  const out: string[] = [];
  let stale: Classification | null = null;
  for (const n of names) {
    const c = await ctx.classifier.host(n);
    if (c.class !== 'stale') continue;
    out.push(n);
    stale ??= c;
  }
  return { names: out, stale };
}

/**
 * Where the domain's live DNS is another host's (dns.not-authoritative) and the panel's zone holds other records of this
 * kind at `name` than the live DNS serves, the fail/warn findings from `from` on judged records the customer does not see
 * in the panel — which may hold the right record already: each says so, and where to act (QA: "lawyer.example has no
 * DMARC record" beside a panel that shows one). `kind` picks the records of the check's kind among the name's TXT
 * records (an SPF record beside a verification token); `span`: the findings concerned (from, to: default the end). Asks
 * DNS only when such a finding exists and the records differ.
 */
export async function noteLiveElsewhere(
  ctx: CheckContext,
  out: Finding[],
  span: { from: number; to?: number },
  name: string,
  live: Answer<'TXT'>,
  kind: (text: string) => boolean,
  what: string,
): Promise<void> {
  if (!ctx.zoneIndex || live.status === 'unknown') return;
  const { from, to = out.length } = span;
  let concerned = false;
  for (let i = from; i < to && !concerned; i++) concerned = (out[i].severity === 'fail' || out[i].severity === 'warn') && !aboutPanelCopy(out[i]);
  if (!concerned) return;
  const panel = ctx.zoneIndex
    .at(name, 'TXT')
    .map((r) => (r.txt ? r.txt.join('') : r.value))
    .filter(kind);
  const served = liveTxt(live).filter(kind);
  if (sameValues(panel, served)) return;
  // Only words depend on it: a resolver that rejects (rather than answering unknown) leaves the findings as they are,
  // and the dns check, which asks the same question, reports it.
  let auth: Authority;
  try {
    auth = await authority(ctx);
  } catch {
    return;
  }
  if (auth.state !== 'not-authoritative') return;
  // A record is quoted when short enough to read (an SPF or DMARC record), not a DKIM key of 400 characters.
  const held =
    panel.length === 0
      ? `no ${what}`
      : panel.some((t) => t.length > 120)
        ? panel.length === 1 ? `another ${what}` : `${panel.length} other ${what}s`
        : panel.length === 1
          ? `the ${what} ${JSON.stringify(panel[0])}`
          : `${panel.length} ${what}s (${panel.map((t) => JSON.stringify(t)).join(', ')})`;
  const note = ` This is what the live DNS of ${ctx.domain} serves at ${name}, from ${auth.live.join(', ')}, not this server's nameservers: the panel's zone holds ${held} there, which receivers do not see until the nameservers point at this server (see dns.not-authoritative) — editing the panel changes nothing meanwhile.`;
  for (let i = from; i < to; i++) {
    const f = out[i];
    if ((f.severity === 'fail' || f.severity === 'warn') && !aboutPanelCopy(f)) out[i] = { ...f, message: f.message + note };
  }
}

/** A finding about the panel's own copy of the zone (a string too long for BIND, an alias beside records): not the live DNS. */
function aboutPanelCopy(f: Finding): boolean {
  return f.rule === 'spf.string-too-long' || f.rule === 'dkim.string-too-long' || f.rule === 'dmarc.string-too-long' || f.message.startsWith("The panel's zone holds");
}

/**
 * dns.not-authoritative is a warning (DNS hosted elsewhere on purpose is a valid choice), but where the live nameservers
 * are a previous host's it is the cause of the failing findings that point to it (mx.stale: the old host's MX; the
 * records the panel already holds right): said so, with what to do first. With a leading space; '' otherwise.
 * `at` is the zone whose nameservers answered: where it is not the domain's own (a subdomain served from its parent's
 * zone), setting its nameservers at the registrar moves all of that parent's DNS, so delegating the subdomain comes
 * first and the move is offered only for a parent that has moved too.
 */
function firstThing(ctx: CheckContext, at: string, stale: boolean): string {
  if (!stale || !ctx.settings.nameservers.length) return '';
  const ns = ctx.settings.nameservers.join(', ');
  if (at === ctx.domain) {
    return ` Fix this first: receivers get the old host's copy of the zone — its MX (mail may go to the old server), SPF, DKIM and DMARC — whatever the panel's zone holds, and when the account there is closed its nameservers may stop answering for ${at} at all. The findings that say "see dns.not-authoritative" come from that copy: at the registrar of ${at}, set its nameservers to this server's (${ns}), and the panel's zone is what receivers see.`;
  }
  return ` Fix this first: receivers get the old host's copy of the zone ${at} — the MX of ${ctx.domain} (mail may go to the old server), SPF, DKIM and DMARC — whatever the panel's zone holds, and when the account there is closed its nameservers may stop answering for ${at} at all. The findings that say "see dns.not-authoritative" come from that copy: delegate ${ctx.domain} to this server's nameservers (${ns}) with NS records for ${ctx.domain} in the ${at} zone at the DNS host that serves it, or, if all of ${at} has moved to this server, set the nameservers of ${at} at its registrar to this server's (that moves the DNS of all of ${at}, not only of ${ctx.domain}); then the panel's zone is what receivers see.`;
}

/**
 * What to do when the live DNS is another host's and not a previous host's: publish the fixes there, or move the
 * domain's DNS to this server — at the registrar for the domain's own zone; for a subdomain served from its parent's
 * zone `at`, by delegating the subdomain in that zone (the parent's registrar would move all of the parent's DNS).
 * With a leading space.
 */
function elsewhereAdvice(ctx: CheckContext, at: string): string {
  const ns = ctx.settings.nameservers.join(', ');
  if (at === ctx.domain) return ` Fixes are shown as the exact records to publish at the DNS host that answers, or change the nameservers at the registrar${ns ? ` to this server's (${ns})` : ''}.`;
  return ` Fixes are shown as the exact records to publish at the DNS host that answers for ${at}, or delegate ${ctx.domain}${ns ? ` to this server's nameservers (${ns})` : ''} with NS records for it in the ${at} zone there — changing the nameservers of ${at} at its registrar would move the DNS of all of ${at}, not only of ${ctx.domain}.`;
}

/** The rule of an authoritative zone the panel will not write as it is (see dnsCheck). */
export const ZONE_UNWRITABLE = 'dns.panel-zone-unwritable';

export async function dnsCheck(ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = emptyList();
  const { ns, at } = await delegation(ctx);
  const ev = { panel: ctx.settings.nameservers.map((n) => `panel nameserver ${n}`), live: describeAnswer(ns), ...(at !== ctx.domain ? { zone: [at] } : {}) };
  if (ns.status === 'unknown') return [dnsErrorFinding('dns', 'the delegation', ns, ev)];
  const auth = authorityOf(ctx, ns);
  const of = at === ctx.domain ? ctx.domain : `${ctx.domain} (in the zone ${at})`;
  if (auth.state === 'unknown') {
    // The panel cannot tell whose nameservers these are: unknown, never "not this server's" (which would turn the
    // fixes into records to publish elsewhere).
    out.push(makeFinding('dns', 'dns.authority-unknown', 'unknown', `Could not tell whether this server's DNS is the live one for ${ctx.domain} (${at === ctx.domain ? 'live nameservers' : `served from the zone ${at}, whose live nameservers are`} ${auth.live.join(', ')}): ${auth.why}.`, ev));
    return out;
  }
  if (auth.state === 'undelegated') {
    // The walk up found no NS up to the registrable domain: for a subdomain (which seldom has NS of its own) it is the
    // registrable domain that is not delegated or has expired, and that is the name to renew or delegate.
    const name = canonName(ctx.domain);
    const org = registrableDomain(name);
    const message =
      org !== name && inZone(name, org)
        ? `${org} (the registrable domain of ${ctx.domain}) has no NS records in live DNS: it is not delegated (or has expired), so neither is ${ctx.domain}, and nothing in the panel's zone is seen.`
        : `${at} has no NS records in live DNS: the domain is not delegated (or has expired), so nothing in the panel's zone is seen.`;
    out.push(makeFinding('dns', 'dns.not-authoritative', 'fail', message, ev));
    return out;
  }
  if (auth.state === 'not-authoritative') {
    const { stale } = await staleNameservers(ctx, auth.live);
    const where = stale ? ` They point at the previous host (${stale.reason}).` : '';
    // The panel's own copy of the zone may list those nameservers too (a zone file copied from the old host): then
    // it is also to be corrected there, or resolvers that trust the zone's own NS records keep asking them (QA).
    const mine = new Set(ctx.settings.nameservers.map(canonName));
    const zoneNs = at === ctx.domain && ctx.zone ? ctx.zone.records.filter((r) => r.type.toUpperCase() === 'NS' && canonName(r.name) === canonName(ctx.domain)).map((r) => canonName(r.value)) : [];
    const oldInZone = mine.size ? zoneNs.filter((n) => !mine.has(n) && auth.live.includes(n)) : [];
    const zoneNote = oldInZone.length
      ? ` The panel's own zone lists ${oldInZone.join(', ')} as its nameservers too (NS records at ${ctx.domain}): change them there to this server's (${ctx.settings.nameservers.join(', ')}) as well.`
      : '';
    const first = firstThing(ctx, at, !!stale);
    // A subdomain served from its parent's zone: the nameservers are the parent's (one parenthesis, not two in a row).
    const whose = at === ctx.domain ? `The live nameservers of ${ctx.domain}` : `${ctx.domain} has no nameservers of its own: it is served from the zone ${at}, whose live nameservers`;
    out.push(
      makeFinding(
        'dns',
        'dns.not-authoritative',
        'warn',
        `${whose} (${auth.live.join(', ')}) are not this server's (${ctx.settings.nameservers.length ? ctx.settings.nameservers.join(', ') : 'the panel does not serve this zone: it is disabled, a secondary copy, or not the authority'}): edits in the panel are not seen.${where}${
          first ? `${first} Until then, fixes are shown as the exact records to publish at the DNS host that answers.` : elsewhereAdvice(ctx, at)
        }${zoneNote}`,
        ev,
        stale ? { classification: stale } : {},
      ),
    );
    return out;
  }
  if (auth.foreign?.length) {
    // Resolvers pick any of the live nameservers: one that is not this server's answers part of the lookups with its
    // own copy of the zone. A previous host's is a warning; another (a secondary of this zone, say) is named.
    const { names: staleNs, stale } = await staleNameservers(ctx, auth.foreign);
    if (stale) {
      const mine = auth.live.filter((n) => !auth.foreign!.includes(n));
      out.push(
        makeFinding(
          'dns',
          'dns.not-authoritative',
          'warn',
          `Only some of the live nameservers of ${at === ctx.domain ? ctx.domain : `the zone ${at}, which serves ${ctx.domain},`} are this server's (${mine.join(', ')}): ${staleNs.join(', ')} ${staleNs.length > 1 ? 'are' : 'is'} the previous host's (${stale.reason}). Resolvers pick a nameserver at random, so part of the lookups get the old host's copy of the zone (its old MX, SPF, DKIM) and edits in the panel are seen only part of the time. ${
            at === ctx.domain
              ? 'At the registrar'
              : `At the registrar of ${at} (${ctx.domain} has no nameservers of its own; this changes the delegation of all of ${at}, which this server already serves in part)`
          }, remove ${staleNs.join(', ')} and keep this server's nameservers.`,
          ev,
          { classification: stale },
        ),
      );
    } else {
      const others = auth.foreign.join(', ');
      out.push(
        makeFinding(
          'dns',
          'dns.authoritative',
          'pass',
          `${of} is served by this server's nameservers; the live ones also include ${others}, not this server's — resolvers ask it too, so make sure it serves a copy of this server's zone (a secondary).`,
          ev,
        ),
      );
    }
  } else {
    out.push(makeFinding('dns', 'dns.authoritative', 'pass', `${of} is served by this server's nameservers.`, ev));
  }
  // The live zone is the panel's, but the panel's copy cannot be written as it is (a line that cannot be read, which may
  // hide records; a mail record a write cannot reproduce): no fix can be applied until it is repaired (audit.ts takes
  // the fixes off the other findings).
  if (ctx.zone?.writeBlocked) {
    out.push(makeFinding('dns', ZONE_UNWRITABLE, 'warn', `No fix can be applied to ${ctx.domain} through the panel: ${ctx.zone.writeBlocked.replace(/\.?\s*$/, '.')}`, { panel: [ctx.zone.writeBlocked] }));
  }

  // Drift: the mail records as the panel holds them versus the live answer.
  if (!ctx.zoneIndex) return out;
  const view = new PanelView(ctx);
  const names: { name: string; type: 'TXT' | 'MX' }[] = [
    { name: ctx.domain, type: 'TXT' },
    { name: ctx.domain, type: 'MX' },
    { name: `_dmarc.${ctx.domain}`, type: 'TXT' },
    { name: `_mailchannels.${ctx.domain}`, type: 'TXT' },
    { name: `${ctx.settings.dkim.selector}._domainkey.${ctx.domain}`, type: 'TXT' },
  ];
  for (let i = 0; i < names.length; i++) {
    const { name, type } = names[i];
    const a = await ctx.resolver.resolve(name, type);
    if (a.status === 'unknown') continue;
    // What the panel's zone answers for the name, as DNS reads it: a CNAME in the zone is followed, a wildcard covers
    // a name that does not exist.
    // Copies of one record in the panel's zone (a record added twice) are one record to DNS (RFC 2181 §5): compared
    // once — the live answer serves it once, and that is no change waiting to propagate (copiesFinding says what it is).
    const answer = view.answer(name, type);
    const alias = answer.alias;
    const records = answer.records.length > 1 ? withoutCopies(answer.records) : answer.records;
    const copies = answer.records.length > records.length;
    if (alias) {
      // An alias out of the zone (`_dmarc CNAME dmarc.ionos.de`): the records are the target's, not the panel's —
      // compare the alias.
      const known = aliasesOf(ctx.resolver, name, a);
      const liveAliases = mapList(Array.isArray(known) ? known : await known, canonName);
      if (liveAliases.includes(alias)) continue;
      out.push(
        makeFinding(
          'dns',
          'dns.drift',
          'warn',
          `The live ${type} at ${name} differs from the panel's copy, which makes ${name} an alias of ${alias} (a change not yet propagated, or the zone was edited outside the panel).`,
          { panel: [`${name} CNAME ${alias}`], live: liveAliases.length ? liveAliases.map((x) => `CNAME ${x}`).concat(describeAnswer(a)) : describeAnswer(a) },
          { subject: `${name} ${type}` },
        ),
      );
      continue;
    }
    if (type === 'TXT' && sameSingleTxt(records, a as Answer<'TXT'>)) {
      if (copies) out.push(await copiesFinding(ctx, name, type, answer.records));
      continue;
    }
    const panel = mapList(records, (r) => (type === 'TXT' ? (r.txt ? r.txt.join('') : r.value) : normMx(r.value)));
    const live =
      a.status === 'ok'
        ? type === 'TXT'
          ? mapList(a.records as string[][], joinTxt)
          : mapList(a.records as { priority: number; exchange: string }[], (m) => `${m.priority} ${canonName(m.exchange)}`)
        : emptyList<string>();
    if (!sameValues(panel, live)) {
      out.push(
        makeFinding(
          'dns',
          'dns.drift',
          'warn',
          `The live ${type} at ${name} differs from the panel's copy (a change not yet propagated, or the zone was edited outside the panel).`,
          { panel: panel.length ? panel : ['(none)'], live: live.length ? live : ['(none)'] },
          { subject: `${name} ${type}` },
        ),
      );
    } else if (copies) out.push(await copiesFinding(ctx, name, type, answer.records));
  }
  return out;
}


/** The fix that owns the TXT records at `name` (src/core/plans/plan.ts ownedNames), or null (MX: none). */
function fixAt(ctx: CheckContext, name: string, type: string): FixKind | null {
  if (type !== 'TXT') return null;
  const n = canonName(name);
  if (n === canonName(ctx.domain)) return 'spf';
  if (n === canonName(`_dmarc.${ctx.domain}`)) return 'dmarc';
  if (n === canonName(`_mailchannels.${ctx.domain}`)) return 'lockdown';
  if (n === canonName(`${ctx.settings.dkim.selector}._domainkey.${ctx.domain}`)) return 'dkim';
  return null;
}

/**
 * dns.drift for records the panel's zone holds more than once (the same strings: a record added twice, a migration
 * tool), where the live answer is those records, each once: DNS serves copies as one record (RFC 2181 §5), so nothing
 * differs for receivers, but an edit of one copy would leave two different records (two SPF records: permerror). The
 * fix that owns the name removes the copies of its records (copiesRemoved, src/core/plans/plan.ts): the finding offers
 * it where its plan over the panel's zone does (review: the fixes removed a copy while no finding offered them).
 */
async function copiesFinding(ctx: CheckContext, name: string, type: string, records: readonly ZoneRecord[]): Promise<Finding> {
  const distinct = withoutCopies(records);
  const extra = records.filter((r) => !distinct.includes(r));
  const kind = fixAt(ctx, name, type);
  let removed = 0;
  if (kind && ctx.zone) {
    try {
      const p = await partialPlan(kind, ctx, ctx.zone.records);
      if (!p.blocked) removed = extra.filter((r) => p.changes.some((c) => c.before === r)).length;
    } catch {
      removed = 0; // a resolver that rejects decides nothing: no fix offered (the plan would not be made either)
    }
  }
  const values = records.map((r) => (type === 'TXT' ? (r.txt ? r.txt.join('') : r.value) : normMx(r.value)));
  const twice = [...new Set(extra.map((r) => quoteShort(type === 'TXT' ? (r.txt ? r.txt.join('') : r.value) : normMx(r.value))))];
  const what = kind ? `${FIX_LABEL[kind]} fix` : '';
  const does = !removed ? ' Remove the extra copies in the panel.' : removed === extra.length ? ` The ${what} keeps one.` : ` The ${what} removes the copies of its own records; remove the others in the panel.`;
  return makeFinding(
    'dns',
    'dns.drift',
    'warn',
    `The panel's copy of the zone holds the same ${type} record at ${name} more than once (${twice.join(', ')}): DNS serves it once (RFC 2181 §5), so receivers see no difference, but editing one copy later would leave two different records there.${does}`,
    { panel: values, live: mapList(distinct, (r) => (type === 'TXT' ? (r.txt ? r.txt.join('') : r.value) : normMx(r.value))) },
    removed && kind ? { subject: `${name} ${type}`, fix: kind } : { subject: `${name} ${type}` },
  );
}

/**
 * One TXT record on each side, stored in the same character-strings: the same value, known without joining the
 * strings (a DKIM key is hundreds of characters, and this runs for every domain). Anything else: false, and the
 * caller compares the joined values.
 */
function sameSingleTxt(panel: ZoneRecord[], live: Answer<'TXT'>): boolean {
  if (panel.length !== 1 || live.status !== 'ok' || live.records.length !== 1) return false;
  const p = panel[0].txt;
  const l = live.records[0];
  if (!p || p.length !== l.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== l[i]) return false;
  return true;
}

/** The same values, in any order. */
function sameValues(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length <= 1) return a[0] === b[0];
  if (a.length === 2) return (a[0] === b[0] && a[1] === b[1]) || (a[0] === b[1] && a[1] === b[0]);
  const p = [...a].sort();
  const l = [...b].sort();
  return p.every((v, i) => v === l[i]);
}

function normMx(v: string): string {
  const [p, h] = v.trim().split(/\s+/);
  return `${p} ${canonName(h ?? '')}`;
}

/**
 * The panel's copy of the zone read as an authoritative server answers from it (RFC 1034 §4.3.2, RFC 4592): the
 * records at the name; else, through a CNAME at the name (followed while its target is inside the zone; an alias out
 * of the zone is returned as such); else, for a name that does not exist (no records, nothing below it), the
 * wildcard at its closest encloser.
 */
class PanelView {
  private readonly apex: string;
  private names: string[] | null = null;
  private wildcards: boolean | null = null;
  constructor(private readonly ctx: CheckContext) {
    this.apex = canonName(ctx.zone?.domain ?? ctx.domain);
  }

  answer(name: string, type: string): { records: ZoneRecord[]; alias?: string } {
    const index = this.ctx.zoneIndex!;
    const direct = index.at(name, type); // almost always the answer: no scan of the zone
    if (direct.length) return { records: direct };
    let n = canonName(name);
    for (let hop = 0; hop < 8; hop++) {
      const here = this.at(n);
      const of = here.filter((r) => r.type.toUpperCase() === type);
      if (of.length) return { records: of };
      const cname = here.find((r) => r.type.toUpperCase() === 'CNAME');
      if (!cname) return { records: emptyList() };
      const target = canonName(cname.value.trim());
      if (!inZone(target, this.apex)) return { records: emptyList(), alias: target };
      n = target;
    }
    return { records: emptyList() }; // an alias loop inside the zone: nothing
  }

  /** The records DNS answers from at a name of the zone: its own, or a wildcard's when the name does not exist. */
  private at(n: string): ZoneRecord[] {
    const index = this.ctx.zoneIndex!;
    const own = index.at(n);
    if (own.length || !inZone(n, this.apex) || !this.hasWildcards() || this.hasBelow(n)) return own;
    // The closest encloser: the nearest ancestor that exists; its wildcard, if any, answers.
    for (let p = n; p !== this.apex; ) {
      p = p.slice(p.indexOf('.') + 1);
      if (p === this.apex || index.at(p).length || this.hasBelow(p)) return index.at(`*.${p}`);
    }
    return own;
  }

  private hasWildcards(): boolean {
    return (this.wildcards ??= (this.ctx.zone?.records ?? []).some((r) => r.name.startsWith('*')));
  }

  /** Does a name of the zone lie below n (n then exists, if only as an empty non-terminal)? */
  private hasBelow(n: string): boolean {
    const names = (this.names ??= mapList(this.ctx.zone?.records ?? [], (r) => canonName(r.name)));
    const suffix = '.' + n;
    return names.some((x) => x.endsWith(suffix));
  }
}
