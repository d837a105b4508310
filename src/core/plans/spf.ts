// SPF fix: one record; stale terms dropped; this server's and mail services' terms kept; what this server needs
// added; unknown terms kept unless the user selected them; `all` never weakened; terms receivers reject or ignore
// dropped (a second exp=/redirect=, redirect= beside `all`, the domain including itself, a:/mx:/include: of a name
// that does not exist); strings split at 255 bytes. The planned record is then checked as receivers will read it
// (syntax, 10 lookups, 2 void lookups, every permerror in its tree, check_host for this server's IPs): a record that
// would still fail is not offered — the plan is blocked with the reason.
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

type GateVerdict = { ok: true } | { blocked: string } | { dns: string };

/**
 * Would receivers accept `text` published at the domain? Syntax, the 10-lookup and 2-void-lookup limits and every
 * other permerror cause anywhere in its tree (whoever's sender is checked), then check_host for each of this server's
 * IPs (a relayed server is authorised by the relay include the planner adds, which the walk has checked).
 */
async function finalGate(ctx: CheckContext, text: string, needs: string[]): Promise<GateVerdict> {
  const errors = parseSpf(text).errors;
  if (errors.length) return { blocked: `The fixed record would still have errors receivers reject (permerror): ${errors.map((e) => e.reason).join('; ')}.` };
  const resolver = overlay(ctx.resolver, ctx.domain, text);
  const tree = await walkSpfRecord(resolver, ctx.domain, text);
  const trouble = tree.troubles;
  if (tree.unknown) return { dns: `some of the fixed record's lookups got no answer (${trouble.length ? trouble.join('; ') : 'timeout or server failure'})` };
  if (tree.totalLookups > 10) {
    const costly = tree.terms
      .filter((t) => t.lookups > 0 && !needs.includes(t.term))
      .sort((a, b) => b.lookups - a.lookups)
      .map((t) => `${t.term} (${t.lookups})`);
    return { blocked: `The fixed record would need ${tree.totalLookups} DNS lookups (limit 10). Remove a term to make room — the costliest: ${costly.slice(0, 3).join(', ')}.` };
  }
  if (tree.totalVoids > 2) {
    const voids = tree.terms.filter((t) => t.voids > 0).map((t) => `${t.term} (${t.voids})`);
    return {
      blocked: `The fixed record would still cause ${tree.totalVoids} void lookups (limit 2: receivers return permerror): ${voids.join(', ')}. Those names exist but have no addresses (or lead to some that do not): remove the terms or give the names addresses, then plan again.`,
    };
  }
  // The planner's own additions are not re-judged: the relay include is one the knowledge base documents (used as
  // listed, README "A relay's SPF include") or one found publishing exactly one SPF record. The walker words each
  // problem "<domain> <term>: …" (or "<domain> <term> → …" below it), so those of an added term are told by prefix.
  const added = needs.map((n) => `${tree.domain} ${n}`);
  const permerrors = tree.permerrors.filter((e) => !added.some((a) => e.startsWith(`${a}:`) || e.startsWith(`${a} →`)));
  if (permerrors.length) {
    return {
      blocked: `The fixed record would still make receivers return permerror: ${permerrors.join('; ')}. Remove the term that leads there (or have its owner fix their record), then plan again.`,
    };
  }
  if (!ctx.settings.relay) {
    for (const ip of ctx.settings.ips) {
      const r = await checkHost(ip, ctx.domain, `postmaster@${ctx.domain}`, ctx.settings.helo, resolver);
      if (r.result === 'pass') continue;
      if (r.result === 'temperror' || r.dnsTrouble?.length) return { dns: `checking the fixed record for ${ip} got no answer from DNS (${r.result === 'temperror' ? (r.reason ?? 'temperror') : r.dnsTrouble![0]})` };
      return { blocked: `The fixed record would still not authorise this server's IP ${ip}: check_host = ${r.result}${r.reason ? ` (${r.reason})` : ''}.` };
    }
  }
  return { ok: true };
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
  let exp: SpfTerm | null = null;
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
      // A mechanism after all goes — but is not "seen": the same term in a later record, where it counts, is kept.
      if (t.afterAll && t.kind === 'mechanism' && !t.error && t.mechanism !== 'all') {
        notes.push(`Drops ${t.raw}: it stood after all, where receivers never evaluate it.`);
        continue;
      }
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
        else notes.push(`Drops ${t.raw}: a record may carry one redirect= (RFC 7208 §6: two are a permanent error); ${redirect.raw} is kept.`);
        continue;
      }
      // exp= at most once too (merging two records that each have one, or a record with two).
      if (t.modifier === 'exp') {
        if (exp) {
          notes.push(`Drops ${t.raw}: a record may carry one exp= (RFC 7208 §6: two are a permanent error); ${exp.raw} is kept.`);
          continue;
        }
        exp = t;
      }
      kept.push(t);
    }
  }

  // redirect= beside an all term: receivers ignore the redirect (RFC 7208 §6.1) and apply the all term. The fix keeps
  // what receivers apply today — the all term — and drops the redirect, which authorises nobody now: keeping the
  // redirect and dropping `all` instead would hand the policy for every other sender to the target's own all term
  // (which may be weaker) and authorise senders this record never authorised. Nothing that passes today stops
  // passing; what this server needs is then added as for any record.
  if (redirect && all) {
    const target = redirect.domainSpec ?? redirect.value ?? '';
    notes.push(
      `Drops ${redirect.raw}: receivers ignore redirect= in a record that has an all term (RFC 7208 §6.1), so it authorises nobody today and the record keeps its all term. If the senders listed at ${target} should be allowed, add include:${target}.`,
    );
    redirect = null;
  }

  // Classify and filter.
  const terms: string[] = [];
  let includeTrouble: string | undefined;
  for (const t of kept) {
    if (t.kind === 'modifier' && t.modifier !== 'exp') {
      terms.push(t.raw);
      continue;
    }
    // The record including itself: a loop, a permanent error at every receiver whatever the domain's A record says.
    if (t.mechanism === 'include' && t.domainSpec && !t.hasMacro && canonName(t.domainSpec) === canonName(ctx.domain)) {
      notes.push(`Drops ${t.raw}: ${ctx.domain} including its own record is a loop, so every receiver's SPF check of this record fails (permerror).`);
      continue;
    }
    const c = await ctx.classifier.spfTerm(t.raw);
    if (c.class === 'stale') {
      notes.push(`Drops ${t.raw}: ${c.reason}.`);
      continue;
    }
    // a:/mx: of a name that does not exist (NXDOMAIN) authorises nobody and costs a lookup and a void lookup (more
    // than 2 make receivers return permerror): it goes, whoever it names. A name that exists without addresses stays
    // (its owner may be about to add them); DNS trouble keeps the term (the final check below blocks the plan).
    if ((t.mechanism === 'a' || t.mechanism === 'mx') && t.domainSpec && !t.hasMacro) {
      const name = canonName(t.domainSpec);
      const a = await ctx.resolver.resolve(name, t.mechanism === 'a' ? 'A' : 'MX');
      if (a.status === 'nxdomain') {
        notes.push(`Drops ${t.raw}: ${name} does not exist, so it authorises nobody and each receiver counts a void lookup for it (more than 2 are a permanent error).`);
        continue;
      }
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
  if (redirect && redirect.domainSpec && !redirect.hasMacro && canonName(redirect.domainSpec) === canonName(ctx.domain)) {
    notes.push(`Drops ${redirect.raw}: ${ctx.domain} redirecting to its own record is a loop, so every receiver's SPF check of this record fails (permerror).`);
    redirect = null;
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

  // The final gate: the planned record is walked and evaluated — check_host with this server's IPs, through the same
  // resolver and evaluator the check uses — before it is offered. A write that receivers would still answer with
  // permerror, or that still does not authorise this server, is blocked with the reason instead.
  let blocked: string | undefined;
  if (changes.length) {
    const verdict = await finalGate(ctx, text, needs);
    if ('dns' in verdict) dnsTrouble ??= verdict.dns;
    else if ('blocked' in verdict) blocked = verdict.blocked;
  }
  if (chunks.length > 1) notes.push(`The record is ${Buffer.byteLength(text)} bytes: published as ${chunks.length} strings of at most 255 bytes.`);
  dnsTrouble ??= includeTrouble;
  if (dnsTrouble) blocked = `DNS did not answer while planning: ${dnsTrouble}. mailhealth does not change SPF on a failed lookup; try again when DNS answers.`;
  return { changes, notes, ...(blocked ? { blocked } : {}) };
}
