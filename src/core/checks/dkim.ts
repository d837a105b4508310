// dkim: the key published at the server's selector versus the key the server signs with; keys of other selectors.
// Selectors are probed from what is known, not guessed at random: the server's, those in the panel's zone, those of
// mail services the domain's SPF includes (e.g. "google" for _spf.google.com), and any the user adds.
import { isSpfRecord } from '../spf/parse.js';
import { gradeKey, hashRefusal, keyBits, parseDkimRecord, publicKeyType, verifierRefusals, type DkimRecord, type KeyGrade } from '../dkim/record.js';
import { canonicalKey } from '../classify.js';
import type { Classification, Finding, MailSettings, ZoneRecord } from '../model.js';
import { noMailDeclared, noMailUnknown, noMailWhat, type NoMail } from '../nomail.js';
import { decideDkim, deliveryVerdict, deliveryWhy, dkimFixPath, keptKeyAdvice, leavesKeyAlone, leftoverAdvice, republishedAs, selectorView, senderAtSelector, senderKeyText, signsWithSelectors, spfProviders, verifiesWith, whereToSign, wireStrings, type DeliveryVerdict, type DkimFixPath, type MineBeside, type SelectorRecord, type SelectorSender } from '../plans/dkim.js';
import { aliasesOf, describeAnswer, joinTxt, type Answer } from '../resolver.js';
import { canonName } from '../domain.js';
import type { CheckContext } from './context.js';
import { authority, noteLiveElsewhere } from './dns.js';
import { dnsErrorFinding, evidence, liveTxt, makeFinding, panelEvidence, stringTooLongMessage, withoutFix } from './util.js';
import { emptyList, filterList, mapList } from '../arrays.js';

const DKIM_SUFFIX = '._domainkey.';

async function candidateSelectors(ctx: CheckContext): Promise<string[]> {
  const sel = new Set<string>([ctx.settings.dkim.selector.toLowerCase()]);
  const suffix = `${DKIM_SUFFIX}${ctx.domain}`;
  for (const r of ctx.zone?.records ?? []) {
    if ((r.type === 'TXT' || r.type === 'CNAME') && r.name.endsWith(suffix)) {
      const s = r.name.slice(0, -suffix.length);
      if (s && !s.includes('.')) sel.add(s);
    }
  }
  const apex = await ctx.resolver.resolve(ctx.domain, 'TXT');
  if (apex.status === 'ok') {
    let spf: string | undefined;
    for (const r of apex.records) {
      const txt = joinTxt(r);
      if (isSpfRecord(txt)) {
        spf = txt;
        break;
      }
    }
    for (const { provider: p } of spf ? spfProviders(ctx.knowledge, spf) : []) {
      // The first two exact names (a name ending in "-" is a prefix such as HubSpot's "hs1-<portal>": not probed).
      if (p.kind === 'mail-service') for (const s of filterList(p.dkimSelectors ?? [], (x) => !x.endsWith('-')).slice(0, 2)) sel.add(s);
    }
  }
  for (const s of ctx.options.extraSelectors ?? []) sel.add(s.toLowerCase());
  return [...sel];
}

/** The RFC 8301 grade of the key this server signs with (as the DKIM fix would publish it). */
function serverKeyGrade(publicKey: string): KeyGrade {
  const type = publicKeyType(publicKey) === 'ed25519' ? 'ed25519' : 'rsa';
  return gradeKey(keyBits(publicKey, type), type);
}

/** A TXT record that looks like a DKIM key record (the others at a selector are not judged). */
const DKIM_LIKE = /(^|;)\s*(v\s*=\s*DKIM1|k\s*=|p\s*=)/i;

/**
 * What is published at the server's selector as the DKIM fix judges it (src/core/plans/dkim.ts selectorView, then
 * dkimFixPath), from the live answer: every TXT record with its strings (as the planner takes every TXT at the name: a
 * stray non-DKIM TXT beside the key means the fix publishes a single record); when the name is an alias, the alias
 * with those records as what it serves — right when it serves exactly the server's key, as the plan judges the alias
 * in the panel's zone by what its target serves.
 */
function liveAtSelector(a: Answer<'TXT'>, aliases: readonly string[]): SelectorRecord[] {
  const answer = a.status === 'ok' ? mapList(a.records, wireStrings) : [];
  const txt: SelectorRecord[] = mapList(answer, (t) => ({ type: 'TXT', value: joinTxt(t), txt: t }));
  return aliases.length ? selectorView([...txt, { type: 'CNAME', value: aliases[0] }], answer, true) : txt;
}

/**
 * The panel's zone holds, at the server's selector, an alias (CNAME) with other records beside it — an invalid zone
 * (RFC 1034 §3.6.2): BIND refuses to load it, other servers answer at the name with one or the other, and a live answer
 * never shows both — and it is the live zone (the DKIM fix plans over the panel's zone then, src/core/plans/index.ts):
 * what the fix does there is its own decision over that zone (decideDkim), not what the live answer alone would say
 * (an alias that serves the server's key, beside a copy of that key, looks right from outside). Null otherwise: in the
 * usual case known from the zone's index alone; served elsewhere, the plan is made from the live records, as the audit
 * judges them.
 */
