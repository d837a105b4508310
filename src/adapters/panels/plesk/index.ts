// Plesk Obsidian adapter: REST API v2 (`X-API-Key`) for reads, `plesk bin dns` (locally through execFile, or remotely
// through `/api/v2/cli/<utility>/call`) for TXT and CNAME writes, the XML API (same key, header `KEY`) for what REST
// lacks (outgoing mail IP mode, DKIM signing flag, zone status), and the server's files for the DKIM key and relay.
// Domain aliases (REST `aliases[]`) are listed, read and written like domains, with their domain's owner and mail
// setup; their zone is written through REST `dns/records` by record id (see applyAliasChanges).
// Facts: shared/reference/plesk.md (markers there; INFERRED below where we reasoned past it). Checked against public
// sources (Plesk's OpenAPI spec, docs.plesk.com, plesk/* repositories): see the notes at each fact.
import { checkDomain } from '../../../core/domain.js';
import { existsSync } from 'node:fs';
import { canonName } from '../../../core/domain.js';
import type { Change, DomainRef, Identity, MailSettings, RelaySettings, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError, PartialWriteError, type ApplyResult, type Panel, type PanelCapabilities } from '../../../core/panel.js';
import { unwritableChanges } from '../../../core/plans/plan.js';
import { hashRecords, recordsAt } from '../../../core/zone.js';
import { canonicalKey } from '../../../core/classify.js';
import { canonicalIpv6, isIpAddress } from '../../../core/ip.js';
import { relayOf } from '../../../knowledge/index.js';
import { parseDkimRecord } from '../../../core/dkim/record.js';
import { relativeDname, undoGeneratedDkim } from '../cpanel/zonefile.js';
import { describeGeneratedDkim } from '../cpanel/index.js';
import { splitTxt } from '../files/zonefile.js';
import { COMMAND_TIMEOUT_MS, errorText, PanelHttpClient, runCommand, type CommandResult } from '../http.js';
import { listedDomain } from '../listed.js';
import { publicKeyFromPem, readServerFile } from '../whm/serverfiles.js';

/** Runs a `plesk bin <utility>` with argv items (never a shell string). */
export interface PleskCliTransport {
  run(utility: string, params: string[]): Promise<CommandResult>;
}

/**
 * Every utility mailhealth runs changes something (`dns --add`/`--del`, `domain_pref --update`): a run stopped before it
 * exited (killed at the timeout or by a signal) is PanelError('no-answer') — Plesk may have made the change.
 */
export class PleskLocalCli implements PleskCliTransport {
  constructor(private readonly bin = existsSync('/usr/sbin/plesk') ? '/usr/sbin/plesk' : 'plesk') {}
  run(utility: string, params: string[]): Promise<CommandResult> {
    return runCommand(this.bin, ['bin', utility, ...params], { write: true });
  }
}

/**
 * Plesk's own answer to `/cli/<utility>/call`: `{code, stdout, stderr}`, or its ErrorResponse `{code, message}`
 * (§1.4, §1.5) — both carry a numeric `code`.
 */
const isCliAnswer = (json: unknown): boolean => !!json && typeof json === 'object' && typeof (json as { code?: unknown }).code === 'number';

/**
 * `POST /api/v2/cli/<utility>/call {params}` → `{code, stdout, stderr}` (plesk.md §1.4). Every call is a write (see
 * PleskLocalCli): an answer from a gateway in front of Plesk (502/503/504 — its nginx gave up on PHP, which may go on
 * and make the change) or one without the utility's exit code is PanelError('no-answer') from the client.
 */
