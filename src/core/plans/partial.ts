// One fix kind's planner over a list of records (the panel's zone, or the live records for publish-elsewhere plans):
// the changes, notes, actions and block of the plan, before the mode, hash and capability checks of makePlanWith.
import type { CheckContext } from '../checks/context.js';
import type { FixKind, ZoneRecord } from '../model.js';
import type { PlanOptions } from './plan.js';
import { planDkim } from './dkim.js';
import { planDmarc } from './dmarc.js';
import { planLockdown } from './lockdown.js';
import { planSpf, type PartialPlan } from './spf.js';

export function partialPlan(check: FixKind, ctx: CheckContext, records: ZoneRecord[], options: PlanOptions = {}): Promise<PartialPlan> {
  switch (check) {
    case 'spf':
      return planSpf(ctx, records, options);
    case 'dkim':
      return planDkim(ctx, records);
    case 'lockdown':
      return planLockdown(ctx, records, options);
    case 'dmarc':
      return planDmarc(ctx, records);
  }
}
