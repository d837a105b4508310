// ptr: the outbound IPs' reverse DNS, forward-confirmed, against the HELO name; optional DNS blocklists.
import { canonName } from '../domain.js';
import { cidrContains, isPrivateIp, reverseName } from '../ip.js';
import type { Finding } from '../model.js';
import { describeAnswer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, makeFinding } from './util.js';
import { emptyList } from '../arrays.js';

/** DNSBL error answers (Spamhaus: 127.255.255.252 typo in the zone name, .254 public resolver, .255 excessive queries). */
const BLOCKLIST_REFUSED = /^127\.255\.255\.25[2-5]$/;

export async function ptrCheck(ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = emptyList();
  const { settings } = ctx;
  if (settings.relay) {
    out.push(
      makeFinding('ptr', 'ptr.relay', 'info', `Mail leaves through ${ctx.knowledge.displayName(settings.relay.provider)} (${settings.relay.host}): receivers see the relay's IPs and PTR, not this server's.`, {
        panel: [`relay ${settings.relay.host} (${settings.relay.provider})`],
        live: [],
      }),
    );
    return out;
  }
  for (const ip of settings.ips) {
    if (isPrivateIp(ip)) {
      out.push(makeFinding('ptr', 'ptr.private-ip', 'info', `${ip} is a private address: its PTR is not what receivers see (check the NAT address).`, { live: [] }, { subject: ip }));
      continue;
    }
    const ptr = await ctx.resolver.resolve(reverseName(ip), 'PTR');
    const ev = { live: describeAnswer(ptr), helo: settings.helo };
    if (ptr.status === 'unknown') {
      out.push(dnsErrorFinding('ptr', `the PTR of ${ip}`, ptr, ev));
      continue;
    }
    if (ptr.status !== 'ok') {
      out.push(
        makeFinding('ptr', 'ptr.missing', 'fail', `${ip} has no PTR record: Gmail rejects such mail (550 5.7.25). Ask the IP's owner (your data centre) to set it to ${settings.helo}.`, ev, {
          subject: ip,
        }),
      );
    } else {
      let confirmed: string | null = null;
      let unknown = false;
      for (const name of ptr.records) {
        const fwd = await ctx.resolver.resolve(name, ip.includes(':') ? 'AAAA' : 'A');
        if (fwd.status === 'unknown') unknown = true;
        if (fwd.status === 'ok' && fwd.records.some((x) => cidrContains(x, ip))) confirmed = name;
      }
      if (!confirmed) {
        if (unknown) out.push(makeFinding('ptr', 'ptr.dns-error', 'unknown', `Could not forward-confirm the PTR of ${ip} (DNS error).`, ev, { subject: ip }));
        else
          out.push(
            makeFinding('ptr', 'ptr.mismatch', 'fail', `The PTR of ${ip} (${ptr.records.join(', ')}) does not resolve back to ${ip} (no forward-confirmed reverse DNS).`, ev, { subject: ip }),
          );
      } else if (canonName(confirmed) !== canonName(settings.helo)) {
        out.push(
          makeFinding('ptr', 'ptr.mismatch', 'warn', `The server says HELO ${settings.helo}, but ${ip} reverses to ${confirmed}: make them the same name.`, ev, { subject: ip }),
        );
      } else {
        out.push(makeFinding('ptr', 'ptr.ok', 'pass', `${ip} ↔ ${confirmed} (forward-confirmed, matches HELO).`, ev, { subject: ip }));
      }
    }
    for (const bl of ctx.options.blocklists ?? []) {
      if (ip.includes(':')) continue;
      const q = `${reverseName(ip).replace(/\.in-addr\.arpa$/, '')}.${bl}`;
      const a = await ctx.resolver.resolve(q, 'A');
      const bev = { live: describeAnswer(a) };
      const listed = a.status === 'ok' ? a.records.filter((r) => !BLOCKLIST_REFUSED.test(r)) : [];
      if (a.status === 'ok' && a.records.length > 0 && listed.length === 0) {
        // Only 127.255.255.252–255: the blocklist refused to answer (Spamhaus: public/open resolver, too many queries,
        // typo in the zone name) — an error, not a listing.
        out.push(
          makeFinding('ptr', 'ptr.dns-error', 'unknown', `Could not check ${ip} on ${bl}: the blocklist refused the query (${a.records.join(', ')}; e.g. queries through a public resolver are refused).`, bev, {
            subject: `${ip} @ ${bl}`,
          }),
        );
      } else if (a.status === 'ok' && listed.length > 0) out.push(makeFinding('ptr', 'ptr.listed', 'fail', `${ip} is listed on ${bl} (${listed.join(', ')}).`, bev, { subject: `${ip} @ ${bl}` }));
      else if (a.status === 'unknown') out.push(dnsErrorFinding('ptr', `blocklist ${bl} for ${ip}`, a, bev));
    }
  }
  return out;
}
