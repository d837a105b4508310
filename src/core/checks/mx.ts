// mx: where the domain's mail goes, and whether that agrees with the panel's mail routing.
import { isUnanswered, serverNetwork } from '../classify.js';
import { canonName, inZone } from '../domain.js';
import { cidrContains, isIpAddress } from '../ip.js';
import type { Classification, Evidence, Finding } from '../model.js';
import { aliasesOf, describeAnswer, resolveAddresses, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { authority, staleNameservers } from './dns.js';
import { dnsErrorFinding, evidence, makeFinding, moreEvidence } from './util.js';
import { emptyList } from '../arrays.js';
import { mxExchange } from '../zone.js';

/** Who answers for the domain in live DNS, asked only when an MX host needs it (an MX that is not this server). */
interface LiveDelegation {
  auth: Awaited<ReturnType<typeof authority>>;
  /** Live nameservers that are not this server's and are a previous host's. */
  staleNs: string[];
  /** The first of those nameservers' classification. */
  stale: Classification | null;
}

async function liveDelegation(ctx: CheckContext): Promise<LiveDelegation> {
  const auth = await authority(ctx);
  if (auth.state !== 'authoritative' && auth.state !== 'not-authoritative') return { auth, staleNs: [], stale: null };
  const mine = new Set(ctx.settings.nameservers.map(canonName));
  const { names, stale } = await staleNameservers(ctx, auth.live.filter((n) => !mine.has(n)));
  return { auth, staleNs: names, stale };
}

function isServerIp(ctx: CheckContext, ip: string): boolean {
  return ctx.settings.ips.some((s) => cidrContains(s, ip));
}

/** The address an MX value spells instead of a name ("192.0.2.1", "[192.0.2.1]", "2001:db8::1"), else null. */
function ipLiteral(exchange: string): string | null {
  const v = canonName(exchange.trim()).replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/, '');
  return isIpAddress(v) ? v : null;
}

/** The addresses of a host that is not this machine: a previous host's (by PTR / zone traces), or not answered. */
async function judgeAddresses(ctx: CheckContext, host: string, ips: readonly string[]): Promise<{ stale?: Classification; unanswered?: string }> {
  let unanswered: string | undefined;
  for (const ip of ips) {
    const c = await ctx.classifier.ip(ip);
    if (c.class === 'stale') return { stale: { ...c, reason: `${host} resolves to ${ip}: ${c.reason}` } };
    if (!unanswered && isUnanswered(c)) unanswered = `${host} resolves to ${ip}, and ${c.reason}`;
  }
  return unanswered ? { unanswered } : {};
}

/**
 * A zone MX value as messages print it: "0 server1.newhost.example." → "0 server1.newhost.example" (the zone's
 * absolute name, spelt without its root dot as every other name in a message is); a null MX "0 ." stays as it is.
 */
function zoneMxText(value: string): string {
  return value.trim().split(/\s+/).join(' ').replace(/(?<=\S)\.$/, '');
}

/** The panel's own MX records, for messages. */
function panelMx(ctx: CheckContext): string {
  if (!ctx.zoneIndex) return 'the panel could not provide its zone';
  const rs = ctx.zoneIndex.at(ctx.domain, 'MX');
  return rs.length ? `MX ${rs.map((r) => zoneMxText(r.value)).join(', ')}` : 'no MX';
}

/**
 * The finding the dns check gives when whose nameservers serve the domain is not known (authority state 'unknown'):
 * dns.authority-unknown when the panel cannot tell whose nameservers these are, dns.dns-error when the NS lookup got
 * no answer — as authorityOf (dns.ts) decided it; messages cite the one the report holds, never dns.not-authoritative.
 */
function unknownAuthorityRule(d: LiveDelegation): string {
  return d.auth.rule ?? 'dns.dns-error';
}

/** The addresses of this server to point a name at in place of `ips` (the same family first), for messages. */
function serverAddresses(ctx: CheckContext, ips: readonly string[]): string[] {
  const own = ctx.settings.ips.filter((s) => isIpAddress(s));
  const v6 = ips.every((ip) => ip.includes(':'));
  const same = own.filter((s) => s.includes(':') === v6);
  return same.length ? same : own;
}

