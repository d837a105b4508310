// DKIM fix: publish the public key of the key the server signs with (replacing a previous host's key), or — when
// the server has none — have the panel generate a 2048-bit key and turn signing on, then publish it; or, when that key
// is already published as it should be and the server does not sign, have the panel start signing with it. Never for a
// domain that declares it sends no mail (src/core/nomail.ts): blocked, saying what to do first if it does.
import { quoteShort } from '../text.js';
import type { CheckContext } from '../checks/context.js';
import { canonicalKey, publishedKey } from '../classify.js';
import { hashRefusal, parseDkimRecord, publicKeyType, renderDkimRecord, verifierRefusals, type DkimProblem, type DkimRecord } from '../dkim/record.js';
import { canonName } from '../domain.js';
import { joinTxt } from '../resolver.js';
import type { Change, MailSettings, ZoneRecord } from '../model.js';
import type { Knowledge, Provider } from '../../knowledge/index.js';
import { isSpfRecord, splitTxt } from '../spf/parse.js';
import { mxExchange, recordsAt } from '../zone.js';
import { copiesRemoved, defaultTtl, PLACEHOLDER_KEY, replaceWithOne, withoutCopies, type PlanAction } from './plan.js';
import type { PartialPlan } from './spf.js';
import { noMailBlock, noMailDeclared, noMailUnknown } from '../nomail.js';

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
 * With the domain's mail routed elsewhere (panel setting): whether the provider it is delivered to is known well
 * enough to say that a key at this server's selector is not that provider's. `known`: every MX host (live and in the
 * panel's zone) belongs to a provider whose DKIM selectors the knowledge gives, the selector is none of them and no
 * alias (CNAME), and `theirs` holds the keys those providers' selectors publish for the domain (a key copied to this
 * selector is theirs all the same). Otherwise `why` mailhealth cannot tell, for the messages.
 */
export type DeliveryVerdict = { known: true; provider: string; selectors: string[]; theirs: ReadonlySet<string> } | { known: false; why: string };

/** Whether `selector` is one of `p`'s (exact names, or prefixes ending in "-": knowledge dkimSelectors). */
const usesSelector = (p: Provider, selector: string) => (p.dkimSelectors ?? []).some((s) => (s.endsWith('-') ? selector.startsWith(s) : selector === s));

/**
 * The delivery verdict for `selector` (see DeliveryVerdict); null while the panel delivers the domain's mail itself.
 * Asked only with mail routed elsewhere and a key at the server's selector that is not this server's: the MX lookup
 * (cached per run) and the providers' own selectors (which the DKIM check probes already when the SPF includes them).
 */
export async function deliveryVerdict(ctx: CheckContext, selector: string, aliased: boolean): Promise<DeliveryVerdict | null> {
  if (ctx.settings.routing !== 'remote') return null;
  const sel = selector.toLowerCase();
  if (aliased) return { known: false, why: `${sel}._domainkey.${ctx.domain} is an alias (CNAME) of another name, as mail services have their customers publish keys` };
  const live = await ctx.resolver.resolve(ctx.domain, 'MX');
  if (live.status === 'unknown') return { known: false, why: `where its mail is delivered could not be read (MX lookup: ${live.error ?? 'DNS error'})` };
  const hosts = new Set<string>();
  if (live.status === 'ok') for (const m of live.records) hosts.add(canonName(m.exchange));
  for (const r of ctx.zoneIndex?.at(ctx.domain, 'MX') ?? []) hosts.add(mxExchange(r));
  hosts.delete('');
  hosts.delete('.');
  if (!hosts.size) return { known: false, why: 'it publishes no MX saying where its mail is delivered' };
  const providers: Provider[] = [];
  for (const h of hosts) {
    const p = ctx.knowledge.matchHost(h);
    if (!p || !p.dkimSelectors?.length) return { known: false, why: `its MX ${h} is not a provider whose DKIM selectors mailhealth knows` };
    if (!providers.includes(p)) providers.push(p);
  }
  const names = providers.map((p) => p.name).join(' / ');
  const using = providers.find((p) => usesSelector(p, sel));
  if (using) return { known: false, why: `${using.name}, where its mail is delivered, signs with selector ${sel} too` };
  // A selector another sending service uses (Brevo's "mail", SendGrid's "s1", Mailchimp's "k1"): the key may be that
  // service's, which sends the domain's mail without receiving it — delivery alone does not make it a leftover.
  const sender = ctx.knowledge.selectorProviders(sel).find((p) => p.kind !== 'hosting');
  if (sender) return { known: false, why: `${sel} is a selector ${sender.name} signs with, and the key may be that service's` };
  const theirs = new Set<string>();
  const selectors: string[] = [];
  for (const p of providers) {
    for (const s of p.dkimSelectors ?? []) {
      selectors.push(s.endsWith('-') ? `${s}…` : s);
      if (s.endsWith('-')) continue;
      const a = await ctx.resolver.resolve(`${s}._domainkey.${ctx.domain}`, 'TXT');
      if (a.status === 'unknown') return { known: false, why: `the key at ${s}._domainkey.${ctx.domain} (${p.name}'s selector) could not be read (DNS ${a.error ?? 'error'})` };
      if (a.status !== 'ok') continue;
      for (const t of a.records) {
        const k = publishedKey({ type: 'TXT', value: joinTxt(t), txt: t });
        if (k) theirs.add(k);
      }
    }
  }
  // The provider signs with its own selectors only if it publishes a key there for the domain: with none, it may sign
  // with a custom selector (Google Workspace lets the admin choose the prefix) — this one, for all mailhealth can tell.
  if (!theirs.size) {
    return { known: false, why: `${names}, where its mail is delivered, publishes no key at its own selectors (${selectors.join(', ')}) for ${ctx.domain}, so it may sign with selector ${sel}` };
  }
  return { known: true, provider: names, selectors, theirs };
}

/**
 * include: terms of an SPF record that authorise (`include:` or `+include:`: a `-`/`~`/`?include:` denies or doubts the
 * service, not uses it). Global: reset lastIndex before each use.
 */
