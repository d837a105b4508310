// SPF fix: one record; stale terms dropped; this server's and mail services' terms kept; what this server needs
// added; unknown terms kept unless the user selected them; `all` never weakened; within 10 lookups or say which
// term to drop; strings split at 255 bytes.
import type { CheckContext } from '../checks/context.js';
import { canonName } from '../domain.js';
import type { ZoneRecord } from '../model.js';
import { joinTxt, type Answer, type RecordData, type Resolver, type RRType } from '../resolver.js';
import { checkHost } from '../spf/evaluate.js';
import { isSpfRecord, parseSpf, selectSpf, splitTxt, type SpfTerm } from '../spf/parse.js';
import { walkSpfRecord, type SpfTreeNode } from '../spf/tree.js';
import { recordsAt } from '../zone.js';
import { defaultTtl, replaceWithOne, type PlanOptions } from './plan.js';
import { relayInclude } from '../spf/relay.js';
import type { Change } from '../model.js';

/**
 * Whether an include target publishes one SPF record ('spf'), none, several ('multiple': a permanent error there too,
 * as the tree walker reads it), does not exist, or did not answer.
 */
async function includeTarget(ctx: CheckContext, name: string): Promise<'spf' | 'none' | 'multiple' | 'nxdomain' | 'unknown'> {
  const a = await ctx.resolver.resolve(canonName(name), 'TXT');
  if (a.status === 'unknown') return 'unknown';
  if (a.status === 'nxdomain') return 'nxdomain';
  if (a.status !== 'ok') return 'none';
  const sel = selectSpf(a.records).status;
  return sel === 'found' ? 'spf' : sel;
}

export interface PartialPlan {
  changes: Change[];
  notes: string[];
  blocked?: string;
  actions?: { kind: 'generate-dkim' | 'refresh-dkim'; description: string }[];
}

/** A resolver that answers the domain's apex TXT with a candidate record (to evaluate a plan before it exists). */
function overlay(base: Resolver, domain: string, candidate: string): Resolver {
  return {
    async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
      if (type === 'TXT' && name.toLowerCase().replace(/\.$/, '') === domain) {
        return { name: domain, type, status: 'ok', records: [splitTxt(candidate)] as RecordData[T][] };
      }
      return base.resolve(name, type);
    },
  };
}

function renderTerms(terms: string[]): string {
  return ['v=spf1', ...terms].join(' ');
}


