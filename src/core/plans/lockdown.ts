// Lockdown fix: drops stale auth=/senderid=/sidw= values and cfid=, fixes syntax, merges several records, and adds
// `auth=<this host's MailChannels account id>` only where nothing left lets this host's senders through; a record the
// check finds ok is left as it is. On a server that does not relay through MailChannels nothing changes: the record
// does not affect this server's mail, and removing it would let every MailChannels account send as the domain.
import type { CheckContext } from '../checks/context.js';
import { parseLockdown, renderLockdown } from '../lockdown/record.js';
import type { ZoneRecord } from '../model.js';
import { splitTxt } from '../spf/parse.js';
import { recordsAt } from '../zone.js';
import { aliasBlock, defaultTtl, replaceWithOne } from './plan.js';
import type { PartialPlan } from './spf.js';

/** A value renderLockdown can write (one token: no whitespace, comma or semicolon). */
const writable = (v: string) => v.trim() !== '' && !/[\s;,]/.test(v.trim());

/** Why a `_mailchannels` record is kept on a server that does not send through MailChannels (the plan's note). */
export function leftAsItIs(domain: string): string {
  return `Leaves the _mailchannels record as it is: this server does not send through MailChannels, so the record does not affect this server's mail. Removing it would lift the restriction it sets — with no record, any MailChannels account may send as ${domain}.`;
}

export async function planLockdown(ctx: CheckContext, records: ZoneRecord[]): Promise<PartialPlan> {
  const name = `_mailchannels.${ctx.domain}`;
  const existing = recordsAt(records, name, 'TXT');
  const relay = ctx.settings.relay;
  const notes: string[] = [];
  if ((relay && relay.provider !== 'mailchannels') || (!relay && !ctx.settings.relayUnknown)) {
    // This server does not send through MailChannels: the record does not affect its mail, and it is left as it is.
    // Without a record MailChannels applies no restriction (mail-auth.md §4), so removing one would let every
    // MailChannels account send as the domain; no record is published either (there is no account id to name).
    const here = existing.length || recordsAt(records, name, 'CNAME').length;
    if (here) notes.push(leftAsItIs(ctx.domain));
    return { changes: [], notes };
  }
  const alias = aliasBlock(records, name, 'Domain Lockdown record');
  if (alias) return { changes: [], notes, blocked: alias };
  if (!relay) {
    return { changes: [], notes, blocked: `Cannot tell whether this server relays through MailChannels (${ctx.settings.relayUnknown}): if it does, set the MailChannels account id in the admin settings; the _mailchannels record is left as it is.` };
  }
  if (relay.authId && !writable(relay.authId)) {
    return { changes: [], notes, blocked: `This server's MailChannels account id ${JSON.stringify(relay.authId)} cannot be written in a Domain Lockdown record (space, comma or semicolon): correct it in the admin settings.` };
  }
  if (!relay.authId) {
    return { changes: [], notes, blocked: "This server relays through MailChannels, but its account id is not configured (set it in the admin settings): mailhealth cannot tell which auth= is this host's." };
  }
  // What each record authorises for this host, after its stale entries go. `auth=` names a whole MailChannels
  // account, `senderid=` one exact sender, `sidw=` a sender pattern (mail-auth.md §4): a record the customer narrowed
  // to some of this host's senders keeps exactly those; auth=<this host> is added only when nothing left would let any
  // of this host's senders through — never widening the record to the host's whole account.
  const auth: string[] = [];
  const senderid: string[] = [];
  const sidw: string[] = [];
  // Anything the check reports (several records, syntax, cfid=, an id that is not this host's): without it the check
  // found the record ok, and the plan leaves it exactly as it is.
  let problem = existing.length > 1;
  for (const r of existing) {
    const rec = parseLockdown(r.txt ?? [r.value]);
    for (const v of rec.auth) {
      if (v.toLowerCase() === relay.authId.toLowerCase()) auth.push(relay.authId);
      else {
        problem = true;
        notes.push(`Drops auth=${v}: ${ctx.classifier.lockdownId('auth', v).reason}.`);
      }
    }
    for (const v of rec.senderid) {
      if (!writable(v)) notes.push(`Drops senderid=${v}: a value with a space, comma or semicolon cannot match a sender (rewrite it in the record's syntax if it was meant).`);
      else if (ctx.classifier.lockdownId('senderid', v).class === 'this-server') {
        senderid.push(v);
        continue;
      } else notes.push(`Drops senderid=${v}: not this host's account.`);
      problem = true;
    }
    for (const v of rec.sidw) {
      if (!writable(v)) notes.push(`Drops sidw=${v}: a value with a space, comma or semicolon cannot match a sender (rewrite it in the record's syntax if it was meant).`);
      else if (ctx.classifier.lockdownId('sidw', v).class === 'this-server') {
        sidw.push(v);
        continue;
      } else notes.push(`Drops sidw=${v}: not this host's account.`);
      problem = true;
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
  const authorises = auth.length + senderid.length + sidw.length > 0;
  if (existing.length && authorises && !problem) return { changes: [], notes: [] };
  if (existing.length > 1) notes.push(`Merges ${existing.length} _mailchannels records into one.`);
  if (!authorises) {
    auth.push(relay.authId);
    notes.push(
      existing.length
        ? `Adds auth=${relay.authId} (this host's MailChannels account): without it the record would let none of this host's senders through. auth= authorises every sender of that account on this host.`
        : `Publishes Domain Lockdown with auth=${relay.authId} (this host's MailChannels account), which authorises every sender of that account on this host.`,
    );
  } else if (!auth.length) {
    const named = [...senderid.map((v) => `senderid=${v}`), ...sidw.map((v) => `sidw=${v}`)].join(' ');
    notes.push(`Adds no auth=${relay.authId}: the record names which of this host's senders it allows (${named}), and auth= would widen it to every sender of this host's MailChannels account. Add auth=${relay.authId} yourself if every sender should be allowed.`);
  }
  const value = renderLockdown({ auth, senderid, sidw });
  const desired: ZoneRecord = { name, ttl: existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain), type: 'TXT', value, txt: splitTxt(value) };
  return { changes: replaceWithOne(existing, desired), notes };
}