const INCLUDES = /(?:^|\s)\+?include:(\S+)/gi;

/**
 * The known providers an SPF record includes directly, in order: how the DKIM check finds the selectors of the mail
 * services a domain uses ("google" for _spf.google.com), and how the DKIM fix tells such a service's key at the
 * server's selector (senderAtSelector).
 */
export function spfProviders(knowledge: Knowledge, spf: string): { provider: Provider; include: string }[] {
  const out: { provider: Provider; include: string }[] = [];
  INCLUDES.lastIndex = 0;
  for (let m = INCLUDES.exec(spf); m; m = INCLUDES.exec(spf)) {
    const p = knowledge.matchHost(m[1]);
    if (p && !out.some((x) => x.provider === p)) out.push({ provider: p, include: m[1] });
  }
  return out;
}

/**
 * A sending service of the domain's whose DKIM selector is the server's own (senderAtSelector): a key there that is not
 * this server's is that service's, whatever the mail routing. `provider` null: whether there is one could not be told
 * (the domain's SPF could not be read); `why` says what shows it, for messages.
 */
export interface SelectorSender {
  provider: Provider | null;
  why: string;
  /** The SPF include that names the service, when that is the evidence. */
  include?: string;
}

/**
 * Whether the server's selector is a sending service's (SelectorSender): it is an alias (CNAME) of a name of a known
 * mail service (`targets`: SendGrid's s1.domainkey.u1.wl.sendgrid.net), or a selector the knowledge lists for a mail
 * service the domain's SPF includes (Brevo's "mail" with include:spf.brevo.com) — the SPF of the panel's zone and the
 * live one together. Nothing makes it a previous host's then: the service signs the domain's mail with that key, and
 * this server's signatures at the selector fail while it is published (the two selectors collide). A hosting
 * provider's name is no such evidence (a previous host's leftover, or this server's own). Null when nothing says so.
 */
export async function senderAtSelector(ctx: CheckContext, selector: string, targets: readonly string[]): Promise<SelectorSender | null> {
  const sel = selector.toLowerCase();
  for (const t of targets) {
    const p = ctx.knowledge.matchHost(t);
    if (p && p.kind !== 'hosting') return { provider: p, why: `${sel}._domainkey.${ctx.domain} is an alias (CNAME) of ${canonName(t)}, a name of ${p.name}` };
  }
  const spfs: string[] = [];
  for (const r of ctx.zoneIndex?.at(ctx.domain, 'TXT') ?? []) {
    const v = r.txt ? r.txt.join('') : r.value;
    if (isSpfRecord(v)) spfs.push(v);
  }
  const live = await ctx.resolver.resolve(ctx.domain, 'TXT');
  if (live.status === 'ok') {
    for (const r of live.records) {
      const v = joinTxt(r);
      if (isSpfRecord(v)) spfs.push(v);
    }
  }
  for (const spf of spfs) {
    const hit = spfProviders(ctx.knowledge, spf).find((x) => x.provider.kind !== 'hosting' && usesSelector(x.provider, sel));
    if (hit) return { provider: hit.provider, include: hit.include, why: `${sel} is a selector ${hit.provider.name} signs with, and ${ctx.domain}'s SPF includes ${hit.include}` };
  }
  if (live.status === 'unknown' && !spfs.length) {
    return { provider: null, why: `whether ${sel} is the selector of a service that sends ${ctx.domain}'s mail is not known: its SPF could not be read (DNS ${live.error ?? 'error'})` };
  }
  return null;
}

/**
 * What else the server's selector holds beside a key that is not this server's: 'verifies', a record that publishes
 * this server's key in a form its signatures verify with (verifiesWith); 'published', this server's key only in records
 * they do not (h= without sha256, malformed); 'none'. Verifiers read one record at a selector (RFC 6376 §3.6.2.2: most
 * take the first), so with a record that verifies, this server's signatures fail only whenever they read the other —
 * not every time — and a leftover there is removed, not replaced by a key that is already published.
 */
export type MineBeside = 'none' | 'published' | 'verifies';

/**
 * Whether a DKIM record (parsed) verifies the signatures this server makes with its key (`mine`, canonicalKey): it
 * publishes that key, well formed, not revoked, with no h= that refuses sha256 (t=y still verifies: receivers then treat
 * the mail as unsigned, which dkim.testing says).
 */
export function verifiesWith(rec: DkimRecord, mine: string | null): boolean {
  return mine !== null && rec.publicKey !== null && !rec.errors.length && !rec.revoked && !hashRefusal(rec) && canonicalKey(rec.publicKey) === mine;
}

/** MineBeside for the TXT records at the server's selector in a zone (`records`), given this server's key `mine`. */
export function mineBeside(records: readonly ZoneRecord[], mine: string | null): MineBeside {
  if (mine === null) return 'none';
  let published = false;
  for (const r of records) {
    if (r.type.toUpperCase() !== 'TXT' || publishedKey(r) !== mine) continue;
    if (verifiesWith(parseDkimRecord(r.txt ?? [r.value]), mine)) return 'verifies';
    published = true;
  }
  return published ? 'published' : 'none';
}

/**
 * What a sending service's key at the server's selector (SelectorSender) means and what to do, as sentences that fit
 * every panel: the fix leaves it alone, this server's signatures fail while it is there — whenever verifiers read it,
 * when a record beside it publishes this server's key (`beside`, MineBeside).
 */
