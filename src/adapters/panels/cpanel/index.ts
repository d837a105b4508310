// cPanel user-level adapter (UAPI). One adapter, two transports (HTTPS with an API token, or the local `uapi` CLI).
// Facts: shared/reference/cpanel.md §3–§8. The adapter acts as ONE cPanel account: it can see only that account.
import { canonName } from '../../../core/domain.js';
import type { Change, DomainRef, Identity, MailSettings, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError, type ApplyResult, type Panel, type PanelCapabilities } from '../../../core/panel.js';
import { effectiveMailIp, hasCpanelFiles, mailIpOrWhy, readCpanelServerFiles } from '../whm/serverfiles.js';
import { listedDomain, panelName } from '../listed.js';
import { authorityItemFor, authorityUnknown, nameserversFromAuthority, readWwwacctNameservers, type AuthorityItem } from './authority.js';
import type { Params, UapiResult, UapiTransport } from './uapi.js';
import { decodeZone, featureOrOther, massEditError, massEditParams, movedLines, newSerialOf, touchesDkim, undoGeneratedDkim, zoneFor } from './zonefile.js';

export { UapiCli, UapiHttp, type UapiTransport } from './uapi.js';

export interface CpanelOptions {
  transport: UapiTransport;
  /** The cPanel account the token (or the CLI) acts as. */
  user: string;
  /** The reseller (WHM owner) of this account, when known from configuration; UAPI does not tell it. */
  owner?: string;
  /** Server host name, when known (UAPI's EmailAuth results carry no host name). */
  hostname?: string;
  /**
   * Filesystem root of the cPanel server when running on it (default: none). Used only for what UAPI does not
   * expose to a user: the smarthost relay in /etc/exim.conf.localopts and the DKIM validity cache entry (§8.4).
   */
  root?: string;
}

export interface DomainsList {
  main_domain?: string;
  addon_domains?: string[];
  parked_domains?: string[];
  sub_domains?: string[];
}

function first<T = Record<string, unknown>>(data: unknown): T | null {
  return (Array.isArray(data) ? (data[0] as T) : null) ?? null;
}

/** `v=DKIM1; k=rsa; p=<base64>;` → the base64 key. */
export function dkimKeyOf(txt: string | undefined | null): string | undefined {
  const m = /(?:^|;)\s*p=([A-Za-z0-9+/=\s]*)/.exec(txt ?? '');
  const k = m?.[1].replace(/\s+/g, '');
  return k ? k : undefined;
}

/**
 * `dkim.signing` on cPanel (§8.4, §7.1, §7.4). Exim signs only while `/var/cpanel/domain_keys/validity_cache/<domain>`
 * exists, and cPanel sets that entry only once it has seen its own key published (validate_current_dkims, state VALID).
 * So a missing entry has two meanings:
 * - the server's key IS published (VALID) and the entry is still missing: cPanel does not sign although everything is
 *   in place — `signing: false`, which the DKIM check reports (never "fine") and the fix must not answer by
 *   rewriting the correct record;
 * - the key is NOT published yet (another key — typically the previous host's —, none, several, malformed): cPanel
 *   signs as soon as it is (the adapters refresh the entry after every DKIM write) — `signing: true`, as before. With
 *   `false` here, core would take the previous host's key for a mail provider's and refuse the fix, asking for another
 *   selector, which cPanel cannot use (`default` is hard-coded, §7.4).
 * `cacheEntry` is the entry itself when it can be read (on the server); otherwise the validator's own report decides:
 * `validity_cache_update` `set`, or `none`/`valid` for a VALID record, means the entry exists now; `invalid`/`error`:
 * it could not be set. An item without `validity_cache_update` comes from a cPanel without the cache (INFERRED: it
 * signs with any key it has). An `ERROR` state (cPanel's DNS lookup failed) leaves an earlier entry in place: signing.
 */
export function signingFromValidation(item: Record<string, unknown> | null | undefined, publicKey: string | undefined, cacheEntry?: boolean): boolean {
  if (!publicKey || !item) return false;
  const valid = String(item.state ?? '').toUpperCase() === 'VALID';
  if (cacheEntry !== undefined) return cacheEntry || !valid;
  const update = item.validity_cache_update;
  if (update === undefined || update === null) return true;
  if (!valid) return true;
  return !['invalid', 'error', 'unset'].includes(String(update).toLowerCase());
}

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const throwing = (e: Error): never => {
  throw e;
};