async function aliasBeside(ctx: CheckContext, name: string): Promise<{ records: ZoneRecord[]; path: DkimFixPath } | null> {
  if (!ctx.zone || !ctx.zoneIndex) return null;
  const aliases = ctx.zoneIndex.at(name, 'CNAME');
  if (!aliases.length) return null;
  const records = [...ctx.zoneIndex.at(name, 'TXT'), ...aliases];
  if (records.length < 2) return null;
  if ((await authority(ctx)).state !== 'authoritative') return null;
  return { records, path: (await decideDkim(ctx, ctx.zone.records)).path };
}

/** dkim.multiple for an alias with records beside it in the panel's zone (aliasBeside): the fix offered where it writes. */
function aliasBesideFinding(ctx: CheckContext, name: string, sel: string, records: readonly ZoneRecord[], path: DkimFixPath, a: Answer<'TXT'>): Finding {
  const targets = mapList(filterList(records, (r) => r.type.toUpperCase() === 'CNAME'), (r) => canonName(r.value));
  const txts = records.length - targets.length;
  const held = `${targets.length === 1 ? `an alias (CNAME) of ${targets[0]}` : `${targets.length} aliases (CNAME) of ${targets.join(', ')}`}${txts ? ` and, beside ${targets.length === 1 ? 'it' : 'them'}, ${txts === 1 ? 'a TXT record' : `${txts} TXT records`}` : ''}`;
  const what = `The panel's zone holds ${held} at ${name}: a name that is an alias can hold no other record, so BIND refuses to load such a zone, and other DNS servers answer at ${name} with one or the other.`;
  const todo =
    path.kind === 'publish'
      ? 'The DKIM fix leaves one record there: the key this server signs with.'
      : path.kind === 'generate'
        ? 'The DKIM fix has the panel generate a 2048-bit key and turn signing on, and leaves one record there: that key.'
        : `Remove the records that should not be there in the panel's DNS editor: the DKIM fix changes nothing at ${name}.${path.kind === 'blocked' ? ` ${path.why}` : ''}`;
  const ev = { panel: [...panelEvidence(ctx, name, 'CNAME'), ...panelEvidence(ctx, name, 'TXT')], live: describeAnswer(a) };
  return makeFinding('dkim', 'dkim.multiple', 'warn', `${what} ${todo}`, ev, writesRecords(path) ? { subject: sel, fix: 'dkim' } : { subject: sel });
}

/**
 * Whether DKIM records are copies of one key, each usable as it is (no error, not revoked, no h= that refuses sha256,
 * no t=y): whichever a verifier reads, a signature verifies the same.
 */
function sameUsableKey(parsed: readonly DkimRecord[]): boolean {
  const first = parsed[0]?.publicKey ? canonicalKey(parsed[0].publicKey) : null;
  if (first === null) return false;
  return parsed.every(
    (r) => !r.errors.length && !r.revoked && !r.testing && !hashRefusal(r) && r.keyType === parsed[0].keyType && r.publicKey !== null && canonicalKey(r.publicKey) === first,
  );
}

/** Whether the fix changes the records at the server's selector (publishes the server's key, or one the panel generates). */
const writesRecords = (path: DkimFixPath) => path.kind === 'publish' || path.kind === 'generate';

/**
 * dkim.signing-off while no record at the selector is left alone: offers the fix only where the fix turns signing on
 * (the panel starts signing with the published key, or generates a key and signs with it); otherwise it says what
 * turns signing on.
 */
function signingOff(ctx: CheckContext, name: string, sel: string, path: DkimFixPath, ev: Finding['evidence']): Finding {
  const d = ctx.domain;
  const off = `DKIM signing is turned off for ${d} on this server`;
  switch (path.kind) {
    case 'start-signing':
      return makeFinding(
        'dkim',
        'dkim.signing-off',
        'warn',
        path.how === 'recheck'
          ? `${off}: the panel has not seen its key at ${name} published yet. The DKIM fix has the panel check again and start signing (no record changes).`
          : `${off}, though its key is published at ${name}. The DKIM fix has the panel turn signing on (no record changes).`,
        ev,
        { subject: sel, fix: 'dkim' },
      );
    case 'generate':
      return makeFinding('dkim', 'dkim.signing-off', 'warn', `${off}, and it has no DKIM key for ${d}: the DKIM fix has the panel generate one and turn signing on.`, ev, { subject: sel, fix: 'dkim' });
    case 'publish':
      return makeFinding('dkim', 'dkim.signing-off', 'warn', `${off}. ${afterPublishing(ctx.settings, d, name)}`, ev, { subject: sel });
    case 'blocked':
      return makeFinding('dkim', 'dkim.signing-off', 'warn', /^DKIM signing is turned off/.test(path.why) ? path.why : `${off}. ${path.why}`, ev, { subject: sel });
    case 'nothing':
      // Signing is on then (no dkim.signing-off); said plainly should it ever be asked.
      return makeFinding('dkim', 'dkim.signing-off', 'warn', `${off}.`, ev, { subject: sel });
  }
}

/**
 * What a previous host's key at the server's selector does to this server's signatures: they fail whenever verifiers
 * read it when a record beside it verifies them (`verifiesBeside`: verifiers read one record, RFC 6376 §3.6.2.2), else
 * every time — worse than no key, unless the record is in testing mode (t=y, RFC 6376 §3.6.1: verifiers must treat
 * the mail as unsigned even when the signature fails, as with no key).
 */