export function senderKeyText(sender: SelectorSender, selector: string, domain: string, signing: boolean, beside: MineBeside = 'none'): string {
  const sel = selector.toLowerCase();
  if (!sender.provider) {
    return `The DKIM fix leaves it alone, as ${sender.why}; preview the fix again when DNS answers.`;
  }
  const p = sender.provider.name;
  const fails =
    beside === 'verifies'
      ? signing
        ? `While it is published there, a message this server signs with selector ${sel} fails DKIM whenever verifiers read that record rather than this server's key beside it`
        : `While it is published there, this server's signatures with selector ${sel} would fail DKIM whenever verifiers read that record rather than this server's key beside it`
      : signing
        ? `While it is published there, every message this server signs with selector ${sel} fails DKIM`
        : `While it is published there, this server cannot sign with selector ${sel} (its signatures would fail DKIM)`;
  const gone = sender.include
    ? `remove include:${sender.include} from its SPF record (select it for removal in the SPF fix), then run the DKIM fix`
    : `replace the alias with this server's key by hand`;
  return `It is most likely ${p}'s (${sender.why}): the DKIM fix leaves it alone, as replacing it would fail the mail ${p} sends for ${domain}. ${fails} — the two senders' selectors collide. Have this server sign with another selector where the panel lets you choose one, or move ${p} to a selector of its own (in its DKIM settings) and then run the DKIM fix. If ${p} no longer sends for ${domain}, the key is a leftover: ${gone}.`;
}

/**
 * Whether the DKIM fix leaves alone a record at the server's selector that publishes `published` (its canonical key:
 * publishedKey / canonicalKey in classify.ts; null when it publishes no readable key) — and so changes nothing at the
 * selector while the record is there (blocked): a key that is not the one this server signs with (with no server key,
 * any key), when this server has a key but does not sign for the domain, or when the domain's mail is handled
 * elsewhere — unless the provider it is delivered to is known and the key is not theirs (`delivery`, deliveryVerdict:
 * the selector is none of that provider's, no alias, and the key is not one its selectors publish): then it is a
 * previous host's leftover, replaced as with local routing (this server's own mail — web forms — fails DKIM with it).
 * Otherwise such a key is most likely the key of the service that sends the domain's mail, and replacing it would
 * break that mail. Whatever the routing and signing, a key that is not this server's is also left alone when the
 * selector is a sending service's (`sender`, senderAtSelector: a CNAME into a mail service, or that service's selector
 * while the domain's SPF includes it). The one rule: the audit (src/core/checks/dkim.ts) offers the fix on no finding
 * about such a selector.
 */
export function leavesKeyAlone(settings: Pick<MailSettings, 'routing' | 'dkim'>, published: string | null, delivery?: DeliveryVerdict | null, sender?: SelectorSender | null): boolean {
  if (published === null || (!sender && !sparesForeignKeys(settings))) return false;
  const key = settings.dkim.publicKey;
  if (published === (key ? canonicalKey(key) : null)) return false;
  if (sender) return true;
  if (key && !settings.dkim.signing) return true;
  return !(delivery?.known && !delivery.theirs.has(published));
}

/** Why a key the fix leaves alone with mail routed elsewhere may be the delivery provider's (for messages). */
export function deliveryWhy(d: DeliveryVerdict): string {
  return d.known ? `the same key is published at a selector of ${d.provider}, where its mail is delivered` : d.why;
}

/**
 * What to do about a key at the server's selector that the fix leaves alone, in words that fit every panel — cPanel's
 * selector is fixed ("default"), so "use another selector" is no advice there.
 */
export function keptKeyAdvice(selector: string, beside: MineBeside = 'none'): string {
  return `If that provider signs with selector ${selector}, leave the key: this server cannot sign at ${selector} too — send the mail this server makes through that provider, or have the server sign with another selector where the panel lets you choose one. If it does not, the key is a leftover: ${leftoverAdvice(beside)} (the DKIM fix leaves it alone, as mailhealth cannot tell).`;
}

/**
 * What to do about a key at the server's selector that the fix leaves alone while this server has a key but does not
 * sign (for the plan's refusal and dkim.signing-off).
 */
export function signingOffKeptAdvice(selector: string, beside: MineBeside): string {
  return `If that sender signs with selector ${selector}, this server cannot sign at ${selector} too; if the key is a leftover, ${leftoverAdvice(beside)}, then turn DKIM signing on.`;
}

/** "signs with selector x" / "signs with selectors x, y" (a provider's DKIM selectors, DeliveryVerdict). */
export function signsWithSelectors(selectors: readonly string[]): string {
  return `signs with selector${selectors.length > 1 ? 's' : ''} ${selectors.join(', ')}`;
}

/**
 * What to do by hand about a leftover key at the server's selector: replace it with this server's key — or, when that
 * key is published there already (`beside`, MineBeside), remove it (replacing it would publish the key twice).
 */
export function leftoverAdvice(beside: MineBeside): string {
  return beside === 'none' ? "replace it with this server's key by hand" : "remove it by hand, since this server's key is already published there";
}

/**
 * Why the plan leaves a selector that is an alias of `target` alone (mail handled elsewhere, or this server does not
 * sign): the target publishes a key this server does not sign with, or DNS did not say what it publishes (`served`,
 * aliasServed). Null when the target holds no key, or this server's.
 */
function aliasedKeyBlock(ctx: CheckContext, name: string, target: string, served: Served, mineKey: string | null, why: string, sender: SelectorSender | null): string | null {
  if ('error' in served) {
    return `${name} is an alias of ${target}, whose DKIM key could not be read (DNS ${served.error}), and ${why}: the alias most likely belongs to the service that sends its mail, and replacing it could break that mail. Preview the fix again when DNS answers.`;
  }
  for (const t of served) {
    const k = publishedKey({ type: 'TXT', value: t.join(''), txt: [...t] });
    if (k !== null && k !== mineKey) {
      const sel = name.split('.')[0];
      return sender
        ? `${name} is an alias of ${target}, which publishes a key this server does not sign with. ${senderKeyText(sender, sel, ctx.domain, ctx.settings.dkim.signing)}`
        : `${name} is an alias of ${target}, which publishes a key this server does not sign with, and ${why}: the alias most likely belongs to the service that sends its mail, and replacing it would break that mail. ${keptKeyAdvice(sel)}`;
    }
  }
  return null;
}

/** The DKIM key type of a server key the fix can publish (RSA, Ed25519), else null. */
function publishableType(key: string): 'rsa' | 'ed25519' | null {
  const t = publicKeyType(key);
  return t === 'rsa' ? 'rsa' : t === 'ed25519' ? 'ed25519' : null;
}