/** What `data` was, where a list was expected. */
function notAList(data: unknown): string {
  return data === null || data === undefined ? 'no data' : isObject(data) ? 'an object instead of a list' : `${typeof data} instead of a list`;
}

/**
 * cPanel answered `call` for `domain` with its envelope, but its data is not of the shape cPanel gives (cpanel.md §6.2,
 * §7, §8.1): PanelError('other') saying so — never a raw JavaScript error ("… is not iterable") as a finding's text.
 */
export function unexpectedAnswer(call: string, domain: string, why: string): PanelError {
  return new PanelError('other', `cPanel's answer to ${call} for ${domain} had an unexpected shape (${why}); nothing in it was taken as a setting`);
}

/** A call cPanel answered with its error envelope: a missing feature as such (what to ask the host), else its errors. */
export function callFailed(r: UapiResult, call: string, domain: string): PanelError {
  const text = r.errors.join('; ') || 'no reason given';
  if (/feature/i.test(text)) {
    const which = call.startsWith('EmailAuth::') ? 'Email Deliverability (the cPanel "emailauth" feature)' : `the cPanel feature ${call} needs`;
    return new PanelError('feature-missing', `ask your host to enable ${which}: ${text}`);
  }
  return new PanelError('other', `cPanel ${call} for ${domain} failed: ${text}`);
}

/**
 * The item for `domain` in an EmailAuth validator's answer (UAPI `data`: one item per domain asked, §7 — DKIM's names
 * `default._domainkey.<domain>`; an item naming no domain counts when it is the only one), or null when it holds none.
 * A failed call, or data of another shape, throws (callFailed, unexpectedAnswer).
 */
export function validatorItem(r: UapiResult, func: string, domain: string): Record<string, unknown> | null {
  const call = `EmailAuth::${func}`;
  if (!r.ok) throw callFailed(r, call, domain);
  if (!Array.isArray(r.data)) throw unexpectedAnswer(call, domain, notAList(r.data));
  if (!r.data.every(isObject)) throw unexpectedAnswer(call, domain, 'a list holding something other than items');
  const items = r.data as Record<string, unknown>[];
  const d = panelName(domain);
  const named = items.find((x) => typeof x.domain === 'string' && [d, `default._domainkey.${d}`].includes(panelName(x.domain)));
  return named ?? (items.length === 1 && (items[0].domain === undefined || items[0].domain === null) ? items[0] : null);
}

/**
 * validate_current_dkims' item for `domain` (§7.4): its `state`, and the server's key in `expected` (empty for NOPUB:
 * no key). Null when the answer holds no item for it; a failed call or another shape throws — never read as "no key",
 * which made the DKIM fix generate keys (QA).
 */
export function dkimItemOf(r: UapiResult, domain: string): Record<string, unknown> | null {
  const item = validatorItem(r, 'validate_current_dkims', domain);
  if (!item) return null;
  if (typeof item.state !== 'string' || !item.state) throw unexpectedAnswer('EmailAuth::validate_current_dkims', domain, 'an item without a state');
  if (item.expected !== undefined && item.expected !== null && typeof item.expected !== 'string') {
    throw unexpectedAnswer('EmailAuth::validate_current_dkims', domain, `expected is ${typeof item.expected}, not the key record's text`);
  }
  return item;
}

/**
 * Mail routing from `Email::list_mxs` (§8.1), or null when the answer holds no item for `domain`: `detected` "local"
 * and "auto" (cPanel decides, and the MX then points here) read local; "remote" and "secondary" remote — a backup MX
 * accepts mail only until a higher-priority MX is up (§8.1), so the domain's mail server is elsewhere and its records
 * (a DKIM key at the selector both servers use, the primary's SPF include) are that server's to keep, not a previous
 * host's (review). A failed call, data of another shape or a `detected` value cPanel does not document throws: never
 * read as "remote" (QA: a failed call was reported as the panel routing the mail elsewhere, mx.routing-mismatch).
 */
