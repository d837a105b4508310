// A Plesk Obsidian emulator built from the documented shapes (shared/reference/plesk.md): REST v2 (`X-API-Key`;
// errors `{code, message}`), `/api/v2/cli/<utility>/call`, the few XML API packets the adapter sends, and the
// `plesk bin dns` (TXT and CNAME records; exit code 2 = record exists) / `domain_pref` utilities. State is
// JSON-serialisable so the fake `plesk` executable can share it through a file. Domain aliases (§1.3 `aliases[]`,
// 18.0.42+) are listed in every DomainResponse and have their own zone, read and written by REST
// `?domain=<alias name>` (§1.2) and by `plesk bin dns <alias name>` (Plesk's CLI reference for Linux, "dns: DNS Zones on
// Domains": `dns <command> [<domain_name>|<domain_alias>]`, records added to or deleted from "a domain's or domain
// alias' DNS zone").
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonName } from '../../../src/core/domain.js';
import { MapResolver, type ZoneMap } from '../map-resolver.js';
import { listen, readBody, type RunningServer } from './cpanel.js';
import { makeFixture, ownerOf, zoneRecords, type Fixture, type FixtureRecord } from './fixture.js';

export interface PleskState {
  apiKey: string;
  clients: { id: number; login: string; type: 'admin' | 'reseller' | 'customer'; owner_login: string; name: string }[];
  domains: { id: number; name: string; ascii_name: string; client_id: number; base_domain_id: number; hosting_type: string }[];
  /**
   * Domain aliases of `domain_id`: REST shows `{name, ascii_name, web, dns, mail, seo_redirect}` (no id, §1.3). `id` is
   * the emulator's own key of the alias's zone (from ALIAS_ZONE_IDS up, never a domain's id): its records carry it as
   * `domain_id`.
   */
  aliases: { id: number; domain_id: number; name: string; ascii_name: string; web: boolean; dns: boolean; mail: boolean; seo_redirect: boolean }[];
  /** `domain_id`: the domain's id, or the alias's zone id (`aliases[].id`) for a record of an alias's zone. */
  records: { id: number; domain_id: number; type: string; host: string; value: string; opt: string; ttl: number }[];
  nextId: number;
  hostname: string;
  ips: { ipv4: string; ipv6: string; type: string }[];
  outgoingMode: 'domain-ip' | 'domain-name' | 'explicit-ip';
  explicitIpv4: string;
  webspaceIp: Record<string, string>;
  mailPrefs: Record<string, { sign: boolean; mailservice: boolean }>;
  /** XML `dns get` zone_status per domain (default enabled) and zone_type (default master) (§3.2, §5). */
  zoneStatus: Record<string, 'enabled' | 'disabled'>;
  zoneType: Record<string, 'master' | 'slave'>;
  /** Allowed `/cli/<utility>/call` utilities. */
  cliAllowed: string[];
  /** Where `domain_pref -sign_outgoing_mail true` writes the DKIM key (etc/domainkeys/<d>/default), if set. */
  root: string | null;
  dkim: { privateKeyPem: string; publicKey: string };
  calls: string[];
}

export function makePleskState(f: Fixture = makeFixture()): PleskState {
  const clients: PleskState['clients'] = [
    { id: 1, login: 'admin', type: 'admin', owner_login: 'admin', name: 'Administrator' },
    { id: 2, login: 'res1', type: 'reseller', owner_login: 'admin', name: 'Reseller One' },
    { id: 3, login: 'alice', type: 'customer', owner_login: 'res1', name: 'Alice' },
    { id: 4, login: 'bob', type: 'customer', owner_login: 'res1', name: 'Bob' },
    { id: 5, login: 'carol', type: 'customer', owner_login: 'admin', name: 'Carol' },
  ];
  const domains: PleskState['domains'] = [];
  const records: PleskState['records'] = [];
  const ids = { next: 100 };
  let domainId = 10;
  for (const zone of Object.keys(f.zones)) {
    const owner = ownerOf(f, zone)!;
    const client = clients.find((c) => c.login === owner.user)!;
    const id = domainId++;
    domains.push({ id, name: zone, ascii_name: zone, client_id: client.id, base_domain_id: zone === owner.main ? id : domains.find((d) => d.name === owner.main)!.id, hosting_type: 'virtual' });
    records.push(...pleskRecords(f.zones[zone], id, ids));
  }
  return {
    apiKey: 'c5b239d1-8eb6-8cee-76b7-aa16be37fee8',
    clients,
    domains,
    aliases: [],
    records,
    nextId: ids.next,
    hostname: f.hostname,
    ips: [{ ipv4: f.mailIp, ipv6: '', type: 'shared' }],
    outgoingMode: 'domain-ip',
    explicitIpv4: '198.51.100.7',
    webspaceIp: Object.fromEntries(f.accounts.map((a) => [a.main, a.ip])),
    mailPrefs: Object.fromEntries(Object.keys(f.zones).map((z) => [z, { sign: true, mailservice: true }])),
    zoneStatus: {},
    zoneType: {},
    cliAllowed: ['dns', 'domain_pref', 'settings'],
    root: null,
    dkim: f.dkim,
    calls: [],
  };
}

