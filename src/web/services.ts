// The web app's calls into core and the store: audits (recorded), plans, apply and undo. No audit or fix logic here —
// only the wiring (a fresh resolver per request or job, who acts, what gets recorded).
import { auditDomain, buildContext, runChecks } from '../core/audit.js';
import type { DomainAudit, DomainRef, FixKind, Identity } from '../core/model.js';
import type { Panel } from '../core/panel.js';
import { makePlanWith, PlanError } from '../core/plans/index.js';
import { applyPlan, undoChange, type ApplyDeps, type ApplyOutcome } from '../core/plans/apply.js';
import { planJson, type Plan } from '../core/plans/plan.js';
import { isSpfRecord } from '../core/spf/parse.js';
import { isLockdownRecord } from '../core/lockdown/record.js';
import type { Resolver } from '../core/resolver.js';
import type { ResolverOptions } from '../adapters/dns/resolver.js';
import type { Store } from '../adapters/store/store.js';
import { auditOptionsFrom } from './settings.js';

export interface WebDeps {
  /** The panel with the admin's settings applied (withSettings). */
  panel: Panel;
  store: Store;
  makeResolver: () => Resolver;
  /**
   * The options makeResolver's wire resolver is built from, when it is one: then bulk jobs may audit on worker threads,
   * each building its own resolver from them (src/adapters/workers). Absent: bulk jobs run in this thread.
   */
  resolverOptions?: () => ResolverOptions;
  /** Worker threads for bulk jobs, besides the server's own thread (default: one per core beyond the first; 0: none). */
  auditThreads?: number;
  now: () => Date;
  auditConcurrency: number;
}

/** Run fn with a fresh resolver (its cache lives for one request or job), closed afterwards. */
export async function withResolver<T>(deps: WebDeps, fn: (r: Resolver) => Promise<T>): Promise<T> {
  const r = deps.makeResolver();
  try {
    return await fn(r);
  } finally {
    (r as { close?: () => void }).close?.();
  }
}

/** Audit the given domains now and record them as one run by the identity. */
export async function auditAndRecord(deps: WebDeps, identity: Identity, refs: DomainRef[]): Promise<DomainAudit[]> {
  const runId = deps.store.startRun('audit', identity.user, refs.length);
  try {
    const audits = await withResolver(deps, async (resolver) => {
      const out: DomainAudit[] = [];
      for (const ref of refs) {
        const a = await auditDomain(ref.domain, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store), now: deps.now });
        deps.store.recordAudit(runId, a, ref.owner);
        out.push(a);
      }
      return out;
    });
    deps.store.bumpRunProgress(runId, { done: audits.length, failed: audits.filter((a) => a.status === 'fail').length });
    deps.store.finishRun(runId, 'complete');
    return audits;
  } catch (e) {
    deps.store.finishRun(runId, 'interrupted');
    throw e;
  }
}

/**
 * The latest stored audit, or a fresh one (recorded) when the domain was never audited. `beforeAudit` runs only before
 * that fresh audit (the routes take an audit token there; it throws to refuse).
 */
export async function latestOrAudit(deps: WebDeps, identity: Identity, ref: DomainRef, beforeAudit: () => void = () => {}): Promise<DomainAudit> {
  const latest = deps.store.latestAudit(ref.domain);
  if (latest) return latest;
  beforeAudit();
  return (await auditAndRecord(deps, identity, [ref]))[0];
}

export interface Preview {
  plan: Plan;
  /**
   * What the audit could not place, which the user may choose to remove: SPF terms (spf fix), or Domain Lockdown
   * fields as written — `auth=acme-emailapi`, `senderid=…`, `sidw=…` — that are neither this host's MailChannels
   * account nor a previous host's (lockdown fix).
   */
  unknownTerms: string[];
  /**
   * Mail services' SPF terms (includes and redirect= the audit keeps as a service the customer uses): kept unless the
   * user selects them — for a domain that no longer sends through that service (the plan says its mail fails SPF then).
   */
  serviceTerms: string[];
}

