// dmarc: the _dmarc record, its policy, and where its reports go (stale or unauthorised destinations).
import { quoteShort } from '../text.js';
import { isSpfRecord } from '../spf/parse.js';
import { dmarcVersionCaseOnly, externalAuthName, fitReportUris, isDmarcRecord, needsExternalAuthorization, OPENDMARC, OPENDMARC_MAX_LIST, openDmarcDropsReports, openDmarcIgnores, organizationalDomain, parseDmarcRecord, parseReportUri, policyValue, repairMeantDmarc, repairReportUri, type DmarcPolicy, type ReportUri, type ReportUriFit } from '../dmarc/record.js';
import type { Classification, Finding, ZoneRecord } from '../model.js';
import { aLabelReportItem, defaultReportFits, planDmarc, takeReports, unappliedPolicyTags } from '../plans/dmarc.js';
import { ownedByDmarcFix } from '../plans/owned.js';
import { describeAnswer, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { authority, noteLiveElsewhere } from './dns.js';
import { dnsErrorFinding, evidence, liveTxt, makeFinding, moreEvidence, stringTooLongMessage } from './util.js';
import { emptyList, filterList } from '../arrays.js';

/**
 * What a domain without a DMARC record of its own gets from its organizational domain's record (RFC 7489 §6.6.3: the
 * receiver falls back to `_dmarc.<organizational domain>` and applies its `sp=`, else its `p=`; a record without a
 * valid `p=` but with a valid `rua=` is read as `v=DMARC1; p=none`, its `sp=` not applied). One function for the
 * check and the DMARC fix, so the fix never publishes a record (which would override the inherited policy) where the
 * check says the organizational domain's policy applies.
 * - `self`: the domain is its own organizational domain (nothing to inherit);
 * - `unknown`: the organizational domain's lookup got no answer (timeout/SERVFAIL): nothing is decided;
 * - `none`: no policy comes from there (no DMARC record; `why` when there is one that receivers apply no policy from:
 *   several records, or one without a usable p= and rua=);
 * - `applies`: `policy` applies to the domain, from the record's `tag` (sp, else p).
 */
export type OrganizationalPolicy =
  | { state: 'self' }
  | { state: 'unknown'; org: string; answer: Answer<'TXT'> }
  | { state: 'none'; org: string; answer: Answer<'TXT'>; why?: string }
  | { state: 'applies'; org: string; answer: Answer<'TXT'>; policy: DmarcPolicy; tag: 'sp' | 'p' | 'rua'; record: string };

/**
 * Where an inherited policy comes from, in words: "its sp=reject", "its p=quarantine", or a record without a valid p=
 * (or with an invalid sp=) but with a report address, which receivers apply as p=none (RFC 7489 §6.6.3).
 */
export function inheritedFrom(o: Extract<OrganizationalPolicy, { state: 'applies' }>): string {
  if (o.tag !== 'rua') return `its ${o.tag}=${o.policy}`;
  // Rare (a parent without a usable p=): the record is read again only to name what is not applied.
  const { tags } = parseDmarcRecord(o.record);
  if (policyValue(tags.p) && tags.sp !== undefined) return `its sp=${tags.sp} is not valid, and a record with an invalid sp= but a report address is applied as p=none`;
  const sp = tags.sp !== undefined ? `, so its sp=${tags.sp} is not applied either` : '';
  return `its record has no valid p=${sp}; with a report address receivers apply it as p=none`;
}

export async function organizationalPolicy(ctx: Pick<CheckContext, 'domain' | 'resolver'>): Promise<OrganizationalPolicy> {
  const org = organizationalDomain(ctx.domain);
  if (org === ctx.domain) return { state: 'self' };
  const answer = await ctx.resolver.resolve(`_dmarc.${org}`, 'TXT');
  if (answer.status === 'unknown') return { state: 'unknown', org, answer };
  let records = filterList(liveTxt(answer), isDmarcRecord);
  if (records.length === 0) {
    // Only a record whose version is in lower case (`v=dmarc1`): the parent's own fix repairs it keeping its policy,
    // so a subdomain is judged by that policy rather than given a record of its own.
    const lenient = liveTxt(answer).map(dmarcVersionCaseOnly).filter((t): t is string => t !== null);
    if (lenient.length !== 1) return { state: 'none', org, answer };
    records = lenient;
  }
  if (records.length > 1) return { state: 'none', org, answer, why: `${org} publishes ${records.length} DMARC records, so receivers apply none of them` };
  const rec = parseDmarcRecord(records[0]);
  if (rec.tags.sp !== undefined && !policyValue(rec.tags.sp)) {
    // RFC 7489 §6.6.3: an sp= that is not valid counts as a p= that is not: p=none with a valid report address, else
    // no DMARC processing at all — never the p= beside it.
    if (rec.rua.length > 0) return { state: 'applies', org, answer, policy: 'none', tag: 'rua', record: records[0] };
    return { state: 'none', org, answer, why: `the DMARC record of ${org} has an invalid sp=${rec.tags.sp}, so receivers apply no policy to its subdomains` };
  }
  if (!rec.subdomainPolicy) return { state: 'none', org, answer, why: `the DMARC record of ${org} applies no policy (${rec.errors.join('; ')})` };
  const tag = rec.tags.sp !== undefined && rec.tags.sp.toLowerCase() === rec.subdomainPolicy ? 'sp' : rec.tags.p !== undefined && rec.tags.p.toLowerCase() === rec.subdomainPolicy ? 'p' : 'rua';
  return { state: 'applies', org, answer, policy: rec.subdomainPolicy, tag, record: records[0] };
}

/**
 * The report addresses of a record with errors that the DMARC fix repairs (`rua=reports@example.net` without
 * `mailto:`, URIs separated by spaces, a domain written in Unicode), in words for the dmarc.syntax finding — '' when
 * there are none. Read as the fix reads them (aLabelReportItem, then repairReportUri): an address at `bücher.example`
 * was not named, though the fix keeps it as `xn--bcher-kva.example` — the finding now says so, and why. The fix then
 * checks each repaired address like any other (stale, RFC 7489 §7.1 authorisation).
 */
function reportRepairs(tags: Readonly<Record<string, string>>): string {
  const said: string[] = [];
  let aLabels = false;
  for (const tag of ['rua', 'ruf'] as const) {
    const v = tags[tag];
    if (v === undefined) continue;
    for (const written of v.split(',')) {
      if (!written.trim() || parseReportUri(written).uri) continue;
      const a = aLabelReportItem(written);
      const uris = parseReportUri(a.item).uri ? [a.item.trim()] : repairReportUri(a.item)?.uris;
      if (!uris) continue;
      said.push(`${tag} ${JSON.stringify(written.trim())} as ${uris.join(',')}`);
      if (a.aLabels.length) aLabels = true;
    }
  }
  if (!said.length) return '';
  const why = aLabels ? ' It writes a Unicode domain as its A-label (the same mailbox): report addresses in rua=/ruf= are ASCII only, and receivers\' mail systems cannot send reports to a domain written in Unicode there.' : '';
  return ` The DMARC fix repairs ${said.join(' and ')} (then checks each address like any report address).${why}`;
}

/**
 * What the DMARC fix does with the sp=/np= of a record with errors whose p= is not one policy (`p=block; sp=reject`,
 * no p= at all, p= twice), in words for the dmarc.syntax finding — '' when it has none stricter than none. Receivers
 * apply no sp=/np= from such a record, so the fix writes p=none and drops them (unappliedPolicyTags: the plan's own
 * rule, said in its notes); the finding said nothing of it. (A record without p= and without errors: noPolicyTag.)
 */
function unappliedPolicies(txt: string, several: boolean): string {
  const u = unappliedPolicyTags(txt);
  if (!u) return '';
  const said = u.dropped.map((d) => `${d.tag}=${d.value}`).join(' and ');
  const newly = u.dropped.map((d) => `${d.value.toLowerCase()} to ${d.tag === 'sp' ? 'subdomains' : 'non-existent subdomains'}`).join(' and ');
  const them = u.dropped.length === 1 ? 'it' : 'them';
  // Several DMARC records: receivers apply none of them (dmarc.multiple says so; review: this said p=none beside it).
  const today = several
    ? 'receivers apply no DMARC policy at all while the domain has several DMARC records'
    : u.readAsNone ? 'receivers that follow RFC 7489 apply the record as p=none today, for subdomains too (it has no valid p= but a report address, RFC 7489 §6.6.3)' : 'receivers apply no DMARC policy from the record today';
  return ` The DMARC fix writes p=none and drops ${said}: ${today}, so keeping ${them} would newly apply ${newly}.`;
}

/**
 * The record a report address's domain publishes to accept a domain's reports (RFC 7489 §7.1), as it is written in
 * that domain's DNS: `<domain>._report._dmarc.<report domain> TXT "v=DMARC1"`.
 */
export function authorizationRecord(domain: string, reportDomain: string): string {
  return `${externalAuthName(domain, reportDomain)} TXT "v=DMARC1"`;
}

/**
 * dmarc.unauthorized-destination in words: receivers send no reports to the address until its domain publishes the
 * RFC 7489 §7.1 record, named exactly. A DMARC report service (providers.json kind report-processor) publishes that
 * record for the domains set up in the customer's account there, so that is the step to take; at another service the
 * classifier keeps (the provider the domain's mail is delivered to), that provider is asked to publish it. The DMARC
 * fix keeps the address (the customer chose it, and receivers ignore it until it is authorised): it is said so, since
 * nothing in this zone changes for it.
 */
export function unauthorizedDestination(ctx: Pick<CheckContext, 'domain' | 'knowledge'>, tag: 'rua' | 'ruf', address: string, reportDomain: string, c: Classification): string {
  const record = authorizationRecord(ctx.domain, reportDomain);
  const provider = c.provider ? ctx.knowledge.providers.find((p) => p.id === c.provider) : undefined;
  const remedy =
    provider?.kind === 'report-processor'
      ? `${address} is at ${provider.name}, a DMARC report service, which publishes that record once ${ctx.domain} is set up in your ${provider.name} account: add ${ctx.domain} there (the record it needs: ${record}).`
      : provider && c.class === 'keep'
        ? // Another service the customer uses (the mail provider the domain's mail is delivered to, say): its DNS.
          `${reportDomain} is ${provider.name}'s, a service ${ctx.domain} uses: to receive them, ask ${provider.name} to publish ${record}, or take the address out of the record.`
        : `To receive them, publish ${record} in ${reportDomain}'s DNS (or ask whoever runs ${reportDomain} to), or take the address out of the record.`;
  return `${tag} reports to ${address} are not sent: receivers send DMARC reports to an address outside ${ctx.domain} only when its domain authorises them (RFC 7489 §7.1), and ${reportDomain} does not publish ${externalAuthName(ctx.domain, reportDomain)}. ${remedy} The DMARC fix keeps the address: receivers ignore it until it is authorised.`;
}

export async function dmarcCheck(ctx: CheckContext): Promise<Finding[]> {
  const name = `_dmarc.${ctx.domain}`;
  const a = await ctx.resolver.resolve(name, 'TXT');
  const out = await judgeDmarc(ctx, name, a);
  await noteLiveElsewhere(ctx, out, { from: 0 }, name, a, isDmarcRecord, 'DMARC record');
  return out;
}

/**
 * How a report address is repeated, in words for its finding ('' when it is written once): `times`, how often each
 * DMARC record at the name writes it in `tag` (one count per record, 0 where it has none). Within one record: "It is
 * written twice in rua=." In several records, which of them have it ("It is in rua= of both DMARC records."), not a
 * count over them: a customer reading either record sees it once, and "written twice in rua=" sent them looking for a
 * repeat inside one rua= list that is not there (review). That the records are several is dmarc.multiple's finding.
 */
function repeated(tag: 'rua' | 'ruf', times: readonly number[]): string {
  const counts = times.filter((n) => n > 0);
  const often = (n: number) => (n === 2 ? 'twice' : `${n} times`);
  if (counts.length === 0) return '';
  if (counts.length === 1) return counts[0] > 1 ? `It is written ${often(counts[0])} in ${tag}=.` : '';
  const which = counts.length < times.length ? `${counts.length} of the ${times.length}` : times.length === 2 ? 'both' : `all ${times.length}`;
  const within = counts.filter((n) => n > 1);
  const more = within.length === 0 ? '' : within.length === 1 ? `, ${often(within[0])} in one of them` : `, more than once in ${within.length === counts.length ? 'each' : within.length} of them`;
  return `It is in ${tag}= of ${which} DMARC records${more}.`;
}

async function judgeDmarc(ctx: CheckContext, name: string, a: Answer<'TXT'>): Promise<Finding[]> {
  const ev = evidence(ctx, name, 'TXT', a);
  if (a.status === 'unknown') return [dnsErrorFinding('dmarc', 'the DMARC record', a, ev)];
  const all = liveTxt(a);
  const records = filterList(all, isDmarcRecord);
  const out: Finding[] = emptyList();
  // Panel-side size problem (live DNS cannot carry a >255-byte string, but the panel's copy can), as for SPF: said
  // whatever the live answer holds.
  // (Asked only when the panel's zone holds such a string: no promise per domain for the common case.)
  const long = hasLongString(ctx, name) ? await longStrings(ctx, name, ev) : null;
  if (long) out.push(long);
  if (records.length === 0) {
    const inherited = await organizationalPolicy(ctx);
    // The parent's policy may well apply: publishing p=none here would override it, so say nothing until DNS answers.
    if (inherited.state === 'unknown') {
      const { org, answer: oa } = inherited;
      return [...out, dnsErrorFinding('dmarc', `the DMARC record of ${org} (which would apply to ${ctx.domain})`, oa, moreEvidence(ev, { organizational: describeAnswer(oa) }))];
    }
    if (inherited.state === 'applies') {
      const { org, policy, answer: oa } = inherited;
      // A TXT meant as DMARC that receivers cannot read (` v=DMARC1; p=none`, `v=DMARC1 p=quarantine`) is named: whoever
      // wrote it meant a policy of this domain's own, and receivers apply the parent's instead. Not repaired by the fix:
      // that could weaken the policy that applies now (the parent's reject for a meant p=none).
      const meant = all.find((t) => !isSpfRecord(t) && repairMeantDmarc(t) !== null);
      const lenient = meant !== undefined && dmarcVersionCaseOnly(meant.trimStart()) !== null;
      const unread =
        meant === undefined
          ? ''
          : lenient
            ? ` The TXT record ${JSON.stringify(meant)} at ${name} is meant as DMARC, but receivers following RFC 7489 cannot read it (the version must be "DMARC1", in capitals, first in the record) and apply ${org}'s policy instead, while lenient ones apply it; correct it by hand so that all read the same.`
            : ` The TXT record ${JSON.stringify(meant)} at ${name} is meant as DMARC but receivers cannot read it (a DMARC record must start with "v=DMARC1;" and separate its tags with ";"), so they apply ${org}'s policy instead; correct it by hand if ${ctx.domain} should have a policy of its own.`;
      return [
        ...out,
        makeFinding(
          'dmarc',
          'dmarc.inherited',
          'pass',
          `${ctx.domain} has no DMARC record of its own; the policy of ${org} applies: p=${policy} (${inheritedFrom(inherited)}). A record here would override it.${unread}`,
          moreEvidence(ev, { organizational: describeAnswer(oa) }),
        ),
      ];
    }
    const why = inherited.state === 'none' && inherited.why ? ` (${inherited.why})` : '';
    const spfThere = all.some(isSpfRecord);
    // Meant as DMARC but not readable as one (`v=DMARC1 p=reject` without the ";", `p=reject; v=DMARC1`): receivers
    // see no DMARC record — said as a broken record, not as none at all.
    const meant = spfThere ? undefined : all.find((t) => repairMeantDmarc(t) !== null);
    out.push(
      makeFinding(
        'dmarc',
        spfThere || meant !== undefined ? 'dmarc.syntax' : 'dmarc.missing',
        spfThere || meant !== undefined ? 'fail' : 'warn',
        spfThere
          ? `An SPF record sits at ${name} where the DMARC record should be.`
          : meant !== undefined
            ? `The TXT record at ${name} is meant as DMARC but receivers cannot read it (${JSON.stringify(meant)}): a DMARC record must start with "v=DMARC1;" and separate its tags with ";", so receivers see no DMARC policy for ${ctx.domain}.`
            : `${ctx.domain} has no DMARC record${why}: Gmail and Yahoo require one (p=none is enough) from bulk senders, and nobody sends you reports.`,
        ev,
        { fix: 'dmarc' },
      ),
    );
    return out;
  }
  if (records.length > 1) {
    out.push(makeFinding('dmarc', 'dmarc.multiple', 'fail', `${records.length} DMARC records at ${name}: receivers then apply no DMARC policy at all.`, ev, { fix: 'dmarc' }));
  }
  // Beside a readable record, a TXT meant as DMARC that receivers cannot read (`v=dmarc1; p=none`, `v=DMARC1 p=none`)
  // is discarded by receivers (RFC 7489 §6.6.3): no second record, no policy of its own. The fix removes it.
  for (const txt of all) {
    if (records.includes(txt) || repairMeantDmarc(txt) === null) continue;
    out.push(
      makeFinding(
        'dmarc',
        'dmarc.syntax',
        'warn',
        `The TXT record ${JSON.stringify(txt)} at ${name} is meant as DMARC but receivers cannot read it (a DMARC record must start with "v=DMARC1;", DMARC1 in capitals, and separate its tags with ";"): they discard it and apply the DMARC record beside it — one that read it anyway would see two records and apply none. The fix removes it; its policy is not merged in.`,
        ev,
        { subject: txt, fix: 'dmarc' },
      ),
    );
  }
  // Other TXT records beside the one DMARC record (an SPF record, a verification token, v=DMARC2): RFC 7489 receivers
  // pick the DMARC record out, but OpenDMARC 1.4 reads only the first TXT record of the answer, and DNS servers give
  // them in any order — its receivers then find no DMARC policy whenever another comes first (third-judge QA:
  // test/e2e/dmarc-opendmarc-lookup.test.ts; mailhealth said dmarc.ok). Those meant as DMARC are said above; the fix
  // removes the TXT records it owns at _dmarc (plans/owned.ts), never a stranger's (a token may still be needed).
  if (records.length === 1) {
    const others = all.filter((t) => t !== records[0] && repairMeantDmarc(t) === null);
    if (others.length) {
      const removes = others.filter(ownedByDmarcFix);
      const keeps = others.length - removes.length;
      const shown = others.map((t) => quoteShort(t)).join(', ');
      const fixSays = !keeps
        ? ` The DMARC fix removes ${others.length === 1 ? 'it' : 'them'}.`
        : removes.length
          ? ` The DMARC fix removes ${removes.map((t) => quoteShort(t)).join(', ')}; remove the other${keeps > 1 ? 's' : ''} by hand if nothing needs ${keeps > 1 ? 'them' : 'it'} any more (a verification token that has done its job).`
          : ` The DMARC fix leaves TXT records that are not DMARC's alone: remove ${others.length === 1 ? 'it' : 'them'} by hand if nothing needs ${others.length === 1 ? 'it' : 'them'} any more (a verification token that has done its job).`;
      out.push(
        makeFinding(
          'dmarc',
          'dmarc.compat',
          'warn',
          `Beside the DMARC record, ${name} has ${others.length === 1 ? 'another TXT record' : `${others.length} other TXT records`} (${shown}): receivers that follow RFC 7489 pick the DMARC record out, but ${OPENDMARC} reads only the first TXT record DNS returns there, and DNS servers return them in any order, so its receivers find no DMARC policy whenever another one comes first.${fixSays}`,
          ev,
          removes.length ? { subject: others[0], fix: 'dmarc' } : { subject: others[0] },
        ),
      );
    }
  }
  /** The dmarc.stale-destination findings (their index in `out`), told what the fix does with them once all are known. */
  const staleAt: { i: number; tag: 'rua' | 'ruf' }[] = [];
  /**
   * The finding of each report address (its index in `out`, -1 for a DNS error), by tag and address in lower case as the
   * fix counts them (takeReports), and how often each record writes it (`times`, by the record's index): an address
   * written twice is one destination, said once (and how it is repeated: repeated).
   */
  const said = new Map<string, { i: number; tag: 'rua' | 'ruf'; times: number[] }>();
  /** The dmarc.compat finding of the record (its index in `out`), told what the fix does with its report addresses. */
  let compatAt = -1;
  for (const [r, txt] of records.entries()) {
    // Beside other DMARC records the parser's remarks do not say what receivers would make of this one alone (p=none):
    // they apply none (dmarc.multiple).
    const rec = parseDmarcRecord(txt, { several: records.length > 1 });
    if (rec.errors.length) {
      out.push(makeFinding('dmarc', 'dmarc.syntax', 'fail', `The DMARC record has errors: ${rec.errors.join('; ')}.${reportRepairs(rec.tags)}${unappliedPolicies(txt, records.length > 1)}`, ev, { subject: txt, fix: 'dmarc' }));
    }
    if (rec.warnings.length) {
      out.push(makeFinding('dmarc', 'dmarc.remarks', 'info', `Remarks on the DMARC record: ${rec.warnings.join('; ')}.`, ev, { subject: txt }));
    }
    // A record without p= (RFC 7489 §6.3 requires it) that has a valid rua= — without one it is an error, above — is
    // read as p=none by receivers that follow RFC 7489 (§6.6.3 step 6), for its subdomains too: its sp=/np= are not
    // applied (Mail::DMARC applies its sp= to subdomains all the same). OpenDMARC refuses it ("lacked a required p=
    // entry"): its receivers apply no DMARC policy and send no aggregate reports. A warning (DMARCbis reads a missing p=
    // as p=none) with the fix, which adds p=none — and drops a stricter sp=/np= (never tightened silently: planDmarc),
    // said here with how to keep it, so that the fix a finding offers drops no policy the customer set unannounced.
    // (The audit said dmarc.ok while the fix rewrote the record and dropped its sp=reject.) One record only: several
    // are dmarc.multiple, whose merge says what it does with each.
    if (!rec.errors.length && records.length === 1 && rec.tags.p === undefined && rec.policy !== null) {
      out.push(makeFinding('dmarc', 'dmarc.syntax', 'warn', noPolicyTag(rec.tags), ev, { subject: txt, fix: 'dmarc' }));
    }
    // A record RFC 7489 receivers apply, that OpenDMARC applies no policy from (third-judge QA: its lookup misses
    // `V=DMARC1`, it refuses the record over rf=xml, ri=daily or a report URI of 256 octets or more), or whose reports
    // of a kind it sends to none of the addresses (a rua=/ruf= value of 512 octets or more, which it skips). One record
    // only: several are dmarc.multiple already. What the fix does with the report addresses is said once the previous
    // host's are known (sayCompatFix).
    const ignored = rec.errors.length || records.length > 1 ? [] : openDmarcIgnores(txt);
    const drops = rec.errors.length || records.length > 1 || ignored.length ? [] : openDmarcDropsReports(txt);
    if (ignored.length || drops.length) {
      out.push(
        makeFinding(
          'dmarc',
          'dmarc.compat',
          'warn',
          ignored.length
            ? `Receivers that follow RFC 7489 read the DMARC record, but ${OPENDMARC} applies no DMARC policy from it: ${ignored.join('; and ')}.`
            : `Receivers that follow RFC 7489 read the DMARC record with all its report addresses; ${OPENDMARC} applies its policy, but ${drops.join('; and ')}.`,
          ev,
          { subject: txt, fix: 'dmarc' },
        ),
      );
      compatAt = out.length - 1;
    }
    // One record only: beside several, receivers apply no policy at all, not this record's p=none — dmarc.multiple
    // says so, and the fix's merge note what the one record it leaves will apply. (It said "DMARC policy is p=none
    // (monitoring only)" for one of two records, under dmarc.multiple's "apply no DMARC policy at all".)
    if (rec.policy === 'none' && records.length === 1) {
      out.push(makeFinding('dmarc', 'dmarc.policy-none', 'info', 'DMARC policy is p=none (monitoring only): fine to start with; move to quarantine once reports look clean.', ev));
    }
    for (const [tag, uris] of [
      ['rua', rec.rua],
      ['ruf', rec.ruf],
    ] as const) {
      for (const uri of uris) {
        if (uri.scheme !== 'mailto' || !uri.domain) continue;
        const key = `${tag} ${uri.address.toLowerCase()}`;
        const again = said.get(key);
        if (again) {
          again.times[r]++;
          continue;
        }
        const times = records.map((_, k) => (k === r ? 1 : 0));
        const c = await ctx.classifier.reportAddress(uri.address);
        const subject = `${tag}=${uri.raw}`;
        if (c.class === 'stale') {
          const finding = makeFinding('dmarc', 'dmarc.stale-destination', 'warn', `${tag} reports go to ${uri.address} at a previous host (${c.reason}): the old host receives what receivers report about ${ctx.domain}'s mail, and you do not.`, ev, { subject, classification: c, fix: 'dmarc' });
          out.push(finding);
          staleAt.push({ i: out.length - 1, tag });
          said.set(key, { i: out.length - 1, tag, times });
          continue;
        }
        if (needsExternalAuthorization(ctx.domain, uri.domain)) {
          const authName = externalAuthName(ctx.domain, uri.domain);
          const auth = await ctx.resolver.resolve(authName, 'TXT');
          if (auth.status === 'unknown') {
            out.push(dnsErrorFinding('dmarc', `report authorisation ${authName}`, auth, ev));
            // Said once; not told it is repeated (the finding is about the lookup).
            said.set(key, { i: -1, tag, times });
            continue;
          }
          if (!liveTxt(auth).some((t) => /^v\s*=\s*DMARC1/i.test(t))) {
            // No fix offered: the DMARC fix keeps the address (planDmarc), and what is missing is a record in another
            // domain's DNS, which the message names.
            out.push(
              makeFinding(
                'dmarc',
                'dmarc.unauthorized-destination',
                'warn',
                unauthorizedDestination(ctx, tag, uri.address, uri.domain, c),
                moreEvidence(ev, { authorization: [`${authName}: none`] }),
                { subject, classification: c },
              ),
            );
            said.set(key, { i: out.length - 1, tag, times });
            continue;
          }
        }
        out.push(makeFinding('dmarc', 'dmarc.destination', 'info', `${tag} reports go to ${uri.address}: ${c.reason}.`, ev, { subject, classification: c }));
        said.set(key, { i: out.length - 1, tag, times });
      }
    }
  }
  for (const { i, tag, times } of said.values()) {
    const again = i >= 0 ? repeated(tag, times) : '';
    if (again) out[i] = { ...out[i], message: `${out[i].message} ${again}` };
  }
  if (staleAt.length || compatAt >= 0) {
    const fixed = await fixedReports(ctx, records);
    if (staleAt.length) await sayStaleFix(ctx, fixed, staleAt, out);
    if (compatAt >= 0) await sayCompatFix(ctx, fixed, compatAt, out);
  }
  if (!out.some((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown')) {
    out.push(makeFinding('dmarc', 'dmarc.ok', 'pass', `DMARC record is valid.`, ev));
  }
  return out;
}

/**
 * The panel's copy of the DMARC record stored as a string over 255 bytes (dmarc.string-too-long), or null: live DNS
 * cannot carry such a string (a TXT character-string holds at most 255 bytes, RFC 1035 §3.3.14) and BIND refuses to
 * load a zone that holds one, but a panel's zone (the files panel's zone file) can. The fix is offered only where the
 * DMARC plan rewrites that record: its plan over the panel's zone (the panel's DNS is the live one; elsewhere the plan
 * is over the live records, which never hold such a string) stores it as strings of at most 255 bytes unless it is
 * blocked (an alias at _dmarc). Otherwise it is a hand edit. Asked only when such a string exists (the plan costs DNS).
 */
function isLongDmarc(r: ZoneRecord): boolean {
  const strings = r.txt ?? [r.value];
  // A string of at most 85 UTF-16 units is at most 255 bytes: no byte count for the common short strings.
  return strings.some((c) => c.length > 85 && Buffer.byteLength(c) > 255) && isDmarcRecord(strings.join(''));
}

/** Whether the panel's zone holds a DMARC record at `name` with a string over 255 bytes (longStrings' finding). */
function hasLongString(ctx: CheckContext, name: string): boolean {
  return ctx.zone !== null && ctx.zoneIndex !== null && ctx.zoneIndex.at(name, 'TXT').some(isLongDmarc);
}

async function longStrings(ctx: CheckContext, name: string, ev: Finding['evidence']): Promise<Finding | null> {
  if (!ctx.zone || !ctx.zoneIndex) return null;
  const long = ctx.zoneIndex.at(name, 'TXT').filter(isLongDmarc);
  if (!long.length) return null;
  let writes = false;
  try {
    if ((await authority(ctx)).state === 'authoritative') {
      const plan = await planDmarc(ctx, ctx.zone.records);
      // Every such record edited or removed (the plan writes the record it leaves with dmarcStrings).
      writes = !plan.blocked && long.every((r) => plan.changes.some((c) => c.before === r));
    }
  } catch {
    // A resolver that rejects decides nothing: no fix offered (the plan would not be made either).
    writes = false;
  }
  const longest = Math.max(...long.flatMap((r) => (r.txt ?? [r.value]).map((c) => Buffer.byteLength(c))));
  return makeFinding(
    'dmarc',
    'dmarc.string-too-long',
    'fail',
    stringTooLongMessage(`the DMARC record at ${name}`, longest, writes ? 'DMARC' : null),
    ev,
    writes ? { fix: 'dmarc' } : {},
  );
}

/** How a report URI is named in messages: a mailto: by its mailbox, any other URI as written. */
function shownAddress(uri: ReportUri): string {
  return uri.scheme === 'mailto' && uri.domain ? uri.address : uri.raw;
}

/** shownAddress of a URI as written (one the parser reads; else the text itself). */
function shown(raw: string): string {
  const uri = parseReportUri(raw).uri;
  return uri ? shownAddress(uri) : raw;
}

/** What the DMARC fix writes for a tag (fixedReports): fitReportUris' answer, and the addresses (lower case) it drops as a previous host's. */
type FixedReports = ReportUriFit & { dropped: Set<string> };

/**
 * The report addresses the DMARC fix writes for each tag, from the records as they are: the plan's own reading of them
 * (takeReports: every record's addresses in order, repaired and written with A-labels as the fix writes them, each
 * once, a previous host's dropped), fitted to OpenDMARC's limits (fitReportUris) — so that what a finding says the fix
 * keeps is what it keeps. (A reading of its own here said the fix sends the reports to postmaster@ where it keeps an
 * address whose domain is written in Unicode, as its A-label.)
 */
async function fixedReports(ctx: CheckContext, records: readonly string[]): Promise<Record<'rua' | 'ruf', FixedReports>> {
  const out = {} as Record<'rua' | 'ruf', FixedReports>;
  for (const tag of ['rua', 'ruf'] as const) {
    const dropped = new Set<string>();
    const drops = async (uri: ReportUri) => {
      const stale = (await ctx.classifier.reportAddress(uri.address)).class === 'stale';
      if (stale) dropped.add(uri.address.toLowerCase());
      return stale;
    };
    const { kept } = await takeReports(tag, records, drops, () => {});
    out[tag] = { ...fitReportUris(kept), dropped };
  }
  return out;
}

/**
 * Where the DMARC fix sends the aggregate reports of a record none of whose own aggregate addresses it keeps (`gone`:
 * the addresses it drops), in words after "it": postmaster@ the domain — unless that is too long a report URI for
 * OpenDMARC (defaultReportFits) — or, publishing at another DNS host, the panel's own record's addresses first.
 */
async function ruaFallback(ctx: CheckContext, gone: ReadonlySet<string>): Promise<string> {
  const postmaster = defaultReportFits(ctx.domain) ? `postmaster@${ctx.domain}` : null;
  const panelRua = ctx.zoneIndex
    ? ctx.zoneIndex
        .at(`_dmarc.${ctx.domain}`, 'TXT')
        .map((r) => (r.txt ? r.txt.join('') : r.value))
        .some((t) => isDmarcRecord(t) && parseDmarcRecord(t).rua.some((u) => !gone.has(shownAddress(u).toLowerCase())))
    : false;
  // Only the publish-elsewhere plan reads the panel's record (src/core/plans/index.ts): asked only when it has an
  // address of its own to offer.
  let elsewhere = false;
  if (panelRua) {
    try {
      elsewhere = (await authority(ctx)).state !== 'authoritative';
    } catch {
      elsewhere = false;
    }
  }
  if (elsewhere) return `takes the panel's DMARC record's report addresses (or, if none of those is left either, ${postmaster ?? 'asks for no aggregate reports'})`;
  return postmaster ? `sends the aggregate reports to ${postmaster} instead` : `asks for no aggregate reports (postmaster@${ctx.domain} is too long a report URI for OpenDMARC)`;
}

/**
 * What the DMARC fix does with a previous host's report address (src/core/plans/dmarc.ts): drops it, keeps every other
 * address of the tag that fits OpenDMARC's limits (the records merged into one), and — where no aggregate address is
 * left — sends the reports to postmaster@ the domain; publishing at another DNS host, it takes the panel's own record's
 * addresses first. A ruf tag with none left goes: no failure reports are asked for. Said on each stale finding, from
 * what the fix writes (fixedReports).
 */
async function sayStaleFix(ctx: CheckContext, fixed: Record<'rua' | 'ruf', FixedReports>, staleAt: readonly { i: number; tag: 'rua' | 'ruf' }[], out: Finding[]): Promise<void> {
  for (const { i, tag } of staleAt) {
    const others = fixed[tag].kept.map(shown);
    let says: string;
    if (others.length) says = `The DMARC fix drops it and keeps ${others.join(', ')}.`;
    else if (tag === 'ruf') says = 'The DMARC fix drops it; with no other ruf address left, the record asks for no failure reports.';
    else {
      const gone = new Set([...fixed.rua.dropped, ...fixed.rua.tooLong.map((t) => shown(t.uri).toLowerCase())]);
      says = `The DMARC fix drops it; as no other aggregate address is left, it ${await ruaFallback(ctx, gone)}.`;
    }
    out[i] = { ...out[i], message: `${out[i].message} ${says}` };
  }
}

/**
 * dmarc.syntax (warn) in words for a record without p= that receivers following RFC 7489 read as p=none (it has a valid
 * rua=): what receivers do with it, and what the DMARC fix does — it adds p=none and drops the record's policy tags
 * stricter than none (sp=, np=), which those receivers do not apply today (planDmarc: keeping one would newly enforce
 * it), saying how to keep them.
 */
function noPolicyTag(tags: Readonly<Record<string, string>>): string {
  const unapplied: { tag: 'sp' | 'np'; written: string; policy: DmarcPolicy }[] = [];
  for (const tag of ['sp', 'np'] as const) {
    const policy = policyValue(tags[tag]);
    if (policy && policy !== 'none') unapplied.push({ tag, written: tags[tag], policy });
  }
  const said = unapplied.map((u) => `${u.tag}=${u.written}`).join(' and ');
  const sp = unapplied.find((u) => u.tag === 'sp');
  const them = unapplied.length === 1 ? 'it' : 'them';
  const not = unapplied.length
    ? `, for its subdomains too: its ${said} ${unapplied.length === 1 ? 'is' : 'are'} not applied${sp ? ` (Mail::DMARC applies sp=${sp.written} to subdomains all the same)` : ''}`
    : '';
  const newly = unapplied.map((u) => `${u.policy} to ${u.tag === 'sp' ? 'subdomains' : 'non-existent subdomains'}`).join(' and ');
  const drops = unapplied.length
    ? `; it drops ${said}, which they do not apply (keeping ${them} would newly apply ${newly}): to keep ${them}, add p= yourself (p=none, right after v=DMARC1) instead of applying the fix`
    : '';
  return `The DMARC record has no p= tag, which RFC 7489 requires: receivers that follow it apply the record as p=none, since it has a report address (RFC 7489 §6.6.3)${not}. ${OPENDMARC} refuses a record without p=: its receivers apply no DMARC policy from it and send no aggregate reports. The DMARC fix adds p=none, the policy receivers following RFC 7489 apply today${drops}.`;
}

/**
 * What the DMARC fix does with the report addresses of a record dmarc.compat warns about, appended to that finding:
 * it keeps them all (the version or an rf=/ri= value was the problem, or only the spaces of a long list), or it says
 * which ones OpenDMARC's limits cost (fitReportUris, the fix's own rule): a URI written without its !size suffix, one
 * over 255 octets dropped, the ones that do not fit in the 511 octets of a list after those before them dropped.
 */
async function sayCompatFix(ctx: CheckContext, fixed: Record<'rua' | 'ruf', FixedReports>, i: number, out: Finding[]): Promise<void> {
  const parts: string[] = [];
  for (const tag of ['rua', 'ruf'] as const) {
    const f = fixed[tag];
    for (const s of f.shortened) parts.push(`writes ${tag} ${quoteShort(s.to)} without its !size suffix (${s.octets} octets with it)`);
    for (const t of f.tooLong) parts.push(`drops ${tag} ${quoteShort(t.uri)} (${t.octets} octets, even without a !size suffix)`);
    if (f.left.length) parts.push(`drops ${tag} ${f.left.join(', ')}, which do not fit in the ${OPENDMARC_MAX_LIST} octets of the list after the addresses written before ${f.left.length === 1 ? 'it' : 'them'}`);
  }
  let says = parts.length
    ? ` The DMARC fix writes the record so that it reads it, keeping its policy and the report addresses that fit: it ${parts.join('; it ')}`
    : ' The DMARC fix writes the record so that it reads it, keeping its policy and report addresses';
  // Every aggregate address of the record dropped for its length (with a previous host's, said on that finding too).
  if (!fixed.rua.kept.length && fixed.rua.tooLong.length) {
    const gone = new Set([...fixed.rua.dropped, ...fixed.rua.tooLong.map((t) => shown(t.uri).toLowerCase())]);
    says += `; with no aggregate address of the record left, it ${await ruaFallback(ctx, gone)}`;
  }
  out[i] = { ...out[i], message: `${out[i].message}${says}.` };
}
