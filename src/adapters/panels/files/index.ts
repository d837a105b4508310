// The files panel: a directory that plays the panel (also useful on plain BIND servers). Stable layout:
//   panel.json               {"server": {...}, "accounts": [...]}  (see README "Files panel")
//   zones/<domain>.db        the panel's copy of the zone, BIND master format
//   dkim/<domain>.pem        the private key the server signs that domain with
//   domains/<domain>.json    optional per-domain overrides {"mailRouting", "dkim", "ips"}
// <domain> is the canonical name (lower case, an IDN by its A-label) or the name as panel.json lists it (see locate).
// No serial API: the concurrency token is a hash of the zone file; writes re-read and compare, then replace the file
// atomically (temp file + rename, next to the real file when the zone is a symlink), one mailhealth writer at a time
// per zone file (a lock file next to it): see writeZoneFile.
import { isUtf8 } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkDomain } from '../../../core/domain.js';
import { isIpAddress } from '../../../core/ip.js';
import { listedDomain } from '../listed.js';
import { decodeOctets, ESCAPED_OCTET, octetsOf } from '../../../core/octets.js';
import { rsaSpkiFromPrivatePem } from '../../../core/dkim/der.js';
import type { Change, DomainRef, Identity, MailSettings, Role, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError, type ApplyResult, type Panel, type PanelCapabilities } from '../../../core/panel.js';
import { recordKey } from '../../../core/zone.js';
import { applyLineEdits, bumpSerialText, nextSerial, parseZoneFile, presentValue, renderRecordLine, withoutCr, type LineEdit, type ParsedRecord, type ParsedZone } from './zonefile.js';

export interface FilesPanelServer {
  hostname: string;
  ips: string[];
  helo?: string;
  nameservers: string[];
  dkimSelector?: string;
  relay?: { provider: string; host: string; authId?: string } | null;
}
export interface FilesPanelAccount {
  user: string;
  role: Role;
  owner?: string;
  domains?: string[];
}
export interface FilesPanelConfig {
  server: FilesPanelServer;
  accounts: FilesPanelAccount[];
}
interface DomainOverrides {
  mailRouting?: 'local' | 'remote';
  dkim?: boolean;
  ips?: string[];
}

export class FilesPanel implements Panel {
  readonly kind = 'files';
  readonly capabilities: PanelCapabilities = { serialCheckedWrites: false, generateDkim: true };
  /** Clock for serials; tests may replace it. */
  now: () => Date = () => new Date();

  private readonly panelJson: string;
  /** root/zones/, root/dkim/, root/domains/ (with the separator), so a domain's file path is one concatenation. */
  private readonly dirs: { zones: string; dkim: string; domains: string };

  constructor(public readonly root: string) {
    this.panelJson = join(root, 'panel.json');
    this.dirs = { zones: join(root, 'zones', '/'), dkim: join(root, 'dkim', '/'), domains: join(root, 'domains', '/') };
    if (!existsSync(this.panelJson)) throw new PanelError('not-found', `files panel: no panel.json in ${root}`);
  }

  private cached: ({ size: number; mtimeMs: number; ino: number } & ConfigEntry) | null = null;

