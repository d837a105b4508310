// makePlan: the one function behind preview and apply. When the panel's zone is not the live one, the same planner
// runs over the live records and the plan is shown as the exact records to publish at the real DNS host (the DMARC
// planner reading the panel's own record too: with none live, that record is the one to publish).
import { createHash } from 'node:crypto';
import { buildContext, type AuditDeps } from '../audit.js';
import type { CheckContext } from '../checks/context.js';
import { authority } from '../checks/dns.js';
import type { FixKind, Zone, ZoneRecord } from '../model.js';
import type { PanelCapabilities } from '../panel.js';
import { ownedNames, hashPlan, LIVE_VERSION, ownershipProblem, unwritableChanges, type Plan, type PlanOptions } from './plan.js';
import { partialPlan } from './partial.js';

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * The owned records as live DNS has them, as a pseudo-zone (for publish-elsewhere plans). Where the fix owns the alias
 * at a name (the DKIM selector, _dmarc) and the TXT answer came through one, the name holds the alias alone: the TXT
 * records are its target's (the planner reads them there, e.g. planDkim's aliasServed), and a preview must not show
 * them as records at the name to edit.
 */
async function liveZone(ctx: CheckContext, check: FixKind): Promise<Zone> {
  const records: ZoneRecord[] = [];
  for (const { name, types } of ownedNames(check, ctx.domain, ctx.settings.dkim.selector)) {
    for (const type of types) {
      if (type !== 'TXT' && type !== 'CNAME') continue;
      const a = await ctx.resolver.resolve(name, type);
      if (a.status === 'unknown') throw new PlanError(`Could not read the live ${type} at ${name} (DNS ${a.error}): no plan until DNS answers.`);
      if (a.status !== 'ok') continue;
      // The target's records, read through the alias: the CNAME question (next) records the alias itself.
      if (type === 'TXT' && a.cnames?.length && types.includes('CNAME')) continue;
      if (type === 'TXT') {
        for (const r of a.records as string[][]) records.push({ name, ttl: 3600, type, value: r.join(''), txt: r, ref: `live:${records.length}` });
      } else if (type === 'CNAME' && check !== 'spf') {
        // resolve() follows CNAMEs for TXT; a CNAME at the owned name is reported as such.
        for (const target of a.records as string[]) records.push({ name, ttl: 3600, type: 'CNAME', value: target, ref: `live:${records.length}` });
      }
    }
  }
  const version = LIVE_VERSION + createHash('sha256').update(JSON.stringify(records.map((r) => [r.name, r.type, r.value]))).digest('hex');
  return { domain: ctx.domain, serial: null, records, version };
}

/**
 * Apply mode: the plan is computed from the panel's zone, but the records it rewrites are the ones receivers read. A
 * live answer that is unknown (timeout, SERVFAIL, REFUSED, or anything else the resolver maps to unknown) at a name
 * the fix owns means the check could not judge the record (its `<check>.dns-error`), so there is no plan until DNS
 * answers. Only the TXT at the fix's own name is asked — one question per plan (a CNAME at the name is followed by the
 * answer); NXDOMAIN and NODATA are answers.
 */
async function requireLiveAnswers(ctx: CheckContext, check: FixKind): Promise<void> {
  for (const { name } of ownedNames(check, ctx.domain, ctx.settings.dkim.selector)) {
    const a = await ctx.resolver.resolve(name, 'TXT');
    if (a.status === 'unknown') throw new PlanError(`Could not read the live TXT at ${name} (DNS ${a.error ?? 'error'}): no plan until DNS answers.`);
  }
}

export interface PlanInput {
  domain: string;
  check: FixKind;
  options?: PlanOptions;
}

/**
 * `capabilities`: the panel's (makePlan passes them): a change of a record type the panel does not write blocks the
 * plan (see unwritableChanges). Without them nothing is blocked for that reason here; apply, which plans with
 * makePlan, still refuses such a plan before it writes anything or generates a key.
 */