/**
 * What an alias (CNAME) at the server's selector serves: the TXT records its target answers with, through the rest of
 * the chain — what receivers read at the selector (none: a dangling alias) — or the DNS error when it did not answer.
 */
export type Served = readonly (readonly string[])[] | { error: string };

/**
 * A record at the server's selector as the DKIM fix judges it: a TXT (with its strings when known) or a CNAME, with
 * what it serves when that was read (selectorView).
 */
export type SelectorRecord = Pick<ZoneRecord, 'type' | 'value' | 'txt'> & { served?: Served };

/** A TXT record's strings as DNS carries them, at most 255 bytes each: what a panel holds (a longer one is only a test's shorthand). */
export function wireStrings(r: readonly string[]): string[] {
  return r.some((c) => c.length > 255) ? splitTxt(r.join('')) : [...r];
}

/** What the alias `target` serves (Served): its TXT answer, asked of the resolver (which follows the rest of the chain). */
export async function aliasServed(ctx: Pick<CheckContext, 'resolver'>, target: string): Promise<Served> {
  const a = await ctx.resolver.resolve(target, 'TXT');
  if (a.status === 'unknown') return { error: a.error ?? 'error' };
  return a.status === 'ok' ? a.records.map(wireStrings) : [];
}

/**
 * What is published at the server's selector, as dkimFixPath judges it — one view for the plan and the audit:
 * `records` are its TXT and CNAME records (the panel's zone for the plan; for the audit, and for a plan made from the
 * live records, the live answer: TXT records, and the alias they were read through), `served` what the selector's one
 * alias serves (aliasServed; for the audit, the answer itself). The alias carries `served`: receivers read the key
 * there, so an alias of a name that publishes this server's key is as right as the key published at the selector.
 * `live`: the TXT records are a live answer (the audit's; a plan's over liveZone, isLiveRecord). There, TXT records
 * exactly what the alias serves are that answer, read through the alias (a resolver reports it at the alias's name),
 * not records beside it. In a zone (the panel's) every TXT beside an alias is a record of its own, even one equal to
 * what the target serves — an invalid zone (BIND refuses to load it; what other servers answer at the name is theirs
 * to choose): it stays in the view, and the fix replaces both with the one record. Several aliases (as invalid): as
 * they are.
 */
export function selectorView(records: readonly SelectorRecord[], served: Served | undefined, live: boolean): SelectorRecord[] {
  const aliases = records.filter((r) => r.type.toUpperCase() === 'CNAME');
  if (aliases.length !== 1 || !served) return [...records];
  const beside = records.filter((r) => r.type.toUpperCase() !== 'CNAME');
  const alias: SelectorRecord = { type: aliases[0].type, value: aliases[0].value, served };
  const texts = (xs: readonly (readonly string[])[]) => xs.map((t) => t.join('')).sort();
  const answer =
    live && !('error' in served) && beside.length === served.length && texts(beside.map((r) => r.txt ?? [r.value])).join('\n') === texts(served).join('\n');
  return answer || !beside.length ? [alias] : [...beside, alias];
}

/**
 * Whether a record was read from live DNS, not from a zone: liveZone (plans/index.ts) and verifyLiveKey (apply.ts) name
 * such records `live:N`.
 */
export const isLiveRecord = (r: Pick<ZoneRecord, 'ref'>): boolean => r.ref?.startsWith('live:') === true;

/**
 * Why a record that publishes the server's key (of type `type`) would not do as it is — receivers would discard it or
 * the server's signatures, or widely deployed verifiers would though RFC 6376 lets them verify (verifierRefusals: `p=`
 * as a bare RSAPublicKey, a `g=` other than `*`) — or null. The fix then republishes the key (as SubjectPublicKeyInfo,
 * without g=: renderDkimRecord).
 */
export function keyRecordProblem(r: SelectorRecord, type: 'rsa' | 'ed25519', parsed?: DkimRecord): DkimProblem | null {
  const strings = r.txt ?? [r.value];
  const rec = parsed ?? parseDkimRecord(strings);
  if (rec.keyType !== type) return { kind: 'key-type', text: `it says k=${rec.keyType} but the key is ${type}` };
  if (rec.errors.length) return { kind: 'malformed', text: rec.errors[0] };
  if (strings.some((c) => Buffer.byteLength(c) > 255)) return { kind: 'long-string', text: 'a string longer than 255 bytes' };
  const hashes = hashRefusal(rec);
  if (hashes) return hashes;
  if (rec.testing) return { kind: 'testing', text: 't=y: receivers treat its signatures like unsigned mail' };
  return verifierRefusals(rec)[0] ?? null;
}

/**
 * How the DKIM fix republishes a key record that widely deployed verifiers refuse (`refusals`, verifierRefusals), to
 * follow "republishes the key": as SubjectPublicKeyInfo (renderDkimRecord), without g= (the record it writes has
 * v=, k= and p= only).
 */
export function republishedAs(refusals: readonly DkimProblem[]): string {
  const how: string[] = [];
  if (refusals.some((p) => p.kind === 'encoding')) how.push('as SubjectPublicKeyInfo (the usual encoding)');
  if (refusals.some((p) => p.kind === 'granularity')) how.push('without g=');
  return how.join(' and ');
}

/**
 * The plan's note for the server's key in a record keyRecordProblem finds fault with (`why`), as the change made to
 * that record (replaceWithOne): rewritten in place (`edit`), or removed (`remove`: the key stays published in the one
 * record the fix leaves there — another record beside it, or the one it rewrites).
 */