export function routingOfListMxs(r: UapiResult, domain: string): 'local' | 'remote' | null {
  const call = 'Email::list_mxs';
  if (!r.ok) throw callFailed(r, call, domain);
  if (!Array.isArray(r.data)) throw unexpectedAnswer(call, domain, notAList(r.data));
  if (!r.data.every(isObject)) throw unexpectedAnswer(call, domain, 'a list holding something other than items');
  const items = r.data as Record<string, unknown>[];
  const d = panelName(domain);
  const item = items.find((x) => typeof x.domain === 'string' && panelName(x.domain) === d) ?? (items.length === 1 && (items[0].domain === undefined || items[0].domain === null) ? items[0] : undefined);
  if (!item) return null;
  const detected = typeof item.detected === 'string' ? item.detected.toLowerCase() : '';
  if (detected === 'local' || detected === 'auto') return 'local';
  if (detected === 'remote' || detected === 'secondary') return 'remote';
  throw unexpectedAnswer(call, domain, item.detected === undefined ? 'an item without detected' : `detected ${JSON.stringify(item.detected)}, none of auto, local, remote, secondary`);
}

/**
 * The outbound IP from the server files' effective IP (effectiveMailIp), for when cPanel's EmailAuth checks gave none:
 * a public or NAT-mapped address as it is; none when the files name none (mailIpOrWhy). A private address the NAT map
 * does not know (its public one is what receivers see, §7.2, and cPanel did not give it), or an IP the files cannot
 * tell (one of them unreadable): PanelError, the settings unreadable — never the private address (R6).
 */
export function mailIpFromFiles(eff: ReturnType<typeof effectiveMailIp>, domain: string): string[] {
  const m = mailIpOrWhy(eff);
  if ('ips' in m) return m.ips;
  throw new PanelError('other', `the outbound mail IP of ${domain} is not known: ${m.why}, and cPanel's EmailAuth checks (validate_current_spfs, validate_current_ptrs) gave none`);
}

/**
 * `read()` — or, when it fails with a PanelError other than not-found (a failed call, an answer of another shape),
 * `fallback`, what the server's own files say instead, when they say it (not undefined). Else its failure.
 */
function orFromFiles<T>(read: () => T, fallback: T | undefined): T {
  try {
    return read();
  } catch (e) {
    if (fallback === undefined || !(e instanceof PanelError) || e.code === 'not-found') throw e;
    return fallback;
  }
}

/**
 * The zones an account's listing names: main, addon and parked domains (subdomains live in their parent's zone, §3), in
 * the form listDomains lists them (listedDomain); a name that is no domain is left out, as listDomains leaves it out.
 * parse_zone / mass_edit_zone are then asked by that name, as WHM's adapter asks parse_dns_zone. cPanel takes a zone only
 * by the exact name of one of the account's zones (Cpanel/API/DNS.pm, [src] 11.120), and it normalises a domain it is
 * given to lower case and punycode (Cpanel::Validate::Domain::Normalize): INFERRED, its zones are named by the A-label.
 */
function zonesOf(d: DomainsList): string[] {
  return [d.main_domain, ...(d.addon_domains ?? []), ...(d.parked_domains ?? [])].map(listedDomain).filter((x): x is string => !!x);
}

/**
 * DomainInfo::list_domains' data (§6.2: `{main_domain, addon_domains[], parked_domains[], sub_domains[]}`), checked:
 * anything else — no data, a list, no main domain, a list of something other than names — is PanelError('other'),
 * never "no domains" (QA: a bulk audit then skipped the account's domains as no longer on the server).
 */
export function domainsListOf(data: unknown): DomainsList {
  const bad = (why: string) => new PanelError('other', `cPanel's answer to DomainInfo::list_domains had an unexpected shape (${why}), so the account's domains cannot be read from it`);
  if (!isObject(data)) throw bad(data === null || data === undefined ? 'no data' : Array.isArray(data) ? 'a list instead of an object' : `${typeof data} instead of an object`);
  if (typeof data.main_domain !== 'string' || !data.main_domain) throw bad('no main_domain');
  const out: DomainsList = { main_domain: data.main_domain };
  for (const key of ['addon_domains', 'parked_domains', 'sub_domains'] as const) {
    const v = data[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`${key} is not a list of names`);
    out[key] = v as string[];
  }
  return out;
}

