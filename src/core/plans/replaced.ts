// Which later change replaced the records a change left (src/core/plans/reverify.ts lists it as "replaced by change
// M" and does not check it again; undo names it when it refuses). Pure, and apart from apply.ts (which uses it) so that
// neither module imports the other at run time.
import { canonName } from '../domain.js';
import type { Change, ZoneRecord } from '../model.js';
import type { History, StoredChange } from './apply.js';

/** How many of a domain's newest changes are read to find the one that replaced a change's records. */
export const LATER_CHANGES = 500;

function text(r: ZoneRecord): string {
  return r.txt ? r.txt.join('') : r.value;
}
/** A record as history compares records: name, type and text (as apply's sameRecord). */
const idOf = (r: ZoneRecord) => `${canonName(r.name)}\t${r.type.toUpperCase()}\t${text(r)}`;

/** Could `ch` have been replaced at all: applied, not undone, and it wrote or removed records. */
export const replaceable = (ch: StoredChange) => ch.status === 'applied' && ch.undoneBy === null && ch.changes.length > 0;

/**
 * The first later change of the same domain that replaced records `ch` left — it edited or removed a record `ch` wrote,
 * or put back one `ch` removed — and still stands (applied, not undone: an undone one gave them back). Null when none
 * of `domainChanges` did. A hand edit in the panel is not a recorded change: it stays what verification says.
 */
export function replacedBy(ch: StoredChange, domainChanges: readonly StoredChange[]): number | null {
  if (!replaceable(ch)) return null;
  const wrote = new Set(ch.changes.flatMap((c) => (c.after ? [idOf(c.after)] : [])));
  const removed = new Set(ch.changes.flatMap((c) => (c.action === 'remove' && c.before ? [idOf(c.before)] : [])));
  const replaces = (c: Change) => (c.before !== null && c.before !== undefined && wrote.has(idOf(c.before))) || (c.after !== null && c.after !== undefined && removed.has(idOf(c.after)));
  const later = domainChanges
    .filter((x) => x.id > ch.id && x.domain === ch.domain && x.status === 'applied' && x.undoneBy === null)
    .sort((a, b) => a.id - b.id);
  return later.find((x) => x.changes.some(replaces))?.id ?? null;
}

/** replacedBy, reading the domain's changes from the history (none read for a change that cannot have been replaced). */
export function replacedIn(ch: StoredChange, history: Pick<History, 'changesForDomain'>): number | null {
  return replaceable(ch) ? replacedBy(ch, history.changesForDomain(ch.domain, LATER_CHANGES)) : null;
}