/** Fixture records as Plesk's REST shows them (host with the trailing dot, MX priority in `opt`, TXT one string). */
function pleskRecords(recs: FixtureRecord[], zoneId: number, ids: { next: number }): PleskState['records'] {
  return recs.map((r) =>
    r.type === 'MX'
      ? { id: ids.next++, domain_id: zoneId, type: 'MX', host: `${r.name}.`, value: r.data[1], opt: r.data[0], ttl: r.ttl }
      : { id: ids.next++, domain_id: zoneId, type: r.type, host: `${r.name}.`, value: r.type === 'TXT' ? r.data.join('') : r.data[0], opt: '', ttl: r.ttl },
  );
}

/** Zone ids of aliases start here: far above any domain id, so a record's `domain_id` names one zone only. */
export const ALIAS_ZONE_IDS = 100_000;

/**
 * Add a domain alias to `domain` (REST flags default as Plesk's "alias with everything": web, dns, mail on, no SEO
 * redirect). Its zone holds the fixture's mail records under the alias name (NS, A, MX, the stale SPF, the old
 * `_mailchannels`, the DKIM key); `zone: false` gives it none.
 */
export function addPleskAlias(
  state: PleskState,
  domain: string,
  alias: { name: string; ascii_name?: string; web?: boolean; dns?: boolean; mail?: boolean; seo_redirect?: boolean },
  opts: { zone?: boolean } = {},
): PleskState['aliases'][number] {
  const parent = state.domains.find((d) => d.name === domain);
  if (!parent) throw new Error(`no domain ${domain} in the Plesk emulator`);
  const a = {
    id: ALIAS_ZONE_IDS + state.aliases.length,
    domain_id: parent.id,
    name: alias.name,
    ascii_name: alias.ascii_name ?? alias.name,
    web: alias.web ?? true,
    dns: alias.dns ?? true,
    mail: alias.mail ?? true,
    seo_redirect: alias.seo_redirect ?? false,
  };
  state.aliases.push(a);
  if (opts.zone !== false) {
    const ids = { next: state.nextId };
    state.records.push(...pleskRecords(zoneRecords(a.ascii_name, state.dkim.publicKey), a.id, ids));
    state.nextId = ids.next;
  }
  return a;
}

/** The zone `?domain=<name>` names: a domain's (by `name`, as `?name=` filters), else an alias's (by `name`). */
function zoneIdOf(state: PleskState, name: string): number | null {
  return state.domains.find((d) => d.name === name)?.id ?? state.aliases.find((a) => a.name === name)?.id ?? null;
}

/** Write the DKIM private keys Plesk keeps in /etc/domainkeys/<domain>/default (§4). */
export function writePleskKeys(state: PleskState, root: string, domains = state.domains.map((d) => d.name)): void {
  for (const d of domains) {
    mkdirSync(join(root, 'etc/domainkeys', d), { recursive: true });
    writeFileSync(join(root, 'etc/domainkeys', d, 'default'), state.dkim.privateKeyPem);
  }
}

/** The records of a domain's zone, or of an alias's zone (by name). */
export function recordsOf(state: PleskState, domain: string) {
  const id = zoneIdOf(state, domain);
  return id === null ? [] : state.records.filter((r) => r.domain_id === id);
}

export interface CliOut {
  code: number;
  stdout: string;
  stderr: string;
}