/**
 * "point <host> at this server" for an MX host of the domain's own (mail.<domain>) that resolves to `ips`, a previous
 * host's: the records to change, as the panel's zone holds them (else as they resolve) — in the panel's zone when
 * `servedHere` (else the caller says where the domain's DNS is served).
 */
function pointNameHere(ctx: CheckContext, host: string, ips: readonly string[], servedHere: boolean): string {
  const to = serverAddresses(ctx, ips);
  const target = to.length ? to.join(', ') : "this server's address";
  const records = ctx.zoneIndex ? ctx.zoneIndex.at(host, 'A').concat(ctx.zoneIndex.at(host, 'AAAA')).filter((r) => ips.includes(r.value)) : [];
  if (!records.length) return `point ${host} at this server: its address records (${ips.join(', ')}) must name ${target}`;
  const types = [...new Set(records.map((r) => r.type.toUpperCase()))].join('/');
  return `point ${host} at this server: change its ${types} record${records.length > 1 ? 's' : ''} ${records.map((r) => r.value).join(', ')} to ${target}${servedHere ? " in the panel's zone" : ''}`;
}

/**
 * What to point the MX at, in words: the panel's own MX when it names this server (the live MX differs from it), else a
 * name the panel's zone points at this server (mail.<domain>, then the domain itself), else this server's host name.
 */
async function mxHere(ctx: CheckContext): Promise<string> {
  const index = ctx.zoneIndex;
  if (index) {
    for (const r of index.at(ctx.domain, 'MX')) {
      const h = mxExchange(r);
      if (!h || h === '.') continue;
      const c = await ctx.classifier.host(h);
      if (c.class === 'this-server' && serverNetwork(c) === null) return `as the panel's zone does: ${panelMx(ctx)}`;
    }
    for (const name of [`mail.${ctx.domain}`, ctx.domain]) {
      const at = index.at(name, 'A').concat(index.at(name, 'AAAA')).find((r) => isServerIp(ctx, r.value));
      if (at) return `for example MX 0 ${name}: its ${at.type.toUpperCase()} record in the panel's zone is this server's ${at.value}`;
    }
  }
  return `for example MX 0 ${canonName(ctx.settings.hostname)}, this server's host name`;
}

/**
 * Where the customer changes the domain's own records (its MX, a name of the domain), for messages: the panel's zone
 * while this server's nameservers serve the domain, else the DNS host its live nameservers are — as mx.stale and the
 * publish-elsewhere plans say it (a change in the panel is not seen there). With a leading space.
 */
function whereToChange(ctx: CheckContext, d: LiveDelegation): string {
  switch (d.auth.state) {
    case 'authoritative':
      return " in the panel's zone";
    case 'not-authoritative':
      return ` where ${ctx.domain}'s DNS is served (its live nameservers ${d.auth.live.join(', ')} are not this server's: see dns.not-authoritative — a change in the panel's zone is not seen there)`;
    case 'undelegated':
      return ` in the panel's zone once ${ctx.domain} is delegated to this server's nameservers (see dns.not-authoritative)`;
    default:
      return ` in the DNS that serves ${ctx.domain} (the panel's zone when its nameservers are this server's; see ${unknownAuthorityRule(d)})`;
  }
}

/** Why an MX host that is neither this server nor a previous host's is no mail service the customer is known to use. */
function unplacedWhy(ctx: CheckContext, c: Classification): { why: string; shared: boolean } {
  const p = c.provider ? ctx.knowledge.providers.find((x) => x.id === c.provider) : undefined;
  if (p?.kind === 'shared-infrastructure') return { why: `${p.name}, filtering infrastructure shared by many hosts`, shared: true };
  return { why: c.reason, shared: false };
}

/**
 * What to do about an MX host that is an alias (mx.cname), and where: the alias is the domain's own record when the
 * host is a name of the domain (replace it with the target's addresses), else another domain's — then the MX is what
 * the customer changes.
 */
function cnameAdvice(ctx: CheckContext, host: string, target: string, d: LiveDelegation): string {
  const where = whereToChange(ctx, d);
  if (inZone(host, ctx.domain)) {
    return `Name ${target} in the MX instead of ${host}, or replace the CNAME at ${host} with A/AAAA records of ${target}'s addresses${where}.`;
  }
  return `${host} is not a name of ${ctx.domain}, so its alias is not yours to change: name ${target} in the MX instead${where}.`;
}