export class PleskRestCli implements PleskCliTransport {
  constructor(private readonly client: PanelHttpClient) {}
  async run(utility: string, params: string[]): Promise<CommandResult> {
    // Plesk answers only once the utility has exited: it is given as long to start answering as a local run of it
    // (COMMAND_TIMEOUT_MS), not the client's 30 s idle limit, which cut a slow `dns --add` off as "no answer" (review
    // r1). The client's overall deadline still ends the call.
    const res = await this.client.request({
      method: 'POST',
      path: `/api/v2/cli/${encodeURIComponent(utility)}/call`,
      json: { params },
      write: true,
      panelAnswer: isCliAnswer,
      answerWaitMs: COMMAND_TIMEOUT_MS,
    });
    if (res.status === 404) throw new PanelError('not-found', `Plesk does not allow the utility "${utility}" over REST${errorText(res.json, res.text)}`);
    if (res.status >= 400) throw new PanelError('other', `Plesk cli/${utility}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    // Plesk's answer carries the utility's exit code (§1.4). Without one (the client lets no such 2xx through) it is no
    // answer of the utility's: whether it ran is not known — never an exit code made up here, which read as a refusal
    // (QA h3 D9: a record deleted, then called "not deleted", and so lost).
    const o = (res.json ?? {}) as { code?: unknown; stdout?: unknown; stderr?: unknown };
    if (typeof o.code !== 'number') throw new PanelError('no-answer', `Plesk cli/${utility} did not answer with the utility's exit code (HTTP ${res.status}${errorText(res.json, res.text)})`);
    return { code: o.code, stdout: typeof o.stdout === 'string' ? o.stdout : '', stderr: typeof o.stderr === 'string' ? o.stderr : '' };
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
  /**
   * The clock the server-wide answers (`once`: the domain list, host name, mail prefs) are aged by: milliseconds that
   * only go forward — default performance.now(), never the wall clock, which an NTP step or an admin can set back (a
   * cached domain list would then be used for as long as the step). Tests pass their own.
   */
  now?: () => number;
}

interface Client {
  id: number;
  login: string;
  type: 'admin' | 'reseller' | 'customer' | string;
  owner_login?: string;
}
/** REST `DomainResponse.aliases[]` (18.0.42+, §1.3). No id: the XML API's `site-alias-id` cannot be had from REST. */
interface AliasResp {
  name: string;
  ascii_name?: string;
  web?: boolean;
  dns?: boolean;
  mail?: boolean;
  seo_redirect?: boolean;
}
interface DomainResp {
  id: number;
  name: string;
  ascii_name?: string;
  base_domain_id?: number;
  aliases?: AliasResp[];
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

/**
 * What a name is in Plesk: a domain (`/api/v2/domains` entry, or a name Plesk does not list, read as before), or a
 * domain alias with the domain it belongs to (its owner, mail setup and subscription are that domain's).
 */
type Target = { kind: 'domain'; name: string } | { kind: 'alias'; name: string; alias: AliasResp; parent: DomainResp };

/** A name Plesk gives, in the form every domain is listed by: checkDomain's (lower case, A-label) when it is a domain name. */
const plesked = (name: string): string => listedDomain(name) ?? canonName(name);
const domainName = (d: DomainResp): string => plesked(d.ascii_name ?? d.name);
/** An alias's canonical name: the A-label (`ascii_name`), else `name`. Empty when Plesk gave neither. */
const aliasName = (a: AliasResp): string => plesked(a.ascii_name || a.name || '');
/**
 * The key records are matched by when written: type, name and whole value — the TXT text, a CNAME's target — as
 * `dns --del` matches (type + host + value, §2.1).
 */
const recKey = (r: ZoneRecord): string => `${r.type.toUpperCase()}\t${canonName(r.name)}\t${r.type.toUpperCase() === 'CNAME' ? canonName(r.value) : r.txt ? r.txt.join('') : r.value}`;

/** Text of the first `<tag>…</tag>` in a small XML answer (packets are tiny and fixed-shape; no full parser). */
function xmlTag(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : null;
}

// A record with no TTL of its own (REST `ttl` absent or null; pm_Dns_Record::getTtl() is `int|null`, plesk/pm-api-stubs)
// is served with the zone's TTL, whose default is one day (XML API "SOA Parameters": "Plesk sets the default value of
// one day"). INFERRED: a zone whose SOA TTL was changed serves such records with that value, which is not read here.
const DEFAULT_TTL = 86400;

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

/** The smarthost main.cf's `relayhost` names (relayhostOf), as relay settings; null when none (or no main.cf). */
function relayFromMainCf(mainCf: string | null): RelaySettings | null {
  const relayhost = relayhostOf(mainCf ?? '');
  if (!relayhost) return null;
  const host = canonName(relayhost.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, ''));
  if (!host) return null;
  const known = relayOf(host);
  if (known) return { provider: known.provider, host: known.include };
  return { provider: host, host };
}

/** Record types whose value is a host name: an empty one is no record. */
const NAMES_A_HOST = new Set(['NS', 'CNAME', 'MX', 'PTR']);

/** A whole number Plesk gives as a number or, from some front, as a string of digits; null otherwise. */
function wholeNumber(x: unknown): number | null {
  if (typeof x === 'number') return Number.isSafeInteger(x) && x >= 0 ? x : null;
  return typeof x === 'string' && /^\d{1,15}$/.test(x) ? Number(x) : null;
}

/** An answer of Plesk's of the shape it documents, but not holding what it must: PanelError('other') saying what. */
function unexpectedShape(what: string, why: string): PanelError {
  return new PanelError('other', `Plesk's answer to ${what} had an unexpected shape (${why}), so it was not read`);
}

/**
 * The IP address in `tag` of an XML answer; null when the tag is absent or empty (explicit-ip with IPv4 only leaves
 * the IPv6 empty). Anything else that is not an IP address is no setting: PanelError.
 */
function outgoingIp(xml: string, tag: string, what: string): string | null {
  const v = xmlTag(xml, tag)?.trim();
  if (!v) return null;
  if (!isIpAddress(v)) throw unexpectedShape(what, `${tag} ${JSON.stringify(v.slice(0, 40))}, not an IP address`);
  return v;
}

/**
 * `GET /dns/records` entries (§1.2: `{id, type, host, value, opt, ttl}`; `ttl` int or null), checked one by one: a
 * record without its id, type, host or value, an `opt` that is no text, or a TTL that is no number is PanelError —
 * never a raw JavaScript error as a finding's text ("Cannot read properties of undefined (reading 'toUpperCase')", "s
 * is not iterable": QA h3 D15), nor a record read with a TTL it does not have (a TTL "3600" was read as one day). Ids
 * and TTLs given as strings of digits are read as those numbers.
 */
export function checkedRecords(list: readonly unknown[], spelling: string): DnsRecord[] {
  const what = `GET /dns/records for ${spelling}`;
  return list.map((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    const id = wholeNumber(o.id);
    const n = `record ${i + 1}${id !== null ? ` (id ${id})` : ''}`;
    if (id === null) throw unexpectedShape(what, `${n} has no id`);
    if (typeof o.type !== 'string' || !/^[A-Za-z0-9]+$/.test(o.type)) throw unexpectedShape(what, `${n} has no type`);
    const rec = `${n}, ${o.type.toUpperCase()}`;
    if (typeof o.host !== 'string' || !o.host.trim()) throw unexpectedShape(what, `${rec}, has no host`);
    if (typeof o.value !== 'string') throw unexpectedShape(what, `${rec} at ${o.host}, has no value (${o.value === null ? 'null' : typeof o.value})`);
    // A record naming a host names one (fuzz QA: an NS record with "" gave the nameserver "").
    if (!o.value.trim() && NAMES_A_HOST.has(o.type.toUpperCase())) throw unexpectedShape(what, `${rec} at ${o.host}, has no value`);
    if (o.opt !== undefined && o.opt !== null && typeof o.opt !== 'string') throw unexpectedShape(what, `${rec} at ${o.host}, has opt ${JSON.stringify(o.opt)}, not text`);
    const ttl = o.ttl === undefined || o.ttl === null ? null : wholeNumber(o.ttl);
    // A TTL is at most 2^31-1 (RFC 2181 §8): a larger one is no TTL a record can carry (fuzz QA: read as given).
    if ((ttl === null || ttl > 0x7fffffff) && o.ttl !== undefined && o.ttl !== null) throw unexpectedShape(what, `${rec} at ${o.host}, has TTL ${JSON.stringify(o.ttl)}, not a number of seconds`);
    return { id, type: o.type, host: o.host, value: o.value, opt: (o.opt as string | null | undefined) ?? null, ttl };
  });
}

/**
 * REST `DomainResponse` entries (§1.3: `id`, `name`, `ascii_name`, `base_domain_id`, `aliases[]`), checked: an entry
 * without its id or name, or aliases that are not a list of named entries, is PanelError — never a JavaScript error
 * on a missing name. Ids given as strings of digits are read as those numbers.
 */
export function checkedDomains(list: readonly unknown[], path: string): DomainResp[] {
  const what = `GET ${path}`;
  return list.map((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    const id = wholeNumber(o.id);
    if (id === null) throw unexpectedShape(what, `domain ${i + 1} has no id`);
    if (typeof o.name !== 'string' || !o.name) throw unexpectedShape(what, `domain ${i + 1} (id ${id}) has no name`);
    if (o.ascii_name !== undefined && o.ascii_name !== null && typeof o.ascii_name !== 'string') throw unexpectedShape(what, `${o.name}'s ascii_name is no name`);
    const base = o.base_domain_id === undefined || o.base_domain_id === null ? undefined : wholeNumber(o.base_domain_id);
    if (base === null) throw unexpectedShape(what, `${o.name}'s base_domain_id is no id`);
    const aliases = o.aliases === undefined || o.aliases === null ? undefined : o.aliases;
    // An alias's ascii_name, when given, is a name too (fuzz QA: an object there was a TypeError telling aliases apart).
    const named = (a: unknown): boolean => {
      const x = a as Record<string, unknown> | null;
      return !!x && typeof x === 'object' && typeof x.name === 'string' && (x.ascii_name === undefined || x.ascii_name === null || typeof x.ascii_name === 'string');
    };
    if (aliases !== undefined && !(Array.isArray(aliases) && aliases.every(named))) {
      throw unexpectedShape(what, `${o.name}'s aliases are not a list of named aliases`);
    }
    return { ...(o as unknown as DomainResp), id, name: o.name, ...(typeof o.ascii_name === 'string' ? { ascii_name: o.ascii_name } : { ascii_name: undefined }), base_domain_id: base, aliases: aliases as AliasResp[] | undefined };
  });
}

/** REST `/clients` entries (`id`, `login`, `type`, `owner_login`), checked as checkedDomains. */
export function checkedClients(list: readonly unknown[]): Client[] {
  return list.map((x, i) => {
    const o = (x ?? {}) as Record<string, unknown>;
    const id = wholeNumber(o.id);
    if (id === null) throw unexpectedShape('GET /clients', `client ${i + 1} has no id`);
    if (typeof o.login !== 'string' || !o.login) throw unexpectedShape('GET /clients', `client ${i + 1} (id ${id}) has no login`);
    if (typeof o.type !== 'string') throw unexpectedShape('GET /clients', `client ${o.login} has no type`);
    if (o.owner_login !== undefined && o.owner_login !== null && typeof o.owner_login !== 'string') throw unexpectedShape('GET /clients', `client ${o.login}'s owner_login is no login`);
    return { id, login: o.login, type: o.type, ...(typeof o.owner_login === 'string' ? { owner_login: o.owner_login } : {}) };
  });
}

export class PleskPanel implements Panel {
  readonly kind = 'plesk';
  /**
   * Writes TXT records (every mail record a fix writes) and CNAMEs (a DKIM selector still pointing at a previous host
   * is replaced by the server's key; undo puts the alias back) — nothing else (writableTypes: core blocks a plan
   * holding another type at preview, before any write or key generation).
   */
  readonly capabilities: PanelCapabilities = { serialCheckedWrites: false, generateDkim: true, recordByRecordWrites: true, writableTypes: ['TXT', 'CNAME'] };
  private readonly root: string | null;

  constructor(private readonly opts: PleskOptions) {
    this.root = opts.root === undefined ? '/' : opts.root;
  }

  /** Server-wide answers (host name, outgoing-mail prefs, shared IPs) are asked once per this many ms, not per domain. */
  static SERVER_TTL_MS = 10_000;
  private serverWide = new Map<string, { at: number; p: Promise<unknown> }>();

  /**
   * One call per key per SERVER_TTL_MS, shared by concurrent callers; a failed call is not kept. Aged by the monotonic
   * clock (PleskOptions.now); an age that is not in [0, SERVER_TTL_MS) asks again.
   */
  private once<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const now = this.opts.now ? this.opts.now() : performance.now();
    const hit = this.serverWide.get(key);
    const age = hit ? now - hit.at : -1;
    if (hit && age >= 0 && age < PleskPanel.SERVER_TTL_MS) return hit.p as Promise<T>;
    const p = fetch();
    this.serverWide.set(key, { at: now, p });
    p.catch(() => {
      if (this.serverWide.get(key)?.p === p) this.serverWide.delete(key);
    });
    return p;
  }

  /**
   * A REST read (GET) answered with JSON of the shape Plesk documents for it: a list of objects (`list`) or one object.
   * Anything else — a body that is not JSON (an error or login page from PHP or a proxy, a cut answer) or JSON of
   * another shape — is PanelError('other', '… unexpected answer …'), as WHM and cPanel answers that are not their
   * envelope: never read as an empty list (no accounts, no domains, an empty zone). Reads only: a write's answer is
   * judged where it is sent (the HTTP client's `no-answer` for a body that is not the panel's).
   */
  private async rest<T>(path: string, query: Record<string, string> | undefined, shape: 'list' | 'object'): Promise<T> {
    const res = await this.opts.rest.request({ method: 'GET', path: `/api/v2${path}`, query });
    if (res.status === 404) throw new PanelError('not-found', `Plesk: ${errorText(res.json, res.text).replace(/^: /, '') || 'not found'} (${path})`);
    if (res.status >= 400) throw new PanelError('other', `Plesk ${path}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    const isObject = (x: unknown): boolean => !!x && typeof x === 'object' && !Array.isArray(x);
    const ok = shape === 'list' ? Array.isArray(res.json) && res.json.every(isObject) : isObject(res.json);
    if (!ok) {
      const what = res.json === undefined ? 'not JSON' : `JSON that is not ${shape === 'list' ? 'a list of objects' : 'an object'}`;
      // A short look at the body, control characters shown as "?" (it ends up on a terminal).
      const seen = errorText(undefined, res.text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 102);
      throw new PanelError('other', `Plesk GET ${path}: unexpected answer (HTTP ${res.status}, ${what})${seen}`);
    }
    return res.json as T;
  }

  /**
   * One XML API packet (§3.1), answered with a result of `<status>ok</status>`. An HTTP error, a body that is no XML API
   * packet (an error or login page, an empty answer) or one without a status, and Plesk's own `<status>error</status>`
   * are PanelError — never read as a packet that says nothing (QA: an empty or failed mail get_prefs read as "not
   * signing"). `what` names the packet in messages ("mail get_prefs").
   */
  private async xml(packet: string, what: string): Promise<string> {
    const res = await this.opts.rest.request({
      method: 'POST',
      path: '/enterprise/control/agent.php',
      headers: { KEY: this.opts.apiKey },
      body: { contentType: 'text/xml', text: `<?xml version="1.0" encoding="UTF-8"?><packet>${packet}</packet>` },
    });
    const where = `Plesk XML API (${what})`;
    if (res.status >= 400) throw new PanelError('other', `${where}: HTTP ${res.status}${errorText(res.json, res.text)}`);
    if (!/<packet[\s>]/.test(res.text)) {
      const seen = errorText(undefined, res.text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 102);
      throw new PanelError('other', `${where}: unexpected answer (HTTP ${res.status}, ${res.text.trim() ? 'not an XML API packet' : 'an empty body'})${seen}`);
    }
    const status = xmlTag(res.text, 'status');
    if (status === 'error') throw new PanelError('other', `${where}: ${xmlTag(res.text, 'errtext') || 'error'} (${xmlTag(res.text, 'errcode') || '?'})`);
    if (status !== 'ok') throw new PanelError('other', `${where}: unexpected answer (HTTP ${res.status}, a packet without <status>ok</status>)`);
    return res.text;
  }

  private async clients(): Promise<Client[]> {
    return checkedClients(await this.rest<unknown[]>('/clients', undefined, 'list'));
  }

  async listAccounts(): Promise<{ user: string; role: Identity['role']; owner?: string }[]> {
    const roles: Record<string, Identity['role']> = { admin: 'admin', reseller: 'reseller', customer: 'customer' };
    return (await this.clients()).map((c) => ({ user: c.login, role: roles[c.type] ?? 'customer', ...(c.owner_login && c.owner_login !== c.login ? { owner: c.owner_login } : {}) }));
  }

  /**
   * `GET /api/v2/domains`: every domain with its aliases. Asked once per SERVER_TTL_MS for telling a domain from an
   * alias on reads (a bulk audit reads hundreds of zones); `fresh` asks again (listing, writes, a name not seen yet).
   */
  private domainList(fresh = false): Promise<DomainResp[]> {
    if (fresh) this.serverWide.delete('domains');
    return this.once('domains', async () => checkedDomains(await this.rest<unknown[]>('/domains', undefined, 'list'), '/domains'));
  }

  /** Every domain with its owner login and the owner's owner. REST has no owner filter: filter client-side (§8). */
  private async inventory(): Promise<{ domain: DomainResp; owner: string; ownerType: string; ownerOwner?: string }[]> {
    const clients = await this.clients();
    const byDomain = new Map<number, Client>();
    for (const c of clients) {
      const ds = checkedDomains(await this.rest<unknown[]>(`/clients/${c.id}/domains`, undefined, 'list'), `/clients/${c.id}/domains`);
      for (const d of ds) byDomain.set(d.id, c);
    }
    const all = await this.domainList(true);
    return all.map((d) => {
      const c = byDomain.get(d.id);
      return { domain: d, owner: c?.login ?? 'admin', ownerType: c?.type ?? 'admin', ownerOwner: c?.owner_login };
    });
  }

  /**
   * Domains and domain aliases. An alias (`aliases[]`, §1.3) is listed under its A-label with the owner (and reseller)
   * of the domain it belongs to, so the same scope applies: plesk.md §4 — aliases used for sending need the same mail
   * records under their own name. Every alias is listed, also one whose `mail` is false: it handles no mail here but
   * its name may still send (or be spoofed), like a domain whose mail service is off, which is listed and audited with
   * routing 'remote' (the SPF/DKIM advice then leaves another sender's records alone). Also one with `dns` false: its
   * audit says the zone is not served here. INFERRED: an alias whose name is also a domain's, or another alias's,
   * is not listed — `?domain=<name>` (§1.2) cannot tell which one it answers for, so listing it could hand one
   * subscription's zone to another's owner; the domain of that name stays listed.
   */
  async listDomains(identity: Identity): Promise<DomainRef[]> {
    // A domain or alias whose name is no domain (listedDomain) is left out (and so are the aliases of such a domain:
    // their scope is that domain's).
    const inv = (await this.inventory()).filter((e) => listedDomain(domainName(e.domain)) === domainName(e.domain));
    const domains = new Set(inv.map((e) => domainName(e.domain)));
    const aliasCount = new Map<string, number>();
    for (const e of inv) for (const a of e.domain.aliases ?? []) aliasCount.set(aliasName(a), (aliasCount.get(aliasName(a)) ?? 0) + 1);
    const out: DomainRef[] = [];
    for (const e of inv) {
      const resellerOf = e.ownerType === 'customer' && e.ownerOwner && e.ownerOwner !== 'admin' ? e.ownerOwner : undefined;
      const ok =
        identity.role === 'admin' ||
        (identity.role === 'reseller' && (e.owner === identity.user || resellerOf === identity.user)) ||
        (identity.role === 'customer' && e.owner === identity.user && e.ownerType === 'customer');
      if (!ok) continue;
      const ref = { owner: e.owner, ...(resellerOf ? { reseller: resellerOf } : {}) };
      out.push({ domain: domainName(e.domain), ...ref });
      for (const a of e.domain.aliases ?? []) {
        const name = aliasName(a);
        if (name && listedDomain(name) === name && !domains.has(name) && aliasCount.get(name) === 1) out.push({ domain: name, ...ref, aliasOf: domainName(e.domain) });
      }
    }
    return out;
  }

  /**
   * What `domain` is in Plesk, by the same rules as listDomains: a domain's name is the domain; else the one alias of
   * that name (several: PanelError 'not-found', nothing is read or written through an ambiguous name); else a domain
   * (unknown names are read as before and end in 'not-found'). `fresh`: from a list asked for now (writes).
   */
  private async target(domain: string, fresh = false): Promise<Target> {
    const d = canonName(domain);
    const look = (list: DomainResp[]): Target | null => {
      const entry = nameIndex(list).get(d);
      if (!entry) return null;
      if (entry === 'domain') return { kind: 'domain', name: d };
      const hits = entry;
      if (hits.length > 1) {
        throw new PanelError('not-found', `${d} is a domain alias of several Plesk domains (${hits.map((h) => domainName(h.parent)).join(', ')}): which one Plesk answers for cannot be told, so it is left alone`);
      }
      return hits.length ? { kind: 'alias', name: d, ...hits[0] } : null;
    };
    let t = look(await this.domainList(fresh));
    if (!t && !fresh) t = look(await this.domainList(true)); // the list asked a moment ago may predate the name
    return t ?? { kind: 'domain', name: d };
  }

  /**
   * The other spelling Plesk may know an IDN domain by: its `name` (Unicode) when `domain` is the punycode `ascii_name`
   * we list. Which spelling `?name=` and `?domain=` filter on is not documented (plesk.md), so a lookup that finds
   * nothing by one is tried with the other. Null when there is no other spelling. Domains only (an alias's is its own
   * `name`, see spellingOf).
   */
  private async otherSpelling(domain: string): Promise<string | null> {
    const d = canonName(domain);
    const hit = (await this.inventory()).find((e) => domainName(e.domain) === d);
    const name = hit ? hit.domain.name.toLowerCase().replace(/\.$/, '') : null;
    return name && name !== d ? name : null;
  }

  /** The other spelling of a target: a domain's as above; an alias's `name` when it differs from its A-label. */
  private async spellingOf(t: Target): Promise<string | null> {
    if (t.kind === 'domain') return this.otherSpelling(t.name);
    const name = (t.alias.name ?? '').toLowerCase().replace(/\.$/, '');
    return name && name !== t.name ? name : null;
  }

  /** A domain (`/domains` entry) by name. Never an alias: `?name=` filters domains, and an alias has no domain id. */
  private async domainByName(domain: string): Promise<DomainResp> {
    const d = canonName(domain);
    const find = async (spelling: string) => checkedDomains(await this.rest<unknown[]>('/domains', { name: spelling }, 'list'), '/domains').find((x) => domainName(x) === d);
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
    // Only a TTL Plesk does not give (null, absent) is the zone's: a TTL of 0 is a TTL (RFC 2181 §8), read as it is on
    // every other panel — read as one day, the audit showed another TTL than the zone's and a fix of the record
    // rewrote it with a one-day TTL nobody asked for (panel parity QA).
    const ttl = typeof r.ttl === 'number' && r.ttl >= 0 ? r.ttl : DEFAULT_TTL;
    const opt = (r.opt ?? '').trim();
    let value: string;
    // A host Plesk returns spelled otherwise than the name it is read under (`_DMARC.example.com.`, `Example.COM.`):
    // names compare without case (RFC 4343), so the record is read under the lower-case name, and the spelling rides
    // along in `source` (as on cPanel): a delete addresses that record by its id, a re-add (undo) keeps the spelling.
    const spelled = r.host !== `${name}.` && r.host !== name;
    const rec: ZoneRecord = { name, ttl, type, value: '', ref: String(r.id), ...(spelled ? { source: r.host } : {}) };
    switch (type) {
      case 'TXT':
        // Stored and returned unquoted as one string (§1.2; Posh-ACME compares REST `value` with the raw text, and
        // Plesk's own plesk/ext-route53 adds the quotes itself when it exports a zone). How Plesk's BIND renders a value
        // over 255 bytes: UNCONFIRMED (ext-route53 cuts it into 255-byte strings for Route 53); read as ≤255-byte
        // character-strings.
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
      case 'AAAA':
        // In the one spelling of core/ip.ts, the DNS client's: as Plesk stores it (as typed), an address written
        // `::FFFF:A00:1` did not equal the live answer `::ffff:10.0.0.1`.
        value = canonicalIpv6(r.value.trim()) ?? r.value;
        break;
      default:
        value = r.value;
    }
    rec.value = value;
    return rec;
  }

  /**
   * `GET /dns/records?domain=<domain or alias name>` (§1.2), in the other spelling when Plesk knows none by the first;
   * `spelling` is the one Plesk answered for (the alias writes use it).
   */
  private async fetchRecords(t: Target): Promise<{ records: ZoneRecord[]; spelling: string }> {
    let raw: DnsRecord[] | undefined;
    let spelling = t.name;
    try {
      raw = await this.dnsRecords(spelling);
    } catch (e) {
      const other = e instanceof PanelError && e.code === 'not-found' ? await this.spellingOf(t) : null;
      if (!other) throw e;
      spelling = other;
      raw = await this.dnsRecords(spelling);
    }
    return { records: raw.map((r) => this.toRecord(r)).filter((r): r is ZoneRecord => !!r), spelling };
  }

  /** `GET /dns/records?domain=<spelling>` (§1.2), every record checked (checkedRecords). */
  private async dnsRecords(spelling: string): Promise<DnsRecord[]> {
    return checkedRecords(await this.rest<unknown[]>('/dns/records', { domain: spelling }, 'list'), spelling);
  }

  /**
   * An alias with `dns` false has no Plesk zone (§5 "alias without DNS"): its records are kept at another DNS host.
   * It reads as an empty zone that is never written (writeBlocked), with no nameservers of this server
   * (aliasMailSettings): the audit checks its live DNS and the fixes are records to publish at that host.
   */
  private noZone(t: Target & { kind: 'alias' }): string {
    return `Plesk serves no DNS zone for ${t.name}: it is a domain alias of ${domainName(t.parent)} with DNS off (REST aliases[].dns false), so its records are kept at another DNS host`;
  }

  private async readTarget(t: Target): Promise<{ zone: Zone; spelling: string }> {
    if (t.kind === 'alias' && t.alias.dns === false) {
      return { zone: { domain: t.name, serial: null, records: [], version: hashRecords([]), writeBlocked: this.noZone(t) }, spelling: t.name };
    }
    const { records, spelling } = await this.fetchRecords(t);
    return { zone: { domain: t.name, serial: null, records, version: hashRecords(records) }, spelling };
  }

  /** A domain's zone, or an alias's own zone (`?domain=<alias>`, §1.2); an empty, write-blocked one for an alias without DNS. */
  async readZone(domain: string): Promise<Zone> {
    return (await this.readTarget(await this.target(domain))).zone;
  }

  /** XML `dns get` → zone_status / zone_type (§3.2, §5). `external` = slave zone (Plesk is not the master). */
  async zoneStatus(domain: string): Promise<PleskZoneStatus> {
    const t = await this.target(domain);
    if (t.kind === 'alias') {
      // §3.2 says `site-alias-id` for aliases, but REST lists no alias id (§1.3) and nothing in plesk.md maps an alias
      // name to one.
      throw new PanelError('unsupported', `no zone status for the domain alias ${t.name}: Plesk's REST API gives no alias id for the XML dns get (site-alias-id)`);
    }
    return this.zoneStatusOf((await this.domainByName(domain)).id);
  }

  private async zoneStatusOf(siteId: number): Promise<PleskZoneStatus> {
    const xml = await this.xml(`<dns><get><filter><site-id>${siteId}</site-id></filter><soa/></get></dns>`, 'dns get');
    if (xmlTag(xml, 'zone_type') === 'slave') return 'external';
    return xmlTag(xml, 'zone_status') === 'disabled' ? 'disabled' : 'enabled';
  }

  private async hostname(): Promise<string> {
    const server = await this.once('server', () => this.rest<{ hostname?: unknown }>('/server', undefined, 'object'));
    const h = server?.hostname;
    // Text or nothing (fuzz QA: an object here was "s.toLowerCase is not a function" out of the settings read).
    if (h !== undefined && h !== null && typeof h !== 'string') throw unexpectedShape('GET /server', `its hostname is ${JSON.stringify(h)}, not a name`);
    return canonName(h ?? '');
  }

  /**
   * The IPs and HELO the mail of `dom` leaves from (§2.3): the outgoing mail IP mode from the XML server prefs; in
   * `explicit-ip` mode its addresses, else the subscription's IP (XML webspace gen_info dns_ip_address).
   * `self`: the name `dom` is listed under (its subscription's name when it is the main one).
   * A read that fails (an HTTP error or timeout, an answer that is no XML API packet, `<status>error</status>`) or
   * answers without a mode or IP Plesk documents throws (PanelError, naming `self`): the audit reports the settings
   * unreadable and no fix is planned. Never a guess — the first shared IP of /server/ips, the guess this replaced, is
   * neither the explicit IP nor an exclusive-IP subscription's, and the SPF fix added it (review R6).
   */
  private async outgoing(dom: DomainResp, self: string, hostname: string): Promise<{ ips: string[]; helo: string }> {
    try {
      return await this.outgoingRead(dom, self, hostname);
    } catch (e) {
      if (!(e instanceof PanelError) || e.code === 'auth') throw e;
      // 'not-found' (GET /domains/{base_domain_id} answering 404) is no "unknown domain": the domain was just read.
      throw new PanelError(e.code === 'not-found' ? 'other' : e.code, `Plesk's outgoing mail settings for ${self} could not be read, so the IP its mail leaves from is not known: ${e.message}`);
    }
  }

  private async outgoingRead(dom: DomainResp, self: string, hostname: string): Promise<{ ips: string[]; helo: string }> {
    const prefs = await this.once('server-prefs', () => this.xml('<server><get><prefs/></get></server>', 'server get prefs'));
    const mode = xmlTag(prefs, 'outgoing_email_mode');
    // The three modes the XML API documents (§2.3); a prefs answer without one says nothing of where mail leaves from.
    if (mode !== 'explicit-ip' && mode !== 'domain-ip' && mode !== 'domain-name') {
      throw unexpectedShape('XML server get prefs', mode === null ? 'no outgoing_email_mode' : `outgoing_email_mode ${JSON.stringify(mode.slice(0, 40))}, not domain-ip, domain-name or explicit-ip`);
    }
    if (mode === 'explicit-ip') {
      const ips = [outgoingIp(prefs, 'outgoing_email_mode_explicit_ipv4', 'XML server get prefs'), outgoingIp(prefs, 'outgoing_email_mode_explicit_ipv6', 'XML server get prefs')].filter((x): x is string => !!x);
      if (!ips.length) throw unexpectedShape('XML server get prefs', 'outgoing_email_mode explicit-ip with no outgoing_email_mode_explicit_ipv4 or _ipv6');
      return { ips, helo: hostname };
    }
    // domain-ip / domain-name: the subscription's IP (webspace gen_info dns_ip_address; base_domain_id = subscription).
    const base = dom.base_domain_id && dom.base_domain_id !== dom.id ? checkedDomains([await this.rest<unknown>(`/domains/${dom.base_domain_id}`, undefined, 'object')], `/domains/${dom.base_domain_id}`)[0].name : self;
    const ws = await this.xml(`<webspace><get><filter><name>${canonName(base)}</name></filter><dataset><gen_info/></dataset></get></webspace>`, 'webspace get');
    const ip = outgoingIp(ws, 'dns_ip_address', 'XML webspace get');
    if (!ip) throw unexpectedShape('XML webspace get', `no dns_ip_address for the subscription ${canonName(base)}`);
    // XML API "Server Preferences and Global Mail Settings": `domain-name` = "mail is sent from domains' IP addresses
    // with an SMTP greeting". INFERRED: the greeting is the subscription's name (not each domain's own).
    return { ips: [ip], helo: mode === 'domain-name' ? canonName(base) : hostname };
  }

  /**
   * XML mail prefs of a site (§3.3): `spam-protect-sign` (DKIM signing) and `mailservice`; null when the answer does
   * not carry one. A call that fails — an HTTP error, an empty or non-XML answer, `<status>error</status>` — or a
   * value other than true/false throws (PanelError, naming `name`): never read as "not signing", which reported a
   * healthy domain's DKIM off and made the DKIM fix turn signing on and look for a key (QA h3 D1).
   */
  private async mailPrefs(siteId: number, name: string): Promise<{ sign: boolean | null; mailservice: boolean | null }> {
    let mp: string;
    try {
      mp = await this.xml(`<mail><get_prefs><filter><site-id>${siteId}</site-id></filter></get_prefs></mail>`, 'mail get_prefs');
    } catch (e) {
      if (!(e instanceof PanelError) || e.code === 'auth') throw e;
      throw new PanelError(e.code, `Plesk's mail settings of ${name} could not be read, so whether it signs its mail with DKIM is not known: ${e.message}`);
    }
    const flag = (tag: string): boolean | null => {
      const v = xmlTag(mp, tag);
      if (v === null) return null;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new PanelError('other', `Plesk's answer to XML mail get_prefs for ${name} had an unexpected shape (${tag} ${JSON.stringify(v.slice(0, 40))}, not true or false); nothing in it was taken as a setting`);
    };
    return { sign: flag('spam-protect-sign'), mailservice: flag('mailservice') };
  }

  /**
   * The DKIM private key Plesk keeps for a name (§4: /etc/domainkeys/<domain>/default), if on the server; null when
   * there is none (no such file, or not on the server). A key file that exists but cannot be read (EACCES, EISDIR,
   * EIO…) is not "no key" — the settings would then say the domain has no key and is not signing, and the DKIM fix
   * would plan a new key over the one Plesk signs with: PanelError, the settings unreadable (as the cPanel/WHM
   * adapters read their key files, whm/serverfiles.ts readServerFile).
   */
  private keyFile(name: string): string | null {
    const f = this.keyFileRead(name);
    if (f.error) throw new PanelError('other', `${f.error}, so the server's DKIM key for ${name} is not known`);
    return f.text;
  }

  /** The key file as read (readServerFile): its text, null when there is none, or why it cannot be read. */
  private keyFileRead(name: string): ReturnType<typeof readServerFile> {
    const keyDomain = checkDomain(name); // part of a file path: only a valid host name
    return this.root && keyDomain.ok ? readServerFile(this.root, `etc/domainkeys/${keyDomain.domain}/default`) : { text: null };
  }

  async readMailSettings(domain: string): Promise<MailSettings> {
    const t = await this.target(domain);
    return t.kind === 'alias' ? this.aliasMailSettings(t) : this.domainMailSettings(t);
  }

  private async domainMailSettings(t: Target & { kind: 'domain' }): Promise<MailSettings> {
    const d = t.name;
    const dom = await this.domainByName(d);
    const hostname = await this.hostname();
    const { records } = await this.fetchRecords(t);
    // This server's nameservers for the domain: the zone's own NS records while Plesk serves the zone as its master.
    // A disabled or slave zone is not served from here (writes to it have no public effect, §5, §6.1): none, so the
    // audit reports the live DNS as not this server's and fixes are records to publish elsewhere. When the status
    // cannot be read, the NS records stand (as before the status was asked).
    let nameservers = recordsAt(records, d, 'NS').map((r) => canonName(r.value));
    try {
      if ((await this.zoneStatusOf(dom.id)) !== 'enabled') nameservers = [];
      // A subdomain with no NS records of its own (not delegated: its records kept with its parent's — what Plesk shows
      // for a subdomain is not in plesk.md) is served by its parent domain's nameservers, when Plesk serves that zone
      // (QA: every such subdomain read as "DNS served elsewhere", with no fix to apply).
      else if (!nameservers.length) nameservers = await this.parentNameservers(d);
    } catch (e) {
      if (e instanceof PanelError && e.code === 'auth') throw e;
    }
    const { ips, helo } = await this.outgoing(dom, d, hostname);

    // DKIM: signing flag from XML mail prefs `spam-protect-sign` (§3.3); the key from the key file (§4), else — no
    // file (not on the server, or the key kept elsewhere) while Plesk signs — from the record Plesk publishes for it.
    const pem = this.keyFile(d);
    const prefs = await this.mailPrefs(dom.id, d);
    const signing = prefs.sign ?? !!pem;
    // Mail service off: Plesk's guide — "Switching off the mail service on a domain is necessary if an external mail
    // service (such as GMail) is used" (Mail Settings of Domains). Its MX points elsewhere; on Linux the server may
    // still send for it ("Disabled for incoming mail"), so the IPs above stay.
    const routing: MailSettings['routing'] = prefs.mailservice === false ? 'remote' : 'local';
    const publicKey = publicKeyFromPem(pem) ?? (signing ? zoneDkimKey(records, d) : undefined);
    return {
      domain: d,
      hostname,
      ips,
      helo,
      nameservers,
      // Signing off for a domain whose key Plesk has (its key file): the domain's switch turns it on (startDkimSigning).
      dkim: { selector: 'default', signing, ...(pem ? { privateKeyPem: pem } : {}), ...(publicKey ? { publicKey } : {}), ...(publicKey && !signing ? { startSigning: 'switch' as const } : {}) },
      routing,
      ...this.relay(),
    };
  }

  /**
   * The nameservers of the closest Plesk domain `d` is a subdomain of (by name: REST's base_domain_id names the
   * subscription, not the DNS parent) that has NS records, while Plesk serves its zone; none when there is no such
   * domain, or the closest one's zone is disabled or a slave.
   */
  private async parentNameservers(d: string): Promise<string[]> {
    const index = nameIndex(await this.domainList());
    const labels = d.split('.');
    for (let i = 1; i < labels.length - 1; i++) {
      const parent = labels.slice(i).join('.');
      if (index.get(parent) !== 'domain') continue;
      const dom = await this.domainByName(parent);
      if ((await this.zoneStatusOf(dom.id)) !== 'enabled') return [];
      const { records } = await this.fetchRecords({ kind: 'domain', name: parent });
      const ns = recordsAt(records, parent, 'NS').map((r) => canonName(r.value));
      // A parent that is itself a subdomain without NS records of its own: its parent's, in turn (review).
      if (ns.length) return ns;
    }
    return [];
  }

  /**
   * A domain alias sends through the mail setup of its domain (INFERRED: plesk.md has no per-alias mail settings
   * beyond the REST flags): the domain's outgoing IPs, HELO and relay; routing 'remote' when the alias does not handle
   * mail (`mail` false) or the domain's mail service is off. DKIM: the alias's own key file when there is one (read
   * as a domain's, §4), else its domain's key file (aliases need the domain's records under their name, §4), signing
   * as the domain's `spam-protect-sign` (INFERRED: the per-domain switch covers its aliases — Plesk's guide has aliases
   * that send publish the domain's DKIM records under their name, so their mail is signed with the domain's key, but
   * says nothing of a switch of their own; REST `aliases[]` has none); without either key file,
   * no known key and not signing (a key in the alias zone may be a previous host's). Nameservers: the alias zone's own NS records — no
   * zone status is asked (XML `dns get` needs a `site-alias-id`, which REST does not give); none for an alias without
   * DNS (no Plesk zone: the audit reports the live DNS as not this server's).
   */
  private async aliasMailSettings(t: Target & { kind: 'alias' }): Promise<MailSettings> {
    const d = t.name;
    const hostname = await this.hostname();
    const served = t.alias.dns !== false;
    const records = served ? (await this.fetchRecords(t)).records : [];
    const nameservers = served ? recordsAt(records, d, 'NS').map((r) => canonName(r.value)) : [];
    const { ips, helo } = await this.outgoing(t.parent, domainName(t.parent), hostname);
    // The key: the alias's own key file if there is one, else its domain's — Plesk's guide has domain aliases used for
    // sending publish "the same records as the main domain, but with the alias name" (§4, official), so the alias's
    // mail is signed with its domain's key and the DKIM fix publishes that key under the alias's name.
    const pem = this.keyFile(d) ?? this.keyFile(domainName(t.parent));
    const prefs = await this.mailPrefs(t.parent.id, domainName(t.parent));
    // A key published in the alias's own zone may well be a previous host's (Plesk publishes a domain's key itself
    // when signing is switched on, never an alias's): never taken as the server's. Without key files (not on the
    // server), the key is the one Plesk publishes in the domain's zone while the domain signs — as for the domain.
    let publicKey = publicKeyFromPem(pem) ?? undefined;
    if (!pem && prefs.sign === true) {
      const parent = await this.target(domainName(t.parent));
      if (parent.kind === 'domain') publicKey = zoneDkimKey((await this.fetchRecords(parent)).records, parent.name);
    }
    // Signing as the domain's switch says (the key may be one mailhealth cannot read here, as for the domain); with
    // the switch not reported, only a key file of the alias or its domain says it signs.
    const signing = prefs.sign ?? (pem !== null && publicKey !== undefined);
    const routing: MailSettings['routing'] = t.alias.mail === false || prefs.mailservice === false ? 'remote' : 'local';
    return {
      domain: d,
      hostname,
      ips,
      helo,
      nameservers,
      dkim: {
        selector: 'default',
        signing,
        ...(pem ? { privateKeyPem: pem } : {}),
        ...(publicKey ? { publicKey } : {}),
        cannotGenerate: aliasNoKeyGen(d, t.parent),
        // The alias signs as its domain does (INFERRED above): turning signing on is the domain's switch, which also
        // changes the domain's own mail — not done from the alias.
        ...(publicKey && !signing ? { cannotStartSigning: aliasSigning(d, t.parent) } : {}),
      },
      routing,
      ...this.relay(),
    };
  }

  /**
   * INFERRED: Plesk's server-wide smarthost (18.0.64+) is Postfix `relayhost` in /etc/postfix/main.cf (§2.3 reads it with
   * `postconf`; Plesk's smarthost guide does not say which settings it writes). A per-domain smarthost (18.0.76+) is
   * not read. Not on the server (no root), or main.cf there but unreadable (EACCES, EISDIR, EIO…): the smarthost is not
   * known (relayUnknown, relay null) — never "no relay", which the lockdown check would take as "this server does not
   * relay through MailChannels". No main.cf at all: no relayhost, as Postfix reads it.
   */
  private relay(): Pick<MailSettings, 'relay' | 'relayUnknown'> {
    if (!this.root) return { relay: null, relayUnknown: "the smarthost setting is Postfix's relayhost in /etc/postfix/main.cf on the server, which the Plesk API does not show" };
    const main = readServerFile(this.root, 'etc/postfix/main.cf');
    if (main.error) return { relay: null, relayUnknown: main.error };
    return { relay: relayFromMainCf(main.text) };
  }

  /**
   * One `plesk bin dns` step of a write: `action` for `rec`, a TXT or CNAME record of the domain `origin` (its A-label:
   * the names records carry), in the zone of `t`; `zone` is the spelling Plesk knows the domain by — the one its records
   * were read by (fetchRecords): an IDN domain may be known by its Unicode `name` only. Resolves when the step was
   * made; throws when it was not (PanelError with Plesk's text: a refusal), when the record to delete was gone already
   * ('stale'), or when what the call did cannot be told ('no-answer'). Plesk's answer is judged:
   * - exit 0 with nothing on stderr: made.
   * - `--add` exit 2: the record already exists (§2.1, official) — PanelError('record-exists').
   * - any other answer — another exit code, exit 0 with an error on stderr, an HTTP error from the REST front — does
   *   not say for sure what the call did: a run may write the record and then fail (to reload the zone, say) and exit
   *   non-zero (INFERRED: plesk.md documents exit 0 and 2 only), one that printed an error may have done nothing (QA h3
   *   D8: exit 0 with "Unable to add DNS record" on stderr, the SPF record lost, the fix reported applied). The zone,
   *   read again, decides (zoneShows): the step is made when the zone shows it (the record there after `--add`, gone
   *   after `--del`), else Plesk refused it. A `--del` that says the record does not exist, the zone not holding it,
   *   deleted nothing: someone removed it since the zone was read ('stale'; the wording INFERRED from the XML API's
   *   "DNS record does not exist." — the CLI's is not in plesk.md). Gone with any other text, it was this step
   *   (QA h3 D9: a delete that acted and then exited 1 was called someone else's edit, and the record was lost) —
   *   never lost: a later failure's undo puts it back.
   * `beside`, for an `--add`: how many records of its type, name and value the zone holds without it (an identical
   * copy left beside a record deleted by id): the zone must then hold more than that to show the add made.
   */
  private async cliStep(t: Target, zone: string, origin: string, action: '--add' | '--del', rec: ZoneRecord, beside = 0): Promise<void> {
    const sub = cliPrefix(rec, origin);
    const type = rec.type.toUpperCase();
    // TXT: `-txt` is the value (exactly as Plesk holds it: `--del` matches type + host + value, and Plesk takes the
    // whole value), `-domain` the prefix relative to the zone ("" = apex). CNAME: `-cname <prefix> -canonical
    // <target>` (§2.1). The target goes without the trailing dot Plesk shows, as a full name: Plesk's CLI docs give
    // host values that way ("MX,mail3,mail.example.com" names mail.example.com, not a name under the zone), and
    // Plesk's own extension plesk/ext-domain-connect writes targets without the dot and strips it from values it reads
    // back (Plesk serves them with it, as plesk.md §3.2 says of the XML API). Whether a dot is accepted: unconfirmed.
    // `-ttl`: 3rd-party usage.
    const record = type === 'CNAME' ? ['-cname', sub, '-canonical', canonName(rec.value)] : ['-txt', rec.value, '-domain', sub];
    const params = [action, zone, ...record, ...(action === '--add' ? ['-ttl', String(rec.ttl)] : [])];
    const what = `plesk bin dns ${action} ${zone}`;
    let said: string;
    let text: string;
    /** Exit 0 with an error on stderr: said so when the zone shows the step not made. */
    let zeroExit = false;
    try {
      const r = await this.opts.cli.run('dns', params);
      const stderr = r.stderr.trim();
      text = stderr || r.stdout.trim();
      if (r.code === 0 && !stderr) return;
      zeroExit = r.code === 0;
      if (action === '--add' && r.code === 2) throw new PanelError('record-exists', `Plesk: the ${type} record at ${rec.name} already exists (${text || 'exit code 2'})`);
      said = r.code === 0 ? `${what} exited 0 but reported an error: ${clip(stderr)}` : `${what} failed (exit ${r.code})${text ? `: ${clip(text)}` : ', with no message'}`;
    } catch (e) {
      // The REST front's error answer for the utility (PleskRestCli: an HTTP 4xx or 5xx): it may have run all the same.
      if (!(e instanceof PanelError) || e.code !== 'other') throw e;
      said = `${what}: ${e.message}`;
      text = e.message;
    }
    const holds = await this.zoneShows(t, said, (x) => recKey(x) === recKey(rec), action === '--add' ? beside : 0);
    if (action === '--del' && !holds && NOT_THERE.test(text)) {
      throw new PanelError('stale', `Plesk: the ${type} record at ${rec.name} to delete is no longer in the zone (${said}): the zone changed while writing`);
    }
    if (action === '--add' ? holds : !holds) return;
    throw new PanelError('other', zeroExit ? `${said} — the zone, read again, ${action === '--add' ? 'does not hold' : 'still holds'} the ${type} record at ${rec.name}` : said);
  }

  /**
   * Whether the zone of `t`, read now, holds a record `pick` chooses — more than `beside` of them: after a write step
   * whose answer (`said`) did not say what it did. A zone that cannot be read: PanelError('no-answer') — what the step
   * did is not known.
   */
  private async zoneShows(t: Target, said: string, pick: (r: ZoneRecord) => boolean, beside = 0): Promise<boolean> {
    let records: ZoneRecord[];
    try {
      records = (await this.fetchRecords(t)).records;
    } catch (e) {
      throw new PanelError('no-answer', `${said}; whether Plesk made that change cannot be told: the zone could not be read again (${(e as Error).message})`);
    }
    return records.filter(pick).length > beside;
  }

  async applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    const d = canonName(domain);
    const unwritable = unwritableChanges(this.capabilities, changes);
    if (unwritable) throw new PanelError('unsupported', `Plesk (nothing was sent): ${unwritable}`);
    // What the name is: a domain from the list read at most SERVER_TTL_MS ago (`plesk bin dns` refuses a name that
    // is no domain); an alias is confirmed from a list asked for now (its zone is written by id through REST).
    let t = await this.target(d);
    if (t.kind === 'alias') t = await this.target(d, true);
    if (t.kind === 'alias') return this.applyAliasChanges(t, changes, expectedVersion);
    // No serial: re-read and compare the record hash (the version token) just before writing. The spelling the zone
    // was read by is the one Plesk knows the domain by: every `plesk bin dns` call uses it.
    const { zone: current, spelling } = await this.readTarget(t);
    if (current.version !== expectedVersion) throw new PanelError('stale', `the DNS zone ${d} changed since it was read; re-read and plan again`);
    // One call per record (no in-place edit: an edit is delete + add), each judged by Plesk's answer or, where that
    // does not say, by the zone (cliStep). When a step was not made, every step already made is undone, newest first,
    // so the zone is as it was; a step that cannot be undone is named in the error and given to the caller
    // (PartialWriteError), which puts back exactly that. A step whose outcome cannot be told (no-answer) stops the
    // write there, undoing nothing (rollBack).
    const undo: UndoStep[] = [];
    // How many records of each type, name and value the zone holds as the steps made (and undone) leave it: an add
    // whose answer does not say what it did is judged by the zone holding one more (cliStep `beside`) — a copy left
    // beside a record deleted by id is no proof of that record put back (fuzz QA: the re-add taken as made, the
    // record lost).
    const copies = new Map<string, number>();
    const count = (rec: ZoneRecord, n: number) => copies.set(recKey(rec), (copies.get(recKey(rec)) ?? 0) + n);
    for (const r of current.records) count(r, 1);
    const add = async (rec: ZoneRecord) => {
      try {
        await this.cliStep(t, spelling, d, '--add', rec, copies.get(recKey(rec)) ?? 0);
      } catch (e) {
        // Exit code 2: the record already exists (§2.1, official: "already present") — added by someone else since
        // the re-read (one the zone held, or this write put there, is refused before anything is sent: domainSteps).
        // The zone holds it as planned; not this fix's to take back if a later step fails.
        if (!(e instanceof PanelError) || e.code !== 'record-exists') throw e;
        count(rec, 1);
        return;
      }
      count(rec, 1);
      const run = async () => {
        await this.cliStep(t, spelling, d, '--del', rec);
        count(rec, -1);
      };
      undo.push({ what: `removing ${rec.name} ${rec.type}`, left: added(rec), run });
    };
    const del = async (rec: ZoneRecord, byId: boolean) => {
      // By id (REST, §1.2) where `--del` could hit another record than this one (see domainSteps).
      if (byId) await this.restDeleteStep(t, rec.ref!, rec);
      else await this.cliStep(t, spelling, d, '--del', rec);
      count(rec, -1);
      // Put back with `--add` — which Plesk refuses (exit 2) while an identical copy stays in the zone: then that copy
      // is left once (Plesk keeps one copy), and the step is named as not undone.
      const run = async () => {
        await this.cliStep(t, spelling, d, '--add', rec, copies.get(recKey(rec)) ?? 0);
        count(rec, 1);
      };
      undo.push({ what: `restoring ${rec.name} ${rec.type}`, left: removed(rec), run });
    };
    try {
      // Every step is worked out against the zone just read before anything is sent: a step Plesk cannot take as the
      // plan says is refused with nothing written.
      for (const s of domainSteps(current.records, changes)) {
        if (s.op === 'add') await add(s.rec);
        else await del(s.rec, s.byId);
      }
    } catch (e) {
      return rollBack(e, undo);
    }
    return this.checkWritten(t, current, changes);
  }

