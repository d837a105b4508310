// DKIM fix: publish the public key of the key the server signs with (replacing a previous host's key), or — when
// the server has none — have the panel generate a 2048-bit key and turn signing on, then publish it.
import type { CheckContext } from '../checks/context.js';
import { canonicalKey, publishedKey } from '../classify.js';
import { hashRefusal, parseDkimRecord, publicKeyType, renderDkimRecord, type DkimProblem } from '../dkim/record.js';
import { canonName } from '../domain.js';
import { joinTxt } from '../resolver.js';
import type { MailSettings, ZoneRecord } from '../model.js';
import { splitTxt } from '../spf/parse.js';
import { recordsAt } from '../zone.js';
import { defaultTtl, PLACEHOLDER_KEY, replaceWithOne } from './plan.js';
import type { PartialPlan } from './spf.js';

/** The record for the server's key, with k= from the key itself (Ed25519 as the raw 32 bytes, RFC 8463). */
export function dkimRecordFor(name: string, ttl: number, publicKey: string): ZoneRecord {
  const value = renderDkimRecord(publicKey, publicKeyType(publicKey) === 'ed25519' ? 'ed25519' : 'rsa');
  return { name, ttl, type: 'TXT', value, txt: splitTxt(value) };
}

/** The domain's mail is handled elsewhere, or this server has a key but does not sign for it: see leavesKeyAlone. */
function sparesForeignKeys(settings: Pick<MailSettings, 'routing' | 'dkim'>): boolean {
  return settings.routing === 'remote' || (!!settings.dkim.publicKey && !settings.dkim.signing);
}

/**
 * Whether the DKIM fix leaves alone a record at the server's selector that publishes `published` (its canonical key:
 * publishedKey / canonicalKey in classify.ts; null when it publishes no readable key) — and so changes nothing at the
 * selector while the record is there (blocked): a key that is not the one this server signs with (with no server key,
 * any key), when the domain's mail is handled elsewhere or this server has a key but does not sign for the domain.
 * Such a key is most likely the key of the service that sends the domain's mail, and replacing it would break that
 * mail. The one rule: the audit (src/core/checks/dkim.ts) offers the fix on no finding about such a selector.
 */
export function leavesKeyAlone(settings: Pick<MailSettings, 'routing' | 'dkim'>, published: string | null): boolean {
  if (published === null || !sparesForeignKeys(settings)) return false;
  const key = settings.dkim.publicKey;
  return published !== (key ? canonicalKey(key) : null);
}

/**
 * Why the plan leaves a selector that is an alias of `target` alone (mail handled elsewhere, or this server does not
 * sign): the target publishes a key this server does not sign with, or DNS did not say what it publishes. Null when
 * the target holds no key, or this server's.
 */
async function aliasedKeyBlock(ctx: CheckContext, name: string, target: string, mineKey: string | null, why: string): Promise<string | null> {
  const a = await ctx.resolver.resolve(target, 'TXT');
  if (a.status === 'unknown') {
    return `${name} is an alias of ${target}, whose DKIM key could not be read (DNS ${a.error ?? 'error'}), and ${why}: the alias most likely belongs to the service that sends its mail, and replacing it could break that mail. Preview the fix again when DNS answers.`;
  }
  if (a.status !== 'ok') return null;
  for (const t of a.records) {
    const k = publishedKey({ type: 'TXT', value: joinTxt(t), txt: t });
    if (k !== null && k !== mineKey) {
      return `${name} is an alias of ${target}, which publishes a key this server does not sign with, and ${why}: the alias most likely belongs to the service that sends its mail, and replacing it would break that mail. To sign on this server too, use another selector.`;
    }
  }
  return null;
}

