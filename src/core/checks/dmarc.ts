// dmarc: the _dmarc record, its policy, and where its reports go (stale or unauthorised destinations).
import { isSpfRecord } from '../spf/parse.js';
import { externalAuthName, isDmarcRecord, needsExternalAuthorization, organizationalDomain, parseDmarcRecord } from '../dmarc/record.js';
import type { Finding } from '../model.js';
import { describeAnswer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, evidence, liveTxt, makeFinding, moreEvidence } from './util.js';
import { emptyList, filterList } from '../arrays.js';

export async function dmarcCheck(ctx: CheckContext): Promise<Finding[]> {
  const name = `_dmarc.${ctx.domain}`;
  const a = await ctx.resolver.resolve(name, 'TXT');
  const ev = evidence(ctx, name, 'TXT', a);
  if (a.status === 'unknown') return [dnsErrorFinding('dmarc', 'the DMARC record', a, ev)];
  const all = liveTxt(a);
  const records = filterList(all, isDmarcRecord);
  const out: Finding[] = emptyList();
  if (records.length === 0) {
    const org = organizationalDomain(ctx.domain);
    if (org !== ctx.domain) {
      const oa = await ctx.resolver.resolve(`_dmarc.${org}`, 'TXT');
      // The parent's policy may well apply: publishing p=none here would override it, so say nothing until DNS answers.
      if (oa.status === 'unknown') {
        return [dnsErrorFinding('dmarc', `the DMARC record of ${org} (which would apply to ${ctx.domain})`, oa, moreEvidence(ev, { organizational: describeAnswer(oa) }))];
      }
      if (oa.status === 'ok' && liveTxt(oa).some(isDmarcRecord)) {
        return [makeFinding('dmarc', 'dmarc.inherited', 'pass', `${ctx.domain} has no DMARC record of its own; the policy of ${org} applies.`, ev)];
      }
    }
    const spfThere = all.some(isSpfRecord);
    out.push(
      makeFinding(
        'dmarc',
        spfThere ? 'dmarc.syntax' : 'dmarc.missing',
        spfThere ? 'fail' : 'warn',
        spfThere
          ? `An SPF record sits at ${name} where the DMARC record should be.`
          : `${ctx.domain} has no DMARC record: Gmail and Yahoo require one (p=none is enough) from bulk senders, and nobody sends you reports.`,
        ev,
        { fix: 'dmarc' },
      ),
    );
    return out;
  }
  if (records.length > 1) {
    out.push(makeFinding('dmarc', 'dmarc.multiple', 'fail', `${records.length} DMARC records at ${name}: receivers then apply no DMARC policy at all.`, ev, { fix: 'dmarc' }));
  }
  for (const txt of records) {
    const rec = parseDmarcRecord(txt);
    if (rec.errors.length) {
      out.push(makeFinding('dmarc', 'dmarc.syntax', 'fail', `The DMARC record has errors: ${rec.errors.join('; ')}.`, ev, { subject: txt, fix: 'dmarc' }));
    }
    if (rec.warnings.length) {
      out.push(makeFinding('dmarc', 'dmarc.remarks', 'info', `Remarks on the DMARC record: ${rec.warnings.join('; ')}.`, ev, { subject: txt }));
    }
    if (rec.policy === 'none') {
      out.push(makeFinding('dmarc', 'dmarc.policy-none', 'info', 'DMARC policy is p=none (monitoring only): fine to start with; move to quarantine once reports look clean.', ev));
    }
    for (const [tag, uris] of [
      ['rua', rec.rua],
      ['ruf', rec.ruf],
    ] as const) {
      for (const uri of uris) {
        if (uri.scheme !== 'mailto' || !uri.domain) continue;
        const c = await ctx.classifier.reportAddress(uri.address);
        const subject = `${tag}=${uri.raw}`;
        if (c.class === 'stale') {
          out.push(makeFinding('dmarc', 'dmarc.stale-destination', 'warn', `${tag} reports go to ${uri.address} at a previous host (${c.reason}).`, ev, { subject, classification: c, fix: 'dmarc' }));
          continue;
        }
        if (needsExternalAuthorization(ctx.domain, uri.domain)) {
          const authName = externalAuthName(ctx.domain, uri.domain);
          const auth = await ctx.resolver.resolve(authName, 'TXT');
          if (auth.status === 'unknown') {
            out.push(dnsErrorFinding('dmarc', `report authorisation ${authName}`, auth, ev));
            continue;
          }
          if (!liveTxt(auth).some((t) => /^v\s*=\s*DMARC1/i.test(t))) {
            out.push(
              makeFinding(
                'dmarc',
                'dmarc.unauthorized-destination',
                'warn',
                `${tag} reports to ${uri.address} are dropped: ${uri.domain} does not publish ${authName} (RFC 7489 §7.1).`,
                moreEvidence(ev, { authorization: [`${authName}: none`] }),
                { subject, classification: c, fix: 'dmarc' },
              ),
            );
            continue;
          }
        }
        out.push(makeFinding('dmarc', 'dmarc.destination', 'info', `${tag} reports go to ${uri.address}: ${c.reason}.`, ev, { subject, classification: c }));
      }
    }
  }
  if (!out.some((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown')) {
    out.push(makeFinding('dmarc', 'dmarc.ok', 'pass', `DMARC record is valid.`, ev));
  }
  return out;
}