export async function planSpf(ctx: CheckContext, records: ZoneRecord[], opts: PlanOptions): Promise<PartialPlan> {
  const notes: string[] = [];
  const remove = new Set((opts.removeTerms ?? []).map((t) => t.toLowerCase()));
  const apexTxt = recordsAt(records, ctx.domain, 'TXT');
  const spfRecords = apexTxt.filter((r) => isSpfRecord(r.txt ? r.txt.join('') : r.value));
  if (spfRecords.length > 1) notes.push(`Merges ${spfRecords.length} SPF records into one (several records are a permanent error).`);

  // Collect terms from every SPF record, in order, without duplicates.
  const seen = new Set<string>();
  const kept: SpfTerm[] = [];
  let all: SpfTerm | null = null;
  let redirect: SpfTerm | null = null;
  for (const r of spfRecords) {
    const parsed = parseSpf(r.txt ? r.txt.join('') : r.value);
    const list = parsed.terms;
    for (let i = 0; i < list.length; i++) {
      let t = list[i];
      // `include _spf.google.com` (the colon missing): two broken terms that mean one — joined, not dropped.
      const next = list[i + 1];
      if (t.error && t.kind === 'mechanism' && (t.mechanism === 'include' || t.mechanism === 'exists') && /^[a-z]+$/i.test(t.raw.replace(/^[-+~?]/, '')) && next?.kind === 'invalid' && /^[a-z0-9_][a-z0-9_.-]*\.[a-z0-9-]+\.?$/i.test(next.raw)) {
        const joined = parseSpf(`v=spf1 ${t.raw}:${next.raw}`).terms[0];
        if (joined && !joined.error && joined.kind === 'mechanism') {
          notes.push(`Joins "${t.raw} ${next.raw}" into ${joined.raw} (the colon was missing, so receivers failed the whole record).`);
          t = joined;
          i++;
        }
      }
      const key = t.raw.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      // An invalid term, or a known mechanism written wrong (ip4:192.0.2.300, include without a domain): any of them
      // makes receivers fail the whole record (permerror), so it goes.
      if (t.kind === 'invalid' || t.error) {
        notes.push(`Drops ${t.raw}: ${t.error ?? 'not valid SPF'}.`);
        continue;
      }
      if (t.mechanism === 'all') {
        if (!all) all = t;
        continue;
      }
      if (t.modifier === 'redirect') {
        if (!redirect) redirect = t;
        continue;
      }
      if (t.afterAll && t.kind === 'mechanism') {
        notes.push(`Drops ${t.raw}: it stood after all, where receivers never evaluate it.`);
        continue;
      }
      kept.push(t);
    }
  }

  // Classify and filter.
  const terms: string[] = [];
  let includeTrouble: string | undefined;
  for (const t of kept) {
    if (t.kind === 'modifier' && t.modifier !== 'exp') {
      terms.push(t.raw);
      continue;
    }
    const c = await ctx.classifier.spfTerm(t.raw);
    if (c.class === 'stale') {
      notes.push(`Drops ${t.raw}: ${c.reason}.`);
      continue;
    }
    // An include of a name that publishes no SPF record is a permanent error for every receiver: it goes, whoever it
    // names. No answer from DNS says nothing: the plan is blocked below.
    if (t.mechanism === 'include' && t.domainSpec && !t.hasMacro && c.class !== 'this-server') {
      const target = await includeTarget(ctx, t.domainSpec);
      if (target === 'unknown') includeTrouble ??= `looking up the SPF record of ${t.domainSpec} got no answer`;
      else if (target !== 'spf') {
        notes.push(`Drops ${t.raw}: ${t.domainSpec} ${target === 'nxdomain' ? 'does not exist' : target === 'multiple' ? 'publishes several SPF records' : 'publishes no SPF record'}, so every receiver's SPF check of this record fails (permerror).`);
        continue;
      }
    }
    if (remove.has(t.raw.toLowerCase())) {
      // Only terms nobody could identify are removable on request: this server's and mail services' stay.
      if (c.class === 'unknown') {
        notes.push(`Removes ${t.raw} (you selected it).`);
        continue;
      }
      notes.push(`Keeps ${t.raw} although you selected it: ${c.reason}.`);
    }
    terms.push(t.raw);
  }
  if (redirect) {
    const c = await ctx.classifier.spfTerm(redirect.raw);
    const selected = remove.has(redirect.raw.toLowerCase());
    // As for the other terms: only a redirect nobody could identify is removable on request.
    if (c.class === 'stale' || (selected && c.class === 'unknown')) {
      notes.push(`Drops ${redirect.raw}: ${c.class === 'stale' ? c.reason : 'you selected it'}.`);
      redirect = null;
    } else if (selected) notes.push(`Keeps ${redirect.raw} although you selected it: ${c.reason}.`);
  }

  // What this server needs.
  const relay = ctx.settings.relay;
  const needs: string[] = [];
  // A lookup that failed (timeout, SERVFAIL) says nothing about what this server needs: the plan is shown but cannot
  // be applied (a DNS failure is never a reason to change a zone).
  let dnsTrouble: string | undefined;
  if (relay) {
    // With redirect= and no all, the redirect target decides (an all term would make receivers ignore it).
    const candidate = renderTerms([...terms, ...(redirect ? [redirect.raw] : ['~all'])]);
    const tree = await walkSpfRecord(overlay(ctx.resolver, ctx.domain, candidate), ctx.domain, candidate);
    const targets = new Set<string>();
    const visit = (n: SpfTreeNode | undefined) => {
      for (const t of n?.terms ?? []) {
        if (t.target) targets.add(t.target.toLowerCase());
        if (t.children) visit(t.children);
      }
    };
    visit(tree);
    if (tree.unknown) dnsTrouble = "some of the record's lookups got no answer (timeout or server failure)";
    else if (!targets.has(relay.host.toLowerCase())) {
      const inc = await relayInclude(ctx, relay.host);
      if ('unknown' in inc) dnsTrouble = inc.unknown;
      else if ('none' in inc) {
        const others = inc.none.slice(1);
        notes.push(
          `Adds no include for the relay: ${inc.none[0]} publishes no SPF record${others.length ? ` (nor does ${others.join(', ')})` : ''}, and an include of a name without one makes every receiver's SPF check fail (permerror). Ask the relay which include to use, then set it as the relay's SPF include in the panel.`,
        );
      } else if (!targets.has(inc.host)) {
        if (inc.host !== canonName(relay.host)) notes.push(`The relay host ${canonName(relay.host)} publishes no SPF record; ${inc.host} does, so the include names ${inc.host}.`);
        needs.push(`include:${inc.host}`);
      }
    }
  } else {
    for (const ip of ctx.settings.ips) {
      const candidate = renderTerms([...terms, ...needs, ...(redirect ? [redirect.raw] : ['-all'])]);
      const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, overlay(ctx.resolver, ctx.domain, candidate));
      if (r.result === 'temperror' || (r.result !== 'pass' && r.dnsTrouble?.length)) {
        dnsTrouble = `checking whether ${ip} may send got no answer from DNS (${r.result === 'temperror' ? 'temperror' : r.dnsTrouble![0]})`;
        break;
      }
      if (r.result !== 'pass') needs.push(ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`);
    }
  }
  for (const n of needs) notes.push(`Adds ${n} so receivers accept this server's mail${relay ? ` (it relays through ${ctx.knowledge.displayName(relay.provider)})` : ''}.`);

  // The all term: never weakened.
  let allTerm: string | null;
  if (all) {
    if (all.qualifier === '+') {
      allTerm = '~all';
      notes.push(`Replaces ${all.raw} (authorises everyone) with ~all.`);
    } else if (all.qualifier === '?') {
      allTerm = '~all';
      notes.push('Replaces ?all (neutral) with ~all.');
    } else allTerm = all.raw;
  } else if (redirect) allTerm = null;
  else {
    allTerm = '~all';
    notes.push('Ends the record with ~all (it had no all term).');
  }

  const finalTerms = [...terms, ...needs, ...(redirect ? [redirect.raw] : []), ...(allTerm ? [allTerm] : [])];
  const text = renderTerms(finalTerms);
  const chunks = splitTxt(text);
  const desired: ZoneRecord = {
    name: ctx.domain,
    ttl: spfRecords[0]?.ttl ?? defaultTtl(records, ctx.domain, ctx.domain),
    type: 'TXT',
    value: text,
    txt: chunks,
  };
  const changes = replaceWithOne(spfRecords, desired);

  // Lookup budget.
  let blocked: string | undefined;
  if (changes.length) {
    const tree = await walkSpfRecord(overlay(ctx.resolver, ctx.domain, text), ctx.domain, text);
    if (tree.totalLookups > 10) {
      const costly = tree.terms
        .filter((t) => t.lookups > 0 && !needs.includes(t.term))
        .sort((a, b) => b.lookups - a.lookups)
        .map((t) => `${t.term} (${t.lookups})`);
      blocked = `The fixed record would need ${tree.totalLookups} DNS lookups (limit 10). Remove a term to make room — the costliest: ${costly.slice(0, 3).join(', ')}.`;
    }
  }
  if (chunks.length > 1) notes.push(`The record is ${Buffer.byteLength(text)} bytes: published as ${chunks.length} strings of at most 255 bytes.`);
  dnsTrouble ??= includeTrouble;
  if (dnsTrouble) blocked = `DNS did not answer while planning: ${dnsTrouble}. mailhealth does not change SPF on a failed lookup; try again when DNS answers.`;
  return { changes, notes, ...(blocked ? { blocked } : {}) };
}