  /**
   * After every step of a write was made (so answered, or so seen in the zone): the zone read again must hold what the
   * changes make of `before`, the zone as re-read just before the write (missingAfter, counted as core's verification
   * counts) — else PanelError('other') naming what it does not show (QA h3 D8, D7: steps answered as made that were
   * not, and the fix recorded as applied with the SPF record gone): apply then settles the write from the zone, as
   * after any failed write (none of it there: failed; part of it: the old records put back). A zone that cannot be read
   * again does not make the write fail (QA h3 D12: "failed: Plesk /dns/records: HTTP 500" while the zone held the whole
   * change): every step was made, only this check could not be; the version returned is then the one the zone has
   * when it holds exactly what was written, and core's verification reads the zone again.
   */
  private async checkWritten(t: Target, before: Zone, changes: readonly Change[]): Promise<ApplyResult> {
    let after: Zone;
    try {
      after = (await this.readTarget(t)).zone;
    } catch {
      return { version: hashRecords(recordsAfter(before.records, changes)) };
    }
    const off = missingAfter(before.records, after.records, changes);
    if (off.length) throw new PanelError('other', `Plesk answered every step of the write to ${t.name} as made, but the zone read right after it ${off.join('; ')}`);
    return { version: after.version };
  }

  /**
   * `POST /api/v2/dns/records?domain=<alias>` (§1.2) with the FQDN without the trailing dot as `host` (what Posh-ACME
   * sends; relative names are UNCONFIRMED) and the value — a TXT record's unquoted text, a CNAME's target (a full name
   * without the trailing dot Plesk shows, as the CLI path sends it; whether REST would take a relative target is
   * UNCONFIRMED); the answer's `host` is checked (§1.2: "send the FQDN, then verify"). Returns the new record's id.
   * An answer without the id — or an error answer (an HTTP 4xx other than 404, or 5xx), after which Plesk may have
   * stored the record all the same, as for cliStep — is judged by the zone: the new record is the one of this type and
   * value that was not in it before (`known`: every id seen). None: not added (an error answer's refusal). Several, or
   * a zone that cannot be read: what was added cannot be told ('no-answer').
   */
  private async restAdd(spelling: string, rec: ZoneRecord, known: ReadonlySet<string>): Promise<{ id: number; misplaced?: string }> {
    const type = rec.type.toUpperCase();
    const value = type === 'CNAME' ? canonName(rec.value) : rec.value;
    const res = await this.opts.rest.request({ method: 'POST', path: '/api/v2/dns/records', query: { domain: spelling }, json: { type, host: rec.name, value, ttl: rec.ttl }, write: true });
    if (res.status === 404) throw new PanelError('not-found', `Plesk: ${errorText(res.json, res.text).replace(/^: /, '') || 'not found'} (adding the ${type} record at ${rec.name})`);
    const refused = res.status >= 400 ? `Plesk could not add the ${type} record at ${rec.name}: HTTP ${res.status}${errorText(res.json, res.text)}` : null;
    const o = (res.json ?? {}) as Partial<Record<keyof DnsRecord, unknown>>;
    const id = wholeNumber(o.id);
    if (!refused && id !== null) {
      const host = typeof o.host === 'string' ? canonName(o.host) : rec.name;
      return { id, ...(host !== rec.name ? { misplaced: host } : {}) };
    }
    const said = refused ?? `Plesk added the ${type} record at ${rec.name} without giving its id (HTTP ${res.status})`;
    let now: DnsRecord[];
    try {
      now = (await this.dnsRecords(spelling)).filter((r) => !known.has(String(r.id)) && r.type.toUpperCase() === type && (type === 'CNAME' ? canonName(r.value) === value : r.value === value));
    } catch (e) {
      throw new PanelError('no-answer', `${said}; whether it is in the zone of ${spelling} cannot be told: the zone could not be read again (${(e as Error).message})`);
    }
    if (!now.length) throw new PanelError('other', refused ?? `${said}, and the zone read again does not hold it`);
    if (now.length > 1) throw new PanelError('no-answer', `${said}, and it cannot be told apart from the other new records of that value: check the zone of ${spelling}`);
    return { id: now[0].id, ...(canonName(now[0].host) !== rec.name ? { misplaced: canonName(now[0].host) } : {}) };
  }