function rewriteNote(r: ZoneRecord, name: string, why: DkimProblem, change: 'edit' | 'remove'): string {
  if (why.kind === 'encoding' || why.kind === 'granularity') {
    const refusals = verifierRefusals(parseDkimRecord(r.txt ?? [r.value]));
    const but = refusals.map((p) => p.text).join('; and ');
    return change === 'edit'
      ? `Rewrites the key at ${name} ${republishedAs(refusals)}: it is the key this server signs with, but ${but}.`
      : `Removes a record at ${name} that publishes the key this server signs with, but ${but}: the key stays published there in the one record the fix leaves, ${republishedAs(refusals)}.`;
  }
  const form = `${why.kind === 'testing' ? 'in testing mode' : 'in a form receivers cannot use'} (${why.text})`;
  return change === 'edit'
    ? `Rewrites the key at ${name}: it is the key this server signs with, but published ${form}.`
    : `Removes a record at ${name} that publishes the key this server signs with ${form}: the key stays published there in the one record the fix leaves.`;
}

/**
 * What `changes` (replaceWithOne's) do to the existing record `r`: rewritten in place, removed, or kept as it is
 * (no change names it). A plan's note says what its change does (review: "Rewrites" over a removal).
 */
function changeTo(changes: readonly Change[], r: ZoneRecord): 'edit' | 'remove' | 'kept' {
  const c = changes.find((x) => x.before === r);
  return c ? (c.action === 'edit' ? 'edit' : 'remove') : 'kept';
}

/**
 * Whether what is published at the server's selector (`atSelector`, selectorView) is exactly one record, the server's
 * key `key` in a form receivers use (keyRecordProblem) — a TXT there, or an alias (CNAME) that serves exactly that one
 * record: the DKIM fix then changes no record there.
 */
export function publishedRight(atSelector: readonly SelectorRecord[], key: string, type: 'rsa' | 'ed25519'): boolean {
  if (atSelector.length !== 1) return false;
  const r = atSelector[0];
  switch (r.type.toUpperCase()) {
    case 'TXT':
      return servesKey(r.txt ?? [r.value], key, type);
    case 'CNAME':
      // An alias whose target could not be read, or was not asked, is not known to be right.
      return !!r.served && !('error' in r.served) && r.served.length === 1 && servesKey(r.served[0], key, type);
    default:
      return false;
  }
}

/** Whether one TXT record (its strings) publishes the server's key `key` in a form receivers use (keyRecordProblem). */
function servesKey(strings: readonly string[], key: string, type: 'rsa' | 'ed25519'): boolean {
  const mine = canonicalKey(key);
  // Parsed once for both questions (publishedKey in classify.ts reads p= the same way).
  const rec = parseDkimRecord(strings);
  return mine !== null && rec.publicKey !== null && canonicalKey(rec.publicKey) === mine && keyRecordProblem({ type: 'TXT', value: strings.join(''), txt: [...strings] }, type, rec) === null;
}

/**
 * What the DKIM fix does, once no record at the server's selector is left alone (leavesKeyAlone, and a CNAME whose
 * target publishes such a key): the one decision behind both the plan (planDkim follows it) and the audit (a DKIM
 * finding offers the fix only where it is 'generate', 'publish' or 'start-signing': src/core/checks/dkim.ts), so a
 * finding never offers a fix whose plan is blocked or does nothing.
 * - 'blocked': the fix can do nothing (why, with what to do instead);
 * - 'generate': the panel generates a key and turns signing on, then the fix publishes it;
 * - 'publish': the fix (re)publishes the server's key at the selector — signing stays as it is (the finding about
 *   signing says what follows);
 * - 'start-signing': the key is published as it should be and the server does not sign: the panel starts signing with
 *   it (`how`: DkimSettings.startSigning), no record changes;
 * - 'nothing': the key is published as it should be and the server signs with it.
 * `atSelector`: what is published at the server's selector (selectorView) — the panel's zone for the plan, the live
 * answer for the audit (the same while the panel's DNS is the live one). An alias there whose target DNS did not
 * answer for is 'blocked' whatever else holds (a DNS error is never a reason to change a zone; the audit says
 * dkim.dns-error then).
 */
export type DkimFixPath =
  | { kind: 'blocked'; why: string }
  | { kind: 'generate' }
  | { kind: 'publish'; key: string; type: 'rsa' | 'ed25519' }
  | { kind: 'start-signing'; how: 'recheck' | 'switch' }
  | { kind: 'nothing' };

export function dkimFixPath(settings: Pick<MailSettings, 'dkim'>, domain: string, atSelector: readonly SelectorRecord[]): DkimFixPath {
  const { publicKey: key, signing, cannotGenerate } = settings.dkim;
  for (const r of atSelector) {
    if (r.served && 'error' in r.served) {
      return { kind: 'blocked', why: `${settings.dkim.selector}._domainkey.${domain} is an alias (CNAME) of ${canonName(r.value)}, whose DKIM key could not be read (DNS ${r.served.error}): preview the fix again when DNS answers.` };
    }
  }
  if (!key) {
    // The panel says it signs but gave no key mailhealth can read (e.g. Plesk's REST front without the key file):
    // generating a new key would replace the one in use.
    if (signing) return { kind: 'blocked', why: `This server signs ${domain}'s mail with a key mailhealth cannot read here: publish the DKIM record the panel shows in its mail settings for ${domain}.` };
    if (cannotGenerate) return { kind: 'blocked', why: `This server has no DKIM key for ${domain}, and the panel cannot generate one for it: ${sentence(cannotGenerate)}` };
    return { kind: 'generate' };
  }
  const type = publishableType(key);
  if (!type) {
    const found = publicKeyType(key);
    return { kind: 'blocked', why: `This server's DKIM key for ${domain} ${found ? `uses the key type ${found}, which DKIM cannot publish` : 'is unreadable'}: generate an RSA key in the panel's DKIM settings.` };
  }
  if (!publishedRight(atSelector, key, type)) return { kind: 'publish', key, type };
  if (signing) return { kind: 'nothing' };
  if (settings.dkim.startSigning) return { kind: 'start-signing', how: settings.dkim.startSigning };
  return { kind: 'blocked', why: `DKIM signing is turned off for ${domain}, though its key is already published, and the panel cannot turn it on from here: ${whereToSign(settings, domain)}.` };
}

