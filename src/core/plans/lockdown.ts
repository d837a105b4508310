// Lockdown fix: drops stale auth=/senderid=/sidw= values (a previous host's, classify.ts lockdownId) and cfid=,
// writes each value of a comma list (`auth=a,b`, one value to MailChannels) as a field of its own, judged like any id,
// keeps ids nobody could place (the customer's own MailChannels account, or a previous host's) unless the user selects
// them for removal (PlanOptions.removeTerms, as the field is written: `auth=acme-emailapi`), fixes syntax, merges several
// records, and adds `auth=<this host's MailChannels account id>` only where nothing left lets this host's senders
// through; a record the check finds ok is left as it is unless the user selected one of its fields. On a server that
// does not relay through MailChannels nothing changes: the record does not affect this server's mail, and removing it
// would let every MailChannels account send as the domain.
import type { CheckContext } from '../checks/context.js';
import { inList, lockdownIds } from '../checks/lockdown.js';
import { parseLockdown, renderLockdown, senderIdProblem } from '../lockdown/record.js';
import type { ZoneRecord } from '../model.js';
import { splitTxt } from '../spf/parse.js';
import { recordsAt } from '../zone.js';
import { fixOwnsTxt } from './owned.js';
import { aliasBlock, copiesNote, copiesRemoved, defaultTtl, replaceWithOne, selectableOf, withoutCopies, type PlanOptions } from './plan.js';
import type { PartialPlan } from './spf.js';

/** A value renderLockdown can write (one token: no whitespace, comma or semicolon). */
const writable = (v: string) => v.trim() !== '' && !/[\s;,]/.test(v.trim());

/**
 * Why the lockdown fix cannot be made on a server relaying through MailChannels, whatever the records: its account id
 * is not configured, or cannot be written in a record. Null when it can (or the relay is not MailChannels). The plan is
 * blocked with it, and the check offers no fix while it holds (a finding never offers a fix whose plan is blocked).
 */
export function accountIdBlock(relay: CheckContext['settings']['relay']): string | null {
  if (!relay || relay.provider !== 'mailchannels') return null;
  if (relay.authId && !writable(relay.authId)) {
    return `This server's MailChannels account id ${JSON.stringify(relay.authId)} cannot be written in a Domain Lockdown record (space, comma or semicolon): correct it in the admin settings.`;
  }
  if (!relay.authId) {
    return "This server relays through MailChannels, but its account id is not configured (set it in the admin settings): mailhealth cannot tell which auth= is this host's.";
  }
  return null;
}

/** Why a `_mailchannels` record is kept on a server that does not send through MailChannels (the plan's note). */
export function leftAsItIs(domain: string): string {
  return `Leaves the _mailchannels record as it is: this server does not send through MailChannels, so the record does not affect this server's mail. Removing it would lift the restriction it sets — with no record, any MailChannels account may send as ${domain}.`;
}

/** A lockdown field as selected for removal and as written compare alike: the field name and value in any case. */
const fieldKey = (f: string) => f.trim().toLowerCase();

