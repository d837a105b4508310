// dns: is the panel's zone the live one (delegation), and does the live answer match the panel's copy?
import { canonName } from '../domain.js';
import type { Finding, ZoneRecord } from '../model.js';
import { describeAnswer, joinTxt, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, makeFinding } from './util.js';
import { emptyList, mapList } from '../arrays.js';

interface Authority {
  state: 'authoritative' | 'not-authoritative' | 'undelegated' | 'unknown';
  live: string[];
  /** For 'unknown': why (a DNS error, or the panel cannot tell whose nameservers serve the zone). */
  why?: string;
}

/** Live NS versus the panel's nameservers. Shared with the planner (no apply when not authoritative). */
export async function authority(ctx: CheckContext): Promise<Authority> {
  return authorityOf(ctx, (await delegation(ctx)).ns);
}

/**
 * The NS answer that decides who serves the domain's records: its own, or — for a name the panel keeps inside a
 * parent's zone (a cPanel subdomain: the zone read is the parent's) and that is not delegated on its own — the
 * zone apex's. `at` is the name asked.
 */
async function delegation(ctx: CheckContext): Promise<{ ns: Answer<'NS'>; at: string }> {
  const own = await ctx.resolver.resolve(ctx.domain, 'NS');
  const apex = ctx.zone ? canonName(ctx.zone.domain) : null;
  if (!apex || apex === ctx.domain || !ctx.domain.endsWith(`.${apex}`)) return { ns: own, at: ctx.domain };
  if (own.status === 'unknown' || (own.status === 'ok' && own.records.length > 0)) return { ns: own, at: ctx.domain };
  return { ns: await ctx.resolver.resolve(apex, 'NS'), at: apex };
}

/** The same from an NS answer already received (the dns check has one). */
function authorityOf(ctx: CheckContext, ns: Answer<'NS'>): Authority {
  if (ns.status === 'unknown') return { state: 'unknown', live: emptyList(), why: `DNS error: ${ns.error ?? 'no answer'}` };
  if (ns.status !== 'ok') return { state: 'undelegated', live: emptyList() };
  const live = mapList(ns.records, canonName);
  if (!ctx.settings.nameservers.length && ctx.settings.nameserversUnknown) return { state: 'unknown', live, why: ctx.settings.nameserversUnknown };
  const mine = new Set(ctx.settings.nameservers.map(canonName));
  return { state: live.some((n) => mine.has(n)) ? 'authoritative' : 'not-authoritative', live };
}

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
    out.push(makeFinding('dns', 'dns.authority-unknown', 'unknown', `Could not tell whether this server's DNS is the live one for ${of} (live nameservers ${auth.live.join(', ')}): ${auth.why}.`, ev));
    return out;
  }
  if (auth.state === 'undelegated') {
    out.push(makeFinding('dns', 'dns.not-authoritative', 'fail', `${at} has no NS records in live DNS: the domain is not delegated (or has expired), so nothing in the panel's zone is seen.`, ev));
    return out;
  }
  if (auth.state === 'not-authoritative') {
    const classes = await Promise.all(auth.live.map((n) => ctx.classifier.host(n)));
    const stale = classes.find((c) => c.class === 'stale');
    const where = stale ? ` They point at the previous host (${stale.reason}).` : '';
    out.push(
      makeFinding(
        'dns',
        'dns.not-authoritative',
        'warn',
        `The live nameservers of ${of} (${auth.live.join(', ')}) are not this server's (${ctx.settings.nameservers.length ? ctx.settings.nameservers.join(', ') : 'the panel does not serve this zone: it is disabled, a secondary copy, or not the authority'}): edits in the panel are not seen.${where} Fixes are shown as the exact records to publish at the DNS host that answers, or change the nameservers at the registrar.`,
        ev,
        stale ? { classification: stale } : {},
      ),
    );
    return out;
  }
  out.push(makeFinding('dns', 'dns.authoritative', 'pass', `${of} is served by this server's nameservers.`, ev));

  // Drift: the mail records as the panel holds them versus the live answer.
  if (!ctx.zoneIndex) return out;
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
    const records = ctx.zoneIndex.at(name, type);
    if (type === 'TXT' && sameSingleTxt(records, a as Answer<'TXT'>)) continue;
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
    }
  }
  return out;
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
