// The one reading of a stored list of mail addresses (report.recipients, each entry of report.resellers): the settings
// page shows and saves it this way, and the mailer sends to it this way. The page stores a list; a value set by hand
// (sqlite3, as the README invites) is often one string "ops@example.com, noc@example.com" — read as one address, the
// mailer refused it and sent to nobody while the page showed two good addresses.

/**
 * The entries of a stored addresses value, in order: a string (or each string of a list) split at commas and
 * semicolons, and at white space between addresses ("a@x b@y"); empty pieces dropped. Words with no "@" among them are
 * not split off: "rita at example.com" stays one entry — one address mistyped, reported as it was written, not as three
 * (its white space collapsed to single spaces). A value that is neither a string nor a list, and a list entry that is
 * not a string, are kept as they are, for the caller to report (they are not addresses). Nothing here checks an
 * address: that is mailAddressProblem's job (src/core/domain.ts), for the page and the mailer alike.
 */
export function splitAddresses(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  const list: unknown[] = Array.isArray(v) ? v : [v];
  return list.flatMap((x) => (typeof x === 'string' ? x.split(/[,;]+/).flatMap(wordsOf) : [x]));
}

/** One comma-separated piece: its words, each an address, or the whole piece when some word is no address at all. */
function wordsOf(piece: string): string[] {
  const words = piece.split(/\s+/).filter(Boolean);
  return words.length > 1 && !words.every((w) => w.includes('@')) ? [words.join(' ')] : words;
}
