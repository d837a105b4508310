// The path of an audit: read the panel's zone and mail settings, classify, run every check, sort worst first.
// Never throws for a domain: a check that breaks becomes an `unknown` finding with the reason.
import { defaultKnowledge, type Knowledge } from '../knowledge/index.js';
import type { AuditOptions, Check, CheckContext } from './checks/context.js';
import { dkimCheck } from './checks/dkim.js';
import { dmarcCheck } from './checks/dmarc.js';
import { dnsCheck, ZONE_UNWRITABLE } from './checks/dns.js';
import { driftTouched, settleDriftFixes } from './plans/drift.js';
import { lockdownCheck } from './checks/lockdown.js';
import { mxCheck } from './checks/mx.js';
import { ptrCheck } from './checks/ptr.js';
import { spfCheck } from './checks/spf.js';
import { makeClassifier } from './classify.js';
import { domainStatus, sortFindings, type CheckName, type DomainAudit, type Finding, type MailSettings, type Zone } from './model.js';
import type { Panel } from './panel.js';
import type { Resolver } from './resolver.js';
import { RecordIndex } from './zone.js';
import { emptyList, mapList } from './arrays.js';

export const CHECK_FUNCTIONS: Record<CheckName, Check> = {
  spf: spfCheck,
  dkim: dkimCheck,
  dmarc: dmarcCheck,
  lockdown: lockdownCheck,
  mx: mxCheck,
  dns: dnsCheck,
  ptr: ptrCheck,
};

export interface AuditDeps {
  panel: Panel;
  resolver: Resolver;
  knowledge?: Knowledge;
  options?: AuditOptions;
  now?: () => Date;
  checks?: CheckName[];
}

/**
 * What a thrown value says, for a finding's message. Anything may be thrown or rejected with (undefined, a string, an
 * object whose toString throws): reading `.message` off it blindly threw inside the handler, and the audit rejected.
 */
function thrownText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e === undefined || e === null) return 'no reason given';
  try {
    return String(e);
  } catch {
    return 'an error that cannot be shown';
  }
}

/** A panel read that failed: an `unknown` finding with the panel's error as evidence. */
function panelProblem(rule: string, what: string, e: unknown): Finding {
  const reason = thrownText(e);
  return { rule, check: 'dns', severity: 'unknown', message: `The panel could not provide ${what}: ${reason}`, evidence: { panel: [reason] } };
}

/** Build the context checks run in (also used by the planner, which needs the same view). */
export async function buildContext(domain: string, deps: AuditDeps): Promise<{ ctx: CheckContext | null; problems: Finding[] }> {
  // One view per domain's audit (and per plan): its checks ask the same questions in turn (the SPF tree walk, the
  // evaluation, the classification of each term), and a previous host's dead DNS must not make each of them wait out
  // the same timeouts again. Only here is it known where one domain's questions begin and end; a later audit or plan
  // gets a new view and asks again.
  const resolver = deps.resolver.forAudit?.() ?? deps.resolver;
  const problems: Finding[] = [];
  let zone: Zone | null = null;
  try {
    zone = await deps.panel.readZone(domain);
  } catch (e) {
    problems.push(panelProblem('dns.panel-zone-unreadable', 'its copy of the zone', e));
  }
  let settings: MailSettings;
  try {
    settings = await deps.panel.readMailSettings(domain);
  } catch (e) {
    problems.push(panelProblem('dns.panel-settings-unreadable', "the server's mail settings", e));
    return { ctx: null, problems };
  }
  const knowledge = deps.knowledge ?? defaultKnowledge;
  const zoneIndex = zone ? new RecordIndex(zone.records) : null;
  const classifier = makeClassifier({ domain, zone, zoneIndex, settings, resolver, knowledge });
  return { ctx: { domain, zone, zoneIndex, settings, resolver, classifier, knowledge, options: deps.options ?? {} }, problems };
}

function internalError(name: CheckName, e: unknown): Finding[] {
  return [
    {
      rule: `${name}.internal-error`,
      check: name,
      severity: 'unknown',
      message: `The ${name} check could not finish: ${thrownText(e)}`,
      evidence: { panel: [], live: [] },
    },
  ];
}

/**
 * settleDriftFixes broke (it asks DNS again whether this server's zone is the live one, and a resolver may reject
 * instead of answering `unknown`): whether the fixes of the drifted names would change anything is not known, and each
 * would ask the same question first and stop. As with dns.authority-unknown, those findings offer no fix (the others,
 * whose names did not drift, keep theirs: review); an `unknown` finding says why.
 */
function unsettledDrift(ctx: CheckContext, findings: Finding[], e: unknown): void {
  const touched = driftTouched(ctx, findings);
  for (const f of findings) if (f.fix && touched.has(f.fix)) delete f.fix;
  findings.push({
    rule: 'dns.internal-error',
    check: 'dns',
    severity: 'unknown',
    message: `Could not tell whether this server's DNS is the live one, to settle the fixes dns.drift touches: ${thrownText(e)}. Those fixes are not offered until an audit can tell; audit again.`,
    evidence: { panel: [], live: [] },
  });
}

