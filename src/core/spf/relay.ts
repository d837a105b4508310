// The SPF include name for a relay (smarthost): shared by the SPF check and the SPF fix, so both agree on what
// authorises a relayed server.
import type { CheckContext } from '../checks/context.js';
import { canonName, registrableDomain } from '../domain.js';
import { joinTxt } from '../resolver.js';
import { isSpfRecord } from './parse.js';

/**
 * The names that may hold a relay's SPF record, in the order cPanel's autodiscovery tries them (cpanel.md §7.2): the
 * relay host, then each dot-suffix down to its registrable domain (never the public suffix itself).
 */
export function relayIncludeCandidates(host: string): string[] {
  const h = canonName(host);
  const org = registrableDomain(h);
  const out = [h];
  if (org === h || !h.endsWith(`.${org}`)) return out;
  for (let n = h; n !== org; ) {
    n = n.slice(n.indexOf('.') + 1);
    out.push(n);
  }
  return out;
}

export type RelayInclude = { host: string } | { none: string[] } | { unknown: string };

/**
 * The name to include for the relay: `include:X` of a name X without an SPF record is a permanent error at every
 * receiver (RFC 7208 §5.2; mail-auth.md §1.2), so the relay host is checked first. A host a mail service documents as its
 * SPF include (the knowledge base, each entry with its source — e.g. relay.mailchannels.net) is used as it is; any
 * other relay host, or the first of its dot-suffixes, must publish exactly one `v=spf1` record.
 */
export async function relayInclude(ctx: Pick<CheckContext, 'resolver' | 'knowledge'>, relayHost: string): Promise<RelayInclude> {
  const host = canonName(relayHost);
  if (ctx.knowledge.providers.some((p) => p.spf.some((s) => canonName(s) === host))) return { host };
  const tried: string[] = [];
  for (const name of relayIncludeCandidates(host)) {
    const a = await ctx.resolver.resolve(name, 'TXT');
    if (a.status === 'unknown') return { unknown: `looking up the SPF record of ${name} (for the relay ${host}) got no answer (${a.error ?? 'timeout or server failure'})` };
    tried.push(name);
    if (a.status === 'ok' && a.records.filter((r) => isSpfRecord(joinTxt(r))).length === 1) return { host: name };
  }
  return { none: tried };
}