function staleFails(verifiesBeside: boolean, testing: boolean): string {
  const t = testing ? ' (the record is in testing mode, t=y, so receivers treat that mail as unsigned rather than failed)' : '';
  return verifiesBeside
    ? `Verifiers read one record at the selector (most take the first), so a message this server signs fails DKIM whenever they read this one${t}.`
    : testing
      ? `Every message this server signs fails DKIM${t}.`
      : 'Every message this server signs fails DKIM (worse than no key).';
}

/**
 * dkim.key-mismatch for a key published at the server's selector while the server gives no key of its own to compare
 * with (settings without publicKey). Signing: the panel signs with a key mailhealth cannot read (Plesk without the key
 * file), so whether mail passes is not known (unknown) and the user compares the record with the panel's. Not
 * signing: nothing signs with the key here (info); the message says what the fix does to it — replaces it with the
 * key the panel generates, or leaves it alone (mail handled elsewhere: dkim.signing-off says what to do), or cannot.
 */
async function noServerKey(
  ctx: CheckContext,
  name: string,
  sel: string,
  c: Classification,
  ev: Finding['evidence'],
  fix: { planWrites: boolean; path: DkimFixPath | null; kept: boolean; several: boolean; noMail: () => Promise<NoMail> },
  remark: string,
): Promise<Finding> {
  const d = ctx.domain;
  if (ctx.settings.dkim.signing) {
    return makeFinding(
      'dkim',
      'dkim.key-mismatch',
      'unknown',
      `A DKIM key is published at ${name}, but this server signs ${d}'s mail with a key mailhealth cannot read here, so whether it is this one is not known: compare it with the DKIM record the panel shows in its mail settings for ${d}. If they differ, mail this server signs fails DKIM while this one is published: publish the panel's record there in its place.${remark}`,
      ev,
      { subject: sel, classification: c },
    );
  }
  const what = `The key published at ${name} is not one this server signs with: it has no DKIM key for ${d} and does not sign its mail, so none of its mail fails DKIM with this key.`;
  let todo: string;
  if (fix.planWrites && fix.path?.kind === 'generate') {
    // A domain that declares no mail gets withoutFixIfNoMail's note instead (the fix publishes no key there).
    todo =
      (await fix.noMail()).state !== 'mail'
        ? ''
        : ` Most likely a previous host left it. The DKIM fix has the panel generate a 2048-bit key for ${d} and turn signing on, and ${fix.several ? 'leaves one record there: that key' : 'publishes that key in its place'}.`;
  } else if (fix.kept) {
    todo = ` ${d}'s mail is handled elsewhere, so it is likely the key of the provider that sends its mail: the DKIM fix leaves it alone (see dkim.signing-off).`;
  } else {
    todo = fix.path?.kind === 'blocked' ? ` The DKIM fix cannot replace it: ${fix.path.why}` : '';
  }
  return makeFinding('dkim', 'dkim.key-mismatch', 'info', `${what}${todo}${remark}`, ev, fix.planWrites ? { subject: sel, classification: c, fix: 'dkim' } : { subject: sel, classification: c });
}

/** A reason as a sentence of its own (capital first letter, final stop). */
const sentenceOf = (reason: string) => `${reason.charAt(0).toUpperCase()}${reason.slice(1).replace(/\.?\s*$/, '.')}`;

/** What turns signing on once the fix has published the server's key at `name`. */
function afterPublishing(settings: Pick<MailSettings, 'dkim'>, domain: string, name: string): string {
  return settings.dkim.startSigning
    ? `Once the DKIM fix has published its key at ${name}, run the fix again: it has the panel start signing.`
    : `Once the DKIM fix has published its key at ${name}, ${whereToSign(settings, domain)}.`;
}