  /**
   * panel.json, re-read only when the file changes (size, mtime or inode): bulk audits ask for it once per domain.
   * With it, the server's name servers as mail settings give them (lower case, no trailing dot).
   */
  private configEntry(): ConfigEntry {
    const p = this.panelJson;
    const st = statSync(p, { throwIfNoEntry: false });
    const c = this.cached;
    if (st && c && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ino === st.ino) return c;
    let cfg: FilesPanelConfig;
    try {
      cfg = JSON.parse(readFileSync(p, 'utf8')) as FilesPanelConfig;
    } catch (e) {
      throw new PanelError('other', `files panel: panel.json is not valid JSON (${(e as Error).message})`);
    }
    if (!cfg || typeof cfg !== 'object' || !cfg.server || typeof cfg.server !== 'object' || !Array.isArray(cfg.accounts)) {
      throw new PanelError('other', 'files panel: panel.json needs "server" and "accounts"');
    }
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    const srv = cfg.server as unknown as Record<string, unknown>;
    const bad = [
      typeof srv.hostname !== 'string' ? '"hostname" (a string)' : '',
      !strings(srv.ips) ? '"ips" (a list of addresses)' : '',
      !strings(srv.nameservers) ? '"nameservers" (a list of names)' : '',
    ].filter(Boolean);
    if (bad.length) throw new PanelError('other', `files panel: panel.json's "server" needs ${bad.join(', ')}`);
    if (!cfg.accounts.every((a) => a && typeof a.user === 'string' && typeof a.role === 'string' && (a.domains === undefined || strings(a.domains)))) {
      throw new PanelError('other', 'files panel: every entry of panel.json\'s "accounts" needs "user" and "role" (strings) and, if any, "domains" (a list of names)');
    }
    const entry: ConfigEntry = { cfg, nameservers: nameserversOf(cfg.server), spellings: spellingsOf(cfg) };
    if (st) this.cached = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ...entry };
    return entry;
  }

  private config(): FilesPanelConfig {
    return this.configEntry().cfg;
  }

  /** checkDomain, remembered: the audit asks for the zone and the settings of each domain, each path once. */
  private checked = new Map<string, ReturnType<typeof checkDomain>>();

  /** The canonical (A-label, lower-case) form of a domain name; PanelError 'not-found' when it is not one. */
  private canonical(domain: string): string {
    let c = this.checked.get(domain);
    if (!c) {
      c = checkDomain(domain);
      if (this.checked.size >= 4096) this.checked.clear();
      this.checked.set(domain, c);
    }
    if (!c.ok) throw new PanelError('not-found', `invalid domain: ${c.reason}`);
    return c.domain;
  }

  /**
   * The file of `domain` in `dir`: the one under its canonical name (`zones/xn--bcher-kva.example.db`) or, when none is
   * there, the one under a spelling panel.json lists it by (`zones/bücher.example.db`, `zones/Shop.Example.db`,
   * `zones/trailing.example..db` or `zones/trailing.example.db`): the README names the files `<domain>`, and a BIND
   * server's files are often named as typed. When none exists, the canonical path (where a new file is written). Only a
   * listed spelling is ever used as a file name, never the caller's: it passed checkDomain (listedDomain), which refuses
   * "/", "\\" and control characters and every empty label, so it is one file name inside `dir`. Two files for one
   * domain (two names, not two links to one file) leave which one the name server loads unknown: PanelError naming
   * both, and nothing is read or written until one is removed.
   */
  private locate(dir: 'zones' | 'dkim' | 'domains', domain: string, ext: string, entry: ConfigEntry = this.configEntry()): string {
    const d = this.canonical(domain);
    const canonicalPath = this.dirs[dir] + d + ext;
    const others = entry.spellings.get(d);
    if (!others) return canonicalPath;
    const found: { path: string; dev: number; ino: number }[] = [];
    for (const name of [d, ...others]) {
      const path = this.dirs[dir] + name + ext;
      const st = statIfExists(path);
      if (st && !found.some((f) => f.dev === st.dev && f.ino === st.ino)) found.push({ path, dev: st.dev, ino: st.ino });
    }
    if (found.length > 1) {
      const files = found.map((f) => `${dir}/${f.path.slice(this.dirs[dir].length)}`);
      throw new PanelError(
        'other',
        `files panel: ${d} has ${found.length} ${dir === 'zones' ? 'zone files' : dir === 'dkim' ? 'DKIM key files' : 'override files'} under different spellings of its name (${files.join(', ')}); which one is in use cannot be told, so mailhealth reads and writes neither — keep one (merge them if both hold changes) and remove the other`,
      );
    }
    return found.length ? found[0].path : canonicalPath;
  }

  async listAccounts() {
    return this.config().accounts.map((a) => ({ user: a.user, role: a.role, ...(a.owner ? { owner: a.owner } : {}) }));
  }

  private allDomains(cfg: FilesPanelConfig): DomainRef[] {
    // Listed as their canonical name (listedDomain); their files are found under the listed spelling too (locate).
    const out: DomainRef[] = [];
    const byUser = new Map(cfg.accounts.map((a) => [a.user, a]));
    for (const a of cfg.accounts) {
      for (const d of a.domains ?? []) {
        const owner = a.owner ? byUser.get(a.owner) : undefined;
        // A name that is no domain (listedDomain) is left out: it could be neither read nor shown safely.
        const domain = listedDomain(d);
        if (domain) out.push({ domain, owner: a.user, ...(owner && owner.role === 'reseller' ? { reseller: owner.user } : {}) });
      }
    }
    return out;
  }

  async listDomains(identity: Identity): Promise<DomainRef[]> {
    const cfg = this.config();
    const me = cfg.accounts.find((a) => a.user === identity.user && a.role === identity.role);
    if (!me) return [];
    const all = this.allDomains(cfg);
    if (me.role === 'admin') return all;
    if (me.role === 'reseller') return all.filter((d) => d.reseller === me.user || d.owner === me.user);
    return all.filter((d) => d.owner === me.user);
  }

  /** The zone file's text and the file it was read from (a write replaces that one). */
  private readText(domain: string): { text: string; path: string } {
    const path = this.locate('zones', domain, '.db');
    const text = readZoneText(path);
    if (text === undefined) throw new PanelError('not-found', `no zone for ${this.canonical(domain)} in the files panel`);
    return { text, path };
  }

  private toZone(domain: string, text: string): Zone {
    const parsed = parseZoneFile(text, domain);
    // Where each line starts: a record's source is the text from its first line to the end of its last (no '\n'). In a
    // CRLF file its lines keep their '\r' (the exact text as read); a write takes them without it (sourceLines).
    const lineStart = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStart.push(i + 1);
    const records: ZoneRecord[] = [];
    let serial: number | null = null;
    let soaSeen = false;
    for (const r of parsed.records) {
      const rec: ZoneRecord = { name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r) };
      if (r.txt) rec.txt = r.txt;
      rec.ref = `${r.startLine}-${r.endLine}`;
      rec.source = text.slice(lineStart[r.startLine], r.endLine + 1 < lineStart.length ? lineStart[r.endLine + 1] - 1 : text.length);
      records.push(rec);
      if (!soaSeen && r.type === 'SOA') {
        soaSeen = true;
        serial = r.rdata[2] ? Number(r.rdata[2]) : null;
      }
    }
    const zone: Zone = { domain, serial, records, version: fileVersion(text) };
    // applyChanges refuses such a file (writeRefusal: a line it cannot read may hide records; a signed file): say so
    // before anything is planned.
    const refusal = writeRefusal(domain, parsed);
    if (refusal) zone.writeBlocked = refusal;
    return zone;
  }

  async readZone(domain: string): Promise<Zone> {
    return this.toZone(this.canonical(domain), this.readText(domain).text);
  }

  /**
   * Public keys of the private keys seen: base64 SPKI (undefined: none could be derived) by key text. Looked up by a
   * short fingerprint of the text (its length and 64 characters from the middle of the key material; hashing the whole
   * text costs about as much as a read), then the whole text is compared.
   */
  private publicKeys = new Map<string, { pem: string; publicKey: string | undefined }>();

  private publicKeyOf(privateKeyPem: string): string | undefined {
    const mid = privateKeyPem.length >> 1;
    const fp = `${privateKeyPem.length}:${privateKeyPem.slice(mid - 32, mid + 32)}`;
    const known = this.publicKeys.get(fp);
    if (known && known.pem === privateKeyPem) return known.publicKey;
    let publicKey = rsaSpkiFromPrivatePem(privateKeyPem) ?? undefined;
    if (!publicKey) {
      try {
        publicKey = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' }).toString('base64');
      } catch {
        publicKey = undefined;
      }
    }
    // Bounded: a server with a key per domain keeps only the last few hundred.
    if (this.publicKeys.size >= 256) this.publicKeys.clear();
    this.publicKeys.set(fp, { pem: privateKeyPem, publicKey });
    return publicKey;
  }

  async readMailSettings(domain: string): Promise<MailSettings> {
    // One panel.json check for the settings and both files (a bulk audit reads these for every domain).
    const entry = this.configEntry();
    const { cfg, nameservers } = entry;
    const s = cfg.server;
    const ov = readOverrides(this.locate('domains', domain, '.json', entry));
    const privateKeyPem = readIfExists(this.locate('dkim', domain, '.pem', entry));
    const publicKey = privateKeyPem !== undefined ? this.publicKeyOf(privateKeyPem) : undefined;
    const dkim: MailSettings['dkim'] = { selector: s.dkimSelector ?? 'default', signing: ov.dkim ?? Boolean(privateKeyPem) };
    if (privateKeyPem) dkim.privateKeyPem = privateKeyPem;
    if (publicKey) dkim.publicKey = publicKey;
    // Signing off with a key: the override is this panel's signing switch (startDkimSigning turns it on).
    if (publicKey && !dkim.signing) dkim.startSigning = 'switch';
    return {
      domain: this.canonical(domain),
      hostname: s.hostname.toLowerCase(),
      ips: ov.ips ?? s.ips,
      helo: (s.helo ?? s.hostname).toLowerCase(),
      nameservers: nameservers.slice(),
      dkim,
      routing: ov.mailRouting ?? 'local',
      relay: s.relay ?? null,
    };
  }

  async applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult> {
    domain = this.canonical(domain);
    const { text, path } = this.readText(domain);
    if (fileVersion(text) !== expectedVersion) throw new PanelError('stale', `the zone of ${domain} changed since it was read`);
    const zone = this.toZone(domain, text);
    const parsed = parseZoneFile(text, domain);
    // A line the parser cannot read may hide records (an unclosed parenthesis swallows every line after it): an edit
    // could then rewrite them away unseen. Writes wait until the file is repaired (and a signed file is never written:
    // writeRefusal).
    const refusal = writeRefusal(domain, parsed);
    if (refusal) throw new PanelError('invalid-zone', `${refusal} Nothing was changed.`);
    let out: string;
    /**
     * A change's new record that the edited text does not read back as, if any: by its exact key, or (`loose`) with the
     * names in a value compared as names — any case, a final dot or not (`10 mail.example.net.` is read back as
     * `10 mail.example.net`).
     */
    const unwritten = (t: string, loose: boolean): ZoneRecord | undefined => {
      const key = (r: ZoneRecord) => (loose ? looseKey(r) : recordKey(r));
      const got = new Set(parseZoneFile(t, domain).records.map((r) => key({ name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) })));
      return changes.find((c) => c.after && !got.has(key(c.after)))?.after ?? undefined;
    };
    try {
      out = this.edited(domain, text, zone, parsed, changes, true);
      if (unwritten(out, false)) throw new Error('source text does not give the record');
      out = this.relocate(domain, out, changes);
    } catch (e) {
      if (e instanceof PanelError && e.code !== 'invalid-zone') throw e;
      // A rendered line that is no record at all (data BIND would refuse: `10 mail example.net.` is an MX of three
      // fields) is refused naming the record, before the edit below would fail only on the count of records.
      for (const c of changes) {
        const error = c.after ? parseZoneFile(renderRecordLine(c.after), domain).errors[0] : undefined;
        if (c.after && error) throw new PanelError('invalid-zone', `the record ${c.after.name} ${c.after.type} ${JSON.stringify(c.after.value)} cannot be written to the zone file as given (it would not read back as a record: ${error.replace(/^line [0-9]+: /, '')}). Nothing was changed.`);
      }
      out = this.edited(domain, text, zone, parsed, changes, false);
      // The line rendered for a new record must read back as that record: a value the zone-file syntax cannot carry
      // as given (a host name with a space in it: BIND, and this parser, read the first word and drop the rest) is
      // refused, never written as another record (fuzz QA: the rendered path was not checked as the source path is).
      const bad = unwritten(out, true);
      if (bad) throw new PanelError('invalid-zone', `the record ${bad.name} ${bad.type} ${JSON.stringify(bad.value)} cannot be written to the zone file as given (it would read back as another record). Nothing was changed.`);
    }
    const soa = parsed.records.find((r) => r.type === 'SOA');
    if (soa && soa.rdata[2]) {
      // Line numbers before the SOA do not move when edits sit after it; re-parse to be exact.
      const re = parseZoneFile(out, domain).records.find((r) => r.type === 'SOA');
      if (re) {
        const bumped = bumpSerialText(out, re, nextSerial(Number(re.rdata[2]), this.now()));
        if (bumped) out = bumped;
      }
    }
    const check = parseZoneFile(out, domain);
    if (check.errors.length) throw new PanelError('invalid-zone', `the edited zone would not parse: ${check.errors[0]}`);
    // A name that is an alias holds no other record (RFC 1034 §3.6.2, RFC 2181 §10.1): BIND refuses to load a zone with
    // a CNAME beside other data. Core refuses such a change before it gets here (plans/plan.ts aliasClash); whatever
    // asks, a write never makes such a name — one the file already had is left to its owner.
    const clash = check.cnameClashes.find((name) => !parsed.cnameClashes.includes(name));
    if (clash !== undefined) {
      throw new PanelError('invalid-zone', `the edit would leave ${clash} an alias (CNAME) beside other records: a name that is an alias holds no other record, and the name server would refuse to load the zone. Nothing was changed.`);
    }
    // `text` is the file as read (its version is the expected one): the write goes ahead only while it still is.
    writeZoneFile(path, domain, zoneOctets(text), zoneOctets(out));
    return { version: fileVersion(out) };
  }

  /**
   * The zone text with the changes applied, every record not asked to change parsing exactly as before. With
   * `useSource`, a record that carries the text it once had (an undo) is written back with that text.
   */
  private edited(domain: string, text: string, zone: Zone, parsed: ParsedZone, changes: Change[], useSource: boolean): string {
    // A source read from a CRLF file holds the '\r' of each line break: its lines are taken without it, and written
    // with the file's line break (applyLineEdits), never with two.
    const render = (r: ZoneRecord): string[] => (useSource && r.source ? sourceLines(r.source) : [renderRecordLine(r)]);
    const edits: LineEdit[] = [];
    const removed = new Set<number>(); // indexes into parsed.records
    const replaced = new Set<number>();
    let adds = 0;
    for (const c of changes) {
      if (c.action === 'add') {
        if (!c.after) throw new PanelError('other', 'add without a record');
        edits.push({ startLine: -1, endLine: -1, lines: render(c.after) });
        adds++;
        continue;
      }
      const before = c.before;
      if (!before?.ref) throw new PanelError('other', `${c.action} without the record it replaces`);
      const idx = zone.records.findIndex((r) => r.ref === before.ref);
      const cur = zone.records[idx];
      if (!cur || recordKey(cur) !== recordKey(before)) throw new PanelError('stale', `the record ${before.name} ${before.type} changed since it was read`);
      if (removed.has(idx) || replaced.has(idx)) throw new PanelError('other', `two changes to the same record ${before.name} ${before.type}`);
      if (c.action === 'edit' && !c.after) throw new PanelError('other', 'edit without the new record');
      (c.action === 'edit' ? replaced : removed).add(idx);
      const [s, e] = before.ref.split('-').map(Number);
      edits.push({ startLine: s, endLine: e, lines: c.action === 'edit' && c.after ? render(c.after) : [] });
    }
    // A record after a removed or replaced one may inherit its owner (blank owner) or its TTL (no $TTL): write that
    // owner/TTL out on the record's first line so that every record not asked to change parses exactly as before.
    let out = applyLineEdits(text, edits);
    const lines = text.split('\n');
    for (let pass = 0; ; pass++) {
      const after = parseZoneFile(out, domain).records;
      if (after.length !== parsed.records.length - removed.size + adds) throw new PanelError('invalid-zone', 'the edited zone does not have the expected records');
      const fixes: LineEdit[] = [];
      let j = 0;
      for (let i = 0; i < parsed.records.length; i++) {
        if (removed.has(i)) continue;
        const n = after[j++];
        const o = parsed.records[i];
        if (replaced.has(i) || sameRecord(o, n)) continue;
        if (n.type !== o.type || n.rdata.join(' ') !== o.rdata.join(' ') || pass > 0) {
          throw new PanelError('invalid-zone', `the edit would change the record at line ${o.startLine + 1} (${o.name} ${o.type})`);
        }
        const first = lines[o.startLine].replace(/\r$/, '');
        const rest = /^[ \t]/.test(first) ? first.replace(/^[ \t]+/, '') : first.replace(/^\S+[ \t]+/, '');
        fixes.push({ startLine: o.startLine, endLine: o.startLine, lines: [`${o.name}.\t${n.ttl !== o.ttl ? `${o.ttl}\t` : ''}${rest}`] });
      }
      if (fixes.length === 0) break;
      edits.push(...fixes);
      out = applyLineEdits(text, edits);
    }
    return out;
  }

  /** Move records added at the end back to where they used to be (undo of a removal), when that parses the same. */
  private relocate(domain: string, out: string, changes: Change[]): string {
    for (const c of changes) {
      if (c.action !== 'add' || !c.after?.source || !c.after.ref) continue;
      const at = Number(c.after.ref.split('-')[0]);
      // Compared without the '\r' of CRLF breaks (a source read from a CRLF file has them; the lines were written
      // with the file's own break): the lines move with the break they were written with.
      const srcLines = sourceLines(c.after.source);
      const lines = out.split('\n');
      const bare = lines.map(withoutCr);
      const tail = bare.lastIndexOf(srcLines[srcLines.length - 1]);
      if (!Number.isInteger(at) || tail < 0 || at >= tail - srcLines.length + 1) continue;
      const startTail = tail - srcLines.length + 1;
      if (bare.slice(startTail, tail + 1).join('\n') !== srcLines.join('\n')) continue;
      const block = lines.slice(startTail, tail + 1);
      const moved = [...lines.slice(0, startTail), ...lines.slice(tail + 1)];
      moved.splice(at, 0, ...block);
      const candidate = moved.join('\n');
      const keys = (t: string) => parseZoneFile(t, domain).records.map((r) => `${r.name} ${r.ttl} ${r.type} ${presentValue(r)}`).sort().join('\n');
      if (parseZoneFile(candidate, domain).errors.length === 0 && keys(candidate) === keys(out)) out = candidate;
    }
    return out;
  }

  async generateDkim(domain: string): Promise<MailSettings> {
    // The key file in use, under whichever name it has (locate), is the one replaced; else a new one by the canonical
    // name. Both files this writes are located first: two spellings of either refuse it before anything is written.
    const p = this.locate('dkim', domain, '.pem');
    this.locate('domains', domain, '.json');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    mkdirSync(join(this.root, 'dkim'), { recursive: true });
    writeFileSync(`${p}.tmp`, pem, { mode: 0o600 });
    renameSync(`${p}.tmp`, p);
    this.setSigning(domain, true);
    return this.readMailSettings(domain);
  }

  /**
   * Sign the domain's mail with the key it has (dkim/<domain>.pem): `"dkim": true` in domains/<domain>.json, the other
   * overrides kept. Changes no record. PanelError('unsupported') when the domain has no key to sign with.
   */
  async startDkimSigning(domain: string): Promise<MailSettings> {
    const d = this.canonical(domain);
    if (!existsSync(this.locate('dkim', d, '.pem'))) throw new PanelError('unsupported', `files panel: no DKIM key for ${d} (dkim/${d}.pem): nothing to sign with`);
    this.setSigning(d, true);
    return this.readMailSettings(d);
  }

  /** The domain's `dkim` override, written atomically (temp file + rename), every other override kept. */
  private setSigning(domain: string, on: boolean): void {
    const ovPath = this.locate('domains', domain, '.json');
    const ov = readOverrides(ovPath);
    ov.dkim = on;
    mkdirSync(join(this.root, 'domains'), { recursive: true });
    writeFileSync(`${ovPath}.tmp`, JSON.stringify(ov, null, 2) + '\n');
    renameSync(`${ovPath}.tmp`, ovPath);
  }
}