/**
 * What a panel's own DKIM key generation did to the zone, from the changes that would take it back
 * (undoGeneratedDkim): for the message when they could not be applied.
 */
export function describeGeneratedDkim(undo: Change[]): string {
  const textOf = (r: ZoneRecord | null) => (r ? (r.txt ? r.txt.join('') : r.value) : '');
  const text = (r: ZoneRecord | null) => {
    const v = textOf(r);
    return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  };
  return undo
    .map((c) =>
      c.action === 'edit'
        ? `replaced the ${c.type} record at ${c.name} (${text(c.after)}) with this server's key`
        : c.action === 'remove'
          ? `added a ${c.type} record at ${c.name} ${dkimKeyOf(textOf(c.before)) ? "with this server's key" : `(${text(c.before)})`}`
          : `removed the ${c.type} record at ${c.name} (${text(c.after)})`,
    )
    .join('; ');
}

/** UAPI Features::has_feature's answer: the account has the feature, the feature exists but is off for it, no such feature. */
export type FeatureAccess = 'enabled' | 'disabled' | 'not-installed';

export class CpanelPanel implements Panel {
  readonly kind = 'cpanel';
  readonly capabilities: PanelCapabilities = { serialCheckedWrites: true, generateDkim: true };
  private domainsCache: DomainsList | null = null;

  constructor(private readonly opts: CpanelOptions) {}

  private async call(module: string, func: string, params: Params = []): Promise<UapiResult> {
    return this.opts.transport.call(module, func, params);
  }

  /**
   * Whether this account has a Feature Manager feature: UAPI `Features::has_feature name=<feature>`, through this
   * adapter's transport (the account's own UAPI). [src] Cpanel/API/Features.pm (11.120): the call succeeds (status 1)
   * with `data` 1 (the account has it), 0 (it exists but is not enabled for the account; a message says so) or null
   * (no such feature on the server). A failed call or any other answer throws. Never cached. A plugin's feature is
   * known to it: has_feature checks `load_all_feature_names`, which reads whostmgr/addonfeatures/, where install_plugin
   * (and install/cpanel.sh) put `mailhealth:Mail Health`; it is on for every account until a feature list turns it
   * off (Cpanel/Features/Cpanel.pm). cPanel's API reference puts the 1/0/null answer in `status`; the source has it in
   * `data` (status is 0 only when the call fails), as read here.
   */
  async featureAccess(feature: string): Promise<FeatureAccess> {
    const r = await this.call('Features', 'has_feature', [['name', feature]]);
    if (!r.ok) throw new PanelError('other', `cPanel Features::has_feature failed${r.errors.length ? `: ${r.errors.join('; ')}` : ''}`);
    if (r.data === null || r.data === undefined) return 'not-installed';
    if (r.data === 1 || r.data === '1') return 'enabled';
    if (r.data === 0 || r.data === '0') return 'disabled';
    throw new PanelError('other', `cPanel Features::has_feature: unexpected answer ${JSON.stringify(r.data).slice(0, 100)}`);
  }

  private async domains(): Promise<DomainsList> {
    if (this.domainsCache) return this.domainsCache;
    const r = await this.call('DomainInfo', 'list_domains');
    if (!r.ok) throw new PanelError('other', `cPanel DomainInfo::list_domains failed: ${r.errors.join('; ')}`);
    this.domainsCache = domainsListOf(r.data);
    return this.domainsCache;
  }

  /** Zones the account owns: main, addon and parked domains (subdomains live in their parent's zone, §3). */
  private async zones(): Promise<string[]> {
    return zonesOf(await this.domains());
  }

  private async zoneOf(domain: string): Promise<string> {
    const d = panelName(domain);
    const z = zoneFor(d, await this.zones());
    if (!z) throw new PanelError('not-found', `${d} is not a domain of the cPanel account ${this.opts.user}`);
    return z;
  }