/** The TXT and CNAME records at the server's selector in `records`. */
function atServerSelector(settings: Pick<MailSettings, 'dkim'>, domain: string, records: readonly ZoneRecord[]): ZoneRecord[] {
  const name = `${settings.dkim.selector}._domainkey.${domain}`;
  return [...recordsAt(records, name, 'TXT'), ...recordsAt(records, name, 'CNAME')];
}

/**
 * Whether the server's selector in `records` (the panel's zone) is an alias (CNAME) alone: the key is published where
 * it points, which `records` do not hold — it is read through DNS (the plan's aliasServed; the verification after the
 * panel starts signing asks the selector's TXT, as receivers do, see signsUnpublishedKey).
 */
export function selectorIsAlias(settings: Pick<MailSettings, 'dkim'>, domain: string, records: readonly ZoneRecord[]): boolean {
  const at = atServerSelector(settings, domain, records);
  return at.length === 1 && at[0].type.toUpperCase() === 'CNAME';
}

/**
 * Whether the panel signs (per `settings`) with a key of its own that is not the one published as it should be at its
 * selector in `records` — e.g. a panel that made a new key when signing was turned on. `records`: the panel's zone, or
 * the selector's live TXT answer (read through its alias when it is one: selectorIsAlias). False when it does not
 * sign, gives no key mailhealth can compare, or the selector is an alias alone in `records` (the key is not there).
 */
export function signsUnpublishedKey(settings: Pick<MailSettings, 'dkim'>, domain: string, records: readonly ZoneRecord[]): boolean {
  const { signing, publicKey: key } = settings.dkim;
  if (!signing || !key) return false;
  const type = publishableType(key);
  if (!type) return false;
  // An alias alone at the selector: nothing here says the panel signs with another key (the caller reads the key
  // through the alias to know).
  if (selectorIsAlias(settings, domain, records)) return false;
  return !publishedRight(atServerSelector(settings, domain, records), key, type);
}

/** A panel's reason as the end of a sentence (with its final stop). */
const sentence = (text: string) => text.replace(/\.?\s*$/, '.');

/** Where the user turns DKIM signing on for the domain, as an instruction (no final stop). */
export function whereToSign(settings: Pick<MailSettings, 'dkim'>, domain: string): string {
  return settings.dkim.cannotStartSigning ?? `turn DKIM signing on for ${domain} in the panel's Email Deliverability / DKIM settings`;
}

/** The plan action that has the panel start signing with the published key (applied by startSigning in apply.ts). */
export function startSigningAction(how: 'recheck' | 'switch', domain: string): PlanAction {
  return {
    kind: 'refresh-dkim',
    description: how === 'recheck' ? `have the panel check the published DKIM key of ${domain} again and start signing` : `turn DKIM signing on for ${domain} in the panel (it signs with the key already published)`,
  };
}

/**
 * The note for a TXT record at the server's selector that the fix replaces and that does not publish the server's key:
 * said as what it is — not a DKIM record at all (a verification token), a revoked or malformed record, another key —
 * and as the change made to it (replaceWithOne): rewritten in place with the key (`edit`, said "Replaces … with" the
 * key, which it publishes), or removed (`remove`: the key is published in the one record the fix leaves there).
 * `generated`: the server has no key yet, and the record makes way for the one the panel generates.
 */
function replacedNote(r: ZoneRecord, name: string, change: 'edit' | 'remove', generated = false): string {
  const rec = parseDkimRecord(r.txt ?? [r.value]);
  const by = generated ? 'the key the panel generates' : 'the key this server signs with';
  const edit = change === 'edit';
  if (!Object.keys(rec.tags).some((t) => /^[vkp]$/i.test(t))) {
    const text = r.txt ? r.txt.join('') : r.value;
    return edit
      ? `Replaces the TXT record ${quoteShort(text)} at ${name}, which is not a DKIM key, with ${generated ? by : "this server's public key"}: verifiers read one record there, and a signature checked against a record that is not a key fails.`
      : `Removes the TXT record ${quoteShort(text)} at ${name}, which is not a DKIM key: verifiers read one record there, and a signature checked against this one fails.`;
  }
  if (rec.revoked) return edit ? `Replaces the revoked key record at ${name} (empty p=) with ${by}.` : `Removes the revoked key record at ${name} (empty p=): ${by} is published there in the one record the fix leaves.`;
  if (rec.publicKey === null || publishedKey(r) === null) {
    const why = rec.errors[0] ?? 'it publishes no readable key';
    return edit ? `Replaces the malformed DKIM record at ${name} with ${by}: ${why}.` : `Removes the malformed DKIM record at ${name} (${why}): ${by} is published there in the one record the fix leaves.`;
  }
  if (generated) {
    return edit
      ? `Replaces the key at ${name} (most likely the previous host's: this server has no key for the domain yet) with ${by}.`
      : `Removes the key at ${name} (most likely the previous host's: this server has no key for the domain yet): ${by} is published there in the one record the fix leaves.`;
  }
  return edit
    ? `Replaces the key at ${name}, which is not the key this server signs with (most likely the previous host's).`
    : `Removes the key at ${name}, which is not the key this server signs with (most likely the previous host's): verifiers read one record there, and this server's key is published there in the one record the fix leaves.`;
}

/**
 * What the DKIM fix decides over `records` (the records a plan is made from: the panel's zone, or liveZone's live
 * records): its path (dkimFixPath, or 'blocked' where a key at the selector is left alone — leavesKeyAlone, an alias
 * whose target publishes such a key) with the notes said on the way, the records at the server's selector, and the alias
 * that stays when it serves the server's key as it should (path 'nothing' / 'start-signing'). planDkim builds its plan
 * from it; the audit asks it where the panel's zone holds what no live answer shows (an alias with records beside it).
 */
export interface DkimDecision {
  path: DkimFixPath;
  notes: string[];
  existing: ZoneRecord[];
  alias: string | null;
}