export async function planDkim(ctx: CheckContext, records: ZoneRecord[]): Promise<PartialPlan> {
  const notes: string[] = [];
  const sel = ctx.settings.dkim.selector;
  const name = `${sel}._domainkey.${ctx.domain}`;
  const existing = [...recordsAt(records, name, 'TXT'), ...recordsAt(records, name, 'CNAME')];
  const ttl = existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain);
  const key = ctx.settings.dkim.publicKey;
  // A key at the selector that is not this server's — published there, or behind a CNAME — when this server does not
  // sign for the domain (its key exists but signing is off) or the domain's mail is handled elsewhere: most likely the
  // key of the service that sends the mail. Replacing it would break that mail (the audit leaves it as it is,
  // dkim.key-mismatch info/warn).
  const mineKey = key ? canonicalKey(key) : null;
  const remote = ctx.settings.routing === 'remote';
  if (sparesForeignKeys(ctx.settings)) {
    const why = remote ? `${ctx.domain}'s mail is handled elsewhere` : `this server does not sign for ${ctx.domain} (signing is off)`;
    const foreign = existing.filter((r) => leavesKeyAlone(ctx.settings, publishedKey(r)));
    if (foreign.length) {
      return {
        changes: [],
        notes,
        blocked: `${name} publishes a key this server does not sign with, and ${why}: it is most likely the key of the service that sends its mail, and replacing it would break that mail. To sign on this server too, use another selector.`,
      };
    }
    // A selector delegated by CNAME (how mail services have their customers publish keys): the same, judged by the
    // key its target publishes. A CNAME with no key behind it is no key (dkim.missing), and is replaced.
    for (const r of existing) {
      if (r.type.toUpperCase() !== 'CNAME') continue;
      const blocked = await aliasedKeyBlock(ctx, name, canonName(r.value), mineKey, why);
      if (blocked) return { changes: [], notes, blocked };
    }
  }
  if (!key && ctx.settings.dkim.signing) {
    // The panel says it signs but gave no key mailhealth can read (e.g. Plesk's REST front without the key file):
    // generating a new key would replace the one in use.
    return { changes: [], notes, blocked: `This server signs ${ctx.domain}'s mail with a key mailhealth cannot read here: publish the DKIM record the panel shows in its mail settings for ${ctx.domain}.` };
  }
  if (!key && ctx.settings.dkim.cannotGenerate) {
    return { changes: [], notes, blocked: `This server has no DKIM key for ${ctx.domain}, and the panel cannot generate one for it: ${ctx.settings.dkim.cannotGenerate}` };
  }
  if (!key) {
    notes.push(`This server has no DKIM key for ${ctx.domain}: the panel generates a 2048-bit key and turns signing on.`);
    const desired: ZoneRecord = { name, ttl, type: 'TXT', value: `v=DKIM1; k=rsa; p=${PLACEHOLDER_KEY}` };
    const changes = replaceWithOne(existing, desired);
    for (const r of existing) notes.push(`Replaces ${r.type} at ${name} (${r.type === 'TXT' ? 'a key this server does not sign with' : `alias to ${r.value}`}).`);
    return { changes, notes, actions: [{ kind: 'generate-dkim', description: `generate a 2048-bit DKIM key for ${ctx.domain} and turn signing on` }] };
  }
  const type = publicKeyType(key);
  if (type !== 'rsa' && type !== 'ed25519') {
    return { changes: [], notes, blocked: `This server's DKIM key for ${ctx.domain} ${type ? `uses the key type ${type}, which DKIM cannot publish` : 'is unreadable'}: generate an RSA key in the panel's DKIM settings.` };
  }
  const desired = dkimRecordFor(name, ttl, key);
  const mine = canonicalKey(key);
  // Keep an existing record that already publishes the server's key (whatever its formatting) with the right k=
  // and nothing that makes receivers discard it or its signatures (h= without sha256, t=y testing), if it is alone.
  const sameKey = (r: ZoneRecord) => mine !== null && publishedKey(r) === mine;
  const problem = (r: ZoneRecord): DkimProblem | null => {
    const rec = parseDkimRecord(r.txt ?? [r.value]);
    if (rec.keyType !== type) return { kind: 'key-type', text: `it says k=${rec.keyType} but the key is ${type}` };
    if (rec.errors.length) return { kind: 'malformed', text: rec.errors[0] };
    if ((r.txt ?? [r.value]).some((c) => Buffer.byteLength(c) > 255)) return { kind: 'long-string', text: 'a string longer than 255 bytes' };
    const hashes = hashRefusal(rec);
    if (hashes) return hashes;
    if (rec.testing) return { kind: 'testing', text: 't=y: receivers treat its signatures like unsigned mail' };
    return null;
  };
  const matching = existing.filter((r) => sameKey(r) && !problem(r));
  if (matching.length === 1 && existing.length === 1) {
    const changes: PartialPlan['changes'] = [];
    if (!ctx.settings.dkim.signing && ctx.settings.dkim.signingNeedsRefresh) {
      // The record is right; the panel only has to see it (cPanel signs once its validity check has found the key).
      notes.push(`The key at ${name} is already the one this server signs with; the panel has not seen it published yet, so it does not sign. The fix asks the panel to check again (no record changes).`);
      return { changes, notes, actions: [{ kind: 'refresh-dkim', description: `have the panel check the published DKIM key of ${ctx.domain} again and start signing` }] };
    }
    if (!ctx.settings.dkim.signing) notes.push(`Signing is off on the server: turn DKIM signing on for ${ctx.domain} in the panel (the key is already published).`);
    return { changes, notes, ...(ctx.settings.dkim.signing ? {} : { blocked: `DKIM signing is turned off for ${ctx.domain}: enable it in the panel's Email Deliverability / DKIM settings.` }) };
  }
  for (const r of existing) {
    if (r.type === 'CNAME') notes.push(`Replaces the alias ${name} → ${r.value} with the key this server signs with.`);
    else if (sameKey(r)) {
      const why = problem(r);
      notes.push(why ? `Rewrites the key at ${name}: it is the key this server signs with, but published ${why.kind === 'testing' ? 'in testing mode' : 'in a form receivers cannot use'} (${why.text}).` : `Publishes this server's key at ${name} as a single record (it is there already, beside another record).`);
    } else notes.push(`Replaces the key at ${name}, which is not the key this server signs with (most likely the previous host's).`);
  }
  if (!existing.length) notes.push(`Publishes this server's public key at ${name}.`);
  return { changes: replaceWithOne(existing, desired), notes };
}