  /**
   * `DELETE /api/v2/dns/records/{id}` (§1.2), answered 200 {"status": "success"}. A record already gone (404) means the
   * zone moved: 'stale'; any other answer is PanelError('other').
   */
  private async restDelete(id: string, rec: ZoneRecord): Promise<void> {
    const res = await this.opts.rest.request({ method: 'DELETE', path: `/api/v2/dns/records/${encodeURIComponent(id)}`, write: true });
    if (res.status === 404) throw new PanelError('stale', `Plesk: the ${rec.type} record at ${rec.name} (id ${id}) is gone${errorText(res.json, res.text)}: the zone changed while writing`);
    if (res.status >= 400) throw new PanelError('other', `Plesk could not delete the ${rec.type} record at ${rec.name} (id ${id}): HTTP ${res.status}${errorText(res.json, res.text)}`);
    // A delete made is answered {"status": "success"} (§1.2). Any other 2xx body — Plesk's error object, a proxy's page,
    // nothing — does not say the record is gone (fuzz QA: {"code":400,…} with HTTP 200 was taken as the delete made,
    // and the undo then added a second copy of a record that had never been deleted): an error answer, judged by the
    // zone where the delete is a step (restDeleteStep).
    if ((res.json as { status?: unknown } | null | undefined)?.status !== 'success') {
      throw new PanelError('other', `Plesk answered the delete of the ${rec.type} record at ${rec.name} (id ${id}) with HTTP ${res.status} but not with its success answer${errorText(res.json, res.text)}`);
    }
  }

