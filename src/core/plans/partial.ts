// One fix kind's planner over a list of records (the panel's zone, or the live records for publish-elsewhere plans):
// the changes, notes, actions and block of the plan, before the mode, hash and capability checks of makePlanWith.
import type { CheckContext } from '../checks/context.js';
import type { FixKind, ZoneRecord } from '../model.js';
import type { PlanOptions } from './plan.js';
import { planDkim } from './dkim.js';
import { planDmarc } from './dmarc.js';
import { planLockdown } from './lockdown.js';
import { planSpf, type PartialPlan } from './spf.js';
import { withSelfTermNotes } from './spf-elsewhere.js';

/**
 * `panelRecords`: the panel's own zone, given when `records` are the live ones (publish-elsewhere) — the DMARC planner
 * publishes the panel's record where the live DNS has none (planDmarc); the SPF plan says what its own `a`/`mx` terms
 * name there (spf-elsewhere.ts).
 */
export function partialPlan(check: FixKind, ctx: CheckContext, records: ZoneRecord[], options: PlanOptions = {}, panelRecords?: ZoneRecord[]): Promise<PartialPlan> {
  switch (check) {
    case 'spf':
      return panelRecords ? planSpf(ctx, records, options).then((p) => withSelfTermNotes(ctx, p, panelRecords)) : planSpf(ctx, records, options);
    case 'dkim':
      return planDkim(ctx, records);
    case 'lockdown':
      return planLockdown(ctx, records, options);
    case 'dmarc':
      return planDmarc(ctx, records, panelRecords ? { records: panelRecords } : undefined);
  }
}
