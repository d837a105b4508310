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

/** The records a change wrote or took out (before and after), as history compares them (idOf). */
const recordsOf = (ch: StoredChange) => new Set(ch.changes.flatMap((c) => [c.before, c.after]).filter((r): r is ZoneRecord => !!r).map(idOf));

/**
 * The newest later change of `ch`'s domain that still stands (applied, not undone) and touched a record `ch` touched —
 * one with the name, type and text of a record `ch` wrote, edited or removed, on either side — or null. Undo refuses
 * `ch` while one stands (src/core/plans/apply.ts): undoing it would take back or overwrite that change's records, and
 * the history would go on calling that change applied (QA h3 D7: change #1, a write the panel answered but never made,
 * was "undone" — and the undo took back the records of #2, the retry that did write them; #2 stayed "applied, verified
 * yes", and its own undo was refused). Unlike replacedBy, a later fix that wrote a record back as `ch` left it counts:
 * that record is the later fix's now. An undo made later that gave back records as they were before a change made
 * after `ch` (its undoOf later than `ch`) is no such change: what it gave back stood before, `ch`'s records among them.
 * Pure: only the history's records are compared; what the zone holds now is inverseChanges' part.
 */
export function standingOnSameRecords(ch: StoredChange, domainChanges: readonly StoredChange[]): number | null {
  if (!replaceable(ch)) return null;
  const mine = recordsOf(ch);
  let newest: number | null = null;
  for (const x of domainChanges) {
    if (x.id <= ch.id || x.domain !== ch.domain || !replaceable(x)) continue;
    if (x.undoOf !== null && x.undoOf > ch.id) continue;
    if ([...recordsOf(x)].some((k) => mine.has(k)) && (newest === null || x.id > newest)) newest = x.id;
  }
  return newest;
}

/** standingOnSameRecords, reading the domain's changes from the history (none read for a change that cannot stand). */
export function standingOnSameRecordsIn(ch: StoredChange, history: Pick<History, 'changesForDomain'>): number | null {
  return replaceable(ch) ? standingOnSameRecords(ch, history.changesForDomain(ch.domain, LATER_CHANGES)) : null;
}
