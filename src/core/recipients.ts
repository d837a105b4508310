// The one reading of a stored list of mail addresses (report.recipients, each entry of report.resellers): the settings
// page shows and saves it this way, and the mailer sends to it this way. The page stores a list; a value set by hand
// (sqlite3, as the README invites) is often one string "ops@example.com, noc@example.com" — read as one address, the
// mailer refused it and sent to nobody while the page showed two good addresses. Pure, in core: the settings page
// (src/web/settings.ts) and the mailer (src/adapters/mail/deliver.ts) both read addresses through it.
import { checkDomain } from './domain.js';

/**
 * The entries of a stored addresses value, in order: a string (or each string of a list) split at commas and
 * semicolons, and at white space between addresses ("a@x b@y"); empty pieces dropped. Words with no "@" among them are
 * not split off: "rita at example.com" stays one entry — one address mistyped, reported as it was written, not as three
 * (its white space collapsed to single spaces). An address given again is dropped, whatever its case or the spelling
 * of its domain (addressKey): "ops@example.com, OPS@example.com ops@example.com" is one entry, spelled as first given,
 * and so is "ops@bücher.example, ops@xn--bcher-kva.example" — each message of the report goes out once per address,
 * and the page shows it once. A value that is neither a string nor a list, and a list
 * entry that is not a string, are kept as they are, for the caller to report (they are not addresses). Nothing here
 * checks an address: that is mailAddressProblem's job (src/core/domain.ts), for the page and the mailer alike.
 */
export function splitAddresses(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  const list: unknown[] = Array.isArray(v) ? v : [v];
  const entries = list.flatMap((x) => (typeof x === 'string' ? x.split(/[,;]+/).flatMap(wordsOf) : [x]));
  const fresh = firstSpelling();
  return entries.filter((x) => typeof x !== 'string' || fresh(x));
}

/**
 * What two spellings of one address share, for telling repeats apart — never for sending (the first spelling is the
 * one used). The domain is compared as the domain validator writes it (checkDomain: lower-case A-labels, no trailing
 * dot), so "ops@bücher.example", "ops@xn--bcher-kva.example" and "OPS@BÜCHER.EXAMPLE." are one mailbox; a domain the
 * validator refuses (a one-label host such as localhost) is compared in lower case. The local part is taken
 * case-insensitively too (RFC 5321 lets a server tell "Ops" from "ops", but mail systems do not): two copies of one
 * report to "ops@" and "OPS@" would land in the same mailbox.
 */
export function addressKey(address: string): string {
  const a = address.trim();
  const at = a.lastIndexOf('@');
  if (at < 0) return a.toLowerCase();
  const d = checkDomain(a.slice(at + 1));
  return `${a.slice(0, at).toLowerCase()}@${d.ok ? d.domain : a.slice(at + 1).toLowerCase()}`;
}

/** The addresses without repeats (addressKey), in order, each as first spelled. */
export function uniqueAddresses(addresses: readonly string[]): string[] {
  return addresses.filter(firstSpelling());
}

/** A filter that keeps an address the first time it is seen (addressKey), and drops it after. */
function firstSpelling(): (address: string) => boolean {
  const seen = new Set<string>();
  return (a) => {
    const k = addressKey(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
}

/** One comma-separated piece: its words, each an address, or the whole piece when some word is no address at all. */
function wordsOf(piece: string): string[] {
  const words = piece.split(/\s+/).filter(Boolean);
  return words.length > 1 && !words.every((w) => w.includes('@')) ? [words.join(' ')] : words;
}
