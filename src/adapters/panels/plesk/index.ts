// Plesk Obsidian adapter: REST API v2 (`X-API-Key`) for reads, `plesk bin dns` (locally through execFile, or remotely
// through `/api/v2/cli/<utility>/call`) for TXT writes, the XML API (same key, header `KEY`) for what REST lacks
// (outgoing mail IP mode, DKIM signing flag, zone status), and the server's files for the DKIM key and relay.
// Facts: shared/reference/plesk.md (markers there; INFERRED below where we reasoned past it).
import { checkDomain } from '../../../core/domain.js';
import { existsSync } from 'node:fs';
import { canonName } from '../../../core/domain.js';
import type { Change, DomainRef, Identity, MailSettings, RelaySettings, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError, type ApplyResult, type Panel, type PanelCapabilities } from '../../../core/panel.js';
import { hashRecords, recordsAt } from '../../../core/zone.js';
import { canonicalKey } from '../../../core/classify.js';
import { parseDkimRecord } from '../../../core/dkim/record.js';
import { relativeDname, undoGeneratedDkim } from '../cpanel/zonefile.js';
import { splitTxt } from '../files/zonefile.js';
import { errorText, PanelHttpClient, runCommand, type CommandResult } from '../http.js';
import { publicKeyFromPem, readText } from '../whm/serverfiles.js';

/** Runs a `plesk bin <utility>` with argv items (never a shell string). */
export interface PleskCliTransport {
  run(utility: string, params: string[]): Promise<CommandResult>;
}

export class PleskLocalCli implements PleskCliTransport {
  constructor(private readonly bin = existsSync('/usr/sbin/plesk') ? '/usr/sbin/plesk' : 'plesk') {}
  run(utility: string, params: string[]): Promise<CommandResult> {
    return runCommand(this.bin, ['bin', utility, ...params]);
  }
}

/** `POST /api/v2/cli/<utility>/call {params}` → `{code, stdout, stderr}` (plesk.md §1.4). */
export class PleskRestCli implements PleskCliTransport {
  constructor(private readonly client: PanelHttpClient) {}
  async run(utility: string, params: string[]): Promise<CommandResult> {
    const res = await this.client.request({ method: 'POST', path: `/api/v2/cli/${encodeURIComponent(utility)}/call`, json: { params } });
    if (res.status === 404) throw new PanelError('not-found', `Plesk does not allow the utility "${utility}" over REST${errorText(res.json, res.text)}`);
    if (res.status >= 400) throw new PanelError('other', `Plesk cli/${utility}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    const o = (res.json ?? {}) as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(o.code ?? 1), stdout: String(o.stdout ?? ''), stderr: String(o.stderr ?? '') };
  }
}

export interface PleskOptions {
  /** REST client for https://host:8443 with the `X-API-Key` header. */
  rest: PanelHttpClient;
  /** The API key again, for the XML API's `KEY` header. */
  apiKey: string;
  cli: PleskCliTransport;
  /** Filesystem root (DKIM keys, Postfix config); default `/`; null = not on the server (no key files). */
  root?: string | null;
}

interface Client {
  id: number;
  login: string;
  type: 'admin' | 'reseller' | 'customer' | string;
  owner_login?: string;
}
interface DomainResp {
  id: number;
  name: string;
  ascii_name?: string;
  base_domain_id?: number;
}
interface DnsRecord {
  id: number;
  type: string;
  host: string;
  value: string;
  opt?: string | null;
  ttl?: number | null;
}

export type PleskZoneStatus = 'enabled' | 'disabled' | 'external';

/** Text of the first `<tag>…</tag>` in a small XML answer (packets are tiny and fixed-shape; no full parser). */
function xmlTag(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : null;
}

const DEFAULT_TTL = 86400; // INFERRED: Plesk's zone default when a record carries no TTL

/**
 * Postfix `relayhost` from main.cf text (postconf(5): a line starting with whitespace continues the logical line
 * before it; a line whose first non-blank character is `#` is a comment; the last assignment wins). Empty = none.
 */
export function relayhostOf(mainCf: string): string | null {
  const logical: string[] = [];
  for (const line of mainCf.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line) && logical.length) logical[logical.length - 1] += ` ${line.trim()}`;
    else logical.push(line);
  }
  let value: string | null = null;
  for (const l of logical) {
    const m = /^relayhost[ \t]*=(.*)$/.exec(l);
    if (m) value = m[1].trim();
  }
  return value ? value.split(/[\s,]+/)[0] : null;
}

export class PleskPanel implements Panel {
  readonly kind = 'plesk';
  readonly capabilities: PanelCapabilities = { serialCheckedWrites: false, generateDkim: true };
  private readonly root: string | null;