/**
 * Replace the zone file at `p` with `data`, unless it no longer holds `expected` (PanelError 'stale', nothing written).
 *
 * - The file replaced is the real one: when `p` is a symlink (to the file the name server reads), the temp file is
 *   written next to its target and renamed onto it, so the link stays a link to the updated file.
 * - One mailhealth writer at a time per real file, whatever its history database: a lock file `<real>.mailhealth.lock`
 *   created exclusively, holding the writer's pid (see takeZoneLock), removed when the write ends. A lock held by a live
 *   process refuses the write (PanelError 'busy', "another mailhealth process is writing…", nothing written).
 * - Under the lock: temp files `<real>.mailhealth-<pid>.tmp` (and `<p>.mailhealth-<pid>.tmp` next to a link) of dead
 *   processes are removed; the temp file gets the old file's mode, owner and group; then the file is read again and
 *   compared octet for octet with `expected`, and only the rename follows. A hand edit (which honours no lock) that
 *   lands between that last read and the rename is still overwritten: that window cannot be closed without a lock
 *   the editor would honour.
 * - Any error after the temp file is started removes it (best effort; the error reported is the original one).
 */
function writeZoneFile(p: string, domain: string, expected: string | Buffer, data: string | Buffer): void {
  try {
    writeZoneFileAs(p, domain, expected, data);
  } catch (e) {
    throw notPermitted(e, p, domain) ?? e;
  }
}

