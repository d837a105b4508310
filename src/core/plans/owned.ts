// Which TXT records at a mail name a fix owns — one rule for the plans (what they may remove or rewrite), apply's
// reconcile (what counts as someone else's edit when a write stopped part-way) and the panels that must refuse a zone
// whose owned records they cannot write back (cPanel's non-ASCII text). A TXT there that is not the fix's (a
// site-verification token at _dmarc or _mailchannels) is left alone by every fix (QA), so it must not count as an edit
// either (review: a part-way write next to a token was left without its DMARC record, "edited meanwhile").
import { canonName } from '../domain.js';
import { isDmarcRecord, repairMeantDmarc } from '../dmarc/record.js';
import { isLockdownMeant } from '../lockdown/record.js';
import type { ZoneRecord } from '../model.js';
import { isSpfRecord } from '../spf/parse.js';

/**
 * At `_dmarc`: DMARC records, records meant as DMARC (a version tag of any case, or a record repairMeantDmarc can
 * read), and an SPF record published there by mistake (the check's dmarc.syntax).
 */
export function ownedByDmarcFix(text: string): boolean {
  return isDmarcRecord(text) || /^\s*"?\s*v\s*=\s*(dmarc|spf1(\s|$))/i.test(text) || repairMeantDmarc(text) !== null;
}

/**
 * Does the fix for the records at `name` own this TXT text? `_dmarc.*`: ownedByDmarcFix; `_mailchannels.*`: records
 * meant as Domain Lockdown; any other name (the apex's SPF, a DKIM selector): true — those fixes pick their records
 * themselves (the SPF fix only SPF records, see foreign-record handling in apply).
 */
export function fixOwnsTxt(name: string, text: string): boolean {
  const first = canonName(name).split('.')[0];
  if (first === '_dmarc') return ownedByDmarcFix(text);
  if (first === '_mailchannels') return isLockdownMeant(text);
  return true;
}

/**
 * The record a name must hold at most one of, where a fix writes one: what it is called, which records are one, and
 * what a second one does. Each fix leaves exactly one such record at its name (it merges or replaces every one it
 * finds), so once it is applied any other one there was added after it.
 */
export interface SoleRecordKind {
  /** "SPF", "DMARC", "_mailchannels (Domain Lockdown)", "DKIM". */
  label: string;
  is(r: ZoneRecord): boolean;
  /** What receivers make of two of them at `name` (one sentence, no final stop). */
  harm: string;
}

const txtOf = (r: ZoneRecord) => (r.txt ? r.txt.join('') : r.value);
const isTxt = (r: ZoneRecord) => r.type.toUpperCase() === 'TXT';

/**
 * The kind of record at `name` (in `domain`'s zone) of which a second one breaks what the record is for: null for any
 * other name. The apex: SPF records (RFC 7208 §4.5); `_dmarc.*`: DMARC records, as receivers count them (RFC 7489
 * §6.6.3: a record not starting with `v=DMARC1` is discarded, not a second one); `_mailchannels.*`: records meant as
 * Domain Lockdown (as the check counts them for lockdown.multiple); a DKIM selector: every TXT and CNAME there (as the
 * check and the fix count them: a verifier reads one, RFC 6376 §3.6.2.2).
 */
export function soleRecordKindAt(name: string, domain: string): SoleRecordKind | null {
  const n = canonName(name);
  const labels = n.split('.');
  if (labels[0] === '_dmarc') {
    return { label: 'DMARC', is: (r) => isTxt(r) && isDmarcRecord(txtOf(r)), harm: 'with two DMARC records at a name, receivers apply no DMARC policy at all (RFC 7489 §6.6.3)' };
  }
  if (labels[0] === '_mailchannels') {
    return { label: '_mailchannels (Domain Lockdown)', is: (r) => isTxt(r) && isLockdownMeant(txtOf(r)), harm: 'MailChannels does not document which of two _mailchannels records it reads, so which senders it lets through is left to chance' };
  }
  if (labels.includes('_domainkey')) {
    return { label: 'DKIM', is: (r) => isTxt(r) || r.type.toUpperCase() === 'CNAME', harm: 'verifiers read only one record at a selector (most take the first), so signed mail fails DKIM whenever it is the wrong one (RFC 6376 §3.6.2.2)' };
  }
  if (n === canonName(domain)) {
    return { label: 'SPF', is: (r) => isTxt(r) && isSpfRecord(txtOf(r)), harm: `two SPF records are a permanent error (RFC 7208 §4.5): every receiver's SPF check of ${canonName(domain)} fails` };
  }
  return null;
}