export async function decideDkim(ctx: CheckContext, records: readonly ZoneRecord[]): Promise<DkimDecision> {
  const notes: string[] = [];
  const sel = ctx.settings.dkim.selector;
  const name = `${sel}._domainkey.${ctx.domain}`;
  const existing = [...recordsAt(records, name, 'TXT'), ...recordsAt(records, name, 'CNAME')];
  const key = ctx.settings.dkim.publicKey;
  const blocked = (why: string): DkimDecision => ({ path: { kind: 'blocked', why }, notes, existing, alias: null });
  // A key at the selector that is not this server's — published there, or behind a CNAME — when this server does not
  // sign for the domain (its key exists but signing is off) or the domain's mail is handled elsewhere: most likely the
  // key of the service that sends the mail. Replacing it would break that mail (the audit leaves it as it is,
  // dkim.key-mismatch info/warn).
  const mineKey = key ? canonicalKey(key) : null;
  const remote = ctx.settings.routing === 'remote';
  const foreignKey = existing.some((r) => publishedKey(r) !== null && publishedKey(r) !== mineKey);
  const cnames = existing.filter((r) => r.type.toUpperCase() === 'CNAME').map((r) => canonName(r.value));
  // What each alias at the selector serves, asked once (aliasServed).
  const asked = new Map<string, Promise<Served>>();
  const served = (target: string): Promise<Served> => {
    let p = asked.get(target);
    if (!p) asked.set(target, (p = aliasServed(ctx, target)));
    return p;
  };
  // The selector of a sending service the domain uses (a CNAME into it, or its selector while the SPF includes it): a
  // key there that is not this server's is that service's, whatever the routing (leavesKeyAlone).
  const sender = foreignKey || cnames.length ? await senderAtSelector(ctx, sel, cnames) : null;
  if (sender || sparesForeignKeys(ctx.settings)) {
    const signsHere = !(key && !ctx.settings.dkim.signing);
    // With mail routed elsewhere to a provider the knowledge knows, a key that is not theirs at a selector they do not
    // use is a previous host's leftover (leavesKeyAlone): replaced as with local routing.
    const delivery = !sender && remote && signsHere && foreignKey ? await deliveryVerdict(ctx, sel, cnames.length > 0) : null;
    const why = sender
      ? sender.why
      : remote
        ? `${ctx.domain}'s mail is handled elsewhere${delivery ? ` (${deliveryWhy(delivery)})` : ''}`
        : `this server does not sign for ${ctx.domain} (signing is off)`;
    const foreign = existing.filter((r) => leavesKeyAlone(ctx.settings, publishedKey(r), delivery, sender));
    if (foreign.length) {
      // This server's key published beside the one left alone: signatures fail only whenever verifiers read the other,
      // and a leftover is removed, not replaced (the audit says the same: src/core/checks/dkim.ts).
      const beside = mineBeside(existing, mineKey);
      return blocked(
        sender
          ? `${name} publishes a key this server does not sign with. ${senderKeyText(sender, sel, ctx.domain, ctx.settings.dkim.signing, beside)}`
          : `${name} publishes a key this server does not sign with, and ${why}: it is most likely the key of the service that sends its mail, and replacing it would break that mail. ${
              signsHere ? keptKeyAdvice(sel, beside) : signingOffKeptAdvice(sel, beside)
            }`,
      );
    }
    if (delivery?.known) {
      notes.push(`${ctx.domain}'s mail is delivered to ${delivery.provider}, which ${signsWithSelectors(delivery.selectors)}, not ${sel}, and the key at ${name} is none of theirs: it is most likely a previous host's leftover.`);
    }
    // A selector delegated by CNAME (how mail services have their customers publish keys): the same, judged by the
    // key its target publishes. A CNAME with no key behind it is no key (dkim.missing), and is replaced.
    for (const target of cnames) {
      const why2 = aliasedKeyBlock(ctx, name, target, await served(target), mineKey, why, sender);
      if (why2) return blocked(why2);
    }
  }
  // Judged as the audit judges the live answer (selectorView): an alias by what it serves — and, in the panel's zone, a
  // TXT beside it as a record of its own, whatever it holds (only a live answer carries the target's TXT at the name).
  // Copies of one record (the same strings: a record added twice) are one record to DNS (RFC 2181 §5), as the audit sees
  // them: judged once — a right record twice is still right (planDkim then removes the copies, which dns.drift offers
  // the fix for); a record the plan replaces goes with its copies.
  const view = selectorView(withoutCopies(existing), cnames.length === 1 ? await served(cnames[0]) : undefined, existing.length > 0 && existing.every(isLiveRecord));
  // The selector an alias that serves the server's key as it should be ('nothing', 'start-signing'): it stays.
  const alias = view.length === 1 && view[0].type.toUpperCase() === 'CNAME' ? canonName(view[0].value) : null;
  const path = dkimFixPath(ctx.settings, ctx.domain, view);
  // A domain that declares it sends and receives no mail (null MX, an SPF record that authorises nobody:
  // src/core/nomail.ts, from live DNS as the audit reads it) gets no key published and no signing turned on: it needs
  // none, and a key would let mail signed for it pass DKIM. Asked only when the fix would do something.
  if (path.kind === 'generate' || path.kind === 'publish' || path.kind === 'start-signing') {
    const nm = await noMailDeclared(ctx);
    if (nm.state === 'no-mail') return blocked(noMailBlock(ctx.domain, nm, 'dkim'));
    if (nm.state === 'unknown') return blocked(noMailUnknown(ctx.domain, nm, 'dkim'));
  }
  return { path, notes, existing, alias };
}