/**
 * A write the file system refused (permissions, a read-only mount) in words a customer or admin can act on — not the
 * raw EACCES on an internal file name (the lock or temp file beside the zone; CLI QA). Nothing was written then: the
 * lock, temp and zone file are each created or replaced whole or not at all. Null for any other error.
 */
function notPermitted(e: unknown, p: string, domain: string): PanelError | null {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return null;
  const who = typeof process.getuid === 'function' ? ` (mailhealth runs as uid ${process.getuid()})` : '';
  const why =
    code === 'EROFS'
      ? 'is on a read-only file system (EROFS)'
      : code === 'EPERM'
        ? `may not be changed (EPERM: an immutable file, or an operation not permitted to this user${who})`
        : `cannot be written by this user${who} (EACCES): the zone file and its directory must be writable by it`;
  return new PanelError('auth', `the zone file of ${domain} (${p}) ${why}; nothing was written`);
}

function writeZoneFileAs(p: string, domain: string, expected: string | Buffer, data: string | Buffer): void {
  const changed = () => new PanelError('stale', `the zone of ${domain} changed during the write`);
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw changed(); // removed (or a dangling link) since the read
    throw e;
  }
  const lock = takeZoneLock(real, domain);
  try {
    removeDeadTemps(real);
    if (p !== real) removeDeadTemps(p); // left next to the link by versions that wrote there
    const tmp = tempPath(real, process.pid);
    // The new file keeps the old one's mode, owner and group (a name server reading root:named 0640 zones must still
    // read it); a chown that is not permitted (not root) leaves the writer's own.
    const st = statSync(real);
    const want = typeof expected === 'string' ? Buffer.from(expected, 'utf8') : expected;
    try {
      writeFileSync(tmp, data, { mode: st.mode & 0o7777 });
      chmodSync(tmp, st.mode & 0o7777);
      try {
        chownSync(tmp, st.uid, st.gid);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      }
      if (lockHolder(lock) !== process.pid) throw zoneBusy(domain, lock, lockHolder(lock)); // taken from us meanwhile
      // The last re-read and compare, as late as it can be: only the rename follows.
      if (!sameOctets(real, want)) throw changed();
      renameSync(tmp, real);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // best effort (already gone, or cannot be removed): the original error is the one to report
      }
      throw e;
    }
  } finally {
    releaseZoneLock(lock);
  }
}