export async function dkimCheck(ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = emptyList();
  const { dkim } = ctx.settings;
  const serverSel = dkim.selector.toLowerCase();
  const selectors = await candidateSelectors(ctx);
  /** Where each probed selector's findings start, for noteLiveElsewhere. */
  const spans: { from: number; name: string; a: Answer<'TXT'> }[] = [];
  for (let i = 0; i < selectors.length; i++) {
    const sel = selectors[i];
    const name = `${sel}${DKIM_SUFFIX}${ctx.domain}`;
    const isServer = sel === serverSel;
    const a = await ctx.resolver.resolve(name, 'TXT');
    spans.push({ from: out.length, name, a });
    const known = a.status === 'unknown' ? [] : aliasesOf(ctx.resolver, name, a);
    const aliases = Array.isArray(known) ? known : await known;
    const records = filterList(liveTxt(a), (t) => DKIM_LIKE.test(t));
    // A probed selector that is not there is not a finding (and needs no evidence).
    if (a.status !== 'unknown' && records.length === 0 && !isServer) continue;
    const ev = evidence(ctx, name, 'TXT', a, aliases.length ? { cname: aliases } : {});
    // Where this selector's findings start (a domain that declares no mail gets none that offers the fix: below).
    const from = out.length;
    // Whether the domain declares it sends and receives no mail (null MX, an SPF record that authorises nobody:
    // src/core/nomail.ts): then it needs no key at the server's selector, and the DKIM fix publishes none.
    // Asked only where it decides something (a key missing, signing off, a finding that offers the fix): the usual
    // domain, whose key is right and signed with, pays no lookup for it (the benchmark's core CPU rose ~8 % when every
    // domain asked).
    let nmAsked: Promise<NoMail> | undefined;
    const noMail = (): Promise<NoMail> => (nmAsked ??= isServer ? noMailDeclared(ctx) : Promise.resolve(MAIL));
    const long = await longStrings(ctx, name, sel, isServer, ev);
    if (long) out.push(long);
    if (a.status === 'unknown') {
      out.push(dnsErrorFinding('dkim', `the DKIM key at ${name}`, a, ev));
      await withoutFixIfNoMail(out, from, noMail, ctx.domain);
      continue;
    }
    // What the DKIM fix does at the server's selector (the plan's own decision, src/core/plans/dkim.ts), unless a key
    // there is left alone (foreignKept below): a finding offers the fix only where it does something. Decided when a
    // finding asks (a domain whose key is right and signed with, the usual case, has none that does).
    let decided: DkimFixPath | null | undefined;
    // The panel's zone holds an alias with records beside it (aliasBeside): the fix's decision over that zone.
    const beside = isServer ? await aliasBeside(ctx, name) : null;
    if (beside) {
      decided = beside.path;
      out.push(aliasBesideFinding(ctx, name, sel, beside.records, beside.path, a));
    }
    const fixPath = (): DkimFixPath | null => (decided !== undefined ? decided : (decided = isServer ? dkimFixPath(ctx.settings, ctx.domain, liveAtSelector(a, aliases)) : null));
    const nm: NoMail = records.length === 0 ? await noMail() : MAIL;
    if (nm.state === 'no-mail') {
      out.push(
        makeFinding(
          'dkim',
          'dkim.no-mail',
          'pass',
          `${noMailWhat(ctx.domain, nm)}. It needs no DKIM key at ${name}, and the DKIM fix publishes none. If this server does send mail for ${ctx.domain}, replace the null MX with the domain's real MX records in the panel and run the SPF fix first, then the DKIM fix.`,
          ev,
          { subject: sel },
        ),
      );
      await withoutFixIfNoMail(out, from, noMail, ctx.domain);
      continue;
    }
    if (records.length === 0) {
      const path = fixPath();
      const dangling = aliases.length ? ` (${name} is a CNAME to ${aliases[0]}, which has no key)` : '';
      const blocked = path?.kind === 'blocked' ? path.why : null;
      // With the server's key but signing off nothing is signed today: the missing key fails mail only once signing is
      // on (a warning, as the h= refusal says it while signing is off), dkim.signing-off beside it says how.
      out.push(
        makeFinding(
          'dkim',
          'dkim.missing',
          dkim.publicKey && !dkim.signing ? 'warn' : 'fail',
          dkim.publicKey
            ? `No DKIM key is published at ${name}${dangling}: ${dkim.signing ? '' : 'once signing is on, '}mail this server signs for ${ctx.domain} fails DKIM.${blocked ? ` ${blocked}` : ''}`
            : dkim.signing
              ? `No DKIM key is published at ${name}${dangling}, and this server signs ${ctx.domain}'s mail with a key mailhealth cannot read here: publish the DKIM record the panel shows.`
              : dkim.cannotGenerate
                ? `${ctx.domain} has no DKIM key at ${name}${dangling}, and this server has none to sign with; the panel cannot generate one for it: ${dkim.cannotGenerate.replace(/\.?\s*$/, '.')}`
                : `${ctx.domain} has no DKIM key at ${name}${dangling}, and this server has none to sign with: generate one.`,
          ev,
          path && writesRecords(path) ? { subject: sel, fix: 'dkim' } : { subject: sel },
        ),
      );
      if (isServer && !dkim.signing && dkim.publicKey) out.push(signingOff(ctx, name, sel, path!, ev));
      await withoutFixIfNoMail(out, from, noMail, ctx.domain);
      continue;
    }
    const parsed: DkimRecord[] = mapList(records, (txt) => parseDkimRecord(txt));
    // Whether the DKIM fix leaves each record at the server's selector alone (leavesKeyAlone, the plan's own rule, on
    // the key the record publishes). While one is published the fix changes nothing at the selector (its plan is
    // blocked), so no finding about the selector may offer it.
    // With mail routed elsewhere, a key that is not this server's is left alone unless the provider the mail is
    // delivered to is known and the key is not theirs (deliveryVerdict): asked only then, as the plan asks it.
    const keys = mapList(parsed, (rec) => (rec.publicKey ? canonicalKey(rec.publicKey) : null));
    const mine = dkim.publicKey ? canonicalKey(dkim.publicKey) : null;
    const foreignKey = isServer && keys.some((k) => k !== null && k !== mine);
    // The key this server signs with is published here too, beside another: a record with another key is then said
    // as that (verifiers read one record at the selector), not as "the key published is not this server's".
    const besideMine = isServer && mine !== null && keys.includes(mine);
    const notMine = besideMine ? `Beside the key this server signs with, ${name} publishes another key` : `The key published at ${name} is not the key this server signs with`;
    // Whether a record other than the j-th verifies this server's signatures (verifiesWith): then they fail only
    // whenever verifiers read the j-th (RFC 6376 §3.6.2.2: they read one record), not every time — and the server's
    // key is there already, so a leftover is removed rather than replaced (MineBeside).
    const verifiesBeside = (j: number): boolean => isServer && parsed.some((r, k) => k !== j && verifiesWith(r, mine));
    const mineAt = (j: number): MineBeside => (verifiesBeside(j) ? 'verifies' : besideMine ? 'published' : 'none');
    // Whatever the routing, a key that is not this server's at a sending service's selector (a CNAME into it, or its
    // selector while the SPF includes it) is that service's (senderAtSelector), and left alone: asked as the plan asks.
    const sender: SelectorSender | null = foreignKey ? await senderAtSelector(ctx, sel, aliases) : null;
    const delivery: DeliveryVerdict | null =
      !sender && foreignKey && ctx.settings.routing === 'remote' && !(dkim.publicKey && !dkim.signing) ? await deliveryVerdict(ctx, sel, aliases.length > 0) : null;
    const keptAt = mapList(keys, (k) => isServer && leavesKeyAlone(ctx.settings, k, delivery, sender));
    const foreignKept = keptAt.includes(true);
    // The DKIM fix rewrites what is published at the server's selector (src/core/plans/dkim.ts dkimFixPath: this
    // server's key, or one the panel generates) — unless it leaves a key there alone.
    const planWrites = (): boolean => {
      const path = fixPath();
      return !!path && writesRecords(path) && !foreignKept;
    };
    // Verifiers read one TXT record at a selector (mailauth and dkimpy the first), whatever it holds: at the server's
    // selector a record that is not a DKIM key (a verification token) beside the key fails its signatures as a stale
    // key does. Copies of one key, each as usable, verify either way (a warning: one record is enough).
    const all = isServer ? liveTxt(a) : records;
    if (all.length > 1) {
      const strays = all.length - records.length;
      // Benign only when the copies are this server's key (or one the fix leaves alone): copies of a previous host's key
      // fail this server's signatures either way, and the fix replaces them all (review).
      const sameKey = strays === 0 && sameUsableKey(parsed);
      const copies = sameKey && (!isServer || keys[0] === mine || foreignKept);
      const stray = all.find((t) => !DKIM_LIKE.test(t)) ?? '';
      // Copies of which some are in a form Mail::DKIM or OpenDKIM refuse (dkim.compat says which): the same key, yet not
      // "either way" for receivers that verify with those (review: the text said signatures verify either way).
      const refusals = copies ? parsed.map(verifierRefusals) : [];
      const refusing = refusals.filter((x) => x.length).length;
      // Only OpenDKIM's reading of p= (a bare RSAPublicKey) is OpenDKIM's too; g= is Mail::DKIM's alone.
      const who = refusals.some((x) => x.some((p) => p.kind === 'encoding')) ? 'Mail::DKIM or OpenDKIM' : 'Mail::DKIM';
      // Whose signatures: this server's only for its key at its selector (another selector's, or a sender's key the fix
      // leaves alone, is another signer's — review: the text named this server's at every selector).
      const signatures = isServer && keys[0] === mine ? "this server's signatures" : 'the signatures made with that key';
      const copiesText =
        refusing === 0
          ? `${all.length} TXT records at ${name} publish the same key: verifiers use one of them, so signatures verify either way, but one record is enough${planWrites() ? ' (the DKIM fix keeps one)' : ''}.`
          : refusing < parsed.length
            ? `${all.length} TXT records at ${name} publish the same key, but ${refusing === 1 ? 'one of them is' : `${refusing} of them are`} in a form ${who} refuses (see dkim.compat): verifiers use one of the records (most take the first), so receivers that verify with ${who} fail ${signatures} whenever they read ${refusing === 1 ? 'that one' : 'one of those'}. One record is enough${planWrites() ? ' (the DKIM fix keeps one, in a form they read)' : ''}.`
            : `${all.length} TXT records at ${name} publish the same key (each in a form ${who} refuses: see dkim.compat): verifiers use one of them; one record is enough${planWrites() ? ' (the DKIM fix keeps one, in a form they read)' : ''}.`;
      out.push(
        makeFinding(
          'dkim',
          'dkim.multiple',
          copies ? 'warn' : 'fail',
          copies
            ? copiesText
            : `${all.length} TXT records at ${name}${
                strays ? ` (${strays === 1 ? 'one' : strays} of them not a DKIM key: ${JSON.stringify(stray.length > 40 ? `${stray.slice(0, 37)}...` : stray)})` : sameKey ? ', copies of one key that is not the one this server signs with' : ', with different keys or settings'
              }: ${sameKey ? 'one record is enough, and it must hold this server\'s key' : 'verifiers read only one of them (most take the first), so signed mail fails DKIM whenever it is the wrong one'}.`,
          ev,
          planWrites() ? { subject: sel, fix: 'dkim' } : { subject: sel },
        ),
      );
    }
    /**
     * What the DKIM fix does about a revoked or malformed record here, as the fix decides it (planWrites: the plan's
     * path, no key left alone; a domain that declares no mail gets withoutFixIfNoMail's note instead — asked only where
     * the fix would write, as that note asks it anyway), with a leading space; '' when there is nothing to add.
     */
    const fixSays = async (s: string): Promise<string> => {
      if (!isServer) {
        return ` The DKIM fix does not touch it: it publishes only at ${serverSel}${DKIM_SUFFIX}${ctx.domain}, the selector this server signs with. Whoever signs with selector ${s} must publish a correct record there, or remove it if nothing does.`;
      }
      if (planWrites()) {
        if ((await noMail()).state !== 'mail') return '';
        // With other records there, the plan may remove this one rather than rewrite it (replaceWithOne keeps a record
        // that is already right): said as what holds either way.
        const several = all.length > 1;
        return fixPath()?.kind === 'generate'
          ? ` The DKIM fix has the panel generate a 2048-bit key for ${ctx.domain} and turn signing on, and ${several ? 'leaves one record there: that key' : 'publishes that key in its place'}.`
          : several
            ? ' The DKIM fix leaves one record there: the key this server signs with.'
            : ' The DKIM fix replaces it with the key this server signs with.';
      }
      if (foreignKept) return ` The DKIM fix changes nothing at ${name} while it holds the other sender's key (see dkim.key-mismatch): remove this record by hand.`;
      const path = fixPath();
      return path?.kind === 'blocked' ? ` The DKIM fix cannot publish this server's key here: ${path.why}` : '';
    };
    for (let j = 0; j < parsed.length; j++) {
      const rec = parsed[j];
      // Written out rather than spread together: V8 adds keys after a leading spread slowly.
      const subjFix = (): { subject: string; fix?: 'dkim' } => (planWrites() ? { subject: sel, fix: 'dkim' } : { subject: sel });
      if (rec.revoked) {
        const what = isServer
          ? dkim.signing
            ? ` Every message this server signs for ${ctx.domain} fails DKIM${all.length > 1 ? ' whenever verifiers read this record' : ''}.`
            : ''
          : ` This server signs with selector ${serverSel}, not ${sel}, so none of its mail is affected (a revoked key is how a selector no longer used is withdrawn), and the DKIM fix leaves it alone.`;
        out.push(makeFinding('dkim', 'dkim.revoked', isServer && dkim.signing ? 'fail' : 'info', `The key at ${name} is revoked (empty p=).${what}${isServer ? await fixSays(sel) : ''}`, ev, subjFix()));
        continue;
      }
      const c = await ctx.classifier.dkimKey(sel, rec.publicKey, aliases);
      if (rec.errors.length) {
        // A previous host's record at another selector: nothing signs with it here, malformed or not (info, as a valid
        // one there is).
        const left = !isServer && c.class === 'stale';
        out.push(
          makeFinding(
            'dkim',
            'dkim.malformed',
            left ? 'info' : 'fail',
            `The DKIM record at ${name} is malformed: ${rec.errors.join('; ')}.${left ? ` ${sentenceOf(c.reason)} Most likely a previous host left it: nothing signs with it here.` : await fixSays(sel)}`,
            ev,
            left ? { subject: sel, classification: c } : subjFix(),
          ),
        );
        continue;
      }
      // The parser's remarks other than t=y (dkim.testing says that one): h= that leaves out sha256.
      const remarks = rec.remarks.length ? mapList(filterList(rec.remarks, (r) => r.kind !== 'testing'), (r) => r.text) : rec.warnings;
      const remark = remarks.length ? ` The record also says ${remarks.join('; ')}.` : '';
      // This record stays as it is whatever the fix does (and the fix changes nothing at the selector: foreignKept).
      const kept = keptAt[j];
      const refusal = isServer && c.class === 'this-server' ? hashRefusal(rec) : null;
      if (kept && sender) {
        // The server's selector is a sending service's: its key, not a previous host's, whatever the routing. This
        // server's signatures fail while it is there (fail while the domain's mail is sent from here, warn while it is
        // handled elsewhere, info while this server does not sign); never a fix.
        const signs = dkim.signing;
        out.push(
          makeFinding(
            'dkim',
            'dkim.key-mismatch',
            signs ? (ctx.settings.routing === 'remote' ? 'warn' : 'fail') : 'info',
            `${
              dkim.publicKey
                ? notMine
                : dkim.signing
                  ? `The key published at ${name} may not be the one this server signs with (it signs ${ctx.domain}'s mail with a key mailhealth cannot read here: compare it with the DKIM record the panel shows)`
                  : `The key published at ${name} is another sender's (this server has no DKIM key for ${ctx.domain} yet)`
            }. ${senderKeyText(sender, sel, ctx.domain, signs, mineAt(j))}${remark}`,
            ev,
            sender.provider
              ? { subject: sel, classification: { class: 'keep', reason: sender.why, provider: sender.provider.id, ...(sender.provider.source ? { source: sender.provider.source } : {}) } }
              : { subject: sel },
          ),
        );
      } else if (kept && c.class === 'stale') {
        // This server does not sign for the domain, or the domain's mail is handled elsewhere: the key is most likely
        // the current external provider's, not a previous host's, and replacing it would break that provider's mail.
        // Signing off → info (nothing this server sends fails); signing on but routing remote → warn (mail this
        // server itself sends, e.g. web forms, fails DKIM, but the key is not ours to replace). Never a fix.
        const signs = dkim.signing;
        out.push(
          makeFinding(
            'dkim',
            'dkim.key-mismatch',
            signs ? 'warn' : 'info',
            (signs
              ? `${notMine}. ${ctx.domain}'s mail is handled elsewhere${delivery ? ` (${deliveryWhy(delivery)})` : ''}, so the key is likely that provider's: mail this server itself sends (e.g. web forms) fails DKIM${verifiesBeside(j) ? ' whenever verifiers read that record' : ''}. ${keptKeyAdvice(sel, mineAt(j))}`
              : `${besideMine ? notMine : `The key published at ${name} is not this server's`}, but this server does not sign for ${ctx.domain}: it is likely the key of the provider that sends its mail. Left as it is.`) + remark,
            ev,
            { subject: sel },
          ),
        );
      } else if (isServer && c.class === 'stale') {
        out.push(
          makeFinding(
            'dkim',
            'dkim.key-mismatch',
            'fail',
            `${notMine} — most likely the previous host's${
              delivery?.known ? ` (${ctx.domain}'s mail is delivered to ${delivery.provider}, which ${signsWithSelectors(delivery.selectors)}, not ${sel})` : ''
            }. ${staleFails(verifiesBeside(j), rec.testing)}`,
            ev,
            planWrites() ? { subject: sel, classification: c, fix: 'dkim' } : { subject: sel, classification: c },
          ),
        );
      } else if (refusal) {
        // The right key in a record verifiers ignore for this server's signatures (RFC 6376 §3.6.1 h=): as good as
        // a key that does not match. The fix republishes the key without h=.
        out.push(
          makeFinding(
            'dkim',
            'dkim.key-mismatch',
            dkim.signing ? 'fail' : 'warn',
            verifiesBeside(j)
              ? `${name} publishes the key this server signs with, but its ${refusal.text}: ${dkim.signing ? '' : 'once signing is on, '}a message this server signs fails DKIM whenever verifiers read this record rather than the key published beside it without h=. Remove this record.`
              : `${name} publishes the key this server signs with, but its ${refusal.text}: ${dkim.signing ? 'every message this server signs fails DKIM' : 'once signing is on, every message this server signs fails DKIM'}. Publish the key without h=.`,
            ev,
            planWrites() ? { subject: sel, classification: c, fix: 'dkim' } : { subject: sel, classification: c },
          ),
        );
      } else if (isServer && c.class === 'this-server') {
        out.push(makeFinding('dkim', 'dkim.ok', 'pass', `${name} publishes the key this server signs with.`, ev, { subject: sel, classification: c }));
        // The right key, in a record RFC 6376 lets verifiers use but widely deployed ones refuse (a bare RSAPublicKey,
        // g= other than *): still dkim.ok — dkimpy and the RFC verify — with a warning, and the fix where it rewrites
        // the record (keyRecordProblem makes the plan republish the key).
        const refusals = verifierRefusals(rec);
        if (refusals.length) {
          const how = republishedAs(refusals);
          out.push(
            makeFinding(
              'dkim',
              'dkim.compat',
              'warn',
              `${name} publishes the key this server signs with, but ${refusals.map((p) => p.text).join('; and ')}.${
                planWrites() ? ` The DKIM fix republishes the key ${how}.` : ` The DKIM fix does not rewrite the record here: republish the key ${how} by hand.`
              }`,
              ev,
              subjFix(),
            ),
          );
        }
      } else if (isServer && !dkim.publicKey) {
        // The server's own selector, and no key of the server's to compare with: not "another selector" (the review).
        // dkim.key-mismatch is the rule that compares the key published at the server's selector with the one it signs
        // with (as dkim.missing says of an empty selector, "signs … with a key mailhealth cannot read here"): unknown
        // while the panel signs with a key it does not hand over — the mail may pass or fail, and the plan is blocked
        // with "publish the DKIM record the panel shows" —, info while it does not sign (nothing it sends fails), with
        // what the fix does to the key.
        out.push(await noServerKey(ctx, name, sel, c, ev, { planWrites: planWrites(), path: fixPath(), kept, several: all.length > 1, noMail }, remark));
      } else {
        const left = c.class === 'stale' ? ' Most likely a previous host left it: nothing signs with it here.' : '';
        out.push(makeFinding('dkim', 'dkim.other-selector', 'info', `A DKIM key is published at ${name}: ${c.reason}.${left}${remark}`, ev, { subject: sel, classification: c }));
      }
      // What the fix does to this record: the server's own key is republished as it is (t=y and h= dropped), any other
      // key is replaced by the server's, or by a 2048-bit key the panel generates when the server has none. Never while
      // a key there is left alone (planWrites is false then).
      const rewritten = planWrites;
      const grade = gradeKey(rec.bits, rec.keyType);
      // A previous host's key at another selector: nothing signs with it here (dkim.other-selector says so, as info);
      // how weak it is or that it is in testing mode concerns no mail of this domain's, so no warning of its own.
      const leftover = !isServer && c.class === 'stale';
      if (grade !== 'ok' && !leftover) {
        // Only a replacement by a stronger key fixes a weak one. The fix never makes a new key while the server has
        // one (the panel's key generation does not replace a key on every panel, and mail signed with the old key
        // would fail meanwhile): for the server's own key, the message says how to get a new one.
        const own = c.class === 'this-server';
        const stronger = !own && rewritten() && (dkim.publicKey ? serverKeyGrade(dkim.publicKey) === 'ok' : true);
        const why = grade === 'fail' ? 'receivers ignore keys under 1024 bits' : 'use 2048 bits (RFC 8301)';
        const how = own
          ? ` It is the key this server signs with: have the panel make a new 2048-bit DKIM key for ${ctx.domain} (in its DKIM settings), then run the DKIM fix to publish it.`
          : '';
        out.push(makeFinding('dkim', 'dkim.weak-key', grade, `The key at ${name} is ${rec.bits ?? 'of unknown'} bits: ${why}.${how}`, ev, stronger ? subjFix() : { subject: sel }));
      }
      // Not for a key at the server's selector that is not this server's and that the fix replaces: nothing here signs
      // with it, and dkim.key-mismatch says what it does (the review: dkim.testing described a key the fix replaces).
      const replaced = isServer && c.class !== 'this-server' && !kept && rewritten();
      if (rec.testing && !leftover && !replaced) {
        // Verifiers read one record at the selector: with others there that are not in testing mode, only when they read
        // this one.
        const when = all.length > 1 && (all.length > records.length || parsed.some((r) => !r.testing)) ? ' whenever they read this record' : '';
        out.push(
          makeFinding('dkim', 'dkim.testing', 'warn', `The key at ${name} is in testing mode (t=y): receivers treat signed mail as unsigned${when}.`, ev, rewritten() ? subjFix() : { subject: sel }),
        );
      }
    }
    // Signing off is what a domain that declares no mail wants: not a finding then.
    if (isServer && !dkim.signing && (await noMail()).state !== 'no-mail') {
      out.push(
        foreignKept
          ? makeFinding(
              'dkim',
              'dkim.signing-off',
              'warn',
              `DKIM signing is turned off for ${ctx.domain} on this server, and ${name} holds another sender's key, which the DKIM fix leaves alone. If that sender signs with selector ${sel}, this server cannot sign at ${sel} too (only with another selector, where the panel lets you choose one); if the key is a leftover, ${leftoverAdvice(besideMine ? 'published' : 'none')}, then turn DKIM signing on.`,
              ev,
              { subject: sel },
            )
          : signingOff(ctx, name, sel, fixPath()!, ev),
      );
    }
    sayOnce(out, from);
    await withoutFixIfNoMail(out, from, noMail, ctx.domain);
  }
  for (let k = 0; k < spans.length; k++) {
    const { from, name, a } = spans[k];
    await noteLiveElsewhere(ctx, out, { from, to: k + 1 < spans.length ? spans[k + 1].from : out.length }, name, a, (t) => DKIM_LIKE.test(t), 'DKIM record');
  }
  return out;
}

