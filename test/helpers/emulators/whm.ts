// WHM API 1 emulator over the same server state as the cPanel emulator (shared/reference/cpanel.md §2, §6, §7):
// `/json-api/<func>?api.version=1` with `Authorization: whm USER:TOKEN`; resellers see only the accounts they own.
// Also writes the server files the WHM adapter reads (`/etc/mailips`, DKIM keys, exim localopts) into a temp root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountDomains, accountZones, authorityItem, authUser, emailAuthItem, getMultiple, installDkim, listen, writeServerKey, massEdit, parseZoneItems, requestParams, uapiCall, WHM_ADD_TYPES, type CpState, type Params, type RunningServer } from './cpanel.js';

export interface WhmEnvelope {
  metadata: { command: string; reason: string; result: 0 | 1; version: 1 };
  data: unknown;
}

const ok = (command: string, data: unknown, reason = 'OK'): WhmEnvelope => ({ metadata: { command, reason, result: 1, version: 1 }, data });
const fail = (command: string, reason: string, data: unknown = null): WhmEnvelope => ({ metadata: { command, reason, result: 0, version: 1 }, data });

function visibleAccounts(state: CpState, whmUser: string) {
  return whmUser === 'root' ? state.accounts : state.accounts.filter((a) => a.owner === whmUser);
}

export function whmCall(state: CpState, whmUser: string, func: string, params: Params): WhmEnvelope | 'not-found' {
  const get = (n: string) => params.find(([k]) => k === n)?.[1];
  const domains = getMultiple(params, 'domain');
  // has_local_authority takes several domains: logged with all of them ("whm:has_local_authority a.example b.example").
  const logged = func === 'has_local_authority' ? domainArgs(params).join(' ') : domains[0];
  state.calls.push(`whm:${func}${logged ? ` ${logged}` : ''}`);
  const accts = visibleAccounts(state, whmUser);
  const zoneAcct = (zone: string) => accts.find((a) => accountZones(a).includes(zone));
  const domainAcct = (d: string) => accts.find((a) => accountDomains(a).includes(d));
  switch (func) {
    case 'listaccts':
      if (!accts.length) return fail(func, 'No accounts found.');
      return ok(func, { acct: accts.map((a) => ({ user: a.user, domain: a.main, owner: a.owner, ip: a.ip, suspended: 0, plan: 'default' })) });
    case 'get_domain_info':
      return ok(func, {
        domains: accts.flatMap((a) => [
          { domain: a.main, user: a.user, user_owner: a.owner, domain_type: 'main', parent_domain: a.main },
          ...a.addon.map((d) => ({ domain: d, user: a.user, user_owner: a.owner, domain_type: 'addon', parent_domain: a.main })),
          ...a.parked.map((d) => ({ domain: d, user: a.user, user_owner: a.owner, domain_type: 'parked', parent_domain: a.main })),
          ...a.sub.map((d) => ({ domain: d, user: a.user, user_owner: a.owner, domain_type: 'sub', parent_domain: a.main })),
        ]),
      });
    case 'parse_dns_zone': {
      const zone = get('zone') ?? '';
      if (!zoneAcct(zone) || !state.zones[zone]) return fail(func, `The domain “${zone}” does not exist.`);
      return ok(func, { payload: parseZoneItems(state.zones[zone]) });
    }
    case 'mass_edit_dns_zone': {
      const zone = get('zone') ?? '';
      if (!zoneAcct(zone)) return fail(func, `The domain “${zone}” does not exist.`);
      // WHM add types: a fixed list; edits are not type-limited (§6.1).
      const r = massEdit(state, zone, params, { add: WHM_ADD_TYPES, edit: null });
      return r.ok ? ok(func, { new_serial: r.newSerial }) : fail(func, r.errors.join(' '), r.data);
    }
    case 'validate_current_spfs':
    case 'validate_current_dkims':
    case 'validate_current_ptrs':
      return ok(func, { payload: domains.filter(domainAcct).map((d) => emailAuthItem(state, func, d)) });
    case 'has_local_authority': {
      // WHM API 1 docs (https://api.docs.cpanel.net/openapi/whm/operation/has_local_authority): "To check multiple
      // domains, duplicate or increment the parameter name … use the domain parameter multiple times. Or the domain,
      // domain-1, and domain-2 parameters." Whostmgr::API::1::DNS::has_local_authority reads them with
      // Whostmgr::API::1::Utils::Domains::validate_domains_or_die (none, or an empty one, dies; so does the whole call
      // when any is not the caller's, naming them all; the hostname needs root) and answers
      // `data.records` = one item per domain asked, in that order, items as UAPI's (§5).
      const asked = domainArgs(params);
      if (!asked.length) return fail(func, 'Provide at least one “domain” argument.');
      if (asked.some((d) => !d)) return fail(func, 'The “domain” arguments cannot be empty.');
      const invalid = [...new Set(asked.filter((d) => (d === state.hostname ? whmUser !== 'root' : !domainAcct(d))))];
      if (invalid.length) return fail(func, `The account “${whmUser}” does not control the ${listAndQuoted(invalid)} ${invalid.length === 1 ? 'domain' : 'domains'}.`);
      return ok(func, { records: asked.map((d) => authorityItem(state, d)) });
    }
    case 'uapi_cpanel': {
      // §1/§2: a UAPI call as a cPanel account the caller controls; `metadata.result` and `data.uapi` (the UAPI envelope).
      const user = get('cpanel.user') ?? '';
      const module = get('cpanel.module') ?? '';
      const fn = get('cpanel.function') ?? '';
      if (!accts.some((a) => a.user === user)) return fail(func, `You do not have access to the account “${user}”.`);
      const out = uapiCall(state, user, module, fn, params.filter(([k]) => !k.startsWith('cpanel.')));
      if (out === 'not-found') return fail(func, `Failed to load module “${module}”.`);
      return ok(func, { uapi: out });
    }
    case 'ensure_dkim_keys_exist':
      return ok(func, {
        payload: domains.filter(domainAcct).map((d) => {
          if (!state.dkimDomains.includes(d)) state.dkimDomains.push(d);
          writeServerKey(state, d);
          return { domain: d, status: 1, msg: 'key is acceptable' };
        }),
      });
    case 'enable_dkim':
      return ok(func, { payload: domains.filter(domainAcct).map((d) => (installDkim(state, d), { domain: d, status: 1, msg: '[OK]' })) });
    default:
      return 'not-found';
  }
}