/** The temp file a process writes a zone file's new text to before renaming it onto the file. */
function tempPath(file: string, pid: number): string {
  return `${file}.mailhealth-${pid}.tmp`;
}

/** Whether the file at `p` holds exactly `want` (false when it is gone). */
function sameOctets(p: string, want: Buffer): boolean {
  try {
    return readFileSync(p).equals(want);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Whether a process with this pid exists (one of another user's too: EPERM); only ESRCH says it does not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The zone locks this process holds (its writes are synchronous; a second FilesPanel in it must still be refused). */
const heldZoneLocks = new Set<string>();

/**
 * The pid a lock file holds: a number; null when it holds no pid (empty or garbled); undefined when the file is gone.
 */
function lockHolder(lock: string): number | null | undefined {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const m = /^([1-9][0-9]{0,9})\n?$/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Whether a lock held by `holder` is left over: a process that no longer exists, or this very process when it does not
 * hold that lock (a release that failed, or a pid reused after a crash, as in a container where it is always the same).
 * A lock that holds no pid is not: it is refused, and the message says to remove it if no mailhealth is writing.
 */
function isLeftOver(holder: number | null, lock: string): boolean {
  if (holder === null) return false;
  return holder === process.pid ? !heldZoneLocks.has(lock) : !isAlive(holder);
}

function zoneBusy(domain: string, lock: string, holder: number | null | undefined): PanelError {
  const who = typeof holder === 'number' ? ` (pid ${holder})` : '';
  return new PanelError(
    'busy',
    `another mailhealth process${who} is writing the zone of ${domain}; try again — nothing was written (if no mailhealth process is writing it, remove ${lock})`,
  );
}

/**
 * Take the lock file of a zone file (`<real>.mailhealth.lock`, returned): created exclusively with this process's pid
 * in it (written to a file of its own, then linked into place: a lock never exists without its pid). A lock left over by
 * a process that is gone (isLeftOver) is taken over one process at a time, under a guard file (`<lock>.takeover`,
 * created exclusively): under it the holder is judged again and only then is the lock removed. Nobody else can have
 * replaced it in between: a lock is only ever removed by its holder (alive, so not left over) or under the guard. A
 * lock held by a live process, or a takeover by another process under way: PanelError 'busy' (zoneBusy), nothing
 * written.
 */
function takeZoneLock(real: string, domain: string): string {
  const lock = `${real}.mailhealth.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(lock)) {
      heldZoneLocks.add(lock);
      return lock;
    }
    const holder = lockHolder(lock);
    if (holder === undefined) continue; // released meanwhile
    if (!isLeftOver(holder, lock)) throw zoneBusy(domain, lock, holder);
    const guard = `${lock}.takeover`;
    if (!takeGuard(guard)) throw zoneBusy(domain, lock, holder); // another process is taking it over right now
    try {
      const again = lockHolder(lock);
      if (again === undefined) continue;
      if (!isLeftOver(again, lock)) throw zoneBusy(domain, lock, again);
      unlinkSync(lock);
    } finally {
      try {
        unlinkSync(guard);
      } catch {
        // best effort: a guard left behind is stale after GUARD_STALE_MS
      }
    }
  }
  throw zoneBusy(domain, lock, lockHolder(lock));
}

/** Create `path` holding this process's pid, only if it does not exist (false then): link of a file written first. */
function createExclusive(path: string): boolean {
  const mine = `${path}.${process.pid}.new`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    linkSync(mine, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    try {
      unlinkSync(mine);
    } catch {
      // best effort
    }
  }
}

/** A takeover guard is held for microseconds: one older than this was left by a process that stopped while holding it. */
const GUARD_STALE_MS = 10_000;

/**
 * Whether a takeover guard (its file's status `st`) is left over. By its age (the file's time against this host's
 * clock): older than GUARD_STALE_MS, it is; younger, another process is taking the lock over right now. A guard whose
 * time is ahead of the clock (the clock was set back since it was written — an NTP step, an admin correcting a fast
 * clock) has no age that can be told: it is judged by the pid in it (as the zone lock is, isLeftOver) — its holder gone,
 * or no pid, it is left over — instead of blocking every takeover of that zone's lock for as long as the step.
 */
function guardLeftOver(guard: string, st: { mtimeMs: number }, now: number): boolean {
  const age = now - st.mtimeMs;
  if (age >= GUARD_STALE_MS) return true;
  if (age >= 0) return false;
  const holder = lockHolder(guard);
  if (holder === undefined) return false; // removed meanwhile: createExclusive will tell
  // This process holds no guard here (takeZoneLock is synchronous and releases it before it returns).
  return holder === null || holder === process.pid || !isAlive(holder);
}

/** Take the takeover guard; false while another process holds it. A guard left over (guardLeftOver) is removed. */
function takeGuard(guard: string): boolean {
  if (createExclusive(guard)) return true;
  const st = statSync(guard, { throwIfNoEntry: false });
  if (st && !guardLeftOver(guard, st, Date.now())) return false;
  try {
    unlinkSync(guard);
  } catch {
    // removed meanwhile
  }
  return createExclusive(guard);
}

/** Release a lock taken by takeZoneLock: removed if it still holds this process's pid (best effort). */
function releaseZoneLock(lock: string): void {
  heldZoneLocks.delete(lock);
  try {
    if (lockHolder(lock) === process.pid) unlinkSync(lock);
  } catch {
    // left in place: the next write takes it over (this pid, not held)
  }
}

/** Remove the temp files `<file>.mailhealth-<pid>.tmp` of processes that no longer exist (best effort). */
function removeDeadTemps(file: string): void {
  const dir = dirname(file);
  const prefix = `${basename(file)}.mailhealth-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = name.slice(prefix.length, -'.tmp'.length);
    if (!/^[1-9][0-9]{0,9}$/.test(pid) || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // best effort: another writer may have removed it first
    }
  }
}

function unreadableZone(domain: string, error: string): string {
  return `the zone file of ${domain} has lines mailhealth cannot read (${error}); repair it in the panel first.`;
}

/**
 * Why the files panel writes no change to this zone file as it is, or null. A line it cannot read (it may hide
 * records an edit would rewrite away), and a DNSSEC-signed file: the output of a signer (dnssec-signzone, an
 * export of a signed zone), whose RRSIGs a changed record would keep — validating resolvers would then reject it as
 * bogus and mail would lose the very record the fix wrote. A zone the name server signs itself (BIND inline-signing or
 * dnssec-policy, Knot, PowerDNS) holds no RRSIG in its file and is written as any other (a DNSKEY alone is fine).
 */
function writeRefusal(domain: string, parsed: ParsedZone): string | null {
  const first = parsed.errors[0];
  // $INCLUDE and $GENERATE are valid BIND, not something to repair: the change is made by hand, or the records they
  // bring in are written into the file itself.
  const directive = first && /^line [0-9]+: \$(INCLUDE|GENERATE) is not supported/i.exec(first);
  if (directive) {
    const instead = directive[1].toUpperCase() === 'INCLUDE' ? 'move the included records into the zone file' : 'write the generated records out in the zone file';
    return `mailhealth does not write the zone file of ${domain} (${first}): make this change by hand (the preview shows the records), or ${instead}.`;
  }
  if (first) return unreadableZone(domain, first);
  if (parsed.signed) {
    return `the zone file of ${domain} is DNSSEC-signed (${parsed.signed}): a record mailhealth changed would keep its old signatures and validating resolvers would reject it; change the unsigned zone the file is made from and sign it again (or let the name server sign the zone, e.g. BIND's dnssec-policy).`;
  }
  return null;
}

interface ConfigEntry {
  cfg: FilesPanelConfig;
  nameservers: string[];
  /** Canonical name → the other spellings panel.json lists it by (see spellingsOf); only names that have one. */
  spellings: Map<string, string[]>;
}

/**
 * The spellings panel.json lists each domain by that are not its canonical name, under which its files may be named
 * (FilesPanel.locate): the name as listed (surrounding spaces aside, which checkDomain ignores too), and that without
 * one trailing dot. A name that is no domain (listedDomain) has none: it is never listed, and never a file name.
 */
function spellingsOf(cfg: FilesPanelConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of cfg.accounts) {
    for (const listed of a.domains ?? []) {
      const d = listedDomain(listed);
      if (!d) continue;
      const asListed = listed.trim();
      for (const name of [asListed, asListed.endsWith('.') ? asListed.slice(0, -1) : asListed]) {
        if (name === d) continue;
        const known = out.get(d);
        if (!known) out.set(d, [name]);
        else if (!known.includes(name)) known.push(name);
      }
    }
  }
  return out;
}

/** A file's status (links followed), or undefined when there is none: missing, a dangling link, a name too long to be one. */
function statIfExists(p: string): { dev: number; ino: number } | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENAMETOOLONG') return undefined;
    throw e;
  }
}

