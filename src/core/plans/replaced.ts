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
 * The later change of the same domain that replaced records `ch` left — it edited or removed a record `ch` wrote, or
 * put back one `ch` removed — and still stands (applied, not undone: an undone one gave them back). The later changes
 * are followed in order, so a record a still later fix wrote back as `ch` left it counts as `ch`'s again (its undo and
 * verification then apply as usual). Of several records taken, the newest change that took one is named: the one to
 * undo first. Null when every record is as `ch` left it, by the recorded changes. A hand edit in the panel is not a
 * recorded change: it stays what verification says.
 */
export function replacedBy(ch: StoredChange, domainChanges: readonly StoredChange[]): number | null {
  if (!replaceable(ch)) return null;
  // For each record ch wrote (it should be there) or removed (it should not): the change that last took it from that
  // state, or null while it is as ch left it.
  const wrote = new Map<string, number | null>(ch.changes.flatMap((c) => (c.after ? [[idOf(c.after), null] as [string, null]] : [])));
  const removed = new Map<string, number | null>(ch.changes.flatMap((c) => (c.action === 'remove' && c.before ? [[idOf(c.before), null] as [string, null]] : [])));
  const later = domainChanges
    .filter((x) => x.id > ch.id && x.domain === ch.domain && x.status === 'applied' && x.undoneBy === null)
    .sort((a, b) => a.id - b.id);
  for (const x of later) {
    for (const c of x.changes) {
      const before = c.before ? idOf(c.before) : null;
      const after = c.after ? idOf(c.after) : null;
      if (before !== null && wrote.has(before)) wrote.set(before, x.id);
      if (after !== null && removed.has(after)) removed.set(after, x.id);
      if (after !== null && wrote.has(after)) wrote.set(after, null);
      if (before !== null && removed.has(before)) removed.set(before, null);
    }
  }
  const takers = [...wrote.values(), ...removed.values()].filter((id): id is number => id !== null);
  return takers.length ? Math.max(...takers) : null;
}

/** replacedBy, reading the domain's changes from the history (none read for a change that cannot have been replaced). */
export function replacedIn(ch: StoredChange, history: Pick<History, 'changesForDomain'>): number | null {
  return replaceable(ch) ? replacedBy(ch, history.changesForDomain(ch.domain, LATER_CHANGES)) : null;
}
