// The history database's own words, withheld from what the history shows. Every error the store builds of SQLite's
// names the database's file (store.ts toStoreError, SchemaChangedError), and a previous version recorded such errors in
// the texts it kept — a change's `error` above all. Those words are the server's (its file system's layout, SQLite's
// codes): the web (src/web/services.ts) and the CLI (`history`) show a stored text without them, and log the text as
// it came — the server's log, the CLI's stderr.
//
// Only the file's path marks the store's words: a text that merely looks like them (a TXT record, a panel's message
// quoting "SQLITE_BUSY" or "mailhealth database") is the customer's own and is shown as it is.
import type { Change } from '../../core/model.js';
import { withoutCopies } from '../../core/plans/apply.js';
import type { ChangeRecord } from './store.js';

/** The history database's file as its errors name it, when this store has one. */
export function storePath(store: { readonly path?: unknown } | null | undefined): string | null {
  const path = store?.path;
  return typeof path === 'string' && path !== '' ? path : null;
}

/**
 * Whether a text carries the history database's own words: its file's path, which every error the store builds of
 * SQLite's names (store.ts toStoreError, SchemaChangedError). Not SQLite's codes or "mailhealth database" alone: a
 * record, a zone line or a panel's message may say those, and is the customer's to read.
 */
export function isStoreText(store: { readonly path?: unknown } | null | undefined, text: string): boolean {
  const path = storePath(store);
  return path !== null && text.includes(path);
}

/** What stands for words withheld from a text because they named the history database's file (withheld). */
export const WITHHELD = "(withheld: the server's log has it)";
/** A parenthesis, one level of parentheses inside it allowed (a store error quoted as "failed (… (database is locked))"). */
const PARENTHESIS = /\((?:[^()]|\([^()]*\))*\)/g;

/**
 * `text` without the history database's words: each parenthesis that holds its file's path gives way to WITHHELD (the
 * rest is kept); a path anywhere else, the whole text to `otherwise`. Every occurrence of the path stands as one
 * character while the parentheses are matched, so a path holding "(" or ")" is never cut in two: none of it is left.
 */
export function withheld(path: string, text: string, otherwise: string): string {
  if (!text.includes(path)) return text;
  const mark = absentChar(text);
  if (mark === null) return otherwise;
  const out = text.split(path).join(mark).replace(PARENTHESIS, (p) => (p.includes(mark) ? WITHHELD : p));
  return out.includes(mark) ? otherwise : out;
}

/** A character (of Unicode's private use area) `text` does not hold, or null. */
function absentChar(text: string): string | null {
  for (let c = 0xe000; c <= 0xf8ff; c++) {
    const ch = String.fromCharCode(c);
    if (!text.includes(ch)) return ch;
  }
  return null;
}

/** What a change's error says instead when the database's file is named in it other than in parentheses. */
export const CHANGE_ERROR_WITHHELD = "The reason is not shown here (the server's log has it).";

/**
 * A change as the history shows it — the web's history page and `GET /api/changes`, the CLI's `history` (text and
 * JSON): its records without the copy counts (the history's own bookkeeping for an undo: withoutCopies), and an error
 * naming the history database's file (a previous version recorded the store's error so) withheld (withheld: the
 * parentheses that name it, else the whole text). `log` gets the error as it was stored, only when something was
 * withheld.
 */
export function shownStoredChange<C extends Pick<ChangeRecord, 'id' | 'error'> & { changes?: readonly Change[] }>(store: { readonly path?: unknown } | null | undefined, ch: C, log: (stored: string) => void): C {
  const shown = ch.changes ? { ...ch, changes: withoutCopies(ch.changes) } : ch;
  const path = storePath(store);
  if (path === null || !ch.error || !ch.error.includes(path)) return shown;
  log(ch.error);
  return { ...shown, error: withheld(path, ch.error, CHANGE_ERROR_WITHHELD) };
}
