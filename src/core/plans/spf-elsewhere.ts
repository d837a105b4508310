// Publishing the SPF fix elsewhere (the registrar still delegates the domain to another DNS host, often the previous
// host): a bare `a` or `mx` term names the domain's own addresses or exchangers, and receivers look those up in the
// DNS that serves the domain — the other host's zone, not this panel's. Kept in the record to publish there, such a
// term authorises what that zone says today (the previous host's web or mail server, often a shared address) until
// the nameservers point at this server, when it names what the panel's zone says. The plan says so, with both.
import type { CheckContext } from '../checks/context.js';
import { isUnanswered } from '../classify.js';
import { canonName } from '../domain.js';
import type { ZoneRecord } from '../model.js';
import { isSpfRecord, parseSpf, type SpfTerm } from '../spf/parse.js';
import { termTarget } from '../spf/tree.js';
import { listed } from '../text.js';
import { selectableOf } from './plan.js';
import type { PartialPlan } from './spf.js';

/** `p` (the SPF plan over the live records), with a note for each kept "+" `a`/`mx` term of the domain itself that names a server other than this one in the live DNS. */
export async function withSelfTermNotes(ctx: CheckContext, p: PartialPlan, panelRecords: ZoneRecord[]): Promise<PartialPlan> {
  const d = canonName(ctx.domain);
  const after = p.changes.find((c) => c.after && canonName(c.after.name) === d && isSpfRecord(c.after.value))?.after?.value;
  if (!after) return p;
  const notes: string[] = [];
  /** The terms the notes offer for removal (each note ends "select <term> for removal"). */
  const offered: string[] = [];
  for (const t of parseSpf(after).terms) {
    if (!namesSelf(t, d)) continue;
    // A term the plan already explains (mx.stale's note, a selected term kept) gets no second note.
    if (p.notes.some((n) => n.startsWith(`Keeps ${t.raw}:`) || n.startsWith(`Keeps ${t.raw} `))) continue;
    const note = t.mechanism === 'a' ? await aNote(ctx, t, d, panelRecords) : await mxNote(ctx, t, d, panelRecords);
    if (note) {
      notes.push(note);
      offered.push(t.raw);
    }
  }
  return notes.length ? { ...p, notes: [...p.notes, ...notes], ...selectableOf([...(p.selectable ?? []), ...offered]) } : p;
}

/**
 * A "+" `a`/`mx` term (with or without a prefix length) that names the domain itself — also as `a:%{d}` or `mx:%{o}`,
 * which receivers expand to the domain in its own record (spf/tree.ts termTarget; macros that depend on the message
 * name no one domain).
 */
function namesSelf(t: SpfTerm, d: string): boolean {
  if (t.kind !== 'mechanism' || t.qualifier !== '+' || t.error) return false;
  if (t.mechanism !== 'a' && t.mechanism !== 'mx') return false;
  return (t.hasMacro ? termTarget(t, d) : canonName(t.domainSpec ?? d)) === d;
}

async function liveAddresses(ctx: CheckContext, host: string): Promise<string[] | null> {
  const out: string[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    const a = await ctx.resolver.resolve(host, type);
    if (a.status === 'unknown') return null;
    if (a.status === 'ok') out.push(...(a.records as string[]));
  }
  return out;
}

function panelValues(records: ZoneRecord[], name: string, types: readonly string[]): string[] {
  return records.filter((r) => canonName(r.name) === name && types.includes(r.type.toUpperCase())).map((r) => r.value);
}


const PUBLISHED_THERE = 'while this record is published there';

/** What a term authorises at these addresses: the address, or with a prefix length (`a/24`) the network around it. */
function reach(ips: string[], t: SpfTerm): string {
  return listed(
    ips.map((ip) => {
      const bits = ip.includes(':') ? t.cidr6 : t.cidr4;
      return bits !== undefined && bits < (ip.includes(':') ? 128 : 32) ? `every address in the /${bits} around ${ip}` : ip;
    }),
  );
}

async function aNote(ctx: CheckContext, t: SpfTerm, d: string, panel: ZoneRecord[]): Promise<string | null> {
  const raw = t.raw;
  const c = await ctx.classifier.host(d);
  // This server already (the live zone points the domain here), or DNS did not say: nothing to add.
  if (c.class === 'this-server' || isUnanswered(c)) return null;
  const live = await liveAddresses(ctx, d);
  if (!live || !live.length) return null;
  const own = panelValues(panel, d, ['A', 'AAAA']);
  return (
    `Keeps ${raw}: receivers look it up in the DNS that serves ${d}, where ${d} has the address${live.length > 1 ? 'es' : ''} ${listed(live)}, not this server's, so ${PUBLISHED_THERE} it also lets ${reach(live, t)} send as ${d}. ` +
    `Once the nameservers point at this server, ${raw} names ${own.length ? `the panel's address${own.length > 1 ? 'es' : ''} ${listed(own)}` : "the addresses in the panel's zone"}; if ${listed(live)} ${live.length > 1 ? 'are' : 'is'} the previous host's and ${live.length > 1 ? 'send' : 'sends'} no mail for ${d}, select ${raw} for removal.`
  );
}

async function mxNote(ctx: CheckContext, t: SpfTerm, d: string, panel: ZoneRecord[]): Promise<string | null> {
  const raw = t.raw;
  const mx = await ctx.resolver.resolve(d, 'MX');
  if (mx.status !== 'ok') return null;
  const hosts = [...new Set((mx.records as { exchange: string }[]).map((m) => canonName(m.exchange)).filter((h) => h && h !== '.'))];
  if (!hosts.length) return null;
  const named: string[] = [];
  const allIps: string[] = [];
  for (const h of hosts) {
    const c = await ctx.classifier.host(h);
    if (c.class === 'this-server' || isUnanswered(c)) return null;
    const ips = await liveAddresses(ctx, h);
    if (ips === null) return null;
    named.push(ips.length ? `${h} at ${ips.join(', ')}` : h);
    allIps.push(...ips);
  }
  const own = panelValues(panel, d, ['MX']).map((v) => canonName(v.trim().split(/\s+/)[1] ?? ''));
  return (
    `Keeps ${raw}: receivers look it up in the DNS that serves ${d}, where its MX is ${listed(named)}, not this server, so ${PUBLISHED_THERE} it also lets ${t.cidr4 !== undefined || t.cidr6 !== undefined ? reach(allIps, t) : hosts.length > 1 ? 'those servers' : 'that server'} send as ${d}. ` +
    `Once the nameservers point at this server, ${raw} names the panel's MX${own.length ? ` (${listed(own)})` : ''}; if the mailboxes are no longer at ${listed(hosts)}, select ${raw} for removal.`
  );
}