/** What to do about an MX host with no address (mx.unresolvable), and where (whereToChange). */
async function noAddressAdvice(ctx: CheckContext, host: string, d: LiveDelegation): Promise<string> {
  const where = whereToChange(ctx, d);
  const local = ctx.settings.routing === 'local';
  if (inZone(host, ctx.domain)) {
    const own = local ? ctx.settings.ips.filter((ip) => isIpAddress(ip)) : [];
    const here = own.length ? ` (this server's ${own.join(', ')}, as the panel delivers ${ctx.domain}'s mail here)` : '';
    return `Give ${host} an A (or AAAA) record with the address of the server that takes ${ctx.domain}'s mail${here}, or name a host that has one in the MX${where}.`;
  }
  const here = local ? ` (the panel delivers ${ctx.domain}'s mail here: ${await mxHere(ctx)})` : '';
  return `${host} is not a name of ${ctx.domain}: if it is no longer where ${ctx.domain}'s mail goes, name the server that takes it in the MX${where}${here}.`;
}

/**
 * mx.missing: the domain has no MX. RFC 5321 §5.1 has senders use the domain's own address records (A or AAAA) as an
 * implicit MX, so what holds depends on them: they are named when there are some; with none mail cannot be delivered;
 * a name that does not exist has neither. A lookup of them that got no answer is no verdict on them: the general
 * wording, saying that whether there are any is not known. (Asked only for a domain without MX; the resolver is the
 * audit's, which keeps its answers.)
 */
async function missingFinding(ctx: CheckContext, mx: Answer<'MX'>, ev: Evidence): Promise<Finding> {
  const d = ctx.domain;
  if (mx.status === 'nxdomain') {
    return makeFinding('mx', 'mx.missing', 'warn', `${d} does not exist in DNS (NXDOMAIN): it has no MX and no address, so mail to ${d} cannot be delivered.`, ev);
  }
  const { a, aaaa } = await resolveAddresses(ctx.resolver, d);
  const more = moreEvidence(ev, { addresses: describeAnswer(a).concat(describeAnswer(aaaa)) });
  const held = (a.status === 'ok' ? a.records.map((ip) => `A ${ip}`) : emptyList<string>()).concat(aaaa.status === 'ok' ? aaaa.records.map((ip) => `AAAA ${ip}`) : emptyList<string>());
  if (held.length) {
    return makeFinding('mx', 'mx.missing', 'warn', `${d} has no MX records: senders fall back to its address records (${held.join(', ')}; RFC 5321 §5.1), which often are not a mail server.`, more);
  }
  const failed = a.status === 'unknown' ? a : aaaa.status === 'unknown' ? aaaa : null;
  if (failed) {
    return makeFinding(
      'mx',
      'mx.missing',
      'warn',
      `${d} has no MX records: senders fall back to its address records (A/AAAA, RFC 5321 §5.1), which often are not a mail server — whether it has any is not known (DNS ${failed.error ?? 'error'} for ${failed.name} ${failed.type}).`,
      more,
    );
  }
  return makeFinding('mx', 'mx.missing', 'warn', `${d} has no MX records and no address (no A/AAAA): mail to ${d} cannot be delivered (RFC 5321 §5.1 falls back to the domain's addresses only).`, more);
}

/**
 * Routing remote, and this server is an MX below another host's (a lower preference is tried first): the usual backup
 * MX — cPanel's Backup Mail Exchanger (routing "secondary": it takes mail only while a higher-priority MX is down),
 * which the cPanel adapter reads as remote (routingOfListMxs) — or an MX left pointing here. Setting the routing to
 * local, the advice for an MX that is this server's first, would keep here the mail meant for the primary whenever it
 * is down. Info, not warn: mailhealth cannot tell the backup from a leftover, a backup is a valid setup that would
 * otherwise carry a warning nothing clears, and while the primary is up mail does not come here either way.
 */
