// WHM adapter (WHM API 1, root or reseller): over HTTPS (`Authorization: whm USER:TOKEN`, `/json-api/<func>?api.version=1`)
// or the local `whmapi1 --output=json`. Mail settings come from the server's files when running on it (`root`), else
// from WHM's EmailAuth validators. Facts: shared/reference/cpanel.md §2, §6, §7, §8.
import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { canonName } from '../../../core/domain.js';
import { canonicalKey } from '../../../core/classify.js';
import { parseDkimRecord } from '../../../core/dkim/record.js';
import type { Change, DomainRef, Identity, MailSettings, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError, type ApplyResult, type Panel, type PanelCapabilities } from '../../../core/panel.js';
import { AuthorityBatcher, authorityUnknown, nameserversFromAuthority, readWwwacctNameservers, type AuthorityAnswer } from '../cpanel/authority.js';
import { checkLines, dkimKeyOf, generatedDkimLeft, routingOfListMxs, signingFromValidation } from '../cpanel/index.js';
import { messageText, type Params, type UapiResult } from '../cpanel/uapi.js';
import { decodeZone, massEditError, massEditParams, newSerialOf, touchesDkim, undoGeneratedDkim, zoneFor } from '../cpanel/zonefile.js';
import { errorText, PanelHttpClient, redactSecrets, runCommand } from '../http.js';
import { listedDomain } from '../listed.js';
import { effectiveMailIp, hasCpanelFiles, isPublicIp, mailIpOrWhy, readCpanelServerFiles } from './serverfiles.js';

export { readWwwacctNameservers } from '../cpanel/authority.js';

export interface WhmResult {
  ok: boolean;
  data: unknown;
  reason: string;
}

export interface WhmTransport {
  call(func: string, params?: Params): Promise<WhmResult>;
}

/** Whether a body is WHM's own answer: a WHM API 1 envelope (`metadata`, success or error). */
export const isWhmEnvelope = (body: unknown): boolean => !!body && typeof body === 'object' && !!(body as { metadata?: unknown }).metadata && typeof (body as { metadata?: unknown }).metadata === 'object';

/** WHM API 1 envelope: `metadata.result` 1|0, `metadata.reason`, payload under `data.<key>` (§2). */
export function normaliseWhm(body: unknown, where: string): WhmResult {
  const o = (body && typeof body === 'object' ? body : null) as { metadata?: { result?: unknown; reason?: unknown }; data?: unknown } | null;
  if (!o || !o.metadata) throw new PanelError('other', `${where}: unexpected answer (not a WHM API 1 envelope)`);
  // The reason ends up in messages only: the clients' credentials are left out of it (a panel echoing the request).
  return { ok: Number(o.metadata.result) === 1, data: o.data ?? null, reason: redactSecrets(messageText(o.metadata.reason ?? '')) };
}

/** The WHM API 1 calls mailhealth makes that change something (every call is a POST form, reads too). */
const WHM_WRITES = new Set(['mass_edit_dns_zone', 'enable_dkim', 'ensure_dkim_keys_exist', 'install_dkim_private_keys']);

export class WhmHttp implements WhmTransport {
  constructor(private readonly client: PanelHttpClient) {}
  async call(func: string, params: Params = []): Promise<WhmResult> {
    const form = new URLSearchParams();
    for (const [k, v] of params) form.append(k, v);
    // A write answered by a gateway (502/503/504) or with a body that is not a WHM envelope: PanelError('no-answer')
    // from the client (WHM may have made the change). A 4xx, or WHM's own error envelope, is a refusal.
    const write = WHM_WRITES.has(func);
    const res = await this.client.request({ method: 'POST', path: `/json-api/${encodeURIComponent(func)}`, query: { 'api.version': '1' }, form, write, ...(write ? { panelAnswer: isWhmEnvelope } : {}) });
    if (res.status === 404) throw new PanelError('not-found', `WHM has no function ${func} here (HTTP 404${errorText(res.json, res.text)}); is the URL the WHM port (2087)?`);
    if (res.status >= 400 && res.json === undefined) throw new PanelError('other', `WHM ${func}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    return normaliseWhm(res.json, `WHM ${func}`);
  }
}

export function defaultWhmapiBin(): string {
  return existsSync('/usr/local/cpanel/bin/whmapi1') ? '/usr/local/cpanel/bin/whmapi1' : 'whmapi1';
}

export class WhmCli implements WhmTransport {
  constructor(private readonly bin = defaultWhmapiBin()) {}
  async call(func: string, params: Params = []): Promise<WhmResult> {
    // INFERRED (as for uapi): values URI-encoded in `key=value` argv items.
    // A write: `whmapi1` killed before it exited (timeout, signal) is PanelError('no-answer') from runCommand; one that
    // exits without its JSON answer (it died part-way) leaves the outcome unknown as well.
    const write = WHM_WRITES.has(func);
    const r = await runCommand(this.bin, ['--output=json', func, ...params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`)], { write });
    let body: unknown;
    try {
      body = JSON.parse(r.stdout);
    } catch {
      body = undefined;
    }
    const output = (r.stderr || r.stdout).trim().slice(0, 300);
    if (write && !isWhmEnvelope(body)) throw new PanelError('no-answer', `whmapi1 ${func} did not answer: it exited ${r.code} without its JSON answer: ${output}`);
    if (body === undefined) throw new PanelError('other', `whmapi1 ${func} exited ${r.code} without JSON output: ${output}`);
    return normaliseWhm(body, `whmapi1 ${func}`);
  }
}

