// Which TXT records at a mail name a fix owns — one rule for the plans (what they may remove or rewrite), apply's
// reconcile (what counts as someone else's edit when a write stopped part-way) and the panels that must refuse a zone
// whose owned records they cannot write back (cPanel's non-ASCII text). A TXT there that is not the fix's (a
// site-verification token at _dmarc or _mailchannels) is left alone by every fix (QA), so it must not count as an edit
// either (review: a part-way write next to a token was left without its DMARC record, "edited meanwhile").
import { canonName } from '../domain.js';
import { isDmarcRecord, repairMeantDmarc } from '../dmarc/record.js';
import { isLockdownMeant } from '../lockdown/record.js';

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