/** `plesk bin <utility> …` (§2.1, §2.3). */
export function pleskBin(state: PleskState, utility: string, args: string[]): CliOut {
  state.calls.push(`bin:${utility} ${args.join(' ')}`);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (utility === 'dns') {
    const action = args[0];
    const zone = args[1];
    // The domain or domain alias by the name Plesk knows it by (`name`, as `?name=` / `?domain=` filter here: the
    // Unicode spelling of an IDN domain); records carry the A-label (`ascii_name`), as REST shows them. Plesk's CLI
    // reference documents `dns --add|--del <domain_name>|<domain_alias>`.
    const domain = state.domains.find((d) => d.name === zone);
    const alias = domain ? undefined : state.aliases.find((a) => a.name === zone);
    const dom = domain ?? (alias ? { id: alias.id, ascii_name: alias.ascii_name } : undefined);
    if (!dom) return { code: 1, stdout: '', stderr: `An error occurred during domain update: Domain "${zone}" does not exist\n` };
    // TXT: `-txt <value> -domain <prefix>`; CNAME: `-cname <prefix> -canonical <target>` (§2.1). The target is stored
    // with the trailing dot REST shows, and matched whatever its case or dot.
    const cname = opt('-cname');
    const type = cname !== undefined ? 'CNAME' : 'TXT';
    const value = cname !== undefined ? opt('-canonical') : opt('-txt');
    const prefix = cname !== undefined ? cname : opt('-domain');
    if (value === undefined || prefix === undefined) return { code: 1, stdout: '', stderr: 'Unsupported record options in this emulator\n' };
    const host = prefix ? `${prefix}.${dom.ascii_name}.` : `${dom.ascii_name}.`;
    const target = (v: string) => v.toLowerCase().replace(/\.$/, '');
    const same = (v: string) => (type === 'CNAME' ? target(v) === target(value) : v === value);
    const match = (r: PleskState['records'][number]) => r.domain_id === dom.id && r.type === type && r.host === host && same(r.value);
    if (action === '--add') {
      if (state.records.some(match)) return { code: 2, stdout: '', stderr: `Unable to add the DNS record: the record already exists\n` };
      const ttl = Number(opt('-ttl') ?? 86400);
      state.records.push({ id: state.nextId++, domain_id: dom.id, type, host, value: type === 'CNAME' ? `${target(value)}.` : value, opt: '', ttl });
      return { code: 0, stdout: `SUCCESS: Creation of DNS record in Domain '${zone}' complete.\n`, stderr: '' };
    }
    if (action === '--del') {
      const i = state.records.findIndex(match);
      if (i < 0) return { code: 1, stdout: '', stderr: 'Unable to remove the DNS record: the record does not exist\n' };
      state.records.splice(i, 1);
      return { code: 0, stdout: `SUCCESS: Removal of DNS record in Domain '${zone}' complete.\n`, stderr: '' };
    }
    return { code: 1, stdout: '', stderr: `Unknown command ${action}\n` };
  }
  if (utility === 'domain_pref' && args[0] === '--update') {
    const d = args[1];
    const dom = state.domains.find((x) => x.name === d);
    if (!dom) return { code: 1, stdout: '', stderr: `Domain "${d}" does not exist\n` };
    const sign = opt('-sign_outgoing_mail');
    if (sign !== undefined) {
      state.mailPrefs[d] = { ...(state.mailPrefs[d] ?? { mailservice: true }), sign: sign === 'true' };
      if (sign === 'true') {
        // The key file under the A-label (/etc/domainkeys/<domain>/default, §4), and with Plesk DNS on the two records
        // §4 lists: `default._domainkey` with the key and the `_domainkey` "DKIM policy" TXT (its default value is
        // UNCONFIRMED; `o=-` as commonly reported), each unless the name already holds a record.
        if (state.root) writePleskKeys(state, state.root, [dom.ascii_name]);
        const publish = (host: string, value: string) => {
          if (!state.records.some((r) => r.domain_id === dom.id && r.host === host)) state.records.push({ id: state.nextId++, domain_id: dom.id, type: 'TXT', host, value, opt: '', ttl: 86400 });
        };
        publish(`default._domainkey.${dom.ascii_name}.`, `v=DKIM1; k=rsa; p=${state.dkim.publicKey}`);
        publish(`_domainkey.${dom.ascii_name}.`, 'o=-');
      }
    }
    return { code: 0, stdout: `SUCCESS: Update of domain preferences for '${d}' complete.\n`, stderr: '' };
  }
  return { code: 1, stdout: '', stderr: `Unknown utility or command: ${utility} ${args[0] ?? ''}\n` };
}

