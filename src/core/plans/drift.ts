// Drift and fixes: the live DNS serves a mail record that differs from the panel's copy of the zone (dns.drift) while
// the panel's copy is already what the fix would write — a change not yet propagated. The checks judge the live
// records, so their findings offer the fix; but the fix plans from the panel's copy and finds nothing to change.
// settleDriftFixes takes that fix off those findings and says why, so a finding never offers a fix that answers
// "Nothing to change". Pure: DNS through ctx.resolver (answers the audit already asked), the planners of this folder.
import type { CheckContext } from '../checks/context.js';
import { authority } from '../checks/dns.js';
import { canonName } from '../domain.js';
import type { Finding, FixKind } from '../model.js';
import { partialPlan } from './partial.js';
import { FIX_LABEL, ownedNames } from './plan.js';
import type { PartialPlan } from './spf.js';

const DRIFT = 'dns.drift';

/** The fixes offered by `findings` whose owned names dns.drift reports: the ones settleDriftFixes settles. */
export function driftTouched(ctx: CheckContext, findings: Finding[]): Set<FixKind> {
  const drifted = new Set<string>();
  for (const f of findings) if (f.rule === DRIFT && f.subject) drifted.add(canonName(f.subject.split(' ')[0]));
  const out = new Set<FixKind>();
  if (!drifted.size) return out;
  for (const f of findings) {
    if (!f.fix || f.rule === DRIFT || out.has(f.fix)) continue;
    const names = ownedNames(f.fix, ctx.domain, ctx.settings.dkim.selector).map((n) => canonName(n.name));
    if (names.some((n) => drifted.has(n))) out.add(f.fix);
  }
  return out;
}

/** Takes the fix off findings whose fix would change nothing in the panel's (drifted, already right) copy. In place. */
export async function settleDriftFixes(ctx: CheckContext, findings: Finding[]): Promise<void> {
  if (!ctx.zone) return;
  let auth: Awaited<ReturnType<typeof authority>> | null = null;
  for (const check of driftTouched(ctx, findings)) {
    // Only where this panel's zone is the live one: elsewhere the fix plans from the live records (publish-elsewhere).
    // Asked before any finding is touched: a resolver that rejects here (instead of answering `unknown`) leaves the
    // findings as they were, and the audit reports that no fix can be settled (audit.ts, unsettledDrift).
    auth ??= await authority(ctx);
    if (auth.state !== 'authoritative') return;
    let p: PartialPlan;
    try {
      p = await partialPlan(check, ctx, ctx.zone.records);
    } catch {
      continue; // the fix itself will say what stands in the way
    }
    if (p.blocked || p.changes.length || p.actions?.length) continue;
    const why = ` The panel's copy of the zone is already right for this (dns.drift): the live DNS still serves an older record — a change not yet propagated. The ${FIX_LABEL[check]} fix has nothing to change; audit again once it has propagated.`;
    for (let i = 0; i < findings.length; i++) {
      const f = findings[i];
      if (f.fix !== check) continue;
      const { fix: _gone, ...rest } = f;
      findings[i] = { ...rest, message: f.message + why };
    }
  }
}