/**
 * Every `domain` argument as cPanel's Cpanel::Form::Param collects them: the bare `domain` (each, when repeated) first,
 * then `domain-N` in the order of N.
 */
function domainArgs(params: Params): string[] {
  const suffix = (k: string) => (k === 'domain' ? -1 : Number(k.slice('domain-'.length)));
  return params
    .filter(([k]) => /^domain(-\d+)?$/.test(k))
    .map(([k, v], i) => ({ n: suffix(k), i, v }))
    .sort((a, b) => a.n - b.n || a.i - b.i)
    .map((x) => x.v);
}

/** cPanel's `list_and_quoted`: “a”, “a” and “b”, “a”, “b”, and “c”. */
function listAndQuoted(items: string[]): string {
  const q = items.map((x) => `“${x}”`);
  return q.length <= 2 ? q.join(' and ') : `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}`;
}

export function startWhmServer(state: CpState): Promise<RunningServer> {
  return listen(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/json-api\/([^/?]+)/.exec(req.url ?? '');
    if (!m) return send(404, { metadata: { result: 0, reason: 'Not found' } });
    const user = authUser(state, req, 'whm');
    if (!user) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('Access denied');
    }
    const params = (await requestParams(req)).filter(([k]) => k !== 'api.version');
    const out = whmCall(state, user, decodeURIComponent(m[1]), params);
    if (out === 'not-found') return send(404, { metadata: { result: 0, reason: `Unknown app (“${m[1]}”) requested for this version (1) of the API.` } });
    send(200, out);
  });
}

/**
 * Lay out the cPanel server files under `root` (§6.3, §8) from the state: mail IPs/HELO, main IP, NAT map, DKIM keys,
 * the validity cache entries the state has (§8.4: not every key has one), localopts. The state's `serverRoot` becomes
 * `root` unless set, so the emulated API calls (key generation, validate_current_dkims) update these files too.
 * `localopts` replaces the exim.conf.localopts text; `wwwacct` writes /etc/wwwacct.conf with those nameservers.
 */
export function writeCpanelServerFiles(state: CpState, root: string, opts: { mailchannels?: boolean; localopts?: string; wwwacct?: string[] } = {}): void {
  const w = (p: string, text: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  state.serverRoot ??= root;
  w('etc/mailips', Object.entries(state.mailips).map(([d, ip]) => `${d}: ${ip}\n`).join(''));
  w('etc/mailhelo', `*: ${state.hostname}\n`);
  w('etc/hostname', `${state.hostname}\n`);
  w('var/cpanel/mainip', state.mainIp);
  // /etc/wwwacct.conf (NS, NS2…): only when asked, so tests choose whether the adapter knows the server's nameservers.
  if (opts.wwwacct) w('etc/wwwacct.conf', `HOMEDIR /home\n${opts.wwwacct.map((n, i) => `NS${i ? i + 1 : ''} ${n}\n`).join('')}`);
  if (Object.keys(state.nat).length) w('var/cpanel/cpnat', Object.entries(state.nat).map(([local, pub]) => `${local} ${pub}\n`).join(''));
  const all = state.accounts.flatMap(accountDomains);
  w('etc/localdomains', all.filter((d) => d !== 'carol.example').join('\n') + '\n');
  w('etc/remotedomains', 'carol.example\n');
  for (const d of state.dkimDomains) w(`var/cpanel/domain_keys/private/${d}`, state.dkim.privateKeyPem);
  for (const d of state.validityCache) w(`var/cpanel/domain_keys/validity_cache/${d}`, '');
  w(
    'etc/exim.conf.localopts',
    opts.localopts ??
      (opts.mailchannels
        ? 'smarthost_routelist=* smtp.mailchannels.net::587\nsmarthost_auth_required=1\nsmarthost_username=myhostingco\nspf_include_hosts=relay.mailchannels.net\n'
        : 'smarthost_routelist=\nspf_include_hosts=\n'),
  );
}