export interface WhmOptions {
  transport: WhmTransport;
  /** The WHM user the token / CLI acts as: `root` (admin) or a reseller. The CLI runs as root. */
  user: string;
  /** Filesystem root for server files (default `/`); tests point it at a temp dir; null = not on the server. */
  root?: string | null;
  hostname?: string;
  /**
   * The clock the panel's short-lived answers (the domain list, has_local_authority) are aged by: milliseconds that only
   * go forward — default performance.now(), never the wall clock. An NTP step or an admin setting the clock back would
   * otherwise make a cached answer's age negative, and the answer would be used for as long as the step: a domain moved
   * to another account still in its old owner's scope. Tests pass their own.
   */
  now?: () => number;
}

interface Acct {
  user: string;
  domain: string;
  owner?: string;
}
interface DomainInfo {
  domain: string;
  user: string;
  user_owner?: string;
  domain_type?: string;
  parent_domain?: string;
}

export class WhmPanel implements Panel {
  readonly kind = 'whm';
  readonly capabilities: PanelCapabilities = { serialCheckedWrites: true, generateDkim: true };
  private readonly root: string | null;

  /**
   * has_local_authority, asked in batches during a bulk run (a listing read domain after domain) and for one zone
   * otherwise; see AuthorityBatcher.
   */
  private readonly authority: AuthorityBatcher;

  /** The panel's clock for cache ages (WhmOptions.now): monotonic. */
  private readonly now: () => number;

  constructor(private readonly opts: WhmOptions) {
    this.root = opts.root === undefined ? '/' : opts.root;
    this.now = opts.now ?? (() => performance.now());
    this.authority = new AuthorityBatcher((zones) => this.askAuthority(zones), this.now);
  }

  private async must(func: string, params: Params = []): Promise<unknown> {
    const r = await this.opts.transport.call(func, params);
    if (!r.ok) throw new PanelError('other', `WHM ${func} failed: ${r.reason}`);
    return r.data;
  }

  private async accounts(): Promise<Acct[]> {
    const r = await this.opts.transport.call('listaccts', [['want', 'user,domain,owner']]);
    if (!r.ok) {
      if (/no accounts/i.test(r.reason)) return []; // zero accounts is result=0 "No accounts found." (§6.2)
      throw new PanelError('other', `WHM listaccts failed: ${r.reason}`);
    }
    return accountsOf(r.data).map((a) => ({ ...a, owner: a.owner || 'root' }));
  }

  /** Every domain the WHM caller reaches (WHM filters to a reseller's own accounts server-side, §6.2). */
  private infoCache: { at: number; p: Promise<DomainInfo[]> } | null = null;

  /**
   * Every domain on the server, asked once per few seconds: a bulk audit or a nightly run otherwise fetches the whole
   * list for each domain (N² rows). A failed call is not kept. Aged by the monotonic clock (WhmOptions.now); an age that
   * is not in [0, INFO_TTL_MS) — a clock that did go back all the same — asks again.
   */
  private domainInfo(): Promise<DomainInfo[]> {
    const now = this.now();
    const age = this.infoCache ? now - this.infoCache.at : -1;
    if (this.infoCache && age >= 0 && age < WhmPanel.INFO_TTL_MS) return this.infoCache.p;
    const p = (async () => {
      // An answer of another shape fails (domainInfoOf): never "no domains", which a bulk run takes for every domain
      // gone from the server (QA).
      const listing = domainInfoOf(await this.must('get_domain_info'));
      // A name that is no domain (listedDomain) is left out: never listed, never taken for a zone.
      const out: DomainInfo[] = [];
      for (const d of listing) {
        const domain = listedDomain(d?.domain);
        if (domain) out.push({ ...d, domain, user_owner: d.user_owner || 'root' });
      }
      return out;
    })();
    this.infoCache = { at: now, p };
    p.catch(() => {
      if (this.infoCache?.p === p) this.infoCache = null;
    });
    return p;
  }

