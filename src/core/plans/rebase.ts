// A bulk fix over domains that share one zone (cPanel keeps a subdomain's records in its parent's zone): the rules by
// which a plan previewed at one zone version may be applied after the same bulk's own writes moved the zone — the
// writes must lead from the previewed version to the current one with nothing else in between (chainLeads), and the
// fresh plan must make exactly the previewed changes (sameChanges). Pure: the zone each write belongs to comes from the
// caller (through the panel). Used by the web's bulk fix (src/web/services.ts applyBulkFix).
import { canonName } from '../domain.js';
import type { Change, ZoneRecord } from '../model.js';
import type { Plan } from './plan.js';

/** A recorded write: the zone version its intent was written against and the one the panel answered after it. */
export interface ZoneWrite {
  domain: string;
  before: string | null;
  after: string | null;
}

/**
 * The zone `apex` taken from version `from` to `to` by these writes alone: each link a write made over the version the
 * one before left (followed by version, not by order: two domains of one zone keep separate locks). Any other edit
 * leaves a version no write starts from, and breaks the chain.
 */
export async function chainLeads(writes: readonly ZoneWrite[], apex: string, from: string, to: string, zoneOf: (domain: string) => Promise<string | null>): Promise<boolean> {
  const here: ZoneWrite[] = [];
  for (const w of writes) if (w.before !== null && w.after !== null && (await zoneOf(w.domain)) === apex) here.push(w);
  const used = new Set<ZoneWrite>();
  let at = from;
  while (at !== to) {
    const next = here.find((w) => !used.has(w) && w.before === at);
    if (!next) return false;
    used.add(next);
    at = next.after!;
  }
  return true;
}

/** The record as the plan hash sees it, without the panel's handle (a line index moves when a line above is added). */
function recordBody(r: ZoneRecord | null) {
  return r ? { name: canonName(r.name), ttl: r.ttl, type: r.type.toUpperCase(), value: r.value, txt: r.txt ?? null } : null;
}
function changeBody(c: Change) {
  return { action: c.action, name: canonName(c.name), type: c.type.toUpperCase(), ttl: c.ttl, before: recordBody(c.before), after: recordBody(c.after) };
}

/** Two plans of one domain's fix that make the same changes: before/after of each record, actions and options. */
export function sameChanges(a: Plan, b: Plan): boolean {
  const body = (p: Plan) =>
    JSON.stringify({
      domain: canonName(p.domain),
      check: p.check,
      mode: p.mode,
      actions: p.actions.map((x) => x.kind),
      options: [...(p.options.removeTerms ?? [])].sort(),
      changes: p.changes.map(changeBody),
    });
  return body(a) === body(b);
}