  async listAccounts(): Promise<{ user: string; role: Identity['role']; owner?: string }[]> {
    return [{ user: this.opts.user, role: 'customer', ...(this.opts.owner ? { owner: this.opts.owner } : {}) }];
  }

  async listDomains(identity: Identity): Promise<DomainRef[]> {
    const allowed =
      identity.role === 'admin' ||
      (identity.role === 'customer' && identity.user === this.opts.user) ||
      (identity.role === 'reseller' && !!this.opts.owner && identity.user === this.opts.owner);
    if (!allowed) return [];
    const d = await this.domains();
    const names = [d.main_domain, ...(d.addon_domains ?? []), ...(d.parked_domains ?? []), ...(d.sub_domains ?? [])].filter((x): x is string => !!x);
    const seen = new Set<string>();
    const out: DomainRef[] = [];
    // A name that is no domain (listedDomain) is left out.
    for (const n of names.map(listedDomain)) {
      if (!n || seen.has(n)) continue;
      seen.add(n);
      out.push({ domain: n, owner: this.opts.user, ...(this.opts.owner && this.opts.owner !== 'root' ? { reseller: this.opts.owner } : {}) });
    }
    return out;
  }

  async readZone(domain: string): Promise<Zone> {
    const zone = await this.zoneOf(domain);
    const r = await this.call('DNS', 'parse_zone', [['zone', zone]]);
    if (!r.ok) {
      const text = r.errors.join('; ');
      if (/do not control/i.test(text)) throw new PanelError('not-found', `cPanel: ${text}`);
      throw featureOrOther(text, `cPanel DNS::parse_zone for ${zone} failed: ${text}`);
    }
    const z = decodeZone(zone, r.data, `cPanel's answer to DNS::parse_zone for ${zone}`);
    if (z.serial === null) throw new PanelError('invalid-zone', `cPanel zone ${zone} has no SOA serial`);
    return z;
  }

