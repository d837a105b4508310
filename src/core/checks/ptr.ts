// ptr: the outbound IPs' reverse DNS, forward-confirmed, against the HELO name; optional DNS blocklists.
import { canonName, registrableDomain } from '../domain.js';
import { cidrContains, isPrivateIp, reverseName } from '../ip.js';
import type { Finding } from '../model.js';
import { describeAnswer, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { dnsErrorFinding, makeFinding } from './util.js';
import { emptyList } from '../arrays.js';
import genericPtrData from '../../knowledge/generic-ptr.json' with { type: 'json' };

/** DNSBL error answers (Spamhaus: 127.255.255.252 typo in the zone name, .254 public resolver, .255 excessive queries). */
const BLOCKLIST_REFUSED = /^127\.255\.255\.25[2-5]$/;

// Generic PTR names (mail-auth.md §5: weak — warn), from src/knowledge/generic-ptr.json (its _note gives the format).
interface GenericPtrData {
  source: string;
  labels: string[];
  addressForms: string[];
}

/** What is wrong with the generic-PTR data (empty when nothing is). */
export function validateGenericPtr(d: GenericPtrData): string[] {
  const errors: string[] = [];
  if (!d.source || !d.source.trim()) errors.push('no source');
  if (!Array.isArray(d.labels) || !d.labels.length) errors.push('no labels');
  for (const l of d.labels ?? []) if (!/^[a-z][a-z0-9-]*[a-z]$/.test(l)) errors.push(`bad label ${JSON.stringify(l)} (lower-case letters, digits, "-")`);
  for (const f of d.addressForms ?? []) {
    const rest = f.replace(/\{(?:[abcd]3?|sep|hex)\}/g, '');
    if (rest || !f) errors.push(`bad address form ${JSON.stringify(f)} (placeholders {a} {b} {c} {d} {a3}…{d3} {sep} {hex} only)`);
  }
  return errors;
}

const GENERIC: GenericPtrData = genericPtrData;
{
  const errors = validateGenericPtr(GENERIC);
  if (errors.length) throw new Error(`src/knowledge/generic-ptr.json: ${errors.join('; ')}`);
}
const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
/** A pool keyword as a whole token of the name (trailing digits allowed: "pool7"). */
const GENERIC_LABEL = new RegExp(`(?:^|[._-])(${GENERIC.labels.map(escapeRe).join('|')})[0-9]*(?=[._-]|$)`);

/**
 * The address forms of one IPv4 address, as one pattern (null for IPv6: judged by labels only). Remembered per address:
 * a bulk audit asks about the same few outbound addresses for every domain.
 */
const addressPatterns = new Map<string, RegExp | null>();
function addressPattern(ip: string): RegExp | null {
  let re = addressPatterns.get(ip);
  if (re === undefined) {
    re = buildAddressPattern(ip);
    if (addressPatterns.size >= 256) addressPatterns.clear();
    addressPatterns.set(ip, re);
  }
  return re;
}
function buildAddressPattern(ip: string): RegExp | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const o = m.slice(1, 5).map(Number);
  const hex = o.map((x) => x.toString(16).padStart(2, '0')).join('');
  const values: Record<string, string> = { sep: '[._-]', hex };
  ['a', 'b', 'c', 'd'].forEach((k, i) => {
    values[k] = `0*${o[i]}`;
    values[`${k}3`] = String(o[i]).padStart(3, '0');
  });
  const forms = GENERIC.addressForms.map((f) => f.replace(/\{([a-z0-9]+)\}/g, (_, k: string) => values[k]));
  return new RegExp(`(?:^|[^0-9a-z])(?:${forms.join('|')})(?![0-9a-z])`, 'i');
}

/**
 * Why a PTR name of `ip` is generic (the network's default name for the address rather than a mail host's own), or
 * null. Only the labels below the name's registrable domain are read.
 */