  /**
   * A delete by id as a write step (restDelete), judged as cliStep: Plesk's error answer (an HTTP 4xx other than 404,
   * or 5xx) may come after the delete was made — the zone read again decides (the id gone: made).
   */
  private async restDeleteStep(t: Target, id: string, rec: ZoneRecord): Promise<void> {
    try {
      await this.restDelete(id, rec);
    } catch (e) {
      if (!(e instanceof PanelError) || e.code !== 'other') throw e;
      if (!(await this.zoneShows(t, e.message, (x) => x.ref === id))) return;
      throw e;
    }
  }

  /**
   * Writes to an alias's zone go through REST (§1.2), by record id: the answer to each add gives the new record's id
   * and host, so a record Plesk stores under another name is caught and taken out before anything is removed.
   * (`plesk bin dns` also takes an alias — Plesk's CLI reference: `dns <command> [<domain_name>|<domain_alias>]` —
   * which would be the domain path's value-matched writes instead.) Same contract as the domain path: re-read and
   * compare the version first; one call per record (an edit is delete + add), an error answer judged by the zone; a
   * step not made undoes the steps already made, newest first; the zone is checked after the write (checkWritten). A
   * record is deleted by its id (ZoneRecord.ref) as the zone just re-read holds it — else by the
   * id of a record there with the same type, name and value (the version hash leaves ids out). INFERRED: an add of a record the zone already holds is refused as 'record-exists'
   * before anything is sent, as `dns --add` answers it (exit 2, §2.1) — how REST answers a duplicate is not
   * documented.
   */
  private async applyAliasChanges(t: Target & { kind: 'alias' }, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    for (const c of changes) relativeDname(c.name, t.name); // a name outside the alias's zone: PanelError, nothing sent
    if (t.alias.dns === false) throw new PanelError('unsupported', this.noZone(t));
    const { zone: current, spelling } = await this.readTarget(t);
    if (current.version !== expectedVersion) throw new PanelError('stale', `the DNS zone ${t.name} changed since it was read; re-read and plan again`);
    const live = current.records.filter((r) => ['TXT', 'CNAME'].includes(r.type.toUpperCase()));
    // Every record id seen in this zone during the write (to tell a new record from the others, see restAdd).
    const known = new Set(current.records.map((r) => r.ref).filter((x): x is string => x !== undefined));
    const undo: UndoStep[] = [];
    const add = async (rec: ZoneRecord) => {
      if (live.some((x) => recKey(x) === recKey(rec))) throw new PanelError('record-exists', `Plesk: the ${rec.type} record at ${rec.name} already exists`);
      const made = await this.restAdd(spelling, rec, known);
      known.add(String(made.id));
      undo.push({ what: `removing ${rec.name} ${rec.type}`, left: added(rec), run: () => this.restDeleteStep(t, String(made.id), rec) });
      if (made.misplaced) throw new PanelError('other', `Plesk stored the ${rec.type} record for ${rec.name} at ${made.misplaced}`);
      live.push({ ...rec, ref: String(made.id) });
    };
    const del = async (rec: ZoneRecord) => {
      let i = rec.ref !== undefined ? live.findIndex((x) => x.ref === rec.ref && recKey(x) === recKey(rec)) : -1;
      if (i < 0) i = live.findIndex((x) => recKey(x) === recKey(rec));
      if (i < 0) throw new PanelError('other', `the ${rec.type} record at ${rec.name} to delete is not in the zone of ${t.name}`);
      const [cur] = live.splice(i, 1);
      await this.restDeleteStep(t, cur.ref!, cur);
      undo.push({
        what: `restoring ${cur.name} ${cur.type}`,
        left: removed(cur),
        run: async () => {
          const back = await this.restAdd(spelling, cur, known);
          known.add(String(back.id));
          if (back.misplaced) {
            await this.restDelete(String(back.id), cur).catch(() => undefined);
            throw new PanelError('other', `Plesk stored it at ${back.misplaced}`);
          }
        },
      });
    };
    try {
      for (const c of writeOrder(changes)) {
        if (c.action === 'add') await add(c.after!);
        else if (c.action === 'remove') await del(c.before!);
        else if (recKey(c.before!) === recKey(c.after!)) {
          // Same name and value (a TTL change): the add would meet the old record, so it goes first.
          await del(c.before!);
          await add(c.after!);
        } else {
          // The new record first: should Plesk store it elsewhere, that is found before the old one is removed.
          await add(c.after!);
          await del(c.before!);
        }
      }
    } catch (e) {
      return rollBack(e, undo);
    }
    return this.checkWritten(t, current, changes);
  }