/** One check, started now; a check that breaks (throws or rejects) gives its internal-error finding instead. */
function startCheck(name: CheckName, ctx: CheckContext): Promise<Finding[]> {
  let running: Promise<Finding[]>;
  try {
    running = CHECK_FUNCTIONS[name](ctx);
  } catch (e) {
    return Promise.resolve(internalError(name, e));
  }
  return running.then(undefined, (e: unknown) => internalError(name, e));
}

export async function runChecks(ctx: CheckContext, checks: CheckName[]): Promise<Finding[]> {
  // Every check starts at once; their findings are collected in check order. (Awaited one by one rather than through
  // Promise.all and an async wrapper per check: the same outcome for a fraction of the CPU and garbage, per domain.)
  const running = mapList(checks, (name) => startCheck(name, ctx));
  const out: Finding[] = emptyList();
  for (let i = 0; i < running.length; i++) for (const f of await running[i]) out.push(f);
  return out;
}

// The system clock as an ISO string, made once per millisecond (a bulk run finishes several audits in one).
let clockMs = NaN;
let clockIso = '';
function systemTimeIso(): string {
  const ms = Date.now();
  if (ms !== clockMs) {
    clockIso = new Date(ms).toISOString();
    clockMs = ms;
  }
  return clockIso;
}

export async function auditDomain(domain: string, deps: AuditDeps): Promise<DomainAudit> {
  const { ctx, problems } = await buildContext(domain, deps);
  const findings: Finding[] = emptyList();
  for (const p of problems) findings.push(p);
  if (ctx) for (const f of await runChecks(ctx, deps.checks ?? (Object.keys(CHECK_FUNCTIONS) as CheckName[]))) findings.push(f);
  // A zone the panel will not write (dns.panel-zone-unwritable says why): no finding offers a fix that would be refused.
  if (ctx?.zone?.writeBlocked && findings.some((f) => f.rule === ZONE_UNWRITABLE)) for (const f of findings) delete f.fix;
  // Whether this server's DNS is the live one could not be told (dns.authority-unknown, or the NS lookup itself got no
  // answer: dns.dns-error): every fix would be refused until DNS answers (makePlanWith), so none is offered (QA: the
  // audit printed `mailhealth fix …` commands that then answered "no plan").
  else if (findings.some((f) => f.rule === 'dns.authority-unknown' || f.rule === 'dns.dns-error')) for (const f of findings) delete f.fix;
  // Live DNS not yet what the panel's copy says, and the copy already right: no finding offers a fix with nothing to do.
  else if (ctx?.zone && findings.some((f) => f.rule === 'dns.drift')) {
    try {
      await settleDriftFixes(ctx, findings);
    } catch (e) {
      unsettledDrift(ctx, findings, e);
    }
  }
  sortFindings(findings);
  return { domain, status: domainStatus(findings), auditedAt: deps.now ? deps.now().toISOString() : systemTimeIso(), findings };
}

export interface BulkOptions {
  concurrency?: number;
  onStart?: (domain: string) => void;
  onResult?: (audit: DomainAudit, done: number, total: number) => void | Promise<void>;
  /** Checked between domains: true → stop starting new ones. */
  cancelled?: () => boolean;
  /**
   * false → streaming: each audit goes to onResult and is not kept, and the promise resolves to []. Bulk callers that
   * store results as they come (nightly report, web bulk jobs, benchmark) then hold a few hundred audits, not all of
   * them. Default true (results in input order).
   */
  keepResults?: boolean;
}

/** For a caller that reads each domain's panel data itself before the audit (src/adapters/workers/bulk.ts). */
export interface PrepareHooks {
  /** Before each domain: the deps to audit it with (e.g. a panel holding reads already made), or null to skip it. */
  prepare?: (domain: string, i: number) => Promise<AuditDeps | null>;
  /** A domain prepare skipped: counted as done (like onResult's), awaited likewise. */
  onSkip?: (domain: string, done: number, total: number) => void | Promise<void>;
}

/** Audit many domains with bounded concurrency; results in input order (none with keepResults: false). */
export async function auditMany(domains: string[], deps: AuditDeps, opts: BulkOptions & PrepareHooks = {}): Promise<DomainAudit[]> {
  const keep = opts.keepResults !== false;
  const results: DomainAudit[] = keep ? new Array(domains.length) : [];
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 16, domains.length)) }, async () => {
    while (next < domains.length) {
      if (opts.cancelled?.()) return;
      const i = next++;
      opts.onStart?.(domains[i]);
      const use = opts.prepare ? await opts.prepare(domains[i], i) : deps;
      if (!use) {
        done++;
        await opts.onSkip?.(domains[i], done, domains.length);
        continue;
      }
      const audit = await auditDomain(domains[i], use);
      if (keep) results[i] = audit;
      done++;
      await opts.onResult?.(audit, done, domains.length);
    }
  });
  await Promise.all(workers);
  return keep ? results.filter(Boolean) : results;
}