  static INFO_TTL_MS = 10_000;

  async listAccounts(): Promise<{ user: string; role: Identity['role']; owner?: string }[]> {
    const accts = await this.accounts();
    const owners = new Set(accts.map((a) => a.owner).filter((o) => o && o !== 'root'));
    const out: { user: string; role: Identity['role']; owner?: string }[] = [];
    if (this.opts.user === 'root') out.push({ user: 'root', role: 'admin' });
    else if (!accts.some((a) => a.user === this.opts.user)) out.push({ user: this.opts.user, role: 'reseller' });
    for (const a of accts) {
      // INFERRED: an account that owns other accounts (or is the reseller the token acts as) is a reseller.
      const isReseller = owners.has(a.user) || (a.user === this.opts.user && this.opts.user !== 'root');
      out.push({ user: a.user, role: isReseller ? 'reseller' : 'customer', ...(a.owner && a.owner !== a.user ? { owner: a.owner } : {}) });
    }
    return out;
  }

  async listDomains(identity: Identity): Promise<DomainRef[]> {
    const all = await this.domainInfo();
    const visible = all.filter((d) => {
      if (identity.role === 'admin') return true;
      if (identity.role === 'reseller') return d.user_owner === identity.user || d.user === identity.user;
      return d.user === identity.user;
    });
    // A bulk run reads these domains one after another: has_local_authority is then asked for them in batches.
    this.authority.listed(`${identity.role}:${identity.user}`, visible.map((d) => d.domain), this.zoneLookupOf(all));
    return visible.map((d) => ({ domain: d.domain, owner: d.user, ...(d.user_owner && d.user_owner !== 'root' && d.user_owner !== d.user ? { reseller: d.user_owner } : {}) }));
  }

  /** zoneLookup over the listing's zones, built once per listing (domainInfo hands out the same list for a while). */
  private zoneLookups = new WeakMap<DomainInfo[], ReturnType<typeof zoneLookup>>();
  private zoneLookupOf(all: DomainInfo[]): ReturnType<typeof zoneLookup> {
    let lookup = this.zoneLookups.get(all);
    if (!lookup) {
      lookup = zoneLookup(all.filter((d) => d.domain_type !== 'sub').map((d) => d.domain));
      this.zoneLookups.set(all, lookup);
    }
    return lookup;
  }

  private async zoneOf(domain: string): Promise<{ zone: string; info: DomainInfo[] }> {
    const info = await this.domainInfo();
    const zones = info.filter((d) => d.domain_type !== 'sub').map((d) => d.domain);
    const zone = zoneFor(domain, zones);
    if (!zone) throw new PanelError('not-found', `${canonName(domain)} is not a domain this WHM user (${this.opts.user}) manages`);
    return { zone, info };
  }

  async readZone(domain: string): Promise<Zone> {
    const { zone } = await this.zoneOf(domain);
    const r = await this.opts.transport.call('parse_dns_zone', [['zone', zone]]);
    if (!r.ok) {
      if (/not exist|no such|not found|do not control|access/i.test(r.reason)) throw new PanelError('not-found', `WHM parse_dns_zone ${zone}: ${r.reason}`);
      throw new PanelError('other', `WHM parse_dns_zone ${zone} failed: ${r.reason}`);
    }
    // The items under data.payload, checked by decodeZone: no list, or an item of another shape, is an error.
    const z = decodeZone(zone, isObject(r.data) ? r.data.payload : undefined, `WHM's answer to parse_dns_zone for ${zone}`);
    if (z.serial === null) throw new PanelError('invalid-zone', `WHM zone ${zone} has no SOA serial`);
    return z;
  }

  /**
   * One domain's item of a WHM EmailAuth validator (WHM answers under `data.payload`, §7), or null when the answer holds
   * none; a failed call or an answer of another shape throws (whmValidatorItem).
   */
  private async emailAuthItem(func: string, domain: string): Promise<Record<string, unknown> | null> {
    return whmValidatorItem(await this.opts.transport.call(func, [['domain', domain]]), func, domain);
  }