  /**
   * Turn the domain's DKIM signing on (`plesk bin domain_pref --update <domain> -sign_outgoing_mail true`, §2.3; the
   * option name is from several independent 3rd-party scripts, Linux and Windows — no official page found) and take
   * back the DKIM records Plesk publishes by itself when it does (§4: `default._domainkey` while the name holds none, a
   * `_domainkey` policy TXT), so only the fix's plan moves records. Only those (undoGeneratedDkim): a record someone
   * else added or changed under `_domainkey` meanwhile stays, and core, comparing the zone with the one it read before,
   * refuses the fix. Returns the zone before, as Plesk left it, and what was taken back. A domain alias:
   * PanelError('unsupported').
   */
  private async signOutgoingMail(d: string, why: (t: Target & { kind: 'alias' }) => string): Promise<{ before: Zone; after: Zone; undo: Change[] }> {
    const t = await this.target(d);
    if (t.kind === 'alias') throw new PanelError('unsupported', why(t));
    await this.domainByName(d);
    // The spelling Plesk knows the domain by (the one its zone was read by, as for `plesk bin dns`).
    const { zone: before, spelling } = await this.readTarget(t);
    const r = await this.opts.cli.run('domain_pref', ['--update', spelling, '-sign_outgoing_mail', 'true']);
    if (r.code !== 0) {
      const text = (r.stderr || r.stdout).trim();
      throw new PanelError('other', `plesk bin domain_pref --update ${spelling} failed (exit ${r.code})${text ? `: ${clip(text)}` : ', with no message'}`);
    }
    const after = await this.readZone(d);
    // The key file (on the server) says which key Plesk's record carries. Signing is on by now: a key file that cannot
    // be read is taken as none (as off the server, the one new key record is Plesk's), not an error that would leave
    // Plesk's records in the zone unmentioned.
    const undo = undoGeneratedDkim(before, after, d, { selector: 'default', publicKey: publicKeyFromPem(this.keyFileRead(d).text), policy: true });
    if (undo.length) {
      try {
        await this.applyChanges(d, undo, after.version);
      } catch (e) {
        // Signing is on either way; what is not known is whether Plesk's own records are still there. Not 'no-answer':
        // that would leave the fix to be settled later by whether the panel signs, and the records would go unmentioned.
        const code = e instanceof PanelError && e.code !== 'no-answer' ? e.code : 'other';
        const lost = e instanceof PanelError && e.code === 'no-answer' ? ' — the removal got no answer: check the zone for them' : '';
        throw new PanelError(code, `Plesk turned DKIM signing on for ${d} and published DKIM records of its own, which could not be taken back out: it ${describeGeneratedDkim(undo)} (${(e as Error).message})${lost}`);
      }
    }
    return { before, after, undo };
  }