function backupNote(ctx: CheckContext, here: readonly { priority: number; host: string }[], before: readonly { priority: number; host: string }[], ev: Evidence): Finding {
  const mx = (xs: readonly { priority: number; host: string }[]) => xs.map((x) => `MX ${x.priority} ${x.host}`).join(', ');
  const one = here.length === 1;
  return makeFinding(
    'mx',
    'mx.routing-mismatch',
    'info',
    `${mx(here)} ${one ? 'points' : 'point'} at this server, after ${mx(before)} (senders try the lowest preference first, RFC 5321 §5.1), and the panel routes ${ctx.domain}'s mail elsewhere: this server is a lower-priority MX. Nothing is wrong if it is meant as a backup MX (on cPanel, the Backup Mail Exchanger routing, "secondary", which takes ${ctx.domain}'s mail only while a higher-priority MX is down); otherwise remove ${one ? 'that MX' : 'those MX records'}. Do not set the panel's mail routing to local for this: mail sent from this server to ${ctx.domain}, and mail that reaches it while ${before.length > 1 ? 'those MX hosts are' : `${before[0].host} is`} down, would then stay here.`,
    ev,
  );
}

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
    out.push(await missingFinding(ctx, mx, ev));
    return out;
  }

  // RFC 7505 §3: a domain that publishes a null MX must publish no other MX — receivers may take either at face value.
  if (hosts.some((h) => h.exchange === '' || h.exchange === '.')) {
    out.push(
      makeFinding('mx', 'mx.null', 'fail', `${ctx.domain} publishes a null MX ("accepts no mail", RFC 7505) beside other MX records: a sender may take either; remove the one that is wrong.`, ev),
    );
  }
  /** The MX records judged to be this server, and the others (judged: whose host it is was decided): see backupNote. */
  const mineMx: { priority: number; host: string }[] = [];
  const otherMx: { priority: number; host: string; judged: boolean }[] = [];
  /** Hosts that answered, decidedly not this server and no previous host's: where the domain's mail goes instead. */
  const elsewhere: string[] = [];
  /**
   * Those of them that are not a known mail service the customer uses (class keep): shared filtering infrastructure
   * (often the front of the host the domain left), or hosts nothing identifies — with why, for the message.
   */
  const unplaced: { host: string; why: string; shared: boolean }[] = [];
  /** Hosts at this server's own provider (serverNetwork) whose addresses are not this server's: another machine there. */
  const otherMachines: string[] = [];
  /** Hosts that could not be judged because DNS did not answer (addresses or their PTR). */
  let unknownHosts = 0;
  const stale: string[] = [];
  let live: Promise<LiveDelegation> | null = null;
  const delegation = () => (live ??= liveDelegation(ctx));
  const local = ctx.settings.routing === 'local';
  for (let i = 0; i < hosts.length; i++) {
    const m = hosts[i];
    const host = m.exchange;
    if (host === '' || host === '.') continue;
    // RFC 2181 §10.3 (mail-auth.md §5): an MX value is a name, never an address. Senders look the text up as a name.
    const literal = ipLiteral(host);
    if (literal) {
      const mine = isServerIp(ctx, literal);
      // Not this server's address: an MX record that names another host (for backupNote), though no sender can use it.
      if (!mine) otherMx.push({ priority: m.priority, host, judged: true });
      out.push(
        makeFinding(
          'mx',
          'mx.unresolvable',
          'fail',
          `MX ${host} is an IP address${mine ? " (this server's)" : ''}, not a host name: an MX value must be a name with an ${literal.includes(':') ? 'AAAA' : 'A'} record (RFC 2181 §10.3), so senders look "${host}" up as a name and find no address — mail to ${ctx.domain} cannot be delivered there. Publish a name for the address (e.g. mail.${ctx.domain} ${literal.includes(':') ? 'AAAA' : 'A'} ${literal}) and name it in the MX${whereToChange(ctx, await delegation())}.`,
          ev,
          { subject: host },
        ),
      );
      continue;
    }
    const { a, aaaa } = await resolveAddresses(ctx.resolver, host);
    const known = aliasesOf(ctx.resolver, host, a.status !== 'unknown' ? a : aaaa);
    const aliases = Array.isArray(known) ? known : await known;
    if (aliases.length) {
      out.push(
        makeFinding('mx', 'mx.cname', 'warn', `MX ${host} is an alias (CNAME → ${aliases.join(' → ')}); an MX must name a host directly (RFC 2181 §10.3, RFC 5321 §5.1), and some senders refuse to deliver to an alias. ${cnameAdvice(ctx, host, aliases[aliases.length - 1], await delegation())}`, moreEvidence(ev, { cname: aliases }), { subject: host }),
      );
    }
    // No address found and a lookup that got no answer: whether the host has one is unknown (not "no address").
    if (a.status !== 'ok' && aaaa.status !== 'ok' && (a.status === 'unknown' || aaaa.status === 'unknown')) {
      out.push(dnsErrorFinding('mx', `MX host ${host}`, a.status === 'unknown' ? a : aaaa, ev));
      unknownHosts++;
      otherMx.push({ priority: m.priority, host, judged: false });
      continue;
    }
    const noAddress = a.status !== 'ok' && aaaa.status !== 'ok';
    if (noAddress) {
      out.push(makeFinding('mx', 'mx.unresolvable', 'fail', `MX ${host} has no address (no A/AAAA): mail to ${ctx.domain} cannot be delivered there. ${await noAddressAdvice(ctx, host, await delegation())}`, ev, { subject: host }));
    }
    const ips = noAddress ? emptyList<string>() : (a.status === 'ok' ? a.records : emptyList<string>()).concat(aaaa.status === 'ok' ? aaaa.records : emptyList<string>());
    const mine = ips.filter((ip) => isServerIp(ctx, ip));
    const others = mine.length ? ips.filter((ip) => !isServerIp(ctx, ip)) : ips;
    let c = await ctx.classifier.host(host);
    /** Why the host could not be judged (a lookup without an answer), if so. */
    let unanswered = isUnanswered(c) ? c.reason : null;
    let otherMachine = false;
    let fromOldZone: LiveDelegation | null = null;
    /** Addresses of a host that is this server which are a previous host's (round robin left over). */
    const staleAddresses: { ip: string; c: Classification }[] = [];
    // The classifier says whether the host is this server by name (host name, HELO, relay host) or only by where its
    // name is (this server's organisation or provider, its relay's organisation): see serverNetwork.
    const network = c.class === 'this-server' ? serverNetwork(c) : null;
    if (network !== null && ips.length && !mine.length) {
      // This server's own provider names other machines too (mail-auth.md §8: compare with the current host): a name
      // there whose addresses are not this server's is another machine, as classifyIp judges such an address.
      const judged = await judgeAddresses(ctx, host, others);
      if (judged.unanswered) unanswered = judged.unanswered;
      else if (judged.stale) c = judged.stale;
      else {
        c = { class: 'unknown', reason: `${host} is at ${network} but resolves to ${others.join(', ')}, not this server: another machine there` };
        otherMachine = true;
      }
    } else if (c.class === 'this-server' && mine.length && others.length) {
      for (const ip of others) {
        const ci = await ctx.classifier.ip(ip);
        if (ci.class === 'stale') staleAddresses.push({ ip, c: ci });
      }
    }
    if (unanswered) {
      out.push(
        makeFinding('mx', 'mx.dns-error', 'unknown', `Could not tell whose MX ${host} is: ${unanswered}. Nothing is concluded until DNS answers.`, ev, { subject: host, classification: c }),
      );
      unknownHosts++;
      otherMx.push({ priority: m.priority, host, judged: false });
      continue;
    }
    // The live zone is still the previous host's (its nameservers answer for the domain): a name of the domain there
    // resolves to what the old host's copy says — the old host's server, not a foreign mail service.
    if (c.class === 'unknown' && local && !noAddress && !otherMachine && inZone(host, ctx.domain)) {
      const d = await delegation();
      if (d.auth.state === 'not-authoritative' && d.stale) {
        fromOldZone = d;
        c = {
          class: 'stale',
          reason: `${host} resolves to ${ips.join(', ')} in the zone the previous host still serves (live nameservers ${d.auth.live.join(', ')}: ${d.stale.reason})`,
          ...(d.stale.provider ? { provider: d.stale.provider } : {}),
          ...(d.stale.source ? { source: d.stale.source } : {}),
        };
      }
    }
    if (c.class === 'this-server') {
      mineMx.push({ priority: m.priority, host });
    } else otherMx.push({ priority: m.priority, host, judged: true });
    if (c.class === 'stale') {
      stale.push(host);
      if (fromOldZone) {
        out.push(
          makeFinding(
            'mx',
            'mx.stale',
            'fail',
            `MX ${host} (${ips.join(', ')}) comes from the zone the previous host still serves: the live nameservers of ${ctx.domain} are ${fromOldZone.auth.live.join(', ')}, not this server's. Mail to ${ctx.domain} goes to the old host's server while this server delivers it locally. Point the nameservers at this server (see dns.not-authoritative) — the panel's zone names ${panelMx(ctx)}; the panel's mail routing is right as it is.`,
            moreEvidence(ev, { nameservers: fromOldZone.auth.live }),
            { subject: host, classification: c },
          ),
        );
      } else if (local) {
        // Either the MX is left from the previous host, or the customer's mailboxes are still there (the website moved,
        // the mail stayed): which, only the customer knows, so both ways out are given — the classifier keeps that
        // provider's SPF include, DKIM selector and MailChannels id meanwhile (classify.ts liveMxAt).
        const provider = c.provider ? ctx.knowledge.displayName(c.provider) : null;
        const at = provider ? ` (${provider})` : ips.length && inZone(host, ctx.domain) ? ` (${ips.join(', ')})` : '';
        const d = await delegation();
        const elsewhere = d.auth.state === 'not-authoritative';
        const where = elsewhere ? ` where ${ctx.domain}'s DNS is served (its live nameservers ${d.auth.live.join(', ')} are not this server's: see dns.not-authoritative)` : '';
        const here = inZone(host, ctx.domain) && ips.length ? pointNameHere(ctx, host, ips, !elsewhere) : `point the MX at this server (${await mxHere(ctx)})`;
        const kept = provider ? ` Until one of these is done, the SPF, DKIM and lockdown fixes keep ${provider}'s SPF terms, DKIM selectors and MailChannels id, if the records have any, unless you select them.` : '';
        out.push(
          makeFinding(
            'mx',
            'mx.stale',
            'fail',
            `MX ${host}${at} is at a previous host, but this server delivers ${ctx.domain}'s mail locally: incoming mail goes to the old host's mailboxes. If ${ctx.domain}'s mailboxes are on this server, ${here}${where}; if they are still at ${provider ?? 'the previous host'}, set the panel's mail routing for ${ctx.domain} to remote.${kept}`,
            ev,
            { subject: host, classification: c },
          ),
        );
      } else {
        out.push(makeFinding('mx', 'mx.stale', 'warn', `MX ${host} looks like a previous host's (${c.reason}).`, ev, { subject: host, classification: c }));
      }
    } else {
      out.push(makeFinding('mx', 'mx.host', 'info', `MX ${m.priority} ${host}: ${c.reason}.`, ev, { subject: host, classification: c }));
      if (otherMachine) otherMachines.push(`${host} (${others.join(', ')})`);
      else if (c.class !== 'this-server' && !noAddress) {
        elsewhere.push(host);
        if (c.class !== 'keep') unplaced.push({ host, ...unplacedWhy(ctx, c) });
      }
    }
    for (const s of staleAddresses) {
      out.push(
        makeFinding(
          'mx',
          'mx.stale',
          local ? 'fail' : 'warn',
          `MX ${host} resolves to this server (${mine.join(', ')}) and also to ${s.ip}, a previous host's address (${s.c.reason}): senders pick among the addresses, so part of ${ctx.domain}'s mail goes to the old host. Remove ${s.ip} from ${host}'s ${s.ip.includes(':') ? 'AAAA' : 'A'} records.`,
          ev,
          { subject: host, classification: s.c },
        ),
      );
    }
  }
  if (local && mineMx.length === 0 && stale.length === 0 && unknownHosts === 0 && (elsewhere.length > 0 || otherMachines.length > 0)) {
    const where = elsewhere.concat(otherMachines).join(', ');
    const d = await delegation();
    const lead = `The panel delivers ${ctx.domain}'s mail locally, but no MX points at this server (the live MX: ${where})`;
    let message: string;
    // (No NS records while the MX answered says nothing about who serves the MX: judged as served here.)
    if (d.auth.state === 'not-authoritative' || d.auth.state === 'unknown' || d.staleNs.length) {
      // The live MX need not be the panel's: the nameservers that answer decide. Changing the routing would break the
      // mail as soon as the nameservers are fixed.
      if (d.auth.state === 'unknown') {
        // Whose DNS answered is not known: the live MX may be the panel's zone's or another DNS's. Said as that, citing
        // the finding the dns check gives (dns.dns-error or dns.authority-unknown), not dns.not-authoritative, which
        // it does not give then.
        const see = unknownAuthorityRule(d);
        message = `${lead}, and whether this server's nameservers serve ${ctx.domain} is not known (${d.auth.why ?? 'DNS error'}): the live MX may come from another DNS than the panel's zone (${panelMx(ctx)}; see ${see}). Do not change the panel's mail routing for this while that is not known: if the live nameservers turn out not to be this server's and the mail is meant for this server, fix the nameservers or publish the panel's MX where the DNS is served; only if ${where} is where the mail is meant to go, set the routing to remote.`;
      } else {
        const why =
          d.auth.state === 'authoritative'
            ? `some of the live nameservers of ${ctx.domain} (${d.staleNs.join(', ')}) are the previous host's`
            : `the live nameservers of ${ctx.domain} (${d.auth.live.join(', ')}) are not this server's`;
        message = `${lead}, and ${why}: the live MX comes from that DNS, not from the panel's zone (${panelMx(ctx)}). If the mail is meant for this server, fix the nameservers (see dns.not-authoritative) or publish the panel's MX where the DNS is served — do not change the panel's mail routing for this; only if ${where} is where the mail is meant to go, set the routing to remote.`;
      }
    } else if (!elsewhere.length) {
      message = `${lead}: ${where} is another machine of this server's provider. If it is the machine ${ctx.domain} moved from, point the MX at this server (mail there is not delivered here); if it is a filtering service of the provider that forwards to this server, nothing is wrong; only if the mail is meant to be delivered there, set the panel's mail routing to remote.`;
    } else if (unplaced.length) {
      // Shared infrastructure (a filtering front such as SpamExperts, which the previous host may have put in front of
      // its own server) or a host nothing identifies: whether the mail is meant to go there is not known, so both ways
      // out are given — setting the routing to remote alone would keep the customer's mail at the host they left.
      // Why, once per reason (an MX pair at one filtering network shares it).
      const why = new Map<string, string[]>();
      for (const u of unplaced) why.set(u.why, [...(why.get(u.why) ?? []), u.host]);
      const reasons = why.size === 1 ? [...why.keys()] : [...why].map(([w, hs]) => (unplaced.find((u) => u.why === w)?.shared ? `${hs.join(' and ')}: ${w}` : w));
      const one = unplaced.length === 1;
      const every = unplaced.length === elsewhere.length && !otherMachines.length;
      const subject = every ? (one ? 'that MX is' : 'those MX hosts are') : one ? `${unplaced[0].host} is` : `${unplaced.map((u) => u.host).join(', ')} are`;
      const what = `${subject} not a mail service mailhealth knows ${ctx.domain} uses (${reasons.join('; ')})`;
      const shared = unplaced.some((u) => u.shared);
      message = `${lead}: mail sent from this server to ${ctx.domain} stays here while everyone else's goes to ${where}, and ${what}. If ${ctx.domain}'s mailboxes are on this server, point the MX at this server${shared ? ' (if the previous host set up that filtering, it passes the mail on to the old server, not here)' : ''}; only if the mail is really handled at ${where}, set the panel's mail routing to remote.`;
    } else {
      message = `${lead}: mail sent from this server to ${ctx.domain} stays here while everyone else's goes to ${where}. Set the panel's mail routing to remote.`;
    }
    out.push(makeFinding('mx', 'mx.routing-mismatch', 'warn', message, d.auth.live.length ? moreEvidence(ev, { nameservers: d.auth.live }) : ev));
  }
  let backup = false;
  if (ctx.settings.routing === 'remote' && mineMx.length > 0) {
    const first = Math.min(...mineMx.map((x) => x.priority));
    // RFC 5321 §5.1: senders try the lowest preference first. Another host below this server's lowest MX makes this
    // server a lower-priority MX; one that could not be judged (DNS) leaves whether it is another host open.
    const before = otherMx.filter((x) => x.priority < first);
    const judged = before.filter((x) => x.judged);
    if (judged.length) {
      backup = true;
      out.push(backupNote(ctx, mineMx, judged, ev));
    } else if (!before.length) {
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
  }
  // mx.ok says the MX agrees with the routing: not beside a backup note, which leaves that to the customer.
  if (!backup && !out.some((f) => f.severity === 'fail' || f.severity === 'warn' || f.severity === 'unknown')) {
    out.push(makeFinding('mx', 'mx.ok', 'pass', `MX records agree with the panel's mail routing (${ctx.settings.routing}).`, ev));
  }
  return out;
}