export async function makePlanWith(ctx: CheckContext, check: FixKind, options: PlanOptions = {}, capabilities?: PanelCapabilities): Promise<Plan> {
  if (!ctx.zone) throw new PlanError(`The panel could not provide the zone of ${ctx.domain}: no plan.`);
  const auth = await authority(ctx);
  if (auth.state === 'unknown') throw new PlanError(`Could not tell whether this server's DNS is the live one for ${ctx.domain} (${auth.why ?? 'DNS error'}): no plan until that is known.`);
  const elsewhere = auth.state !== 'authoritative';
  if (!elsewhere) await requireLiveAnswers(ctx, check);
  const zone = elsewhere ? await liveZone(ctx, check) : ctx.zone;
  // Publishing elsewhere, the DMARC fix also reads the panel's own record: the one the customer set, published instead of
  // a new default where the live DNS has none (planDmarc).
  const p = await partialPlan(check, ctx, zone.records, options, elsewhere ? ctx.zone.records : undefined);
  const problem = ownershipProblem(check, ctx.domain, ctx.settings.dkim.selector, p.changes);
  if (problem) throw new PlanError(`internal guard: ${problem}`);
  // Where DNS is served elsewhere, a plan of panel actions only (the DKIM fix that has the panel sign with the key
  // already published at the live DNS host) publishes nothing there: it is applied through the panel.
  const panelOnly = auth.state === 'not-authoritative' && !p.blocked && p.changes.length === 0 && (p.actions?.length ?? 0) > 0;
  const mode: Plan['mode'] = elsewhere && !panelOnly ? 'publish-elsewhere' : 'apply';
  const notes = [...p.notes];
  if (panelOnly) {
    notes.unshift(`The live DNS of ${ctx.domain} is served by ${auth.live.join(', ')}, not this server; the key this server signs with is already published there, so the fix changes only the panel's setting.`);
  } else if (mode === 'publish-elsewhere') {
    notes.unshift(
      auth.state === 'undelegated'
        ? `${ctx.domain} is not delegated: nothing can be applied. Publish these records wherever its DNS will be hosted.`
        : `The live DNS of ${ctx.domain} is served by ${auth.live.join(', ')}, not this server: publish these records there (or point the domain's nameservers at this server).`,
    );
  }
  const base = { domain: ctx.domain, check, mode, changes: p.changes, actions: p.actions ?? [], zoneVersion: zone.version, options };
  // A zone the panel will not write as it is, or a record type it does not write: nothing is applied (and no DKIM key
  // generated before a write that fails).
  // (A panel-only plan where DNS is served elsewhere writes no zone: the panel's copy of it does not stand in the way.)
  const writes = mode === 'apply' && !panelOnly && p.changes.length + (p.actions?.length ?? 0) > 0;
  const blocked = p.blocked ?? (writes ? (ctx.zone.writeBlocked ?? unwritableChanges(capabilities, p.changes) ?? undefined) : undefined);
  // The terms the planner's words offer for removal: not hashed (the notes are not), so a plan's hash is as before.
  return { ...base, planHash: hashPlan(base), notes, ...(blocked ? { blocked } : {}), ...(p.selectable?.length ? { selectable: p.selectable } : {}) };
}

/** Read the panel and DNS afresh and compute the plan. */
export async function makePlan(input: PlanInput, deps: AuditDeps): Promise<Plan> {
  return (await makePlanAndZone(input, deps)).plan;
}

/**
 * makePlan, with the panel's zone the plan was computed from (null: the panel could not provide it). Apply compares it
 * with the zone it reads again just before its write: on cPanel the version is only the serial, which a hand edit of
 * the zone file need not bump.
 */
export async function makePlanAndZone(input: PlanInput, deps: AuditDeps): Promise<{ plan: Plan; zone: Zone | null }> {
  const { ctx, problems } = await buildContext(input.domain, deps);
  if (!ctx) throw new PlanError(problems.map((p) => p.message).join('; ') || 'cannot read the panel');
  return { plan: await makePlanWith(ctx, input.check, input.options ?? {}, deps.panel.capabilities), zone: ctx.zone };
}