  /**
   * Sign the domain's mail with the DKIM key Plesk has for it, whose record is published (dkim.startSigning 'switch'):
   * the domain's signing switch turned on, no record changed (signOutgoingMail). The settings read afterwards say
   * whether it signs, and with which key (the key file's). A domain alias signs as its domain does:
   * PanelError('unsupported').
   */
  async startDkimSigning(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    await this.signOutgoingMail(d, (t) => aliasSigning(d, t.parent));
    return this.readMailSettings(d);
  }

  async generateDkim(domain: string): Promise<MailSettings> {
    const d = canonName(domain);
    // plesk.md documents turning signing on for a domain (`domain_pref`, XML `spam-protect-sign`), nothing that
    // creates an alias's key. Turning signing on makes Plesk create the key and the default._domainkey records (§2.3,
    // §4); with Plesk DNS on it publishes them itself: they are put back, the fix's plan publishes the record (else
    // its add fails with exit 2 "record exists").
    const { undo } = await this.signOutgoingMail(d, (t) => aliasNoKeyGen(d, t.parent));
    const settings = await this.readMailSettings(d);
    if (settings.dkim.privateKeyPem) return settings; // the key file: the key Plesk signs with
    // No key file (not on the server): the key is the one in the record Plesk just published (and we took back) —
    // never a record that was there before (it may be a previous host's), so nothing published means no known key.
    const published = undo.filter((c) => c.action === 'remove' && c.before).map((c) => c.before!);
    const generated = zoneDkimKey(published, d);
    const { publicKey: _zoneKey, ...dkim } = settings.dkim;
    return { ...settings, dkim: { ...dkim, ...(generated ? { publicKey: generated } : {}) } };
  }
}

const nameIndexes = new WeakMap<DomainResp[], Map<string, 'domain' | { alias: AliasResp; parent: DomainResp }[]>>();

/** A domain list by name, built once per list (a bulk audit looks up every name): 'domain', or the aliases of that name. */
function nameIndex(list: DomainResp[]): Map<string, 'domain' | { alias: AliasResp; parent: DomainResp }[]> {
  let idx = nameIndexes.get(list);
  if (idx) return idx;
  idx = new Map();
  for (const x of list) idx.set(domainName(x), 'domain');
  for (const parent of list) {
    for (const alias of parent.aliases ?? []) {
      const n = aliasName(alias);
      const had = idx.get(n);
      if (had === 'domain') continue;
      if (had) had.push({ alias, parent });
      else idx.set(n, [{ alias, parent }]);
    }
  }
  nameIndexes.set(list, idx);
  return idx;
}

/** A write step taken, how to take it back, and the step as a change (what stays written if it cannot be taken back). */
interface UndoStep {
  what: string;
  left: Change;
  run: () => Promise<void>;
}

/** A step that added `rec`, as a change. */
function added(rec: ZoneRecord): Change {
  return { action: 'add', name: rec.name, type: rec.type, ttl: rec.ttl, before: null, after: rec };
}
/** A step that deleted `rec`, as a change. */
function removed(rec: ZoneRecord): Change {
  return { action: 'remove', name: rec.name, type: rec.type, ttl: rec.ttl, before: rec, after: null };
}

/**
 * The changes in the order they are written: a CNAME is removed before anything else and added after everything
 * else, so no name holds a CNAME beside other records even for one step (such a zone is invalid — BIND refuses to
 * load it — and Plesk renders the zone after every call). The undo of a failed write runs newest first, so it keeps
 * that order too.
 */
function writeOrder(changes: readonly Change[]): Change[] {
  const cname = (c: Change, action: Change['action']) => c.type.toUpperCase() === 'CNAME' && c.action === action;
  return [...changes.filter((c) => cname(c, 'remove')), ...changes.filter((c) => !cname(c, 'remove') && !cname(c, 'add')), ...changes.filter((c) => cname(c, 'add'))];
}

/**
 * The host prefix `plesk bin dns` is given for `rec` in the zone `origin` ("" = the apex): as the record was spelled when
 * read (`source`, toRecord) where that spelling ends in the zone's name as written here — the CLI names the zone by the
 * domain, so only the prefix can carry a spelling —, else the lower-case prefix.
 */
function cliPrefix(rec: ZoneRecord, origin: string): string {
  const prefix = relativeDname(rec.name, origin);
  const sub = prefix.endsWith('.') ? '' : prefix;
  const s = rec.source?.replace(/\.$/, '');
  if (!sub || !s || canonName(s) !== canonName(rec.name) || !s.endsWith(`.${origin}`)) return sub;
  return s.slice(0, s.length - origin.length - 1);
}

/** Plesk's words for a record that is not there (INFERRED from the XML API's "DNS record does not exist."). */
const NOT_THERE = /does not exist|doesn't exist|no such record|not found/i;

/** A message part cut to a length a finding can show. */
const clip = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

/** A record as Plesk gives it back once written (toRecord): a TXT value in ≤255-byte strings, a CNAME target bare. */
function asRead(rec: ZoneRecord): ZoneRecord {
  const { ref: _ref, source: _source, ...r } = rec;
  const type = rec.type.toUpperCase();
  const base = { ...r, name: canonName(rec.name), type };
  if (type === 'TXT') return { ...base, value: rec.value, txt: splitTxt(rec.value) };
  return type === 'CNAME' ? { ...base, value: canonName(rec.value) } : base;
}