  /**
   * One WHM `has_local_authority` call for one or more zones (cpanel.md §5, §10: "always check has_local_authority
   * first"). Several domains go as `domain`, `domain-1`, `domain-2`, … — WHM API 1 docs: "To check multiple domains,
   * duplicate or increment the parameter name … the domain, domain-1, and domain-2 parameters"
   * (https://api.docs.cpanel.net/openapi/whm/operation/has_local_authority); the incremented names also reach
   * `whmapi1` as distinct arguments. Zones are asked about, not subdomains: cPanel lists public nameservers per zone
   * (see nameserversFromAuthority for how the answer is read). Throws when no answer came.
   */
  private async askAuthority(zones: string[]): Promise<AuthorityAnswer> {
    const r = await this.opts.transport.call('has_local_authority', zones.map((z, i): [string, string] => [i ? `domain-${i}` : 'domain', z]));
    return r.ok ? { ok: true, items: authorityItems(r.data) } : { ok: false, reason: r.reason };
  }

  /**
   * Mail routing off the server: `Email::list_mxs` (§8.1) as the cPanel account that owns the domain (get_domain_info
   * `user`), through WHM's `uapi_cpanel` (cpanel.md §1: `cpanel.user`, `cpanel.module`, `cpanel.function`; the UAPI
   * envelope under `data.uapi`, §2), read as the cPanel adapter reads it (routingOfListMxs). A call that fails — WHM's
   * or the UAPI's, an HTTP error, an answer of another shape — throws: never read as "remote", which the audit
   * reported as the panel's setting (QA: mx.routing-mismatch "Set the panel's mail routing to local" from an HTTP 500).
   * A subdomain list_mxs has no item for is "remote", the reading that keeps another provider's records, as on cPanel.
   */
  private async remoteRouting(domain: string, info: DomainInfo[], zone: string): Promise<'local' | 'remote'> {
    const entry = info.find((x) => x.domain === domain) ?? info.find((x) => x.domain === zone);
    if (!entry?.user) throw new PanelError('other', `WHM's domain list names no cPanel account for ${domain}, so its mail routing (Email::list_mxs) cannot be asked`);
    const call = `Email::list_mxs as ${entry.user}`;
    const r = await this.opts.transport.call('uapi_cpanel', [['cpanel.user', entry.user], ['cpanel.module', 'Email'], ['cpanel.function', 'list_mxs'], ['domain', domain]]);
    const routing = routingOfListMxs(uapiOf(r, call), domain);
    if (routing) return routing;
    if (entry.domain === domain && entry.domain_type === 'sub') return 'remote';
    throw whmUnexpected(`uapi_cpanel (${call}) for ${domain}`, `no item for ${domain}`);
  }

  /**
   * Does the domain's zone publish exactly one record at default._domainkey, with this key (what
   * validate_current_dkims calls VALID, §7.4)? A zone that cannot be read counts as publishing it: the validity cache
   * alone then decides (no entry → not signing).
   */
  private async publishesKey(domain: string, publicKey: string): Promise<boolean> {
    let records: ZoneRecord[];
    try {
      records = (await this.readZone(domain)).records;
    } catch {
      return true;
    }
    const name = `default._domainkey.${domain}`;
    const txt = records.filter((r) => canonName(r.name) === name && r.type.toUpperCase() === 'TXT').map((r) => r.txt ?? [r.value]);
    const dkim = txt.filter((t) => /^\s*v\s*=\s*DKIM1|(^|;)\s*p\s*=/i.test(t.join('')));
    if (dkim.length !== 1) return false;
    const k = parseDkimRecord(dkim[0]).publicKey;
    return !!k && canonicalKey(k) === canonicalKey(publicKey);
  }

