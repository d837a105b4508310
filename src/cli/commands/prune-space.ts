// What `mailhealth prune` says about the history database's size: what it gave back to the file system (a file in
// incremental auto-vacuum mode, or --vacuum), or — for an older file, whose free pages only a VACUUM gives back — how
// much of it is free and how to give that back. Pure: the sizes come from Store.space (see Store.prune, Store.vacuum).
import { formatBytes } from '../../adapters/store/backup.js';
import { PRUNE_TUNING, type SpaceInfo } from '../../adapters/store/store.js';

const bytes = (s: SpaceInfo) => s.pages * s.pageSize;
const free = (s: SpaceInfo) => s.freePages * s.pageSize;

/** The sizes of a prune --vacuum, for --json: the file before and after (bytes), and its free space before. */
export function vacuumJson(v: { before: SpaceInfo; after: SpaceInfo }): { beforeBytes: number; afterBytes: number; freeBytesBefore: number } {
  return { beforeBytes: bytes(v.before), afterBytes: bytes(v.after), freeBytesBefore: free(v.before) };
}

/** The line said before a VACUUM starts (stderr): what it does and what it holds up meanwhile. */
export function vacuumStartLine(path: string, s: SpaceInfo): string {
  return (
    `compacting the history database ${path} (${formatBytes(bytes(s))}, ${formatBytes(free(s))} of it free): ` +
    'other mailhealth processes cannot write to it until this ends (their writes wait, then fail "busy")'
  );
}

/** The line after a VACUUM. */
export function vacuumDoneLine(v: { before: SpaceInfo; after: SpaceInfo }): string {
  const given = Math.max(0, bytes(v.before) - bytes(v.after));
  return (
    `compacted the history database: ${formatBytes(bytes(v.before))} → ${formatBytes(bytes(v.after))} (${formatBytes(given)} given back to the file system); ` +
    'from now on each prune gives back the space it frees'
  );
}

/**
 * The line after a prune without --vacuum, or null: what it gave back (a file in incremental auto-vacuum mode), or for a
 * file that keeps its free pages, how much is free when it is much (as prune would give back: PRUNE_TUNING) and how to
 * give it back.
 */
export function pruneSpaceLine(before: SpaceInfo, after: SpaceInfo): string | null {
  if (bytes(after) < bytes(before)) return `gave ${formatBytes(bytes(before) - bytes(after))} back to the file system: the history database is now ${formatBytes(bytes(after))}`;
  if (after.autoVacuum === 'incremental') return null;
  if (free(after) < PRUNE_TUNING.reclaimMinBytes || after.freePages <= after.pages * PRUNE_TUNING.reclaimShare) return null;
  const share = Math.round((100 * after.freePages) / after.pages);
  return (
    `the history database holds ${formatBytes(free(after))} of free space (${share} % of its ${formatBytes(bytes(after))}): new history reuses it, but the file ` +
    "does not shrink by itself — `mailhealth prune --vacuum` gives it back (it holds up other mailhealth processes' writes while it runs: best with the service stopped)"
  );
}