export async function previewFix(deps: WebDeps, domain: string, check: FixKind, removeTerms: string[]): Promise<Preview> {
  return withResolver(deps, async (resolver) => {
    // One read of the panel for both the plan and the SPF terms the user may choose to remove.
    const { ctx, problems } = await buildContext(domain, { panel: deps.panel, resolver, options: auditOptionsFrom(deps.store) });
    if (!ctx) throw new PlanError(problems.map((p) => p.message).join('; ') || 'cannot read the panel');
    const plan = await makePlanWith(ctx, check, { removeTerms }, deps.panel.capabilities);
    let unknownTerms: string[] = [];
    let serviceTerms: string[] = [];
    if (check === 'spf') {
      const findings = await runChecks(ctx, ['spf']);
      unknownTerms = [...new Set(findings.filter((f) => f.rule === 'spf.unknown-term' && f.subject).map((f) => f.subject as string))];
      serviceTerms = [
        ...new Set(
          findings
            .filter((f) => f.rule === 'spf.term' && f.classification?.class === 'keep' && typeof f.subject === 'string' && /^[+?~-]?(include:|redirect=)/i.test(f.subject))
            .map((f) => f.subject as string),
        ),
      ];
      // A term the plan drops on its own (e.g. an include of a name without SPF) is not offered as "kept unless you
      // remove it"; one the user selected stays listed, so it can be unselected.
      const offered = offeredIn(plan, isSpfRecord, removeTerms);
      unknownTerms = unknownTerms.filter(offered);
      serviceTerms = serviceTerms.filter(offered);
    }
    if (check === 'lockdown' && !plan.blocked) {
      // Ids the lockdown fix keeps unless selected (the customer's own MailChannels account, or a previous host's). A
      // plan that is blocked (no account id configured, an alias) removes nothing, so nothing is offered then. One the
      // plan drops on its own (a value it cannot write back) is not offered; one the user selected stays listed.
      const findings = await runChecks(ctx, ['lockdown']);
      unknownTerms = [...new Set(findings.filter((f) => f.rule === 'lockdown.unknown-id' && typeof f.subject === 'string').map((f) => f.subject as string))];
      unknownTerms = unknownTerms.filter(offeredIn(plan, isLockdownRecord, removeTerms));
    }
    return { plan, unknownTerms, serviceTerms };
  });
}

/**
 * Which terms a preview still offers: those in the record the plan writes (a term the plan drops on its own is not
 * "kept unless you remove it"), and those the user selected (so they can be unselected). With no record written, all.
 */
function offeredIn(plan: Plan, isRecord: (text: string) => boolean, removeTerms: readonly string[]): (term: string) => boolean {
  const written = plan.changes.map((c) => c.after).find((r) => r && isRecord((r.txt ?? [r.value]).join('')));
  if (!written) return () => true;
  const inRecord = new Set((written.txt ?? [written.value]).join('').toLowerCase().split(/\s+/));
  const selected = new Set(removeTerms.map((t) => t.toLowerCase()));
  return (t) => inRecord.has(t.toLowerCase()) || selected.has(t.toLowerCase());
}

function applyDeps(deps: WebDeps, identity: Identity, resolver: Resolver): ApplyDeps {
  return { panel: deps.panel, resolver, history: deps.store, byUser: identity.user, options: auditOptionsFrom(deps.store), now: deps.now };
}

/** Apply exactly the previewed plan (hash-checked by core); re-audit the domain when something changed. */
export async function applyFix(
  deps: WebDeps,
  identity: Identity,
  ref: DomainRef,
  input: { check: FixKind; planHash: string; removeTerms: string[] },
): Promise<ApplyOutcome> {
  const outcome = await withResolver(deps, (resolver) =>
    applyPlan({ domain: ref.domain, check: input.check, planHash: input.planHash, options: { removeTerms: input.removeTerms } }, applyDeps(deps, identity, resolver)),
  );
  if (outcome.status === 'applied') await auditAndRecord(deps, identity, [ref]).catch(() => undefined);
  return outcome;
}

export async function undo(deps: WebDeps, identity: Identity, changeId: number, ref: DomainRef): Promise<ApplyOutcome> {
  const outcome = await withResolver(deps, (resolver) => undoChange(changeId, applyDeps(deps, identity, resolver)));
  if (outcome.status === 'applied') await auditAndRecord(deps, identity, [ref]).catch(() => undefined);
  return outcome;
}

export { planJson };

/** The HTTP status of an apply or undo outcome (pages and API alike): a preview applied already is an answer, not a refusal. */
export function outcomeHttpStatus(o: ApplyOutcome): number {
  return o.status === 'applied' || o.status === 'already' ? 200 : o.status === 'refused' ? 409 : 502;
}

export function outcomeJson(o: ApplyOutcome) {
  if (o.status === 'applied') return { status: o.status, changeId: o.changeId, verified: o.verified, message: o.message, plan: planJson(o.plan) };
  if (o.status === 'already') return { status: o.status, changeId: o.changeId, changeStatus: o.changeStatus, verified: o.verified, reason: o.reason, changes: o.changes };
  if (o.status === 'refused') return { status: o.status, reason: o.reason, ...(o.why ? { why: o.why } : {}), ...(o.newPlan ? { newPlan: planJson(o.newPlan) } : {}) };
  return { status: o.status, reason: o.reason, ...(o.changeId ? { changeId: o.changeId } : {}) };
}