function xmlAnswer(state: PleskState, body: string): string {
  const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(body)?.[1];
  const wrap = (s: string) => `<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1">${s}</packet>`;
  if (body.includes('<server><get><prefs/>')) {
    return wrap(
      `<server><get><result><status>ok</status><prefs><outgoing_email_mode>${state.outgoingMode}</outgoing_email_mode>` +
        `<outgoing_email_mode_explicit_ipv4>${state.explicitIpv4}</outgoing_email_mode_explicit_ipv4></prefs></result></get></server>`,
    );
  }
  if (body.includes('<webspace><get>')) {
    const name = tag('name') ?? '';
    const ip = state.webspaceIp[name];
    if (!ip) return wrap(`<webspace><get><result><status>error</status><errcode>1013</errcode><errtext>Webspace does not exist</errtext></result></get></webspace>`);
    return wrap(`<webspace><get><result><status>ok</status><data><gen_info><name>${name}</name><dns_ip_address>${ip}</dns_ip_address></gen_info></data></result></get></webspace>`);
  }
  const siteId = Number(tag('site-id'));
  const dom = state.domains.find((d) => d.id === siteId);
  if (body.includes('<mail><get_prefs>')) {
    if (!dom) return wrap(`<mail><get_prefs><result><status>error</status><errcode>1013</errcode><errtext>Site does not exist</errtext></result></get_prefs></mail>`);
    const p = state.mailPrefs[dom.name] ?? { sign: false, mailservice: true };
    return wrap(
      `<mail><get_prefs><result><status>ok</status><site-id>${siteId}</site-id><prefs><nonexistent-user>bounce</nonexistent-user>` +
        `<spam-protect-sign>${p.sign}</spam-protect-sign><mailservice>${p.mailservice}</mailservice></prefs></result></get_prefs></mail>`,
    );
  }
  if (body.includes('<dns><get>')) {
    if (!dom) return wrap(`<dns><get><result><status>error</status><errcode>1013</errcode><errtext>Site does not exist</errtext></result></get></dns>`);
    return wrap(
      `<dns><get><result><status>ok</status><zone_type>${state.zoneType[dom.name] ?? 'master'}</zone_type>` +
        `<zone_status>${state.zoneStatus[dom.name] ?? 'enabled'}</zone_status></result></get></dns>`,
    );
  }
  return wrap('<system><status>error</status><errcode>1014</errcode><errtext>Parser error: Request is invalid</errtext></system>');
}