  async readMailSettings(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    const { zone, info } = await this.zoneOf(d); // a domain this WHM user does not reach is not-found
    // Whose nameservers: WHM's has_local_authority first — when it says this server is the authority, its public
    // nameservers are this server's, also a reseller's branded ones no server-wide list holds; otherwise the server's
    // own from WHM's Basic WebHost Manager Setup (/etc/wwwacct.conf NS…NS4) when we run on the server, for core to
    // compare with the live NS; else none. Never the zone's own NS records: an imported zone, or a copy left here while
    // the domain's NS point elsewhere, lists the nameservers it was given, not this server's.
    const authItem = await this.authority.itemFor(d, zone);
    const serverNs = this.root ? readWwwacctNameservers(this.root) : [];
    const nameservers = nameserversFromAuthority(authItem, serverNs);
    const unknownNs = authorityUnknown(authItem, serverNs);
    if (this.root && hasCpanelFiles(this.root)) {
      const f = readCpanelServerFiles(this.root, d);
      // A server file that exists but cannot be read is never read as absent (no entry, no key, no relay): a value it
      // decides is not known, and the settings are unreadable (core: `unknown`, no fix planned) — except the relay,
      // which the settings can say is not known (relayUnknown), and the routing, which list_mxs then answers.
      const notKnown = (why: string, what: string) => new PanelError('other', `${why}, so ${what} for ${d} is not known`);
      const hostname = this.opts.hostname ?? f.hostname ?? (this.root === '/' ? osHostname() : '');
      // /etc/mailhelo may name another HELO for the domain.
      if (f.unknown.helo) throw notKnown(f.unknown.helo, 'the HELO');
      // Effective mail IP (§8.2): /etc/mailips[domain] → ['*'] → main IP, then NAT-mapped (/var/cpanel/cpnat).
      // An account's dedicated IP (/etc/domainips, listaccts `ip`) is not used for mail.
      const ips = await this.publicMailIp(d, effectiveMailIp(f));
      if (f.unknown.publicKey) throw notKnown(f.unknown.publicKey, "the server's DKIM key");
      if (f.publicKey && f.unknown.validityCache) throw notKnown(f.unknown.validityCache, 'whether Exim signs (the DKIM validity cache)');
      const signsNow = !!f.publicKey && (f.validityCache || !(await this.publishesKey(d, f.publicKey)));
      return {
        domain: d,
        hostname,
        ips,
        helo: f.helo ?? hostname,
        nameservers,
        ...(unknownNs ? { nameserversUnknown: unknownNs } : {}),
        dkim: {
          selector: 'default',
          // §8.4: Exim signs only when /var/cpanel/domain_keys/validity_cache/<domain> exists. A missing entry means
          // "not signing" when the zone already publishes the server's key (cPanel should sign and does not); with
          // another key or none published, cPanel signs as soon as its key is (see signingFromValidation).
          signing: signsNow,
          // Not signing although the key is published: cPanel's own check (startDkimSigning) turns it on.
          ...(f.publicKey && !signsNow ? { startSigning: 'recheck' as const } : {}),
          ...(f.privateKeyPem ? { privateKeyPem: f.privateKeyPem } : {}),
          ...(f.publicKey ? { publicKey: f.publicKey } : {}),
        },
        // A domain in none of /etc/localdomains, /etc/remotedomains, /etc/secondarymx (e.g. before
        // updateuserdomains ran): cPanel's own answer (list_mxs), as off the server — never "local" by default, which
        // would take another provider's MX, includes and keys for a previous host's (cPanel QA).
        routing: f.routing ?? (await this.remoteRouting(d, info, zone)),
        relay: f.relay,
        // /etc/exim.conf.localopts exists but cannot be read: whether mail leaves through a smarthost is not known,
        // never "no relay" (R6: the lockdown check then said the server does not relay through MailChannels).
        ...(f.unknown.relay ? { relayUnknown: f.unknown.relay } : {}),
      };
    }
    // Remote WHM: the EmailAuth validators (WHM variants answer under data.payload, §7). A call that failed, or answered
    // in a shape WHM does not give, is never read as a setting (QA: validate_current_dkims with result 0 read as "no
    // key, not signing" — a false warning, and a DKIM fix that generated keys; a failed PTR check as an empty HELO): the
    // read fails with why (PanelError), core reports the settings unreadable (`unknown`) and plans no fix on them.
    // validate_current_spfs gives the outbound IP only, which validate_current_ptrs gives as well (§7.2, §7.5): its
    // failure alone loses nothing, and is passed over (as on cPanel).
    const spf = await this.emailAuthItem('validate_current_spfs', d).catch((e: unknown) => {
      if (e instanceof PanelError && e.code === 'other') return null;
      throw e;
    });
    const dkim = await this.emailAuthItem('validate_current_dkims', d);
    if (!dkim) throw await this.noItem(d, 'validate_current_dkims');
    // §7.4: `state` always; `expected` the server's key record, empty for NOPUB (no key).
    if (typeof dkim.state !== 'string' || !dkim.state) throw whmUnexpected(`validate_current_dkims for ${d}`, 'an item without a state');
    if (dkim.expected !== undefined && dkim.expected !== null && typeof dkim.expected !== 'string') {
      throw whmUnexpected(`validate_current_dkims for ${d}`, `expected is ${typeof dkim.expected}, not the key record's text`);
    }
    const ptr = await this.emailAuthItem('validate_current_ptrs', d);
    if (!ptr) throw await this.noItem(d, 'validate_current_ptrs');
    if (typeof ptr.helo !== 'string' || !ptr.helo.trim()) throw whmUnexpected(`validate_current_ptrs for ${d}`, 'an item without a helo');
    const publicKey = dkimKeyOf(dkim.expected as string | undefined);
    const ips = [...new Set([spf?.ip_address, ptr.ip_address].filter((x): x is string => typeof x === 'string' && !!x))];
    const helo = ptr.helo;
    const remoteSigns = signingFromValidation(dkim, publicKey);
    return {
      domain: d,
      hostname: this.opts.hostname ?? helo,
      ips,
      helo,
      nameservers,
      ...(unknownNs ? { nameserversUnknown: unknownNs } : {}),
      dkim: { selector: 'default', signing: remoteSigns, ...(publicKey && !remoteSigns ? { startSigning: 'recheck' as const } : {}), ...(publicKey ? { publicKey } : {}) },
      routing: await this.remoteRouting(d, info, zone),
      relay: null, // the smarthost lives in /etc/exim.conf.localopts, readable only on the server: not known here
      relayUnknown: 'the smarthost setting is in /etc/exim.conf.localopts on the server, which the WHM API does not show',
    };
  }