  async readMailSettings(domain: string): Promise<MailSettings> {
    const d = panelName(domain);
    const args: Params = [['domain', d]];
    const spf = await this.call('EmailAuth', 'validate_current_spfs', args);
    if (!spf.ok && /feature/i.test(spf.errors.join(' '))) {
      throw new PanelError('feature-missing', `ask your host to enable Email Deliverability (the cPanel "emailauth" feature): ${spf.errors.join('; ')}`);
    }
    const dkim = await this.call('EmailAuth', 'validate_current_dkims', args);
    const ptr = await this.call('EmailAuth', 'validate_current_ptrs', args);
    const mx = await this.call('Email', 'list_mxs', args);
    // Authority is the zone's (§3: a subdomain lives in its parent's zone), so the zone is asked about: cPanel lists
    // public nameservers for a zone name only (Cpanel/DnsUtils/Authority.pm looks them up per zone), none for a
    // subdomain.
    const listing = await this.domains().catch(() => null);
    const zones = listing ? zonesOf(listing) : null;
    const zone = zoneFor(d, zones ?? []) ?? d;
    const auth = await this.call('DNS', 'has_local_authority', [['domain', zone]]);
    const files = this.opts.root && hasCpanelFiles(this.opts.root) ? readCpanelServerFiles(this.opts.root, d) : null;

    // A call that failed, or answered in a shape cPanel does not give, is never read as a setting (QA: a failed DKIM
    // query read as "no key, not signing" made the DKIM fix generate keys; a failed list_mxs read as routing "remote",
    // a failed PTR check as an empty HELO). What the server's own files say is used instead where they say it (on the
    // server); otherwise the read fails with why (PanelError): core reports the settings unreadable (an `unknown`
    // finding), and no fix is planned on them.
    // An answer without an item for the domain: not one of the account's domains (not-found), else a shape cPanel
    // does not give.
    const missing = (call: string): PanelError =>
      zones && !zoneFor(d, zones) ? new PanelError('not-found', `${d} is not a domain of the cPanel account ${this.opts.user}`) : unexpectedAnswer(call, d, `no item for ${d}`);
    // validate_current_spfs gives the outbound IP only, which validate_current_ptrs gives as well (§7.2, §7.5): its
    // failure alone loses nothing, and is passed over (its feature gate is said above).
    const spfItem = orFromFiles(() => validatorItem(spf, 'validate_current_spfs', d), null);
    const dkimItem = dkimItemOf(dkim, d);
    if (!dkimItem) throw missing('EmailAuth::validate_current_dkims');
    const publicKey = dkimKeyOf(dkimItem.expected as string | undefined);
    // An entry that cannot be tested (not "no such file") says nothing: the validator's report decides, as off the server.
    const signing = signingFromValidation(dkimItem, publicKey, files && !files.unknown.validityCache ? files.validityCache : undefined);

    // The HELO is cPanel's (validate_current_ptrs); on the server, when that gave none, where Exim takes it from:
    // /etc/mailhelo (the domain, else `*`), else the host name (§7.5, §8.2). An /etc/mailhelo that cannot be read says
    // nothing (it may name another HELO): cPanel's answer only.
    const heloFromFiles = files && !files.unknown.helo ? (files.helo ?? files.hostname ?? undefined) : undefined;
    const ptrItem: Record<string, unknown> | null = orFromFiles(() => {
      const item = validatorItem(ptr, 'validate_current_ptrs', d);
      if (!item) throw missing('EmailAuth::validate_current_ptrs');
      if (typeof item.helo !== 'string' || !item.helo.trim()) throw unexpectedAnswer('EmailAuth::validate_current_ptrs', d, 'an item without a helo');
      return item;
    }, heloFromFiles === undefined ? undefined : null);
    const helo = ptrItem ? String(ptrItem.helo) : heloFromFiles!;
    const ipOf = (item: Record<string, unknown> | null) => (typeof item?.ip_address === 'string' && item.ip_address ? item.ip_address : undefined);
    const ips = [...new Set([ipOf(spfItem), ipOf(ptrItem)].filter((x): x is string => !!x))];
    if (!ips.length && files) ips.push(...mailIpFromFiles(effectiveMailIp(files), d));
    // A subdomain has no item of its own: list_mxs lists the domains mail routing is set for, not subdomains
    // (INFERRED from a client written against a live server; the reference does not say). Its routing is then not
    // told — read as "remote", the reading that keeps another provider's records (see routingOfListMxs), as before.
    const sub = !!listing?.sub_domains?.some((x) => listedDomain(x) === d);
    // On the server, when list_mxs gave no answer: Exim's own lists (/etc/localdomains, /etc/remotedomains,
    // /etc/secondarymx), when they can be read and name the domain.
    const routing = orFromFiles(() => routingOfListMxs(mx, d) ?? (sub ? 'remote' : throwing(missing('Email::list_mxs'))), files?.routing ?? undefined);
    const authItem = auth.ok && Array.isArray(auth.data) ? authorityItemFor(auth.data.filter(isObject) as AuthorityItem[], zone) : null;
    const serverNs = this.opts.root ? readWwwacctNameservers(this.opts.root) : [];
    const unknownNs = authorityUnknown(authItem, serverNs);
    return {
      domain: d,
      // INFERRED: UAPI gives the user no host name call in the reference; the HELO is the host name unless
      // /etc/mailhelo overrides it, so it is the best available stand-in.
      hostname: this.opts.hostname ?? files?.hostname ?? helo,
      ips,
      helo,
      // has_local_authority's public nameservers when it says this server is the authority; otherwise the server's own
      // (/etc/wwwacct.conf, on the server) for core to compare with the live NS, else none (see nameserversFromAuthority).
      nameservers: nameserversFromAuthority(authItem, serverNs),
      ...(unknownNs ? { nameserversUnknown: unknownNs } : {}),
      dkim: {
        selector: 'default', // hard-coded in cPanel (§7.4)
        // §8.4: Exim signs only while the validity cache entry exists (see signingFromValidation). On the server the
        // entry itself is read (Cpanel::DKIM::ValidityCache keeps it in a world-searchable directory, mode 0711, so
        // any user may test it); the validator above has just set it if the published record matches.
        signing,
        // Not signing although the key is published: cPanel's own check (startDkimSigning) turns it on.
        ...(publicKey && !signing ? { startSigning: 'recheck' as const } : {}),
        ...(publicKey ? { publicKey } : {}),
      },
      routing,
      relay: files?.relay ?? null,
      // Off the server the smarthost (/etc/exim.conf.localopts) cannot be read: not known, not "no relay"; nor on the
      // server when the file exists but cannot be read (R6: read as "no relay").
      ...(files ? (files.unknown.relay ? { relayUnknown: files.unknown.relay } : {}) : { relayUnknown: 'the smarthost setting is in /etc/exim.conf.localopts on the server, which the cPanel API does not show' }),
    };
  }