const MAIL: NoMail = { state: 'mail' };

/**
 * Removes, in place, each finding from `from` on that is equal to an earlier one (rule, severity, subject, message,
 * fix, classification). The findings of a selector are said per record, but records that publish one key and that
 * verifiers read alike — copies, or the same key spelt otherwise (p= folded, the tags in another order, v= left out) —
 * are one subject: a domain gets dkim.ok (dkim.weak-key, dkim.testing, dkim.compat…) once for them, as the DKIM plan
 * says its note once. A spelling verifiers read otherwise (v= not first: dkim.malformed) says something else, and is
 * kept.
 */
function sayOnce(out: Finding[], from: number): void {
  const seen = new Set<string>();
  let k = from;
  for (let i = from; i < out.length; i++) {
    const f = out[i];
    const key = JSON.stringify([f.rule, f.severity, f.subject ?? null, f.message, f.fix ?? null, f.classification ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    out[k++] = f;
  }
  out.length = k;
}

/**
 * A domain that declares it sends no mail (src/core/nomail.ts) gets no DKIM key from the fix (its plan is blocked,
 * src/core/plans/dkim.ts decideDkim): the findings from `from` on that offered the fix say so instead. The same while
 * DNS did not say whether it declares that (the plan waits for DNS).
 */
async function withoutFixIfNoMail(out: Finding[], from: number, noMail: () => Promise<NoMail>, domain: string): Promise<void> {
  let offers = false;
  for (let i = from; i < out.length && !offers; i++) offers = out[i].fix === 'dkim';
  if (!offers) return;
  const nm = await noMail();
  if (nm.state === 'mail') return;
  const note =
    nm.state === 'no-mail'
      ? ` The DKIM fix is not offered: ${domain} declares it sends no mail (a null MX, and an SPF record that authorises no server; see spf.no-mail).`
      : ` ${noMailUnknown(domain, nm, 'dkim')}`;
  withoutFix(out, 'dkim', note, from);
}

/**
 * The panel's copy of a DKIM record at `name` stored as a string over 255 bytes (dkim.string-too-long), or null: live
 * DNS cannot carry such a string (a TXT character-string holds at most 255 bytes, RFC 1035 §3.3.14) and BIND refuses to
 * load a zone that holds one, but a panel's zone (the files panel's zone file) can. At the server's selector the DKIM
 * fix rewrites it as strings of at most 255 bytes where its plan over the panel's zone writes the record (the panel's
 * DNS is the live one, and no key there is left alone: decideDkim); elsewhere it is a hand edit.
 */
async function longStrings(ctx: CheckContext, name: string, sel: string, isServer: boolean, ev: Finding['evidence']): Promise<Finding | null> {
  if (!ctx.zone || !ctx.zoneIndex) return null;
  const long = ctx.zoneIndex.at(name, 'TXT').filter((r) => {
    const strings = r.txt ?? [r.value];
    return DKIM_LIKE.test(strings.join('')) && strings.some((c) => Buffer.byteLength(c) > 255);
  });
  if (!long.length) return null;
  const writes = isServer && (await authority(ctx)).state === 'authoritative' && writesRecords((await decideDkim(ctx, ctx.zone.records)).path);
  const longest = Math.max(...long.flatMap((r) => (r.txt ?? [r.value]).map((c) => Buffer.byteLength(c))));
  return makeFinding(
    'dkim',
    'dkim.string-too-long',
    'fail',
    stringTooLongMessage(`the DKIM record at ${name}`, longest, writes ? 'DKIM' : null),
    ev,
    writes ? { subject: sel, fix: 'dkim' } : { subject: sel },
  );
}