function nameserversOf(s: FilesPanelServer): string[] {
  return s.nameservers.map((n) => n.toLowerCase().replace(/\.$/, ''));
}

/** The keys a domain's overrides file may hold (README "Files panel"). */
const OVERRIDE_KEYS: readonly string[] = ['mailRouting', 'dkim', 'ips'];

/**
 * A domain's overrides (domains/<domain>.json), checked against their documented shape: none when the file does not
 * exist. A file that exists but cannot be read, is not JSON, or holds a value of another shape is PanelError: the
 * settings are unreadable, never read as a setting — `"dkim": "false"` is a truthy string (read as signing), `"ips":
 * "203.0.113.10"` no list (the audit threw "serverIps.some is not a function"), `"mailRouting": "Remote"` neither
 * routing (R6). A key the file may not hold is refused too: it is most likely a misspelled one ("mailrouting",
 * "IPs"), and ignoring it would audit the domain — and plan fixes — on the very default it was written to override.
 */
function readOverrides(path: string): DomainOverrides {
  const file = `domains/${basename(path)}`;
  // Most domains have no such file: asked with a stat that does not throw for "no such file" (an exception per domain
  // of a bulk audit cost ~8 µs each on the benchmark's 10,000 domains), then read.
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return {};
    throw new PanelError('other', `files panel: ${file} cannot be read (${code ?? (e as Error).message})`);
  }
  if (!st) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No such file (or no domains/ directory): no overrides. Any other error (a symlink loop, a directory, EACCES)
    // leaves them unknown — not "none", which would read the defaults as the domain's settings.
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    throw new PanelError('other', `files panel: ${file} cannot be read (${code ?? (e as Error).message})`);
  }
  let ov: unknown;
  try {
    ov = JSON.parse(text);
  } catch (e) {
    throw new PanelError('other', `files panel: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const bad = overridesProblem(ov);
  if (bad) throw new PanelError('other', `files panel: ${file}: ${bad}`);
  return ov as DomainOverrides;
}

/** What in a parsed overrides file is not of the documented shape, or null when it all is. */
function overridesProblem(ov: unknown): string | null {
  if (!ov || typeof ov !== 'object' || Array.isArray(ov)) return `must be an object, {"mailRouting", "dkim", "ips"} (it is ${shown(ov)})`;
  const o = ov as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !OVERRIDE_KEYS.includes(k));
  if (unknown.length) return `${unknown.map(shown).join(', ')} ${unknown.length > 1 ? 'are no keys' : 'is no key'} it may hold (only "mailRouting", "dkim" and "ips")`;
  if (o.mailRouting !== undefined && o.mailRouting !== 'local' && o.mailRouting !== 'remote') return `"mailRouting" must be "local" or "remote" (it is ${shown(o.mailRouting)})`;
  if (o.dkim !== undefined && typeof o.dkim !== 'boolean') return `"dkim" must be true or false (it is ${shown(o.dkim)})`;
  if (o.ips !== undefined) {
    if (!Array.isArray(o.ips)) return `"ips" must be a list of IP addresses (it is ${shown(o.ips)})`;
    const notIp = o.ips.find((x) => typeof x !== 'string' || !isIpAddress(x));
    if (notIp !== undefined) return `"ips" must be a list of IP addresses (${shown(notIp)} is none)`;
  }
  return null;
}

/** A JSON value as an error message shows it: as written, cut short. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** A record's stored source as line texts: split at '\n', each without the '\r' of a CRLF line break. */
function sourceLines(source: string): string[] {
  return source.split('\n').map(withoutCr);
}

function sameRecord(a: ParsedRecord, b: ParsedRecord): boolean {
  return a.name === b.name && a.ttl === b.ttl && a.type === b.type && a.class === b.class && a.rdata.join('\u0000') === b.rdata.join('\u0000');
}

/** A file's text, or undefined when it does not exist (one system call instead of exists + read). */
function readIfExists(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A zone file's text, or undefined when it does not exist. Octets that are not UTF-8 (a comment saved in Latin-1) read
 * as U+DC00 + octet (core/octets.ts), as the DNS client reads them off the wire: zoneOctets gives back the same bytes,
 * so a write changes nothing outside the records it edits, and two different such bytes never read alike.
 */
function readZoneText(p: string): string | undefined {
  let text: string;
  try {
    // Node's own UTF-8 read (no Buffer per file: a bulk audit reads thousands); only a file where it had to put U+FFFD
    // — an octet that is not UTF-8, or a U+FFFD written in the file — is read again as octets.
    text = readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!text.includes('\uFFFD')) return text;
  const buf = readFileSync(p);
  return isUtf8(buf) ? buf.toString('utf8') : decodeOctets(buf);
}

/** The octets of a zone text as readZoneText read them (the text itself when it holds no such octet). */
function zoneOctets(text: string): string | Buffer {
  return ESCAPED_OCTET.test(text) ? octetsOf(text) : text;
}

// One-shot hashing (Node ≥ 20.12) where there is one: no Hash object per zone read.
const oneShotHash = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : null;

/** The version of a zone file: a hash of its octets (see readZoneText). */
export function fileVersion(text: string): string {
  const data = zoneOctets(text);
  return 'sha256:' + (oneShotHash ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex'));
}

/**
 * recordKey with the value's words compared as names: lower case, no final dot. TXT: its text, as it is (the strings
 * joined: a record given as one value reads back split into strings of at most 255 octets).
 */
function looseKey(r: ZoneRecord): string {
  const { txt: _txt, ...rest } = r;
  if (r.type.toUpperCase() === 'TXT') return recordKey({ ...rest, value: r.txt ? r.txt.join('') : r.value });
  return recordKey({ ...rest, value: r.value.replace(/\.(?=\s|$)/g, '').toLowerCase() });
}