/** `stateFile`: share state with the fake `plesk` executable (reloaded before and saved after every request). */
export function startPleskServer(state: PleskState, stateFile?: string): Promise<RunningServer> {
  return listen(async (req, res) => {
    if (stateFile) Object.assign(state, JSON.parse(readFileSync(stateFile, 'utf8')) as PleskState);
    const send = (status: number, body: unknown) => {
      if (stateFile) writeFileSync(stateFile, JSON.stringify(state));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const key = (req.headers['x-api-key'] ?? req.headers['key']) as string | undefined;
    if (key !== state.apiKey) return send(401, { code: 401, message: 'Authentication failed: wrong API key' });
    const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
    state.calls.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname === '/enterprise/control/agent.php' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'text/xml' });
      return res.end(xmlAnswer(state, body));
    }
    const p = url.pathname;
    let m: RegExpExecArray | null;
    const domResp = (d: PleskState['domains'][number]) => ({
      id: d.id,
      name: d.name,
      ascii_name: d.ascii_name,
      hosting_type: d.hosting_type,
      base_domain_id: d.base_domain_id,
      guid: `guid-${d.id}`,
      aliases: state.aliases.filter((a) => a.domain_id === d.id).map(({ name, ascii_name, web, dns, mail, seo_redirect }) => ({ name, ascii_name, web, dns, mail, seo_redirect })),
    });
    if (req.method === 'GET' && p === '/api/v2/clients') return send(200, state.clients.map((c) => ({ ...c, status: 0 })));
    if (req.method === 'GET' && (m = /^\/api\/v2\/clients\/(\d+)\/domains$/.exec(p))) {
      const id = Number(m[1]);
      if (!state.clients.some((c) => c.id === id)) return send(404, { code: 404, message: 'Client is not found' });
      return send(200, state.domains.filter((d) => d.client_id === id).map(domResp));
    }
    if (req.method === 'GET' && p === '/api/v2/domains') {
      const name = url.searchParams.get('name');
      return send(200, state.domains.filter((d) => !name || d.name === name).map(domResp));
    }
    if (req.method === 'GET' && (m = /^\/api\/v2\/domains\/(\d+)$/.exec(p))) {
      const d = state.domains.find((x) => x.id === Number(m![1]));
      return d ? send(200, domResp(d)) : send(404, { code: 404, message: 'Domain is not found' });
    }
    const dnsRecord = ({ domain_id: _d, ...r }: PleskState['records'][number]) => r;
    // `?domain=` takes a domain or alias name (§1.2). What Plesk answers for an alias with DNS off is not documented:
    // the emulator serves its zone regardless (the adapter must not rely on a 404 there).
    if (p === '/api/v2/dns/records' && req.method === 'GET') {
      const zoneId = zoneIdOf(state, url.searchParams.get('domain') ?? '');
      if (zoneId === null) return send(404, { code: 404, message: 'Domain or Domain Alias is not found' });
      return send(200, state.records.filter((r) => r.domain_id === zoneId).map(dnsRecord));
    }
    if (p === '/api/v2/dns/records' && req.method === 'POST') {
      const name = url.searchParams.get('domain') ?? '';
      const zoneId = zoneIdOf(state, name);
      if (zoneId === null) return send(404, { code: 404, message: 'Domain or Domain Alias is not found' });
      let rec: { type?: unknown; host?: unknown; value?: unknown; opt?: unknown; ttl?: unknown };
      try {
        rec = JSON.parse(body) as typeof rec;
      } catch {
        return send(400, { code: 400, message: 'Invalid JSON' });
      }
      const types = ['A', 'CNAME', 'PTR', 'MX', 'NS', 'TXT', 'SOA', 'AXFR', 'SRV', 'AAAA', 'DS', 'CAA', 'TLSA', 'HTTPS'];
      if (typeof rec.type !== 'string' || !types.includes(rec.type) || typeof rec.host !== 'string' || typeof rec.value !== 'string') {
        return send(400, { code: 400, message: 'Invalid DNS record: type, host and value are required' });
      }
      // The zone's own name in the spelling records carry (the A-label); the host sent as an FQDN, with or without the
      // trailing dot (§1.2: relative names are UNCONFIRMED — refused here).
      const zoneName = (state.domains.find((d) => d.id === zoneId)?.ascii_name ?? state.aliases.find((a) => a.id === zoneId)!.ascii_name).toLowerCase();
      const host = rec.host.toLowerCase().replace(/\.$/, '');
      if (host !== zoneName && !host.endsWith(`.${zoneName}`)) return send(400, { code: 400, message: `Invalid DNS record: the host ${rec.host} is not inside ${zoneName}` });
      const ttl = typeof rec.ttl === 'number' && rec.ttl > 0 ? rec.ttl : 86400;
      const stored = { id: state.nextId++, domain_id: zoneId, type: rec.type, host: `${host}.`, value: rec.value, opt: typeof rec.opt === 'string' ? rec.opt : '', ttl };
      state.records.push(stored);
      return send(200, dnsRecord(stored));
    }
    if ((m = /^\/api\/v2\/dns\/records\/(\d+)$/.exec(p)) && (req.method === 'GET' || req.method === 'DELETE')) {
      const i = state.records.findIndex((r) => r.id === Number(m![1]));
      if (i < 0) return send(404, { code: 404, message: 'DNS record is not found' });
      if (req.method === 'GET') return send(200, dnsRecord(state.records[i]));
      state.records.splice(i, 1);
      return send(200, { status: 'success' });
    }
    if (req.method === 'GET' && p === '/api/v2/server') return send(200, { platform: 'Unix', hostname: state.hostname, guid: 'srv', panel_version: '18.0.60' });
    if (req.method === 'GET' && p === '/api/v2/server/ips') return send(200, state.ips.map((i) => ({ ...i, netmask: '255.255.255.0', interface: 'eth0' })));
    if (req.method === 'POST' && (m = /^\/api\/v2\/cli\/([^/]+)\/call$/.exec(p))) {
      const utility = decodeURIComponent(m[1]);
      if (!state.cliAllowed.includes(utility)) return send(404, { code: 404, message: `Command "${utility}" is not found` });
      let params: string[] = [];
      try {
        params = (JSON.parse(body) as { params?: string[] }).params ?? [];
      } catch {
        return send(400, { code: 400, message: 'Invalid JSON' });
      }
      return send(200, pleskBin(state, utility, params));
    }
    send(404, { code: 404, message: `Route ${req.method} ${p} is not found` });
  });
}

/** The zone of `domain` as live DNS answers it (the panel's zone is the live one), plus `extra`. */
export function liveOf(state: PleskState, domain: string, extra: ZoneMap = {}): MapResolver {
  const zones: ZoneMap = {};
  for (const r of recordsOf(state, domain)) {
    const name = canonName(r.host);
    const e = (zones[name] ??= {}) as Record<string, unknown[]>;
    const v = r.type === 'TXT' ? [r.value] : r.type === 'MX' ? { priority: Number(r.opt), exchange: canonName(r.value) } : canonName(r.value);
    (e[r.type] ??= []).push(v);
  }
  return new MapResolver({ ...zones, ...extra });
}