export async function planLockdown(ctx: CheckContext, records: ZoneRecord[], opts: PlanOptions = {}): Promise<PartialPlan> {
  const name = `_mailchannels.${ctx.domain}`;
  const atName = recordsAt(records, name, 'TXT');
  const textOf = (r: ZoneRecord) => (r.txt ? r.txt.join('') : r.value);
  // The records this fix owns: those meant as lockdown. Another TXT at the name is left as it is (isLockdownMeant).
  const owned = atName.filter((r) => fixOwnsTxt(name, textOf(r)));
  // Copies of one record (the same strings: a record added twice) are one record to DNS (RFC 2181 §5), as MailChannels
  // and the check read them: judged once — not "several records" to merge; the plan keeps one (which dns.drift offers
  // the fix for), and one that rewrites the record replaces every copy.
  const existing = withoutCopies(owned);
  const relay = ctx.settings.relay;
  const notes: string[] = [];
  for (const r of atName) if (!owned.includes(r)) notes.push(`Leaves ${JSON.stringify(textOf(r).slice(0, 60))} at ${name} as it is: it is not a Domain Lockdown record.`);
  if ((relay && relay.provider !== 'mailchannels') || (!relay && !ctx.settings.relayUnknown)) {
    // This server does not send through MailChannels: the record does not affect its mail, and it is left as it is.
    // Without a record MailChannels applies no restriction (mail-auth.md §4), so removing one would let every
    // MailChannels account send as the domain; no record is published either (there is no account id to name).
    const here = existing.length || recordsAt(records, name, 'CNAME').length;
    if (here) notes.push(leftAsItIs(ctx.domain));
    for (const x of opts.removeTerms ?? []) notes.push(`Keeps ${x} although you selected it: this server does not send through MailChannels, so mailhealth leaves the _mailchannels record as it is.`);
    return { changes: [], notes };
  }
  const alias = aliasBlock(records, name, 'Domain Lockdown record');
  if (alias) return { changes: [], notes, blocked: alias };
  if (!relay) {
    return { changes: [], notes, blocked: `Cannot tell whether this server relays through MailChannels (${ctx.settings.relayUnknown}): if it does, set the MailChannels account id in the admin settings; the _mailchannels record is left as it is.` };
  }
  const account = accountIdBlock(relay);
  if (account || !relay.authId) return { changes: [], notes, blocked: account ?? '' };
  // What each record authorises for this host, after its stale entries go. `auth=` names a whole MailChannels
  // account, `senderid=` one exact sender, `sidw=` a sender pattern (mail-auth.md §4): a record the customer narrowed
  // to some of this host's senders keeps exactly those; auth=<this host> is added only when nothing left would let any
  // of this host's senders through — never widening the record to the host's whole account.
  const auth: string[] = [];
  const senderid: string[] = [];
  const sidw: string[] = [];
  // Ids nobody could place (neither this host's nor a previous host's), kept unless selected for removal: they do not
  // let this host's senders through, so they never count as authorising this host.
  const other: { auth: string[]; senderid: string[]; sidw: string[] } = { auth: [], senderid: [], sidw: [] };
  const remove = new Set((opts.removeTerms ?? []).map(fieldKey));
  /** Every field as written in the records (lower-cased), to tell a selected field the record does not have. */
  const written = new Set<string>();
  // Anything the check reports (several records, syntax, cfid=, a previous host's id) or a field the user selected:
  // without it the check found nothing the fix changes, and the plan leaves the record exactly as it is.
  let problem = existing.length > 1;
  const keptNotes: string[] = [];
  /** The fields keptNotes offer for removal (Plan.selectable). */
  const offered: string[] = [];
  /** Fields met so far (as written): a field written twice (in one record or across merged ones) is written once. */
  const seen = new Set<string>();
  /** Fields kept in the record the fix writes (as written), to say which repeated ones are written once. */
  const keptFields = new Set<string>();
  /** Notes that hold only when the record is rewritten (how a kept field is written). */
  const rewriteNotes: string[] = [];
  for (const r of existing) {
    const rec = parseLockdown(r.txt ?? [r.value]);
    // One id per value, as the check judges them (lockdownIds): `auth=a,b` is the two ids auth=a and auth=b.
    const ids = lockdownIds(rec);
    for (const list of new Set(ids.filter(inList).map((i) => i.written))) {
      const parts = ids.filter((i) => i.written === list).map((i) => `${i.key}=${i.value}`);
      problem = true;
      written.add(fieldKey(list));
      notes.push(`Writes each value of ${list} as a field of its own (${parts.join(' ')}), each judged like any id: MailChannels takes a field's whole value as one id.`);
    }
    for (const { key, value: v, written: as } of ids) {
      const field = `${key}=${v}`;
      // Exact repeats only: `senderid=acme|user|Bob` and `…|bob` may be two senders (case sensitivity is undocumented).
      if (seen.has(field)) {
        // Said for a field the fix keeps; one it drops is said once by its own note.
        const n = `Writes ${field} once (the record${existing.length > 1 ? 's name' : ' names'} it more than once).`;
        if (keptFields.has(field) && !rewriteNotes.includes(n)) rewriteNotes.push(n);
        continue; // harmless: not a reason to rewrite a record the check found ok
      }
      seen.add(field);
      written.add(fieldKey(field));
      // Selected as written: the field itself, or the whole comma list it came from (then each of its ids).
      const selected = remove.has(fieldKey(field)) || remove.has(fieldKey(as));
      if (!writable(v)) {
        // A sender id whose comma separates no whole sender ids (`acme|x,y|z`, lockdownIds): it cannot be written back.
        notes.push(`Drops ${field}: a value with a space, comma or semicolon cannot match a sender (rewrite it in the record's syntax if it was meant).`);
        problem = true;
        continue;
      }
      // A sender id that cannot match (review: kept as "unknown", it left the record suspect, or the fix did nothing
      // while the check failed it).
      const shape = key === 'auth' ? null : senderIdProblem(key, v);
      if (shape) {
        notes.push(`Drops ${field}: ${shape}.`);
        problem = true;
        continue;
      }
      const c = await ctx.classifier.lockdownId(key, v);
      if (c.class === 'this-server') {
        if (selected) notes.push(`Keeps ${field} although you selected it: it is this host's MailChannels account (${relay.authId}) — without it MailChannels rejects this server's mail.`);
        // auth= is written as the configured id (its case); a sender id as it is.
        if (key === 'auth' && v !== relay.authId) rewriteNotes.push(`Writes ${field} as auth=${relay.authId}, this host's MailChannels account id as configured.`);
        keptFields.add(field);
        if (key === 'auth') auth.push(relay.authId);
        else (key === 'senderid' ? senderid : sidw).push(v);
        continue;
      }
      if (c.class === 'stale') {
        problem = true;
        notes.push(`Drops ${field}: ${c.reason}.`);
        continue;
      }
      if (selected) {
        problem = true;
        notes.push(`Removes ${field} (you selected it): ${c.reason}. Mail sent as ${ctx.domain} through that MailChannels account is rejected from now on.`);
        continue;
      }
      other[key].push(v);
      keptFields.add(field);
      const kept = `Keeps ${field}: ${c.reason}. Select it for removal if no sender of yours uses that MailChannels account.`;
      if (!keptNotes.includes(kept)) {
        keptNotes.push(kept);
        offered.push(field);
      }
    }
    for (const v of rec.cfid) notes.push(`Drops cfid=${v}: Cloudflare Workers ids are unsupported since 2024-08-31.`);
    if (rec.cfid.length) problem = true;
    if (rec.class === 'invalid' || rec.class === 'suspect') {
      problem = true;
      notes.push(`Rewrites the record in MailChannels' syntax (${rec.problems.join('; ')}).`);
    }
    if (rec.unknownFields.length) notes.push(`Drops ${rec.unknownFields.join(' ')}: not a Domain Lockdown field (MailChannels ignores it).`);
    // Unknown fields or names in another case (the check's lockdown.syntax warning): written in the documented form.
    if (rec.class === 'valid-with-warning' && rec.problems.some((p) => !p.startsWith('cfid='))) {
      problem = true;
      if (rec.problems.some((p) => p.includes('case sensitivity'))) notes.push('Writes the field names in lower case, as MailChannels documents them.');
    }
  }
  // A selected field the record does not have (a typo, or a field already gone): said, so it is not taken as done.
  const missing = (opts.removeTerms ?? []).filter((x) => !written.has(fieldKey(x)));
  const missingNotes = missing.map((x) => `You selected ${x} for removal, but the _mailchannels record has no such field: nothing was removed for it.`);
  const authorises = auth.length + senderid.length + sidw.length > 0;
  // Nothing to change (only ids the fix keeps, nothing selected but this host's own id): the record stays, and the
  // notes say what could be selected.
  if (existing.length && authorises && !problem) {
    // Copies of it (judged once above) go.
    const copies = copiesRemoved(owned, '_mailchannels record');
    return { changes: copies.changes, notes: [...notes, ...keptNotes, ...missingNotes, ...copies.notes], ...selectableOf(offered) };
  }
  notes.push(...rewriteNotes);
  if (existing.length > 1) notes.push(`Merges ${existing.length} _mailchannels records into one.`);
  if (!authorises) {
    auth.unshift(relay.authId);
    notes.push(
      existing.length
        ? `Adds auth=${relay.authId} (this host's MailChannels account): without it the record would let none of this host's senders through. auth= authorises every sender of that account on this host.`
        : `Publishes Domain Lockdown with auth=${relay.authId} (this host's MailChannels account), which authorises every sender of that account on this host.`,
    );
  } else if (!auth.length) {
    const named = [...senderid.map((v) => `senderid=${v}`), ...sidw.map((v) => `sidw=${v}`)].join(' ');
    notes.push(`Adds no auth=${relay.authId}: the record names which of this host's senders it allows (${named}), and auth= would widen it to every sender of this host's MailChannels account. Add auth=${relay.authId} yourself if every sender should be allowed.`);
  }
  notes.push(...keptNotes, ...missingNotes);
  const value = renderLockdown({ auth: [...auth, ...other.auth], senderid: [...senderid, ...other.senderid], sidw: [...sidw, ...other.sidw] });
  const desired: ZoneRecord = { name, ttl: existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain), type: 'TXT', value, txt: splitTxt(value) };
  const copies = copiesNote(owned, '_mailchannels record');
  return { changes: replaceWithOne(owned, desired), notes: copies ? [...notes, copies] : notes, ...selectableOf(offered) };
}
