// mx: where the domain's mail goes, and whether that agrees with the panel's mail routing.
import type { Finding } from '../model.js';
import { aliasesOf } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, evidence, makeFinding, moreEvidence } from './util.js';
import { emptyList } from '../arrays.js';

export async function mxCheck(ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = emptyList();
  const mx = await ctx.resolver.resolve(ctx.domain, 'MX');
  const ev = evidence(ctx, ctx.domain, 'MX', mx, { routing: ctx.settings.routing });
  if (mx.status === 'unknown') return [dnsErrorFinding('mx', 'the MX records', mx, ev)];
  const hosts = mx.status === 'ok' ? mx.records : emptyList<(typeof mx.records)[number]>();
  if (hosts.length === 1 && (hosts[0].exchange === '' || hosts[0].exchange === '.')) {
    out.push(makeFinding('mx', 'mx.null', 'info', `${ctx.domain} publishes a null MX (RFC 7505): it accepts no mail.`, ev));
    if (ctx.settings.routing === 'local') {
      out.push(makeFinding('mx', 'mx.routing-mismatch', 'warn', `The panel delivers ${ctx.domain}'s mail locally, but its null MX tells the world it accepts no mail.`, ev));
    }
    return out;
  }
  if (hosts.length === 0) {
    out.push(
      makeFinding('mx', 'mx.missing', 'warn', `${ctx.domain} has no MX records: senders fall back to its A record (RFC 5321 §5.1), which often is not a mail server.`, ev),
    );
    return out;
  }

  // RFC 7505 §3: a domain that publishes a null MX must publish no other MX — receivers may take either at face value.
  if (hosts.some((h) => h.exchange === '' || h.exchange === '.')) {
    out.push(
      makeFinding('mx', 'mx.null', 'fail', `${ctx.domain} publishes a null MX ("accepts no mail", RFC 7505) beside other MX records: a sender may take either; remove the one that is wrong.`, ev),
    );
  }
  let thisServer = 0;
  let unknownHosts = 0;
  const stale: string[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const m = hosts[i];
    const host = m.exchange;
    if (host === '' || host === '.') continue;
    const a = await ctx.resolver.resolve(host, 'A');
    const aaaa = await ctx.resolver.resolve(host, 'AAAA');
    const known = aliasesOf(ctx.resolver, host, a.status !== 'unknown' ? a : aaaa);
    const aliases = Array.isArray(known) ? known : await known;
    if (aliases.length) {
      out.push(
        makeFinding('mx', 'mx.cname', 'warn', `MX ${host} is an alias (CNAME → ${aliases[0]}); an MX must name a host directly (RFC 2181 §10.3).`, moreEvidence(ev, { cname: aliases }), { subject: host }),
      );
    }
    // No address found and a lookup that got no answer: whether the host has one is unknown (not "no address").
    if (a.status !== 'ok' && aaaa.status !== 'ok' && (a.status === 'unknown' || aaaa.status === 'unknown')) {
      out.push(dnsErrorFinding('mx', `MX host ${host}`, a.status === 'unknown' ? a : aaaa, ev));
      unknownHosts++;
      continue;
    }
    if (a.status !== 'ok' && aaaa.status !== 'ok' && a.status !== 'unknown' && aaaa.status !== 'unknown') {
      out.push(makeFinding('mx', 'mx.unresolvable', 'fail', `MX ${host} has no address (no A/AAAA): mail to ${ctx.domain} cannot be delivered there.`, ev, { subject: host }));
    }
    const c = await ctx.classifier.host(host);
    if (c.class === 'this-server') thisServer++;
    if (c.class === 'stale') {
      stale.push(host);
      if (ctx.settings.routing === 'local') {
        out.push(
          makeFinding(
            'mx',
            'mx.stale',
            'fail',
            `MX ${host} is at a previous host, but this server delivers ${ctx.domain}'s mail locally: incoming mail goes to the old host's mailboxes.`,
            ev,
            { subject: host, classification: c },
          ),
        );
      } else {
        out.push(makeFinding('mx', 'mx.stale', 'warn', `MX ${host} looks like a previous host's (${c.reason}).`, ev, { subject: host, classification: c }));
      }
    } else {
      out.push(makeFinding('mx', 'mx.host', 'info', `MX ${m.priority} ${host}: ${c.reason}.`, ev, { subject: host, classification: c }));
    }
  }
  if (ctx.settings.routing === 'local' && thisServer === 0 && stale.length === 0 && unknownHosts === 0) {
    out.push(
      makeFinding(
        'mx',
        'mx.routing-mismatch',
        'warn',
        `The panel delivers ${ctx.domain}'s mail locally, but no MX points at this server: mail sent from this server to ${ctx.domain} stays here while everyone else's goes to ${hosts.map((h) => h.exchange).join(', ')}. Set the panel's mail routing to remote.`,
        ev,
      ),
    );
  }
  if (ctx.settings.routing === 'remote' && thisServer > 0) {
    out.push(
      makeFinding(
        'mx',
        'mx.routing-mismatch',
        'warn',
        `An MX points at this server, but the panel routes ${ctx.domain}'s mail to a remote exchanger: mail arriving here is not delivered locally. Set the panel's mail routing to local.`,
        ev,
      ),
    );
  }
  if (!out.some((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown')) {
    out.push(makeFinding('mx', 'mx.ok', 'pass', `MX records agree with the panel's mail routing (${ctx.settings.routing}).`, ev));
  }
  return out;
}