  constructor(private readonly opts: PleskOptions) {
    this.root = opts.root === undefined ? '/' : opts.root;
  }

  /** Server-wide answers (host name, outgoing-mail prefs, shared IPs) are asked once per this many ms, not per domain. */
  static SERVER_TTL_MS = 10_000;
  private serverWide = new Map<string, { at: number; p: Promise<unknown> }>();

  /** One call per key per SERVER_TTL_MS, shared by concurrent callers; a failed call is not kept. */
  private once<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.serverWide.get(key);
    if (hit && now - hit.at < PleskPanel.SERVER_TTL_MS) return hit.p as Promise<T>;
    const p = fetch();
    this.serverWide.set(key, { at: now, p });
    p.catch(() => {
      if (this.serverWide.get(key)?.p === p) this.serverWide.delete(key);
    });
    return p;
  }

  private async rest<T>(path: string, query?: Record<string, string>): Promise<T> {
    const res = await this.opts.rest.request({ method: 'GET', path: `/api/v2${path}`, query });
    if (res.status === 404) throw new PanelError('not-found', `Plesk: ${errorText(res.json, res.text).replace(/^: /, '') || 'not found'} (${path})`);
    if (res.status >= 400) throw new PanelError('other', `Plesk ${path}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    return res.json as T;
  }

  private async xml(packet: string): Promise<string> {
    const res = await this.opts.rest.request({
      method: 'POST',
      path: '/enterprise/control/agent.php',
      headers: { KEY: this.opts.apiKey },
      body: { contentType: 'text/xml', text: `<?xml version="1.0" encoding="UTF-8"?><packet>${packet}</packet>` },
    });
    if (res.status >= 400) throw new PanelError('other', `Plesk XML API: HTTP ${res.status}`);
    const status = xmlTag(res.text, 'status');
    if (status === 'error') throw new PanelError('other', `Plesk XML API: ${xmlTag(res.text, 'errtext') ?? 'error'} (${xmlTag(res.text, 'errcode') ?? '?'})`);
    return res.text;
  }

  private async clients(): Promise<Client[]> {
    return (await this.rest<Client[]>('/clients')) ?? [];
  }

  async listAccounts(): Promise<{ user: string; role: Identity['role']; owner?: string }[]> {
    const roles: Record<string, Identity['role']> = { admin: 'admin', reseller: 'reseller', customer: 'customer' };
    return (await this.clients()).map((c) => ({ user: c.login, role: roles[c.type] ?? 'customer', ...(c.owner_login && c.owner_login !== c.login ? { owner: c.owner_login } : {}) }));
  }

  /** Every domain with its owner login and the owner's owner. REST has no owner filter: filter client-side (§8). */
  private async inventory(): Promise<{ domain: DomainResp; owner: string; ownerType: string; ownerOwner?: string }[]> {
    const clients = await this.clients();
    const byDomain = new Map<number, Client>();
    for (const c of clients) {
      const ds = await this.rest<DomainResp[]>(`/clients/${c.id}/domains`);
      for (const d of ds ?? []) byDomain.set(d.id, c);
    }
    const all = (await this.rest<DomainResp[]>('/domains')) ?? [];
    return all.map((d) => {
      const c = byDomain.get(d.id);
      return { domain: d, owner: c?.login ?? 'admin', ownerType: c?.type ?? 'admin', ownerOwner: c?.owner_login };
    });
  }

  async listDomains(identity: Identity): Promise<DomainRef[]> {
    const inv = await this.inventory();
    const out: DomainRef[] = [];
    for (const e of inv) {
      const name = canonName(e.domain.ascii_name ?? e.domain.name);
      const resellerOf = e.ownerType === 'customer' && e.ownerOwner && e.ownerOwner !== 'admin' ? e.ownerOwner : undefined;
      const ok =
        identity.role === 'admin' ||
        (identity.role === 'reseller' && (e.owner === identity.user || resellerOf === identity.user)) ||
        (identity.role === 'customer' && e.owner === identity.user && e.ownerType === 'customer');
      if (ok) out.push({ domain: name, owner: e.owner, ...(resellerOf ? { reseller: resellerOf } : {}) });
    }
    return out;
  }

  /**
   * The other spelling Plesk may know an IDN domain by: its `name` (Unicode) when `domain` is the punycode `ascii_name`
   * we list. Which spelling `?name=` and `?domain=` filter on is not documented (plesk.md), so a lookup that finds
   * nothing by one is tried with the other. Null when there is no other spelling.
   */
  private async otherSpelling(domain: string): Promise<string | null> {
    const d = canonName(domain);
    const hit = (await this.inventory()).find((e) => canonName(e.domain.ascii_name ?? e.domain.name) === d);
    const name = hit ? hit.domain.name.toLowerCase().replace(/\.$/, '') : null;
    return name && name !== d ? name : null;
  }

  private async domainByName(domain: string): Promise<DomainResp> {
    const d = canonName(domain);
    const find = async (spelling: string) =>
      ((await this.rest<DomainResp[]>('/domains', { name: spelling })) ?? []).find((x) => canonName(x.ascii_name ?? x.name) === d);
    let hit = await find(d);
    if (!hit) {
      const other = await this.otherSpelling(d);
      if (other) hit = await find(other);
    }
    if (!hit) throw new PanelError('not-found', `Plesk does not host ${d}`);
    return hit;
  }

  private toRecord(r: DnsRecord): ZoneRecord | null {
    const type = r.type.toUpperCase();
    if (type === 'SOA' || type === 'AXFR') return null;
    const name = canonName(r.host);
    const ttl = typeof r.ttl === 'number' && r.ttl > 0 ? r.ttl : DEFAULT_TTL;
    const opt = (r.opt ?? '').trim();
    let value: string;
    const rec: ZoneRecord = { name, ttl, type, value: '', ref: String(r.id) };
    switch (type) {
      case 'TXT':
        // Stored unquoted as one string (§1.2). INFERRED: rendered as ≤255-byte character-strings.
        value = r.value;
        rec.txt = splitTxt(r.value);
        break;
      case 'MX':
      case 'SRV':
        value = `${opt} ${canonName(r.value)}`.trim();
        break;
      case 'CNAME':
      case 'NS':
      case 'PTR':
        value = canonName(r.value);
        break;
      case 'CAA':
        value = `${opt} ${r.value}`.trim();
        break;
      default:
        value = r.value;
    }
    rec.value = value;
    return rec;
  }

  private async records(domain: string): Promise<ZoneRecord[]> {
    let raw: DnsRecord[] | undefined;
    try {
      raw = await this.rest<DnsRecord[]>('/dns/records', { domain: canonName(domain) });
    } catch (e) {
      const other = e instanceof PanelError && e.code === 'not-found' ? await this.otherSpelling(domain) : null;
      if (!other) throw e;
      raw = await this.rest<DnsRecord[]>('/dns/records', { domain: other });
    }
    return (raw ?? []).map((r) => this.toRecord(r)).filter((r): r is ZoneRecord => !!r);
  }

  async readZone(domain: string): Promise<Zone> {
    const d = canonName(domain);
    const records = await this.records(d);
    return { domain: d, serial: null, records, version: hashRecords(records) };
  }

  /** XML `dns get` → zone_status / zone_type (§3.2, §5). `external` = slave zone (Plesk is not the master). */
  async zoneStatus(domain: string): Promise<PleskZoneStatus> {
    return this.zoneStatusOf((await this.domainByName(domain)).id);
  }

  private async zoneStatusOf(siteId: number): Promise<PleskZoneStatus> {
    const xml = await this.xml(`<dns><get><filter><site-id>${siteId}</site-id></filter><soa/></get></dns>`);
    if (xmlTag(xml, 'zone_type') === 'slave') return 'external';
    return xmlTag(xml, 'zone_status') === 'disabled' ? 'disabled' : 'enabled';
  }

  async readMailSettings(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    const dom = await this.domainByName(d);
    const server = await this.once('server', () => this.rest<{ hostname?: string }>('/server'));
    const hostname = canonName(server?.hostname ?? '');
    const records = await this.records(d);
    // This server's nameservers for the domain: the zone's own NS records while Plesk serves the zone as its master.
    // A disabled or slave zone is not served from here (writes to it have no public effect, §5, §6.1): none, so the
    // audit reports the live DNS as not this server's and fixes are records to publish elsewhere. When the status
    // cannot be read, the NS records stand (as before the status was asked).
    let nameservers = recordsAt(records, d, 'NS').map((r) => canonName(r.value));
    try {
      if ((await this.zoneStatusOf(dom.id)) !== 'enabled') nameservers = [];
    } catch (e) {
      if (e instanceof PanelError && e.code === 'auth') throw e;
    }

    // Outgoing mail IP mode from the XML server prefs (§2.3); fallback: the server's shared IPs.
    let ips: string[] = [];
    let helo = hostname;
    try {
      const prefs = await this.once('server-prefs', () => this.xml('<server><get><prefs/></get></server>'));
      const mode = xmlTag(prefs, 'outgoing_email_mode');
      if (mode === 'explicit-ip') {
        ips = [xmlTag(prefs, 'outgoing_email_mode_explicit_ipv4'), xmlTag(prefs, 'outgoing_email_mode_explicit_ipv6')].filter((x): x is string => !!x);
      } else {
        // domain-ip / domain-name: the subscription's IP (webspace gen_info dns_ip_address; base_domain_id = subscription).
        const base = dom.base_domain_id && dom.base_domain_id !== dom.id ? (await this.rest<DomainResp>(`/domains/${dom.base_domain_id}`)).name : d;
        const ws = await this.xml(`<webspace><get><filter><name>${canonName(base)}</name></filter><dataset><gen_info/></dataset></get></webspace>`);
        const ip = xmlTag(ws, 'dns_ip_address');
        if (ip) ips = [ip];
        if (mode === 'domain-name') helo = canonName(base); // INFERRED: the greeting carries the domain name
      }
    } catch (e) {
      if (!(e instanceof PanelError) || e.code === 'auth') throw e;
      const list = await this.once('server-ips', () => this.rest<{ ipv4?: string; ipv6?: string; type?: string }[]>('/server/ips'));
      ips = (list ?? []).filter((i) => i.type !== 'exclusive').flatMap((i) => [i.ipv4, i.ipv6].filter((x): x is string => !!x)).slice(0, 1);
    }

    // DKIM: signing flag from XML mail prefs `spam-protect-sign` (§3.3); the key from the key file (§4), else — no
    // file (not on the server, or the key kept elsewhere) while Plesk signs — from the record Plesk publishes for it.
    const keyDomain = checkDomain(d); // part of a file path: only a valid host name
    const pem = this.root && keyDomain.ok ? readText(this.root, `etc/domainkeys/${keyDomain.domain}/default`) : null;
    let signing = !!pem;
    let routing: 'local' | 'remote' = 'local';
    try {
      const mp = await this.xml(`<mail><get_prefs><filter><site-id>${dom.id}</site-id></filter></get_prefs></mail>`);
      const sign = xmlTag(mp, 'spam-protect-sign');
      if (sign !== null) signing = sign === 'true';
      // INFERRED: mail service off for the domain means its mail is handled elsewhere.
      if (xmlTag(mp, 'mailservice') === 'false') routing = 'remote';
    } catch (e) {
      if (e instanceof PanelError && e.code === 'auth') throw e;
    }
    const publicKey = publicKeyFromPem(pem) ?? (signing ? zoneDkimKey(records, d) : undefined);
    return {
      domain: d,
      hostname,
      ips,
      helo,
      nameservers,
      dkim: { selector: 'default', signing, ...(pem ? { privateKeyPem: pem } : {}), ...(publicKey ? { publicKey } : {}) },
      routing,
      relay: this.relay(),
    };
  }

  /** INFERRED: Plesk's smarthost is Postfix `relayhost` in /etc/postfix/main.cf (§2.3 reads it with `postconf`). */
  private relay(): RelaySettings | null {
    const main = this.root ? readText(this.root, 'etc/postfix/main.cf') : null;
    const relayhost = relayhostOf(main ?? '');
    if (!relayhost) return null;
    const host = canonName(relayhost.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, ''));
    if (!host) return null;
    if (host === 'mailchannels.net' || host.endsWith('.mailchannels.net')) return { provider: 'mailchannels', host: 'relay.mailchannels.net' };
    return { provider: host, host };
  }

  private async dns(action: '--add' | '--del', zone: string, rec: ZoneRecord): Promise<void> {
    // The value exactly as Plesk holds it: `--del` matches type + host + value (§2.1), and Plesk takes the whole value.
    const value = rec.value;
    const prefix = relativeDname(rec.name, zone);
    // `-txt` is the value, `-domain` the prefix relative to the zone ("" = apex) (§2.1). `-ttl`: 3rd-party usage.
    const params = [action, zone, '-txt', value, '-domain', prefix.endsWith('.') ? '' : prefix, ...(action === '--add' ? ['-ttl', String(rec.ttl)] : [])];
    const r = await this.opts.cli.run('dns', params);
    if (r.code === 0) return;
    const text = (r.stderr || r.stdout).trim();
    if (action === '--add' && r.code === 2) throw new PanelError('record-exists', `Plesk: the TXT record at ${rec.name} already exists (${text || 'exit code 2'})`);
    throw new PanelError('other', `plesk bin dns ${action} ${zone} failed (exit ${r.code}): ${text}`);
  }

  async applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    const d = canonName(domain);
    for (const c of changes) {
      if (c.type.toUpperCase() !== 'TXT') throw new PanelError('unsupported', `the Plesk adapter changes TXT records only (got ${c.type} at ${c.name})`);
    }
    // No serial: re-read and compare the record hash (the version token) just before writing.
    const current = await this.readZone(d);
    if (current.version !== expectedVersion) throw new PanelError('stale', `the DNS zone ${d} changed since it was read; re-read and plan again`);
    // One `plesk bin dns` call per record (no in-place edit: an edit is delete + add). When a call fails, every
    // step already taken is undone, newest first, so the zone is as it was; a step that cannot be undone is named in
    // the error (the caller then finds the zone partly written and reconciles it).
    const undo: { action: '--add' | '--del'; rec: ZoneRecord }[] = [];
    const step = async (action: '--add' | '--del', rec: ZoneRecord) => {
      await this.dns(action, d, rec);
      undo.push({ action: action === '--add' ? '--del' : '--add', rec });
    };
    try {
      for (const c of changes) {
        if (c.action === 'add') await step('--add', c.after!);
        else if (c.action === 'remove') await step('--del', c.before!);
        else {
          await step('--del', c.before!);
          await step('--add', c.after!);
        }
      }
    } catch (e) {
      const failedUndo: string[] = [];
      for (const u of undo.reverse()) {
        try {
          await this.dns(u.action, d, u.rec);
        } catch (ue) {
          failedUndo.push(`${u.action === '--add' ? 'restoring' : 'removing'} ${u.rec.name} TXT (${(ue as Error).message})`);
        }
      }
      if (failedUndo.length) throw new PanelError('other', `${(e as Error).message}; rolling back failed: ${failedUndo.join('; ')}`);
      throw e;
    }
    const after = await this.readZone(d);
    return { version: after.version };
  }

  async generateDkim(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    await this.domainByName(d);
    const before = await this.readZone(d);
    // Turning signing on makes Plesk create the key and the default._domainkey records (§2.3, §4).
    // The option name is from 3rd-party scripts (UNCONFIRMED officially).
    const r = await this.opts.cli.run('domain_pref', ['--update', d, '-sign_outgoing_mail', 'true']);
    if (r.code !== 0) throw new PanelError('other', `plesk bin domain_pref --update ${d} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    // With Plesk DNS on, turning signing on publishes default._domainkey (and a `_domainkey` policy TXT) itself: put
    // the zone back, the fix's plan publishes the record (else its add fails with exit 2 "record exists").
    const after = await this.readZone(d);
    const undo = undoGeneratedDkim(before, after, d);
    if (undo.length) await this.applyChanges(d, undo, after.version);
    const settings = await this.readMailSettings(d);
    if (settings.dkim.privateKeyPem) return settings; // the key file: the key Plesk signs with
    // No key file (not on the server): the key is the one in the record Plesk just published (and we took back) —
    // never a record that was there before (it may be a previous host's), so nothing published means no known key.
    const old = new Set(before.records.map((r) => `${r.name}\t${r.type}\t${r.value}`));
    const generated = zoneDkimKey(after.records.filter((r) => !old.has(`${r.name}\t${r.type}\t${r.value}`)), d);
    const { publicKey: _zoneKey, ...dkim } = settings.dkim;
    return { ...settings, dkim: { ...dkim, ...(generated ? { publicKey: generated } : {}) } };
  }
}

/**
 * The public key of the one usable key published at `default._domainkey.<domain>` (Plesk's selector, §4), or
 * undefined when there is none, or several different ones (then which one Plesk signs with cannot be told).
 */
function zoneDkimKey(records: ZoneRecord[], domain: string): string | undefined {
  const keys = new Map<string, string>();
  for (const r of recordsAt(records, `default._domainkey.${domain}`, 'TXT')) {
    const rec = parseDkimRecord(r.txt ?? [r.value]);
    if (rec.errors.length || rec.revoked || !rec.publicKey) continue;
    const canon = canonicalKey(rec.publicKey);
    if (canon) keys.set(canon, rec.publicKey);
  }
  return keys.size === 1 ? [...keys.values()][0] : undefined;
}