  /**
   * The outbound IP receivers see, from the server files' effective IP (effectiveMailIp): a public or NAT-mapped
   * address as it is; none when the files name none (mailIpOrWhy). A private address the NAT map does not know, or an IP
   * the files cannot tell (one of them unreadable): cPanel's own answer, the public IP validate_current_spfs checks SPF
   * for (§7.2, "NAT-mapped to the public IP"). When WHM cannot give it either — the call fails, or answers with no
   * public address — the outbound IP is not known: PanelError, never the private address (R6: the SPF fix then
   * rewrote SPF to authorise only 10.0.0.5, and nothing authorised the real public IP).
   */
  private async publicMailIp(d: string, eff: ReturnType<typeof effectiveMailIp>): Promise<string[]> {
    const m = mailIpOrWhy(eff);
    if ('ips' in m) return m.ips;
    const answer = await this.emailAuthItem('validate_current_spfs', d).then(
      (item) => item?.ip_address,
      (e: unknown) => new PanelError('other', e instanceof Error ? e.message : String(e)),
    );
    if (typeof answer === 'string' && answer && isPublicIp(answer)) return [answer];
    const whm =
      answer instanceof PanelError
        ? answer.message
        : `WHM's validate_current_spfs gives ${typeof answer === 'string' && answer ? `no public address (${answer})` : 'no address'}`;
    throw new PanelError('other', `the outbound mail IP of ${d} is not known: ${m.why}, and ${whm}`);
  }

  /**
   * Why a validator's answer held no item for `d`: the domain left the WHM user's accounts since the (cached) domain
   * list was read — asked again now: PanelError('not-found') —, else an answer of a shape WHM does not give.
   */
  private async noItem(d: string, func: string): Promise<PanelError> {
    this.infoCache = null;
    const gone = await this.zoneOf(d).then(
      () => false,
      (e: unknown) => e instanceof PanelError && e.code === 'not-found',
    );
    return gone ? new PanelError('not-found', `${d} is no longer a domain this WHM user (${this.opts.user}) manages`) : whmUnexpected(`${func} for ${d}`, `no item for ${d}`);
  }

  /**
   * Start signing with the published key, cPanel's way (dkim.startSigning 'recheck'): have cPanel re-check the
   * published DKIM key (`EmailAuth::validate_current_dkims`), which sets the validity cache
   * Exim needs before it signs (§8.4) when the public record matches the server's key; returns the settings read
   * afterwards (`dkim.signing` tells whether it worked). Changes no DNS record. For a domain whose correct key is
   * published but which cPanel does not sign for yet.
   */
  async startDkimSigning(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    await this.zoneOf(d);
    const r = await this.opts.transport.call('validate_current_dkims', [['domain', d]]);
    if (!r.ok) throw new PanelError('other', `WHM validate_current_dkims for ${d} failed: ${r.reason}`);
    return this.readMailSettings(d);
  }

