// Lockdown fix: `v=mc1 auth=<this host's MailChannels account id>`, dropping stale auth=/senderid= values and cfid=,
// fixing syntax; or removing an inert record when the server does not relay through MailChannels.
import type { CheckContext } from '../checks/context.js';
import { parseLockdown, renderLockdown } from '../lockdown/record.js';
import type { ZoneRecord } from '../model.js';
import { splitTxt } from '../spf/parse.js';
import { recordsAt } from '../zone.js';
import { aliasBlock, defaultTtl, replaceWithOne } from './plan.js';
import type { PartialPlan } from './spf.js';

/** A value renderLockdown can write (one token: no whitespace, comma or semicolon). */
const writable = (v: string) => v.trim() !== '' && !/[\s;,]/.test(v.trim());

export async function planLockdown(ctx: CheckContext, records: ZoneRecord[]): Promise<PartialPlan> {
  const name = `_mailchannels.${ctx.domain}`;
  const existing = recordsAt(records, name, 'TXT');
  const relay = ctx.settings.relay;
  const notes: string[] = [];
  const alias = aliasBlock(records, name, 'Domain Lockdown record');
  if (alias) return { changes: [], notes, blocked: alias };
  if (!relay && ctx.settings.relayUnknown) {
    return { changes: [], notes, blocked: `Cannot tell whether this server relays through MailChannels (${ctx.settings.relayUnknown}): if it does, set the MailChannels account id in the admin settings; the _mailchannels record is left as it is.` };
  }
  if (!relay || relay.provider !== 'mailchannels') {
    if (existing.length) notes.push('Removes the _mailchannels record: this server does not relay through MailChannels, so it only lets a previous host send as the domain.');
    return { changes: replaceWithOne(existing, null), notes };
  }
  if (relay.authId && !writable(relay.authId)) {
    return { changes: [], notes, blocked: `This server's MailChannels account id ${JSON.stringify(relay.authId)} cannot be written in a Domain Lockdown record (space, comma or semicolon): correct it in the admin settings.` };
  }
  if (!relay.authId) {
    return { changes: [], notes, blocked: "This server relays through MailChannels, but its account id is not configured (set it in the admin settings): mailhealth cannot tell which auth= is this host's." };
  }
  const senderid: string[] = [];
  const sidw: string[] = [];
  for (const r of existing) {
    const rec = parseLockdown(r.txt ?? [r.value]);
    for (const v of rec.auth) if (v.toLowerCase() !== relay.authId.toLowerCase()) notes.push(`Drops auth=${v}: ${ctx.classifier.lockdownId('auth', v).reason}.`);
    for (const v of rec.senderid) {
      if (!writable(v)) notes.push(`Drops senderid=${v}: a value with a space, comma or semicolon cannot match a sender (rewrite it in the record's syntax if it was meant).`);
      else if (ctx.classifier.lockdownId('senderid', v).class === 'this-server') senderid.push(v);
      else notes.push(`Drops senderid=${v}: not this host's account.`);
    }
    for (const v of rec.sidw) {
      if (!writable(v)) notes.push(`Drops sidw=${v}: a value with a space, comma or semicolon cannot match a sender (rewrite it in the record's syntax if it was meant).`);
      else if (ctx.classifier.lockdownId('sidw', v).class === 'this-server') sidw.push(v);
      else notes.push(`Drops sidw=${v}: not this host's account.`);
    }
    for (const v of rec.cfid) notes.push(`Drops cfid=${v}: Cloudflare Workers ids are unsupported since 2024-08-31.`);
    if (rec.class === 'invalid' || rec.class === 'suspect') notes.push(`Rewrites the record in MailChannels' syntax (${rec.problems.join('; ')}).`);
  }
  if (existing.length > 1) notes.push(`Merges ${existing.length} _mailchannels records into one.`);
  const value = renderLockdown({ auth: [relay.authId], senderid, sidw });
  if (!existing.length) notes.push(`Publishes Domain Lockdown for this host's MailChannels account (${relay.authId}).`);
  const desired: ZoneRecord = { name, ttl: existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain), type: 'TXT', value, txt: splitTxt(value) };
  return { changes: replaceWithOne(existing, desired), notes };
}