  async applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    const zone = await this.zoneOf(domain);
    if (!/^\d+$/.test(expectedVersion)) throw new PanelError('stale', `version ${JSON.stringify(expectedVersion)} is not a cPanel serial; re-read the zone`);
    // Edits and removes go by line index: the lines are checked to hold the records named just before the write.
    checkLines(zone, await this.readZone(domain), expectedVersion, changes);
    const r = await this.call('DNS', 'mass_edit_zone', massEditParams(zone, expectedVersion, changes));
    if (!r.ok) throw massEditError(zone, r.data, r.errors);
    const version = newSerialOf(r.data, expectedVersion, `cPanel DNS::mass_edit_zone for ${zone}`);
    if (touchesDkim(changes)) await this.refreshDkimValidity(panelName(domain));
    return { version };
  }

  /**
   * Start signing with the published key, cPanel's way (dkim.startSigning 'recheck'): have cPanel re-check the published
   * DKIM key (`EmailAuth::validate_current_dkims`), which sets the validity cache Exim needs before it signs (§8.4)
   * when the public record matches; returns the settings read afterwards (`dkim.signing` tells whether it worked).
   * Changes no DNS record.
   */
  async startDkimSigning(domain: string): Promise<MailSettings> {
    const d = panelName(domain);
    await this.zoneOf(d);
    const r = await this.call('EmailAuth', 'validate_current_dkims', [['domain', d]]);
    if (!r.ok) {
      const text = r.errors.join('; ');
      if (/feature/i.test(text)) throw new PanelError('feature-missing', `ask your host to enable Email Deliverability (the cPanel "emailauth" feature): ${text}`);
      throw new PanelError('other', `cPanel EmailAuth::validate_current_dkims for ${d} failed: ${text}`);
    }
    return this.readMailSettings(d);
  }

  /** §8.4: Exim signs only when the validity cache is set; `validate_current_dkims` refreshes it. Best effort. */
  private async refreshDkimValidity(domain: string): Promise<void> {
    try {
      await this.call('EmailAuth', 'validate_current_dkims', [['domain', domain]]);
    } catch {
      /* the record is written; signing starts at cPanel's next refresh */
    }
  }

  /**
   * Would cPanel refuse to write a TXT record for this account (§4.3: TXT needs the `zoneedit` feature)? Asked before a
   * key is generated: `enable_dkim` replaces the record at default._domainkey itself, and without zoneedit neither
   * taking that back nor the fix's own write can be done — the zone would be left with the panel's record in place of
   * the one the preview showed. A mass_edit_zone call that changes nothing: its serial is one below the zone's (serials
   * only grow, §4.4, so it never matches: Stale, §4.5), carrying an edit that rewrites an existing TXT record as it is
   * (an add in a zone without one). INFERRED from cPanel's source (Cpanel/API/DNS.pm): the feature and record-type
   * gates answer before the serial is compared, so a refused feature shows as such; Stale (or any other answer) means
   * the gates let TXT through, as far as this can tell.
   */
  private async txtWriteRefused(zone: string, z: Zone): Promise<PanelError | null> {
    if (z.serial === null || z.serial <= 0) return null;
    const txt = z.records.find((r) => r.type.toUpperCase() === 'TXT' && r.ref !== undefined && /^[\x20-\x7e]*$/.test(r.txt ? r.txt.join('') : r.value));
    const probe: Change = txt
      ? { action: 'edit', name: txt.name, type: 'TXT', ttl: txt.ttl, before: txt, after: { ...txt, ref: undefined } }
      : { action: 'add', name: `_mailhealth-check.${zone}`, type: 'TXT', ttl: 300, before: null, after: { name: `_mailhealth-check.${zone}`, ttl: 300, type: 'TXT', value: 'x', txt: ['x'] } };
    const r = await this.call('DNS', 'mass_edit_zone', massEditParams(zone, String(z.serial - 1), [probe]));
    if (r.ok) return null;
    const e = massEditError(zone, r.data, r.errors);
    return e.code === 'feature-missing' ? e : null;
  }

  /**
   * The server's public key for `domain` from its key files, when running on the server and they can be read; null
   * otherwise. Read without asking cPanel: validate_current_dkims would set the validity cache (§8.4) while the key
   * step's record is still published.
   */
  private serverPublicKey(domain: string): string | null {
    try {
      return this.opts.root && hasCpanelFiles(this.opts.root) ? readCpanelServerFiles(this.opts.root, domain).publicKey : null;
    } catch {
      return null;
    }
  }

  async generateDkim(domain: string): Promise<MailSettings> {
    const d = panelName(domain);
    const zone = await this.zoneOf(d);
    const before = await this.readZone(d);
    const refused = await this.txtWriteRefused(zone, before);
    if (refused) throw new PanelError('feature-missing', `no DKIM key was generated for ${d} and the zone was not changed: ${refused.message}`);
    const steps: [string, string][] = [
      ['EmailAuth', 'ensure_dkim_keys_exist'], // 2048-bit key if missing or weaker (§7.4)
      ['EmailAuth', 'enable_dkim'], // publishes default._domainkey locally, HASDKIM=1
    ];
    for (const [m, f] of steps) {
      const r = await this.call(m, f, [['domain', d]]);
      const item = first<{ status?: number | string; msg?: string }>(r.data);
      if (!r.ok || (item && Number(item.status) === 0)) {
        const text = [...r.errors, item?.msg].filter(Boolean).join('; ');
        if (/feature/i.test(text)) throw new PanelError('feature-missing', `ask your host to enable Email Deliverability (the cPanel "emailauth" feature): ${text}`);
        throw new PanelError('other', `cPanel ${m}::${f} for ${d} failed: ${text}`);
      }
    }
    // enable_dkim published default._domainkey itself: take that back, the fix's plan publishes the record. Only the
    // panel's own record: an edit someone made meanwhile stays, and core then refuses the fix (the zone changed).
    const after = await this.readZone(d);
    const undo = undoGeneratedDkim(before, after, d, { selector: 'default', publicKey: this.serverPublicKey(d), replacesKey: true });
    if (undo.length) {
      const r = await this.call('DNS', 'mass_edit_zone', massEditParams(zone, after.version, undo));
      if (!r.ok) {
        const e = massEditError(zone, r.data, r.errors);
        await this.refreshDkimValidity(d);
        throw new PanelError(e.code, generatedDkimLeft('cPanel', d, undo, e.message));
      }
    }
    await this.refreshDkimValidity(d);
    return this.readMailSettings(d);
  }
}

