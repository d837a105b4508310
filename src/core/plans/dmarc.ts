// DMARC fix: a missing record becomes p=none with reports to an address on the domain; stale or unauthorised report
// destinations are replaced; syntax fixed; policy never tightened silently.
import type { CheckContext } from '../checks/context.js';
import { externalAuthName, isDmarcRecord, needsExternalAuthorization, parseDmarcRecord, renderDmarc, type DmarcPolicy } from '../dmarc/record.js';
import type { ZoneRecord } from '../model.js';
import { joinTxt } from '../resolver.js';
import { recordsAt } from '../zone.js';
import { splitTxt } from '../spf/parse.js';
import { aliasBlock, defaultTtl, replaceWithOne } from './plan.js';
import type { PartialPlan } from './spf.js';

const KNOWN = ['v', 'p', 'sp', 'np', 'adkim', 'aspf', 'fo', 'pct', 'rf', 'ri', 'rua', 'ruf', 't', 'psd'];
const STRENGTH: Record<DmarcPolicy, number> = { none: 0, quarantine: 1, reject: 2 };

/** Where reports go when the record has none left: RFC 5321 requires postmaster@ to exist on every mail domain. */
export function defaultReportAddress(domain: string): string {
  return `mailto:postmaster@${domain}`;
}

export async function planDmarc(ctx: CheckContext, records: ZoneRecord[]): Promise<PartialPlan> {
  const name = `_dmarc.${ctx.domain}`;
  const existing = recordsAt(records, name, 'TXT');
  const notes: string[] = [];
  const alias = aliasBlock(records, name, 'DMARC policy');
  if (alias) return { changes: [], notes, blocked: alias };
  const ttl = existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain);
  const dmarcs = existing.filter((r) => isDmarcRecord(r.txt ? r.txt.join('') : r.value));
  for (const r of existing) if (!dmarcs.includes(r)) notes.push(`Removes ${JSON.stringify((r.txt ? r.txt.join('') : r.value).slice(0, 60))} from ${name}: it is not a DMARC record.`);
  const wrong = existing.filter((r) => !dmarcs.includes(r));

  if (dmarcs.length === 0) {
    const value = `v=DMARC1; p=none; rua=${defaultReportAddress(ctx.domain)}`;
    notes.push(`Publishes a monitoring-only DMARC record (p=none) with aggregate reports to postmaster@${ctx.domain}.`);
    const desired: ZoneRecord = { name, ttl, type: 'TXT', value, txt: [value] };
    return { changes: [...replaceWithOne(wrong, null), { action: 'add', name, type: 'TXT', ttl, before: null, after: desired }], notes };
  }
  const parsed = dmarcs.map((r) => parseDmarcRecord(r.txt ?? [r.value]));
  // Never tighten: with several records, take the weakest policy among them.
  let policy: DmarcPolicy = 'none';
  const policies = parsed.map((p) => (p.tags.p && ['none', 'quarantine', 'reject'].includes(p.tags.p.toLowerCase()) ? (p.tags.p.toLowerCase() as DmarcPolicy) : 'none'));
  policy = policies.reduce((a, b) => (STRENGTH[b] < STRENGTH[a] ? b : a), policies[0]);
  if (dmarcs.length > 1) notes.push(`Merges ${dmarcs.length} DMARC records into one, keeping the weakest policy among them (p=${policy}) so nothing is tightened.`);
  const base = parsed[0];
  const tags: Record<string, string> = { v: 'DMARC1', p: policy };
  if (!base.tags.p || base.tags.p.toLowerCase() !== policy) notes.push(base.tags.p ? `Sets p=${policy}.` : 'Adds the missing p=none (the record had no policy).');
  for (const [k, v] of Object.entries(base.tags)) {
    if (k === 'v' || k === 'p' || k === 'rua' || k === 'ruf') continue;
    if (!KNOWN.includes(k)) {
      notes.push(`Drops the unknown tag ${k}=${v}.`);
      continue;
    }
    const errs = parseDmarcRecord(`v=DMARC1; p=none; ${k}=${v}`).errors;
    if (errs.length) {
      notes.push(`Drops ${k}=${v}: ${errs.join('; ')}.`);
      continue;
    }
    tags[k] = v;
  }
  for (const tag of ['rua', 'ruf'] as const) {
    const kept: string[] = [];
    for (const uri of tag === 'rua' ? base.rua : base.ruf) {
      if (uri.scheme !== 'mailto' || !uri.domain) {
        kept.push(uri.raw);
        continue;
      }
      const c = await ctx.classifier.reportAddress(uri.address);
      if (c.class === 'stale') {
        notes.push(`Drops ${tag} ${uri.address}: ${c.reason}.`);
        continue;
      }
      if (needsExternalAuthorization(ctx.domain, uri.domain)) {
        const a = await ctx.resolver.resolve(externalAuthName(ctx.domain, uri.domain), 'TXT');
        if (a.status === 'unknown') {
          return { changes: [], notes, blocked: `Could not check whether ${uri.domain} accepts reports for ${ctx.domain} (DNS ${a.error}); try again later.` };
        }
        const ok = a.status === 'ok' && a.records.map(joinTxt).some((t) => /^v\s*=\s*DMARC1/i.test(t));
        if (!ok) {
          notes.push(`Drops ${tag} ${uri.address}: ${uri.domain} does not authorise reports for ${ctx.domain}, so they are dropped anyway.`);
          continue;
        }
      }
      kept.push(uri.raw);
    }
    if (kept.length) tags[tag] = kept.join(',');
    else if (tag === 'rua') {
      tags.rua = defaultReportAddress(ctx.domain);
      notes.push(`Sends aggregate reports to postmaster@${ctx.domain}.`);
    }
  }
  const ordered: Record<string, string> = { v: tags.v, p: tags.p };
  for (const [k, v] of Object.entries(tags)) if (!(k in ordered)) ordered[k] = v;
  const value = renderDmarc(ordered);
  const desired: ZoneRecord = { name, ttl, type: 'TXT', value, txt: splitTxt(value) };
  return { changes: [...replaceWithOne(wrong, null), ...replaceWithOne(dmarcs, desired)], notes };
}