export async function planDkim(ctx: CheckContext, records: ZoneRecord[]): Promise<PartialPlan> {
  const { path, notes, existing, alias } = await decideDkim(ctx, records);
  // Each note once: records that say the same (copies of one key, two copies of a previous host's key) are one subject.
  const say = (n: string) => {
    if (!notes.includes(n)) notes.push(n);
  };
  const name = `${ctx.settings.dkim.selector}._domainkey.${ctx.domain}`;
  const ttl = existing[0]?.ttl ?? defaultTtl(records, name, ctx.domain);
  const key = ctx.settings.dkim.publicKey;
  const mineKey = key ? canonicalKey(key) : null;
  switch (path.kind) {
    case 'blocked':
      return { changes: [], notes, blocked: path.why };
    case 'nothing': {
      if (alias) notes.push(`${name} is an alias (CNAME) of ${alias}, which already publishes the key this server signs with: the alias stays as it is.`);
      // The record is right; copies of it (judged once, decideDkim) go.
      const copies = copiesRemoved(existing, 'DKIM record');
      return { changes: copies.changes, notes: [...notes, ...copies.notes] };
    }
    case 'start-signing': {
      // The record is right; the panel only has to sign with it.
      const at = alias ? `${name} (through its alias to ${alias})` : name;
      notes.push(
        path.how === 'recheck'
          ? `The key at ${at} is already the one this server signs with; the panel has not seen it published yet, so it does not sign. The fix asks the panel to check again (no record changes).`
          : `The key at ${at} is already the one this server signs with, but DKIM signing is turned off for ${ctx.domain} on the server. The fix has the panel turn signing on (no record changes).`,
      );
      const copies = copiesRemoved(existing, 'DKIM record');
      return { changes: copies.changes, notes: [...notes, ...copies.notes], actions: [startSigningAction(path.how, ctx.domain)] };
    }
    case 'generate': {
      notes.push(`This server has no DKIM key for ${ctx.domain}: the panel generates a 2048-bit key and turns signing on.`);
      const desired: ZoneRecord = { name, ttl, type: 'TXT', value: `v=DKIM1; k=rsa; p=${PLACEHOLDER_KEY}` };
      const changes = replaceWithOne(existing, desired);
      // Each record said as what it is (a revoked key, a verification token, another key, an alias) and as what its
      // change does, as on the publish path.
      for (const n of subjectNotes(existing, changes, (r, change) => (r.type.toUpperCase() === 'CNAME' ? `Replaces the alias ${name} → ${r.value} with the key the panel generates.` : replacedNote(r, name, change, true))).values()) say(n);
      return { changes, notes, actions: [{ kind: 'generate-dkim', description: `generate a 2048-bit DKIM key for ${ctx.domain} and turn signing on` }] };
    }
    case 'publish':
      break;
  }
  const desired = dkimRecordFor(name, ttl, path.key);
  // An existing record that already publishes the server's key (whatever its formatting) with the right k= and nothing
  // that makes receivers discard it or its signatures (h= without sha256, t=y testing) is kept if it is alone (path
  // 'nothing' / 'start-signing' above); otherwise the records become the one record of the server's key.
  const sameKey = (r: ZoneRecord) => mineKey !== null && publishedKey(r) === mineKey;
  if (existing.length > 1 && existing.some((r) => r.type.toUpperCase() === 'CNAME')) {
    say(`${name} is an alias (CNAME) with other records beside it, which a name that is an alias cannot hold (BIND refuses to load such a zone; other DNS servers answer with one or the other): the fix leaves one record there, the key this server signs with.`);
  }
  // The records that already publish the server's key in a form receivers use (however each is spelt): one subject,
  // said once — with how many there are, and what else is there.
  const usable = existing.filter((r) => r.type !== 'CNAME' && sameKey(r) && keyRecordProblem(r, path.type) === null);
  const others = existing.length - usable.length;
  // Each note says what the change to its record does (review: "Rewrites …" and "Replaces …" over removals, "Removes
  // …" over the edit that publishes the key): decided from the changes themselves.
  const changes = replaceWithOne(existing, desired);
  const noteOf = (r: ZoneRecord, change: 'edit' | 'remove'): string | null => {
    if (r.type === 'CNAME') return `Replaces the alias ${name} → ${r.value} with the key this server signs with.`;
    if (!sameKey(r)) return replacedNote(r, name, change);
    const why = keyRecordProblem(r, path.type);
    return why ? rewriteNote(r, name, why, change) : null;
  };
  const said = subjectNotes(existing, changes, noteOf);
  for (const r of existing) {
    const n = said.get(r);
    if (n) say(n);
    else if (r === usable[0]) {
      const times = usable.length > 1 ? `${usable.length} records there publish it already` : 'it is there already';
      say(
        others
          ? `Publishes this server's key at ${name} as a single record (${times}, beside ${others === 1 ? 'another record' : `${others} other records`}).`
          : `Publishes this server's key at ${name} as a single record (${times}: verifiers use one of them, and one is enough).`,
      );
    }
  }
  if (!existing.length) say(`Publishes this server's public key at ${name}.`);
  if (!ctx.settings.dkim.signing) {
    say(
      ctx.settings.dkim.startSigning
        ? `DKIM signing is turned off for ${ctx.domain} on the server: once this record is published, run the DKIM fix again — it has the panel start signing with the key.`
        : `DKIM signing is turned off for ${ctx.domain} on the server: once this record is published, ${whereToSign(ctx.settings, ctx.domain)}.`,
    );
  }
  return { changes, notes };
}

/**
 * The note of each record in `existing` that `noteOf` gives one (null: none), said once per subject: records whose note
 * would be the same (copies of one record, one key spelt otherwise) are one subject, as the audit says its findings
 * once (sayOnce). The note says what the changes do to the subject: "edit" when one of its records is rewritten in
 * place (that record then holds the key the fix publishes; the others go), else "remove". The map holds the note for the
 * first record of each subject only.
 */
function subjectNotes(existing: readonly ZoneRecord[], changes: readonly Change[], noteOf: (r: ZoneRecord, change: 'edit' | 'remove') => string | null): Map<ZoneRecord, string> {
  const groups = new Map<string, ZoneRecord[]>();
  for (const r of existing) {
    const subject = noteOf(r, 'edit');
    if (subject === null) continue;
    const g = groups.get(subject);
    if (g) g.push(r);
    else groups.set(subject, [r]);
  }
  const out = new Map<ZoneRecord, string>();
  for (const g of groups.values()) {
    const change = g.some((r) => changeTo(changes, r) === 'edit') ? 'edit' : 'remove';
    out.set(g[0], noteOf(g[0], change)!);
  }
  return out;
}