/** The records of `before` once `changes` are made: each removed record taken out (by id, else by text and TTL), each added one as Plesk gives it back. */
export function recordsAfter(before: readonly ZoneRecord[], changes: readonly Change[]): ZoneRecord[] {
  const out = [...before];
  for (const c of changes) {
    const b = c.before;
    if (!b) continue;
    let i = b.ref !== undefined ? out.findIndex((x) => x.ref === b.ref && recKey(x) === recKey(b)) : -1;
    if (i < 0) i = out.findIndex((x) => recKey(x) === recKey(b) && x.ttl === b.ttl);
    if (i < 0) i = out.findIndex((x) => recKey(x) === recKey(b));
    if (i >= 0) out.splice(i, 1);
  }
  for (const c of changes) if (c.after) out.push(asRead(c.after));
  return out;
}

/**
 * What `after` (the zone read right after a write) does not show of `changes` made to `before` (the zone read just
 * before it), counted as core's verification counts (apply.ts holdsAfter): per record — type, name and text; and the
 * TTL too for a change of the TTL alone — as many copies as `before` held, less those removed, plus those added.
 * Empty: it holds the whole write. Else one phrase per record ("does not hold …", "still holds …").
 */
export function missingAfter(before: readonly ZoneRecord[], after: readonly ZoneRecord[], changes: readonly Change[]): string[] {
  const expected = new Map<string, { rec: ZoneRecord; key: (r: ZoneRecord) => string; copies: number; ttl: boolean }>();
  for (const c of changes) {
    const ttl = !!(c.before && c.after && recKey(c.before) === recKey(c.after));
    const key = ttl ? (r: ZoneRecord) => `${recKey(r)}\t${r.ttl}` : recKey;
    const side = (r: ZoneRecord, delta: number) => {
      const k = key(r);
      let e = expected.get(k);
      if (!e) expected.set(k, (e = { rec: r, key, copies: before.filter((x) => key(x) === k).length, ttl }));
      e.copies += delta;
    };
    if (c.before) side(c.before, -1);
    if (c.after) side(c.after, +1);
  }
  const out: string[] = [];
  for (const e of expected.values()) {
    const k = e.key(e.rec);
    const found = after.filter((x) => e.key(x) === k).length;
    const want = Math.max(0, e.copies);
    if (found === want) continue;
    const what = `the ${e.rec.type.toUpperCase()} record at ${canonName(e.rec.name)} ${JSON.stringify((e.rec.txt ? e.rec.txt.join('') : e.rec.value).slice(0, 80))}${e.ttl ? ` with TTL ${e.rec.ttl}` : ''}`;
    const copies = Math.max(found, want) > 1 ? ` (${found} copies where this write leaves ${want})` : '';
    out.push(`${found < want ? 'does not hold' : 'still holds'} ${what}${copies}`);
  }
  return out;
}

/** One `plesk bin dns` call (or, for a delete by id, one REST call) of a domain's write. */
export type DomainStep = { op: 'add'; rec: ZoneRecord } | { op: 'del'; rec: ZoneRecord; byId: boolean };

/**
 * The steps of a write to a domain's zone, worked out against `records` (the zone as re-read just before it), in
 * writeOrder, an edit as delete + add. Plesk addresses a record by type, host and value (`dns --del`, `--add`; §2.1),
 * and keeps one copy of identical records (`--add` of one the zone holds answers exit 2), so:
 * - a delete goes by the record's id (REST `DELETE /dns/records/{id}`, §1.2) when `--del` could delete another record
 *   than the one the plan names: the zone holds another record of that type, name and value (identical but for the
 *   TTL, or not even that — `--del` takes the first), or Plesk spells the record's host otherwise than its name
 *   (`_DMARC.…`, `Example.COM.`: whether `--del` matches the host without case is not in plesk.md). The record is the
 *   plan's by id, else the one of those with the plan's TTL; when none can be told apart (no id, or several with
 *   the TTL) nothing is sent: PanelError, rather than delete another copy.
 * - an add of a record the zone holds (or this write puts there) with the same type, name and value is refused:
 *   PanelError('record-exists') naming it, nothing sent — Plesk would keep one copy and answer "already exists", and
 *   counting that as written would report a record put back that is not there (an undo of the removal of one of two
 *   identical records).
 */
export function domainSteps(records: readonly ZoneRecord[], changes: readonly Change[]): DomainStep[] {
  // The zone as the steps leave it, each record with whether this write put it there.
  const zone = records.map((rec) => ({ rec, ours: false }));
  const steps: DomainStep[] = [];
  const text = (r: ZoneRecord) => JSON.stringify((r.txt ? r.txt.join('') : r.value).slice(0, 80));
  const del = (rec: ZoneRecord) => {
    const same = zone.filter((x) => recKey(x.rec) === recKey(rec));
    let i = rec.ref !== undefined ? same.findIndex((x) => x.rec.ref === rec.ref) : -1;
    if (i < 0 && same.length > 1) {
      const byTtl = same.filter((x) => x.rec.ttl === rec.ttl);
      if (byTtl.length !== 1) {
        const ttls = same.map((x) => x.rec.ttl).join(', ');
        throw new PanelError(
          rec.ref !== undefined ? 'stale' : 'other',
          `Plesk holds ${same.length} ${rec.type} records at ${rec.name} with the same text ${text(rec)} (TTL ${ttls}), and the one to delete (TTL ${rec.ttl}${rec.ref !== undefined ? `, id ${rec.ref}` : ''}) cannot be told apart from the others, so none was deleted: nothing was written`,
        );
      }
      i = same.indexOf(byTtl[0]);
    }
    if (i < 0 && same.length === 1) i = 0;
    if (i < 0) {
      // Not in the zone just re-read: the zone changed since the plan. Refused with nothing sent — a `--del` would find
      // nothing, and what it answered could be taken for this write's own delete (cliStep).
      throw new PanelError('stale', `the ${rec.type} record at ${rec.name} ${text(rec)} to delete is not in the zone: the zone changed since it was read; nothing was written`);
    }
    const cur = same[i];
    zone.splice(zone.indexOf(cur), 1);
    const byId = same.length > 1 || cur.rec.source !== undefined;
    if (byId && cur.rec.ref === undefined) {
      throw new PanelError('other', `Plesk gave no id for the ${rec.type} record at ${rec.name} ${text(rec)}, and \`plesk bin dns --del\` (type, host and value) could delete another record than this one, so none was deleted: nothing was written`);
    }
    // The record as the zone holds it (its id, its host's spelling).
    steps.push({ op: 'del', rec: byId ? cur.rec : rec, byId });
  };
  const add = (rec: ZoneRecord) => {
    const there = zone.find((x) => recKey(x.rec) === recKey(rec));
    if (there) {
      const where = there.ours ? 'after the other steps of this change, the zone holds' : 'the zone already holds';
      throw new PanelError(
        'record-exists',
        `Plesk keeps one copy of identical records: ${where} the ${rec.type} record at ${rec.name} with the text ${text(rec)} (TTL ${there.rec.ttl}), so another copy (TTL ${rec.ttl}) cannot be added — DNS answers with the record once either way; nothing was written`,
      );
    }
    zone.push({ rec, ours: true });
    steps.push({ op: 'add', rec });
  };
  for (const c of writeOrder(changes)) {
    if (c.action === 'add') add(c.after!);
    else if (c.action === 'remove') del(c.before!);
    else {
      del(c.before!);
      add(c.after!);
    }
  }
  return steps;
}

/**
 * Whether a failed step's error says Plesk did not make it: a refusal — an answer of Plesk's that the zone, read again,
 * confirms (cliStep, restDeleteStep, restAdd), a 404 by id, a step refused before it was sent. 'no-answer' does not:
 * the step went out and Plesk may have made it, or may still be making it — a gateway that answered 502/503/504 (its
 * nginx gave up on PHP, which goes on), an answer that is not Plesk's own (a redirect, a body without the utility's
 * exit code), a `plesk` child killed at its timeout, a dropped connection (http.ts, runCommand) — or what it did could
 * not be judged (the zone unreadable).
 */
function definiteRefusal(e: unknown): boolean {
  return !(e instanceof PanelError && e.code === 'no-answer');
}

/**
 * After a failed write step. When the step's outcome is not known (not a definite refusal, see definiteRefusal),
 * nothing more is written — no further step and no undo — and the no-answer goes to the caller as it is: core keeps the
 * intent open and the domain locked for the lock's time, then settles it from the zone like an interrupted write
 * (reconcile: the whole write found → applied; none of it → failed; part of it → the old records put back, as after
 * a crash). Chosen over judging the step from a re-read here: Plesk may still be making the change after the gateway
 * gave up (or after its `plesk` child was killed), so a zone read now could show the step not made and the undo of
 * the other steps would then leave old and new records side by side once it lands (an SPF edit: `--del old` undone by
 * re-adding old, while `--add new` lands → two SPF records). Else (a refusal) the steps already taken are undone,
 * newest first, so the zone is as it was, and a PartialWriteError with the failure's own code goes to the caller,
 * listing any step that could not be undone (the caller puts back exactly those). An undo step that gets no answer
 * stops the undo there, as a no-answer.
 */
async function rollBack(e: unknown, undo: readonly UndoStep[]): Promise<never> {
  if (!definiteRefusal(e)) throw e;
  const message = (e as Error).message;
  const failed: string[] = [];
  const left: Change[] = [];
  for (const u of [...undo].reverse()) {
    try {
      await u.run();
    } catch (ue) {
      if (!definiteRefusal(ue)) {
        throw new PanelError('no-answer', `${message}; rolling back, ${u.what} got no answer (${(ue as Error).message}), so nothing more was written`);
      }
      failed.push(`${u.what} (${(ue as Error).message})`);
      left.push(u.left);
    }
  }
  if (failed.length) throw new PartialWriteError('other', `${message}; rolling back failed: ${failed.join('; ')}`, left.reverse());
  throw new PartialWriteError(e instanceof PanelError ? e.code : 'other', message, []);
}

/** Why DKIM signing is not turned on from a domain alias (it signs as its domain does: the domain's switch). */
function aliasSigning(alias: string, parent: DomainResp): string {
  const p = domainName(parent);
  return `${alias} is a domain alias of ${p} and signs its mail as ${p} does: turn on "Use DKIM spam protection system to sign outgoing email messages" in the Mail Settings of ${p} in Plesk (this also signs ${p}'s own mail)`;
}

/** Why no DKIM key can be generated for a domain alias: it signs with its domain's key (§4), which Plesk makes when the domain's signing goes on. */
function aliasNoKeyGen(alias: string, parent: DomainResp): string {
  const p = domainName(parent);
  return `${alias} is a domain alias of ${p} and signs with ${p}'s DKIM key, which is not on this server: turn on "Use DKIM spam protection system to sign outgoing email messages" in the Mail Settings of ${p} in Plesk (Plesk creates the key), then run the DKIM fix again to publish it under ${alias}`;
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