export function genericPtrReason(name: string, ip: string): string | null {
  const n = canonName(name);
  const org = registrableDomain(n);
  const own = n === org ? '' : n.slice(0, n.length - org.length - 1);
  if (!own) return null;
  const addr = addressPattern(ip);
  if (addr && addr.test(own)) return `it spells out the address ${ip}`;
  const k = GENERIC_LABEL.exec(own);
  if (k) return `"${k[1]}" names an address pool, not a mail host`;
  return null;
}

/** What the forward lookup of a PTR name says that keeps it from resolving back to `ip` (the answer is not `unknown`). */
function forwardSays(a: Answer, ip: string): string {
  if (a.status === 'ok') return `resolves to ${a.records.join(', ')}, not ${ip}`;
  if (a.status === 'nodata') return `has no ${a.type} record`;
  return 'does not exist in DNS (NXDOMAIN)';
}

const resolveBack = (names: readonly string[]) => (names.length > 1 ? 'resolve back' : 'resolves back');

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
  if (!settings.ips.length) {
    out.push(
      makeFinding(
        'ptr',
        'ptr.ip-unknown',
        'unknown',
        `The panel does not say which IP ${ctx.domain}'s mail leaves from (the outbound IP is not known), so its reverse DNS cannot be checked (a PTR that resolves back and matches HELO ${settings.helo}).${settings.relayUnknown ? ` Whether mail leaves through a smarthost is not known either (${settings.relayUnknown}).` : ''}`,
        { panel: ['outbound IPs: not known'], live: [], helo: settings.helo },
      ),
    );
    return out;
  }
  // relay null with relayUnknown: not known whether mail leaves through a smarthost (model.ts). If it does, receivers
  // see the relay's IPs, not this server's: what this server's own reverse DNS lacks is then not known to matter.
  const relayUnknown = settings.relayUnknown;
  for (const ip of settings.ips) {
    const first = out.length;
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
      // Every PTR name that resolves back to the IP: HELO may be any of them.
      const family = ip.includes(':') ? 'AAAA' : 'A';
      const helo = canonName(settings.helo);
      const confirmed: string[] = [];
      let unknown = false;
      // The forward answer of the PTR name that is the HELO name, when the IP reverses to it: PTR and HELO then already
      // agree, and only that name's own address record can be wrong (or not known).
      let heloFwd: Answer | null = null;
      for (const name of ptr.records) {
        const fwd = await ctx.resolver.resolve(name, family);
        if (canonName(name) === helo) heloFwd = fwd;
        if (fwd.status === 'unknown') unknown = true;
        if (fwd.status === 'ok' && fwd.records.some((x) => cidrContains(x, ip))) confirmed.push(name);
      }
      const match = confirmed.find((n) => canonName(n) === helo);
      const heloEv = heloFwd ? { ...ev, live: [...ev.live, ...describeAnswer(heloFwd)] } : ev;
      if (!match && heloFwd?.status === 'unknown') {
        // The HELO name is one of the PTR names and only its way back did not answer: not known, whatever the others say.
        out.push(
          makeFinding(
            'ptr',
            'ptr.dns-error',
            'unknown',
            `${ip} reverses to ${settings.helo}, the server's HELO name${confirmed.length ? ` (and to ${confirmed.join(', ')}, which ${resolveBack(confirmed)} to ${ip})` : ''}, but the lookup of the ${family} record of ${settings.helo} got no answer (DNS ${heloFwd.error ?? 'error'}): whether it resolves back to ${ip} is not known. Nothing is judged until DNS answers.`,
            heloEv,
            { subject: ip },
          ),
        );
      } else if (!confirmed.length) {
        if (unknown) out.push(makeFinding('ptr', 'ptr.dns-error', 'unknown', `Could not forward-confirm the PTR of ${ip} (DNS error).`, ev, { subject: ip }));
        else
          out.push(
            makeFinding(
              'ptr',
              'ptr.mismatch',
              'fail',
              `The PTR of ${ip} (${ptr.records.join(', ')}) does not resolve back to ${ip} (no forward-confirmed reverse DNS): Gmail and other receivers reject or junk mail from such an address (550 5.7.25). ${
                heloFwd
                  ? // The PTR already names the HELO name: asking the IP's owner for it would change nothing.
                    `${ip} already reverses to ${settings.helo}, the server's HELO name, but ${settings.helo} ${forwardSays(heloFwd, ip)}: give ${settings.helo} an ${family} record ${ip} in the DNS of its domain.`
                  : `Give ${ptr.records.join(', ')} an ${family} record ${ip} in the DNS of its domain, or ask the IP's owner (your data centre) to set the PTR of ${ip} to ${settings.helo}, the server's HELO name, and make sure that name resolves to ${ip}.`
              }`,
              heloEv,
              { subject: ip },
            ),
          );
      } else if (!match) {
        const reasons = confirmed.map((n) => genericPtrReason(n, ip));
        const generic = reasons.every((r) => r !== null);
        const own = confirmed.filter((_, i) => reasons[i] === null);
        out.push(
          makeFinding(
            'ptr',
            'ptr.mismatch',
            'warn',
            heloFwd
              ? // HELO is already one of the PTR names: what is wrong is its address record, not the names.
                `The server says HELO ${settings.helo}, and ${ip} reverses to that name, but ${settings.helo} ${forwardSays(heloFwd, ip)}, so it is not forward-confirmed (${ip} reverses to ${confirmed.join(', ')} too, which ${resolveBack(confirmed)} to it): give ${settings.helo} an ${family} record ${ip} in the DNS of its domain${own.length ? `, or use ${own.join(' or ')} as HELO` : ''}.`
              : generic
                ? `The server says HELO ${settings.helo}, but ${ip} reverses to ${confirmed.join(', ')}, a generic name (${reasons[0]}): ask the IP's owner for a PTR name of your own and use that name as HELO.`
                : `The server says HELO ${settings.helo}, but ${ip} reverses to ${confirmed.join(', ')}: make them the same name.`,
            heloEv,
            { subject: ip },
          ),
        );
      } else {
        const generic = genericPtrReason(match, ip);
        if (generic) {
          out.push(
            makeFinding(
              'ptr',
              'ptr.generic',
              'warn',
              `${ip} ↔ ${match} is forward-confirmed and matches HELO, but it is a generic name (${generic}): receivers' filters take such names for dynamic or residential addresses (mail-auth.md §5). Ask the IP's owner (your data centre) for a PTR name of your own — a host name under a domain you control that resolves to ${ip} — and use it as HELO.`,
              ev,
              { subject: ip },
            ),
          );
        } else {
          const others = confirmed.length > 1 ? `; ${ip} also reverses to ${confirmed.filter((n) => n !== match).join(', ')}` : '';
          out.push(makeFinding('ptr', 'ptr.ok', 'pass', `${ip} ↔ ${match} (forward-confirmed, matches HELO${others}).`, ev, { subject: ip }));
        }
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
      } else if (a.status === 'ok' && listed.length > 0)
        out.push(
          makeFinding(
            'ptr',
            'ptr.listed',
            'fail',
            `${ip}, the address this server sends ${ctx.domain}'s mail from, is listed on the blocklist ${bl} (answer ${listed.join(', ')}): receivers that use ${bl} reject or junk its mail. No DNS record of ${ctx.domain} changes that: whoever runs the server (your hosting provider) must stop what got ${ip} listed (a compromised account, a form sending spam) and then ask ${bl} to remove it — ${bl}'s web site says how and what the answer code means.`,
            bev,
            { subject: `${ip} @ ${bl}` },
          ),
        );
      else if (a.status === 'unknown') out.push(dnsErrorFinding('ptr', `blocklist ${bl} for ${ip}`, a, bev));
    }
    if (relayUnknown) {
      for (let k = first; k < out.length; k++) {
        const f = out[k];
        if (f.severity !== 'fail' && f.severity !== 'warn') continue;
        out[k] = {
          ...f,
          severity: 'unknown',
          message: `${f.message} Not judged: whether this server sends through a smarthost is not known (${relayUnknown}) — if it does, receivers see the relay's address and PTR, not ${ip}'s.`,
        };
      }
    }
  }
  return out;
}