  async applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    const { zone } = await this.zoneOf(domain);
    if (!/^\d+$/.test(expectedVersion)) throw new PanelError('stale', `version ${JSON.stringify(expectedVersion)} is not a cPanel serial; re-read the zone`);
    // Edits and removes go by line index: the lines are checked to hold the records named just before the write.
    checkLines(zone, await this.readZone(domain), expectedVersion, changes);
    let r: WhmResult;
    try {
      r = await this.opts.transport.call('mass_edit_dns_zone', massEditParams(zone, expectedVersion, changes));
    } finally {
      this.authority.forget(zone); // a new serial: public DNS serves the old one until it catches up (§5)
    }
    if (!r.ok) throw massEditError(zone, r.data, [r.reason], 'WHM');
    const version = newSerialOf(r.data, expectedVersion, `WHM mass_edit_dns_zone for ${zone}`);
    if (touchesDkim(changes)) await this.opts.transport.call('validate_current_dkims', [['domain', canonName(domain)]]).catch(() => undefined);
    return { version };
  }

  async generateDkim(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    const { zone } = await this.zoneOf(d);
    try {
      return await this.generateDkimIn(d, zone);
    } finally {
      this.authority.forget(zone); // enable_dkim (and the undo below) wrote the zone
    }
  }

  private async generateDkimIn(d: string, zone: string): Promise<MailSettings> {
    const before = await this.readZone(d);
    for (const func of ['ensure_dkim_keys_exist', 'enable_dkim']) {
      const r = await this.opts.transport.call(func, [['domain', d]]);
      const item = ((r.data ?? {}) as { payload?: { status?: unknown; msg?: string }[] }).payload?.[0];
      if (!r.ok || (item && Number(item.status) === 0)) throw new PanelError('other', `WHM ${func} for ${d} failed: ${[r.reason, item?.msg].filter(Boolean).join('; ')}`);
    }
    // enable_dkim published default._domainkey itself: take that back, the fix's plan publishes the record. Only the
    // panel's own record: an edit someone made meanwhile stays, and core then refuses the fix (the zone changed). On
    // the server the key file says which key the panel's record carries.
    const after = await this.readZone(d);
    const files = this.root && hasCpanelFiles(this.root) ? readCpanelServerFiles(this.root, d) : null;
    const undo = undoGeneratedDkim(before, after, d, { selector: 'default', publicKey: files?.publicKey ?? null, replacesKey: true });
    if (undo.length) {
      const r = await this.opts.transport.call('mass_edit_dns_zone', massEditParams(zone, after.version, undo));
      if (!r.ok) {
        const e = massEditError(zone, r.data, [r.reason], 'WHM');
        await this.opts.transport.call('validate_current_dkims', [['domain', d]]).catch(() => undefined);
        throw new PanelError(e.code, generatedDkimLeft('WHM', d, undo, e.message));
      }
    }
    await this.opts.transport.call('validate_current_dkims', [['domain', d]]).catch(() => undefined);
    this.authority.forget(zone);
    return this.readMailSettings(d);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** What `x` was, where `wanted` ("an object", "a list") was expected: for an unexpected-shape message. */
function shapeOf(x: unknown, wanted: string): string {
  if (x === null || x === undefined) return 'nothing';
  return `${Array.isArray(x) ? 'a list' : isObject(x) ? 'an object' : typeof x} instead of ${wanted}`;
}

/** The end of an unexpected-shape message about a mail-settings call. */
const NOT_A_SETTING = 'so nothing in it was taken as a setting';

/**
 * WHM answered `call` with its envelope (result 1), but its data is not of the shape WHM gives (cpanel.md §6.2, §7):
 * PanelError('other') saying so — never read as "nothing" (no domains, no DKIM key), nor a raw JavaScript error
 * ("object is not iterable") as a finding's text.
 */
export function whmUnexpected(call: string, why: string, consequence = NOT_A_SETTING): PanelError {
  return new PanelError('other', `WHM's answer to ${call} had an unexpected shape (${why}), ${consequence}`);
}

/**
 * get_domain_info's `data.domains[]` (§6.2: `domain`, `user`, `user_owner`, `domain_type`, …), checked: no data, no
 * list, or an entry without its domain and account is PanelError — never "no domains" (QA: a bulk audit then skipped
 * every domain as no longer on the server). An empty list is a server without domains.
 */
export function domainInfoOf(data: unknown): DomainInfo[] {
  const bad = (why: string) => whmUnexpected('get_domain_info', why, "so the server's domains cannot be read from it");
  if (!isObject(data)) throw bad(data === null || data === undefined ? 'no data' : shapeOf(data, 'an object'));
  const list = data.domains;
  if (!Array.isArray(list)) throw bad(list === undefined || list === null ? 'no list of domains' : `domains is ${shapeOf(list, 'a list')}`);
  list.forEach((d: unknown, i) => {
    if (!isObject(d) || typeof d.domain !== 'string' || typeof d.user !== 'string' || !d.user) throw bad(`entry ${i + 1} is not a domain with its account (domain, user)`);
    for (const k of ['user_owner', 'domain_type', 'parent_domain'] as const) {
      if (d[k] !== undefined && d[k] !== null && typeof d[k] !== 'string') throw bad(`entry ${i + 1} has ${k} ${JSON.stringify(d[k])}, not a name`);
    }
  });
  return list as DomainInfo[];
}

/**
 * listaccts' `data.acct[]` (§6.2: `user`, `domain`, `owner`), checked as domainInfoOf: never "no accounts" from an answer
 * of another shape (zero accounts is WHM's result 0 "No accounts found.", handled by the caller).
 */
export function accountsOf(data: unknown): Acct[] {
  const bad = (why: string) => whmUnexpected('listaccts', why, "so the server's accounts cannot be read from it");
  if (!isObject(data)) throw bad(data === null || data === undefined ? 'no data' : shapeOf(data, 'an object'));
  const list = data.acct;
  if (!Array.isArray(list)) throw bad(list === undefined || list === null ? 'no list of accounts' : `acct is ${shapeOf(list, 'a list')}`);
  list.forEach((a: unknown, i) => {
    if (!isObject(a) || typeof a.user !== 'string' || !a.user) throw bad(`entry ${i + 1} is not an account (user)`);
    if (a.owner !== undefined && a.owner !== null && typeof a.owner !== 'string') throw bad(`entry ${i + 1} has owner ${JSON.stringify(a.owner)}, not a user name`);
  });
  return list as Acct[];
}

/**
 * The item for `domain` in the answer of a WHM EmailAuth validator (`func`, §7: `data.payload`, one item per domain
 * asked — DKIM's names `default._domainkey.<domain>`; an item naming no domain counts when it is the only one), or
 * null when the payload holds none. A failed call (result 0), or data of another shape, throws: a failed query is
 * never read as "no key", "not signing" or an empty HELO (QA: the DKIM fix then generated keys on a healthy domain).
 */
export function whmValidatorItem(r: WhmResult, func: string, domain: string): Record<string, unknown> | null {
  const d = canonName(domain);
  const call = `${func} for ${d}`;
  if (!r.ok) throw new PanelError('other', `WHM ${call} failed: ${r.reason || 'no reason given'}`);
  const bad = (why: string) => whmUnexpected(call, why);
  if (!isObject(r.data)) throw bad(r.data === null || r.data === undefined ? 'no data' : shapeOf(r.data, 'an object'));
  const p = r.data.payload;
  if (!Array.isArray(p)) throw bad(p === undefined || p === null ? 'no payload' : `payload is ${shapeOf(p, 'a list')}`);
  if (!p.every(isObject)) throw bad('a payload holding something other than items');
  const items = p as Record<string, unknown>[];
  const named = items.find((x) => typeof x.domain === 'string' && [d, `default._domainkey.${d}`].includes(canonName(x.domain)));
  return named ?? (items.length === 1 && (items[0].domain === undefined || items[0].domain === null) ? items[0] : null);
}

/**
 * The UAPI envelope (`data.uapi`: status, data, errors) of a WHM `uapi_cpanel` answer (§1, §2) as a UapiResult, for
 * the cPanel adapter's readers; a failed WHM call or an answer without it throws (`call` names the UAPI function).
 */
export function uapiOf(r: WhmResult, call: string): UapiResult {
  if (!r.ok) throw new PanelError('other', `WHM uapi_cpanel (${call}) failed: ${r.reason || 'no reason given'}`);
  const uapi = isObject(r.data) ? r.data.uapi : undefined;
  if (!isObject(uapi)) throw whmUnexpected(`uapi_cpanel (${call})`, uapi === undefined || uapi === null ? 'no UAPI answer under data.uapi' : `data.uapi is ${shapeOf(uapi, 'an object')}`);
  const strings = (x: unknown) => (Array.isArray(x) ? x.filter((e): e is string => typeof e === 'string') : typeof x === 'string' && x ? [x] : []);
  return { ok: Number(uapi.status) === 1, data: uapi.data ?? null, errors: strings(uapi.errors).map(redactSecrets), warnings: strings(uapi.warnings).map(redactSecrets) };
}

/**
 * The items of WHM's `has_local_authority`: `data.records` in WHM API 1, one per domain asked, in that order (cPanel
 * source `Whostmgr/API/1/DNS.pm`; https://api.docs.cpanel.net/openapi/whm/operation/has_local_authority), each
 * `{domain, zone, local_authority, nameservers, error}` as in UAPI (§5). `payload` or a bare array are accepted too (envelopes differ between versions, §0).
 */
function authorityItems(data: unknown): Record<string, unknown>[] {
  const d = data as { records?: unknown; payload?: unknown } | unknown[] | null;
  const list = Array.isArray(d) ? d : Array.isArray(d?.records) ? d.records : Array.isArray(d?.payload) ? d.payload : [];
  return list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
}

/**
 * The zone a domain is in among `zones` (the longest one it is or is under, as zoneFor), by its suffixes: a listing of
 * thousands of domains is mapped without comparing each with every zone.
 */
function zoneLookup(zones: readonly string[]): (domain: string) => string | null {
  const set = new Set(zones.map(canonName));
  return (domain) => {
    for (let n = canonName(domain); n; n = n.includes('.') ? n.slice(n.indexOf('.') + 1) : '') if (set.has(n)) return n;
    return null;
  };
}
