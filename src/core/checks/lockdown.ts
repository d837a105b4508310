// lockdown: MailChannels Domain Lockdown (_mailchannels TXT) against this server's relay account.
import { emptyList } from '../arrays.js';
import { isLockdownMeant, parseLockdown, senderIdProblem, type LockdownRecord } from '../lockdown/record.js';
import type { Evidence, Finding } from '../model.js';
import { aliasesOf, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { noteLiveElsewhere } from './dns.js';
import { dnsErrorFinding, evidence, liveTxt, makeFinding, withoutFix } from './util.js';
import { accountIdBlock } from '../plans/lockdown.js';

/** One id a record names: `key=value` as the fix writes it, and `written`, the field as the record writes it. */
export interface LockdownId {
  key: 'auth' | 'senderid' | 'sidw';
  value: string;
  written: string;
}

/**
 * The ids a record names, one per value, in the record's order (auth=, then senderid=, then sidw=). Each field carries
 * exactly one value (mail-auth.md §4): `auth=a,b` is one value to MailChannels, which matches no account (the record
 * is `suspect`), but it plainly means `auth=a auth=b`. So each value of a comma list is an id of its own, judged like
 * any other — this host's kept, a previous host's dropped, one nobody could place kept unless selected — and the fix
 * writes it as a field of its own. The check and the fix read the record through this one list, so they agree (QA:
 * the check called `auth=dreamhost,newhostmc` an id it keeps, the fix dropped it whole).
 */
export function lockdownIds(rec: Pick<LockdownRecord, 'auth' | 'senderid' | 'sidw'>): LockdownId[] {
  const out: LockdownId[] = emptyList();
  for (const key of ['auth', 'senderid', 'sidw'] as const) {
    for (const v of rec[key]) {
      const written = `${key}=${v}`;
      const parts = v
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      // A sender id's comma that does not separate whole sender ids (`acme|x,y|z`) makes no list: it stays one value,
      // which cannot match a sender (the check leaves it to the syntax finding, the fix drops it). Shape only here (the
      // sidw= rule): a "*" in a senderid= of a list is that id's own problem.
      const list = key === 'auth' || parts.every((p) => !senderIdProblem('sidw', p)) ? parts : [v];
      for (const value of list) out.push({ key, value, written });
    }
  }
  return out;
}

/** An id written inside a comma list (`auth=a,b`), not as a field of its own. */
export const inList = (id: LockdownId): boolean => id.written !== `${id.key}=${id.value}`;

export async function lockdownCheck(ctx: CheckContext): Promise<Finding[]> {
  const name = `_mailchannels.${ctx.domain}`;
  const a = await ctx.resolver.resolve(name, 'TXT');
  if (a.status === 'unknown') return [dnsErrorFinding('lockdown', 'the _mailchannels record', a, evidence(ctx, name, 'TXT', a))];
  // A CNAME at the name (a MailChannels service or an agency publishing the record) is followed, as MailChannels does:
  // the record judged is its target's. The alias is shown beside it, and the findings the fix would address say where
  // the record is changed (the fix does not write beside an alias: planLockdown, README "Aliases").
  const known = aliasesOf(ctx.resolver, name, a);
  const aliases = Array.isArray(known) ? known : await known;
  const ev = evidence(ctx, name, 'TXT', a, aliases.length ? { cname: aliases } : {});
  const out = await judgeLockdown(ctx, name, a, ev, aliases.length > 0);
  // The fix's plan is blocked whatever the records while the account id is missing or cannot be written: no finding
  // offers it, and each says what to set first.
  const account = accountIdBlock(ctx.settings.relay);
  if (account) withoutFix(out, 'lockdown', ` The lockdown fix is not offered: ${account}`);
  await noteLiveElsewhere(ctx, out, { from: 0 }, name, a, isLockdownMeant, '_mailchannels record');
  if (aliases.length) {
    const where = ` ${name} is an alias of ${aliases.join(' → ')}: the record is published there, so change it at that service (or replace the alias with a record of your own).`;
    for (const f of out) if (f.fix === 'lockdown') f.message += where;
  }
  return out;
}

/** An id mailhealth cannot place, with why (its classification's reason). */
interface Placed {
  id: string;
  reason: string;
}

/** `aliased`: the name is an alias (the record is its target's, changed at that service: the fix does not write it). */
async function judgeLockdown(ctx: CheckContext, name: string, a: Answer<'TXT'>, ev: Evidence, aliased: boolean): Promise<Finding[]> {
  // Only records meant as lockdown are judged: another TXT at the name (a verification token) is not MailChannels'.
  const records = liveTxt(a).filter(isLockdownMeant);
  const relay = ctx.settings.relay;
  const usesMc = relay?.provider === 'mailchannels';
  const out: Finding[] = emptyList();
  if (!relay && ctx.settings.relayUnknown) {
    // Whether this server relays through MailChannels is not known here: the record can be neither this host's nor
    // a leftover — unknown, never a reason to change the zone.
    out.push(
      makeFinding(
        'lockdown',
        'lockdown.relay-unknown',
        'unknown',
        `Cannot tell whether this server relays through MailChannels (${ctx.settings.relayUnknown}), so the _mailchannels record${records.length ? '' : "'s absence"} cannot be judged. If it does, set the MailChannels account id in the admin settings.`,
        ev,
      ),
    );
    return out;
  }

  if (records.length === 0) {
    if (usesMc) {
      out.push(
        makeFinding(
          'lockdown',
          'lockdown.missing',
          'warn',
          `This server relays through MailChannels, but ${ctx.domain} has no Domain Lockdown record: any MailChannels customer could send as ${ctx.domain}.`,
          ev,
          { fix: 'lockdown' },
        ),
      );
    } else out.push(makeFinding('lockdown', 'lockdown.none', 'pass', 'No _mailchannels record, and this server does not relay through MailChannels.', ev));
    return out;
  }
  if (!usesMc) {
    // Not this server's concern, but not a leftover to delete either: with no record MailChannels applies no
    // restriction (mail-auth.md §4), so removing it would let every MailChannels account send as the domain. The fix
    // leaves it (planLockdown), so the finding offers none. Still a warning: it is what decides whether mail another
    // service sends as the domain through MailChannels is accepted (MailChannels' "sender is not authorized").
    out.push(
      makeFinding(
        'lockdown',
        'lockdown.inert',
        'warn',
        `A _mailchannels record is published, but this server does not relay through MailChannels, so the record does not affect this server's mail; mailhealth leaves it as it is. It limits which MailChannels accounts may send as ${ctx.domain} — removing it would let any of them. If another service sends as ${ctx.domain} through MailChannels, its account must be named here, or MailChannels rejects that mail.`,
        ev,
      ),
    );
    return out;
  }
  if (records.length > 1) {
    // A warning, not a failure: MailChannels does not document what it does with several records (mail-auth.md §4,
    // UNCONFIRMED). A stale id among them is a failure of its own (lockdown.stale-auth).
    out.push(makeFinding('lockdown', 'lockdown.multiple', 'warn', `${records.length} _mailchannels TXT records: MailChannels does not document which one it reads — keep exactly one.`, ev, { fix: 'lockdown' }));
  }
  let mine = false;
  // How this host is authorised where it is: `auth=<this host>` lets every sender of its MailChannels account through,
  // a senderid=/sidw= only the senders it names (mail-auth.md §4) — lockdown.ok says which.
  let mineAuth = false;
  const mineSenders: string[] = [];
  // Stale ids with whether their own record also authorises this server: with several records, which one MailChannels
  // reads is not documented, so this server's id in another record does not make a stale one harmless. `list`: the
  // comma list the id is written in, and `mineListed` whether this host's id is written in one there (as written that
  // authorises nothing — the syntax finding's failure —, but the fix writes it as a field of its own).
  const staleIds: { f: Finding; mineHere: boolean; mineListed: boolean; list: string | null }[] = [];
  // Ids mailhealth cannot place (classify.ts lockdownId: not this host's account, nothing says whose — the customer's
  // own MailChannels account, or a previous host's). Not a failure by themselves: any field that matches lets a
  // message through, so they do not stop this server's mail; a record that names only such ids still does
  // (lockdown.stale-auth below), and its fix adds this host's auth= and keeps them.
  // With why each is not placed (the classification's reason, as its lockdown.unknown-id finding says it).
  const unknownIds: Placed[] = [];
  // Records that name ids but none of this host's, and no stale one (that one fails on its own), with those ids.
  const notMine: { txt: string; ids: Placed[] }[] = [];
  for (const txt of records) {
    const rec = parseLockdown(txt);
    const stale: { f: Finding; list: string | null }[] = emptyList();
    const unknownHere: Placed[] = [];
    let mineHere = false;
    let mineListed = false;
    const recIds = lockdownIds(rec);
    if (rec.class === 'invalid' || rec.class === 'suspect') {
      // Comma lists: said how the fix writes them (one field per value), so the findings on their ids below agree with it.
      const lists = [...new Set(recIds.filter(inList).map((i) => i.written))];
      const split = lists.map((l) => {
        const parts = recIds.filter((i) => i.written === l).map((i) => `${i.key}=${i.value}`);
        return `${l} as ${parts.join(' ')}`;
      });
      const how = split.length ? ` The fix writes each value of a comma list as a field of its own (${split.join('; ')}), each judged like any id.` : '';
      out.push(makeFinding('lockdown', 'lockdown.syntax', 'fail', `The _mailchannels record is ${rec.class}: ${rec.problems.join('; ')}.${how}`, ev, { subject: txt, fix: 'lockdown' }));
    }
    if (rec.cfid.length) {
      const only = rec.auth.length + rec.senderid.length + rec.sidw.length === 0;
      out.push(
        makeFinding(
          'lockdown',
          'lockdown.deprecated-cfid',
          only ? 'fail' : 'warn',
          only
            ? 'The record authorises only cfid= (Cloudflare Workers), unsupported since 2024-08-31: effectively nobody may send.'
            : 'cfid= is unsupported since 2024-08-31; drop it.',
          ev,
          { subject: rec.cfid.map((c) => `cfid=${c}`).join(' '), fix: 'lockdown' },
        ),
      );
    }
    // Fields MailChannels does not document (`auid=` beside a valid auth=), or names in another case: MailChannels
    // reads the record, but what it does with them is not documented — a warning, and the fix writes the documented
    // form. Its message is written once this record's ids are judged (below): the record "works" only if it authorises
    // this host; one that does not fails on its own (lockdown.stale-auth) — an ignored field changes nothing there.
    let syntaxWarn: { f: Finding; problems: string } | null = null;
    if (rec.class === 'valid-with-warning') {
      const other = rec.problems.filter((p) => !p.startsWith('cfid='));
      if (other.length) {
        const auid = rec.unknownFields.some((f) => /^auid=/i.test(f)) ? ' (auid= is a common misspelling of auth=)' : '';
        syntaxWarn = { f: makeFinding('lockdown', 'lockdown.syntax', 'warn', '', ev, { subject: txt, fix: 'lockdown' }), problems: `${other.join('; ')}${auid}` };
        out.push(syntaxWarn.f);
      }
    }
    // A sender id that cannot match anything is the syntax finding's (the fix drops it), not an id to place.
    const ids = recIds.filter((i) => !i.value.includes(',') && (i.key === 'auth' || !senderIdProblem(i.key, i.value)));
    const judged = new Set<string>();
    for (const id of ids) {
      const { key: field, value } = id;
      const list = inList(id) ? id.written : null;
      // An id the record names twice is one id (one finding, as the fix writes it once) — exact repeats only.
      if (judged.has(`${field}=${value}`)) continue;
      judged.add(`${field}=${value}`);
      const asked = ctx.classifier.lockdownId(field, value);
      const c = asked instanceof Promise ? await asked : asked;
      if (c.class === 'this-server') {
        // Inside a comma list it authorises nothing as written (the syntax finding fails the record for it).
        if (list) mineListed = true;
        else {
          mine = mineHere = true;
          if (field === 'auth') mineAuth = true;
          else mineSenders.push(`${field}=${value}`);
        }
      } else if (c.class === 'stale') stale.push({ f: makeFinding('lockdown', 'lockdown.stale-auth', 'fail', '', ev, { subject: `${field}=${value}`, classification: c, fix: 'lockdown' }), list });
      else {
        const inside = list ? ` It is written inside ${list}, one value to MailChannels.` : '';
        const keep = !relay?.authId
          ? ''
          : aliased
            ? ` ${name} is an alias: the record is published at its target, so mailhealth does not change it — remove the id there only if no sender of yours uses that MailChannels account.`
            : ` The lockdown fix ${list ? 'writes it as a field of its own and ' : ''}keeps it unless you select it for removal — do that only if no sender of yours uses that MailChannels account.`;
        // Known what this host's account is, an id nothing identifies is a judgement (info: the customer's own account,
        // or a previous host's), not DNS trouble — `unknown` would file the domain under "unknown (DNS trouble)" in the
        // report. Without this host's account id nothing can be judged: unknown, as before.
        out.push(makeFinding('lockdown', 'lockdown.unknown-id', relay?.authId ? 'info' : 'unknown', `${naming(`${field}=${value}`, c.reason)}.${inside}${keep}`, ev, { subject: `${field}=${value}`, classification: c }));
        const placed = { id: `${field}=${value}`, reason: c.reason };
        unknownHere.push(placed);
        if (!unknownIds.some((u) => u.id === placed.id)) unknownIds.push(placed);
      }
    }
    if (syntaxWarn) {
      const { f, problems } = syntaxWarn;
      f.message = `${mineHere ? 'The _mailchannels record works' : 'MailChannels reads the _mailchannels record'}, but ${problems}: MailChannels documents only v=mc1, auth=, senderid= and sidw=, in lower case. The fix writes it in that form.`;
    }
    for (const { f, list } of stale) staleIds.push({ f, mineHere, mineListed, list });
    if (!mineHere && !stale.length && unknownHere.length && rec.class !== 'invalid' && rec.class !== 'suspect') notMine.push({ txt, ids: unknownHere });
  }
  for (const { f, mineHere, mineListed, list } of staleIds) {
    // This host's id only inside a comma list of the same record: the record's failure is the syntax finding's (as
    // written the list authorises nobody); the fix drops this id and writes this host's as a field of its own.
    f.severity = mineHere || mineListed ? 'warn' : 'fail';
    const inside = list ? ` It is written inside ${list}, one value to MailChannels; the fix drops it and writes the list's other values as fields of their own.` : '';
    f.message = mineHere
      ? `${f.subject} lets a previous host's MailChannels account send as ${ctx.domain}; this server's id is present too. Remove the old one.${inside}`
      : mineListed
        ? `${f.subject} is a previous host's MailChannels account${list ? `, written inside ${list}` : ''}. This host's id is in the record too, but only inside a comma list, one value to MailChannels: the fix drops ${f.subject} and writes this host's id as a field of its own.`
        : mine
          ? `${f.subject} is not this host's MailChannels account, and its record does not name this host's: if MailChannels reads that record of the ${records.length}, it rejects this server's mail for ${ctx.domain} with "550 5.7.1 This sender is not authorized to send from ${ctx.domain}".${inside}`
          : `${f.subject} is not this host's MailChannels account: MailChannels rejects this server's mail for ${ctx.domain} with "550 5.7.1 This sender is not authorized to send from ${ctx.domain}".${inside}`;
    out.push(f);
  }
  /**
   * The fix's treatment of ids it cannot place, for the messages below — with each id's reason as its
   * lockdown.unknown-id finding gives it (QA: "auth=dreamhost, which mailhealth cannot place" beside a finding placing
   * it as DreamHost, where the domain's mail is delivered).
   */
  const keeps = (ids: Placed[], fix: string) => {
    const it = ids.length > 1 ? 'them' : 'it';
    return `${ids.map((i) => i.id).join(', ')}; the fix ${fix} and keeps ${it} unless you select ${it} for removal. ${ids.map((i) => `${i.reason}.`).join(' ')}`;
  };
  if (mine && relay?.authId) {
    // Several records, one naming this host's account and another only ids nobody could place: if MailChannels reads
    // that one, this server's mail is rejected — a failure, as a stale id there is.
    for (const { txt, ids } of notMine) {
      out.push(
        makeFinding(
          'lockdown',
          'lockdown.stale-auth',
          'fail',
          `The _mailchannels record "${txt}" does not authorise this host's MailChannels account (${relay.authId}): if MailChannels reads that record of the ${records.length}, it rejects this server's mail for ${ctx.domain} with "550 5.7.1 This sender is not authorized to send from ${ctx.domain}". It names only ${keeps(ids, "merges the records into one with this host's ids")}`,
          ev,
          { subject: txt, fix: 'lockdown' },
        ),
      );
    }
  }
  // Left to a record's syntax failure (it authorises nobody as written, and says how the fix rewrites it) — not to a
  // warning about fields MailChannels ignores: with those the record still names none of this host's ids, and this
  // server's mail is rejected just the same (review: `v=mc1 auth=acme auid=x` got only the warning).
  const syntaxFails = out.some((f) => f.rule === 'lockdown.syntax' && f.severity === 'fail');
  if (!mine && staleIds.length === 0 && relay?.authId && !syntaxFails) {
    const several = records.length > 1;
    const also = unknownIds.length ? ` ${several ? 'They name' : 'It names'} only ${keeps(unknownIds, `adds auth=${relay.authId}`)}` : '';
    const none = several ? `None of the ${records.length} _mailchannels records authorises` : 'The record does not authorise';
    out.push(
      makeFinding('lockdown', 'lockdown.stale-auth', 'fail', `${none} this host's MailChannels account (${relay.authId}): MailChannels will reject this server's mail.${also}`, ev, {
        fix: 'lockdown',
      }),
    );
  }
  if (!out.some((f) => f.severity !== 'pass' && f.severity !== 'info')) {
    // A record naming only some of this host's senders (senderid=, sidw=) and not its account is a pass too: any
    // field that matches lets a message through (mail-auth.md §4), and narrowing the record to those senders is the
    // customer's choice, which mailhealth cannot judge (the fix keeps it, never widening it to auth=). But it does not
    // authorise the account: the message says which senders pass and that the others are rejected.
    out.push(makeFinding('lockdown', 'lockdown.ok', 'pass', mineAuth || !relay?.authId || !mineSenders.length ? `Domain Lockdown authorises this host's MailChannels account.` : onlySenders(ctx.domain, relay.authId, mineSenders), ev));
  }
  return out;
}

/**
 * lockdown.ok's message for a record that authorises only some senders of this host: a senderid= one exact sender id,
 * a sidw= the sender ids its pattern matches (mail-auth.md §4).
 */
function onlySenders(domain: string, authId: string, fields: readonly string[]): string {
  const which = fields.map((f) => (f.startsWith('sidw=') ? `the senders matching ${f}` : `the sender ${f}`)).join(' and ');
  return `Domain Lockdown authorises only ${which} of this host's MailChannels account, not the whole account: MailChannels rejects mail as ${domain} from this server's other senders. auth=${authId} would allow every sender of this host.`;
}

/** A sentence's first letter in upper case (a classification's reason, written to follow a colon). */
const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A classification's reason about `id`, naming the id once: the reasons mostly start with it (`auth=acme is not this
 * host's …`), and an `auth=acme: ` prefix then said it twice. A reason that names it further on is a sentence of its
 * own; one that does not name it gets the prefix.
 */
function naming(id: string, reason: string): string {
  if (reason.startsWith(id)) return reason;
  const words = reason.split(/[\s(),;]+/).map((w) => w.replace(/[.:]+$/, ''));
  return words.includes(id) ? capitalised(reason) : `${id}: ${reason}`;
}