/**
 * Before a mass_edit_zone / mass_edit_dns_zone: the zone as re-read (`current`) must still be at the serial the write
 * carries, and every line the changes edit or remove must still hold the record they name (movedLines); else
 * PanelError('stale'), nothing sent.
 */
export function checkLines(zone: string, current: Zone, expectedVersion: string, changes: Change[]): void {
  if (current.version !== expectedVersion) throw new PanelError('stale', `the DNS zone ${zone} changed since it was read (its serial is now ${current.version}); re-read and plan again`);
  const moved = movedLines(current, changes);
  if (moved) throw new PanelError('stale', `the DNS zone ${zone} changed since it was read: ${moved}; nothing was written — re-read and plan again`);
}

/**
 * The state a panel's key generation left when its own record could not be taken back (the error keeps the cause's
 * code, e.g. feature-missing): the panel's key is published in place of what the preview showed.
 */
export function generatedDkimLeft(panel: string, domain: string, undo: Change[], cause: string): string {
  return (
    `${panel} generated a DKIM key for ${domain} and published it in the zone itself: it ${describeGeneratedDkim(undo)}. ` +
    `mailhealth could not put the zone back as the preview showed it (${cause}). The zone now publishes this server's key at default._domainkey.${domain}; ` +
    `${panel} signs with it once it sees it in public DNS. No other record was changed.`
  );
}
