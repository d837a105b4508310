// cPanel zone items (UAPI DNS::parse_zone / WHM parse_dns_zone) ⇄ core ZoneRecord, and Change ⇄ mass_edit_zone
// parameters. Shared by the cPanel (UAPI) and WHM adapters. Shapes: shared/reference/cpanel.md §3, §4 (CONFIRMED there
// unless a comment says INFERRED).
import { isUtf8 } from 'node:buffer';
import { canonName, inZone } from '../../../core/domain.js';
import { canonicalIpv6 } from '../../../core/ip.js';
import type { Change, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError } from '../../../core/panel.js';
import { isSpfRecord } from '../../../core/spf/parse.js';
import { fixOwnsTxt } from '../../../core/plans/owned.js';
import { canonicalKey, publishedKey } from '../../../core/classify.js';
import { recordKey } from '../../../core/zone.js';
import { decodeTxtStrings } from '../../dns/wire.js';
import { nameFields } from '../files/zonefile.js';

export interface ParseZoneItem {
  line_index: number;
  type: 'record' | 'comment' | 'control' | string;
  dname_b64?: string;
  ttl?: number | string;
  record_type?: string;
  data_b64?: string[];
  text_b64?: string;
}

/**
 * A base64 field of parse_zone as text. §3: the decoded bytes may be any octets, not necessarily UTF-8 (parse_zone
 * undoes the zone file's `\DDD` escapes). UTF-8 when they are valid UTF-8 — what a TXT note typed in any editor
 * holds —, else one character per octet (latin1), so no byte is lost. TXT strings are decoded by txtFields, exactly as
 * the wire resolver decodes them (src/adapters/dns/wire.ts decodeTxtStrings), so the panel's copy and the live answer
 * compare equal — also for a character split across two strings and for bytes that are not UTF-8.
 */
function b64(s: string): string {
  const buf = Buffer.from(s, 'base64');
  return isUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
}

/** Owner name as cPanel returns it → absolute, lower case, no trailing dot. Apex arrives as "zone." (§3). */
export function absoluteName(dname: string, zone: string): string {
  if (dname.endsWith('.')) return canonName(dname);
  if (dname === '@' || dname === '') return canonName(zone); // not produced by cPanel; defensive
  return canonName(`${dname}.${zone}`);
}

/** Absolute name → the dname mass_edit_zone expects: relative below the apex, FQDN with dot for the apex (§4.2). */
export function relativeDname(name: string, zone: string): string {
  const n = canonName(name);
  const z = canonName(zone);
  if (n === z) return `${z}.`;
  if (!inZone(n, z)) throw new PanelError('other', `record name ${n} is not inside zone ${z}`);
  return n.slice(0, n.length - z.length - 1);
}

/**
 * Owner name as cPanel returns it → absolute, as spelled (letter case kept). Owner names compare without case (RFC
 * 4343), so records are read under the lower-case name (absoluteName); this spelling rides along in ZoneRecord.source
 * when it differs, so a write of the record keeps the owner as the customer typed it (`_DMARC` stays `_DMARC` through
 * a fix and its undo). An owner written as a full name (a dname ending in "." — the apex always, §3: `Alice.Example.`;
 * another name when cPanel did not strip the zone from it, `_MailChannels.Alice.Example.`) keeps its trailing dot
 * here, so it is written back as the full name it was (ownerDname); a relative one (`_DMARC`) has none.
 */
function spelledName(dname: string, zone: string): string {
  if (dname.endsWith('.')) return dname;
  if (dname === '@' || dname === '') return canonName(zone);
  return `${dname}.${canonName(zone)}`;
}

/**
 * The dname to write for `r`: as spelled in its source (decodeZone) or, for an edit that keeps the owner, in the source
 * of the record it replaces — a full name (ending in ".") as it was (mass_edit_zone takes a dname with a trailing dot
 * as a full name, §4.2), a relative one with the relative part as spelled — else relativeDname. A source naming
 * another owner is ignored.
 */
function ownerDname(r: ZoneRecord, zone: string, replaced?: ZoneRecord | null): string {
  const rel = relativeDname(r.name, zone);
  for (const s of [r.source, replaced?.source]) {
    if (!s || canonName(s) !== canonName(r.name)) continue;
    if (s.endsWith('.')) return s;
    if (rel.endsWith('.')) return rel; // the apex (cPanel returns it as a full name: not reached from decodeZone)
    const spelled = s.slice(0, rel.length);
    if (spelled.toLowerCase() === rel) return spelled;
  }
  return rel;
}

/**
 * Field positions holding domain names, per type, for absolutising and presenting without the trailing dot: every type
 * whose data holds a name at a fixed place (RFC 1035, 1183, 2163, 2230, 3403, 9460) — the files panel's reader's own
 * list (files/zonefile.ts nameFields), so a record reads the same from either panel. Left out, `AFSDB 1 afs`
 * (relative) came back as "1 afs", a value that names no host, and an absolute one kept its final dot. (Every position
 * of the type, however many fields are given: a position past them is never asked for.)
 */
function namePositions(type: string): readonly number[] {
  return nameFields(type, Infinity);
}

/**
 * A name field of parse_zone's data → absolute, lower case, no trailing dot. §3: the presentation form of each field,
 * names fully qualified (`mail.example.com.`); a relative one (not seen from cPanel, which writes FQDNs itself) is
 * read relative to the zone, as a zone file reads it under its origin. The root `.` (MX/SRV "no service", an RP with
 * no TXT name, a NAPTR with no replacement, an SVCB target that is the owner itself) stays `.`, as the files panel reads
 * it (made "", a null MX read as "0 " here and "0 ." there).
 */
function presentName(field: string, zone: string): string {
  if (field === '.') return '.';
  if (field.endsWith('.')) return canonName(field);
  return canonName(`${field}.${zone}`);
}

/** Standard base64 as cPanel writes it: Cpanel::Base64::encode_to_line is MIME::Base64 with its line breaks taken out (padded, no whitespace). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * One parse_zone item, checked against what cPanel's parser (Cpanel/ZoneFile/Parse.pm, 11.120) always gives: a record
 * has `line_index` (an integer ≥ 0), `dname_b64` (the owner, never empty: LDNS fills in an omitted owner from the line
 * before and `@` from the origin), `ttl` (an integer: LDNS fills in an omitted TTL from `$TTL` or the line before),
 * `record_type` and `data_b64` (one base64 string per RDATA field); a comment or control line (`$TTL`, `$ORIGIN`) has
 * `line_index` and `text_b64` and is skipped here. Anything else is no answer of cPanel's: the read fails with why,
 * never a guess — a record hidden, blanked or moved to the apex made the SPF fix add a second SPF record (QA).
 */
function checkedItem(it: unknown, i: number, where: string): { item: ParseZoneItem; fields: Buffer[]; dname: string; ttl: number } | null {
  const bad = (why: string): PanelError => new PanelError('other', `${where} had an unexpected shape: ${why}`);
  if (!it || typeof it !== 'object' || Array.isArray(it)) throw bad(`item ${i + 1} is ${it === null ? 'null' : Array.isArray(it) ? 'a list' : typeof it}, not a record`);
  const o = it as Record<string, unknown>;
  if (o.type === 'comment' || o.type === 'control') return null;
  if (o.type !== 'record') throw bad(`item ${i + 1} has type ${JSON.stringify(o.type) ?? 'undefined'}, not record, comment or control`);
  const line = o.line_index;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 0) throw bad(`item ${i + 1}, a record, has no line_index`);
  // A type's name starts with a letter (A, TXT, TYPE65534): "-1" is no record type (fuzz QA: it was read as one).
  if (typeof o.record_type !== 'string' || !/^[A-Za-z][A-Za-z0-9-]*$/.test(o.record_type)) throw bad(`the record on line ${line + 1} has no record_type`);
  const type = o.record_type.toUpperCase();
  const rec = `the ${type} record on line ${line + 1}`;
  if (typeof o.dname_b64 !== 'string' || !o.dname_b64 || !BASE64.test(o.dname_b64)) throw bad(`${rec} has no owner name (dname_b64 ${o.dname_b64 === undefined ? 'missing' : 'not base64'})`);
  const ttl = typeof o.ttl === 'number' ? o.ttl : typeof o.ttl === 'string' && /^\d+$/.test(o.ttl) ? Number(o.ttl) : NaN;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2 ** 31 - 1) throw bad(`${rec} has no TTL (ttl ${o.ttl === undefined ? 'missing' : JSON.stringify(o.ttl)})`);
  const data = o.data_b64;
  if (!Array.isArray(data) || !data.every((f) => typeof f === 'string' && BASE64.test(f))) {
    throw bad(`${rec} has no data (data_b64 ${data === undefined ? 'missing' : Array.isArray(data) ? 'not base64' : 'not a list'})`);
  }
  // One element per field of the data (§3), and every type has one at least but APL (an empty address list), as BIND
  // reads a zone: an empty list is no record cPanel's parser gives (read, a TXT was one with no text, an MX one with no
  // host — an SPF record the audit saw as there and empty).
  if (data.length === 0 && type !== 'APL') throw bad(`${rec} has no data (data_b64 is an empty list)`);
  return { item: o as unknown as ParseZoneItem, fields: data.map((f: string) => Buffer.from(f, 'base64')), dname: b64(o.dname_b64), ttl };
}

/**
 * parse_zone's items (UAPI `data`, WHM `data.payload`) → the zone. `where` names the answer in an error ("cPanel's
 * answer to DNS::parse_zone for example.com"). A list that is not one, or an item that is not what cPanel's parser
 * gives (checkedItem), is PanelError('other'): the zone cannot be read.
 */
export function decodeZone(zone: string, items: unknown, where = `the panel's answer to parse_zone for ${canonName(zone)}`): Zone {
  if (!Array.isArray(items)) throw new PanelError('other', `${where} had an unexpected shape: ${items === null || items === undefined ? 'no list of records' : `${Array.isArray(items) ? 'a list' : typeof items} instead of a list of records`}`);
  const records: ZoneRecord[] = [];
  let serial: number | null = null;
  for (let i = 0; i < items.length; i++) {
    const checked = checkedItem(items[i], i, where);
    if (!checked) continue;
    const { item: it, fields: octets, dname, ttl } = checked;
    const type = String(it.record_type).toUpperCase();
    const fields = type === 'TXT' || type === 'SPF' ? decodeTxtStrings(octets) : octets.map((b) => (isUtf8(b) ? b.toString('utf8') : b.toString('latin1')));
    if (type === 'SOA') {
      // A serial is an unsigned 32-bit number in digits (RFC 1035 §3.3.13): "", "-1", "0x1F", "1e3" or "2024061100.5"
      // read through Number() gave 0, -1, 31, 1000 or a fraction — a serial the optimistic concurrency of a write would
      // then hand back to cPanel (fuzz QA). Anything else is an answer that cannot be read.
      const text = fields[2] ?? '';
      if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw new PanelError('invalid-zone', `${where}: the SOA record's serial is ${JSON.stringify(text)}, not a number of 0 to 4294967295 — the zone cannot be read or written until cPanel gives it one`);
      serial = Number(text);
      // Also kept as a record, as the files panel keeps it: core reads the SOA (MNAME naming the previous host is a
      // trace of it; its TTL is the default for new records). Never written: mass_edit refuses SOA edits (§4.2).
    }
    const name = absoluteName(dname, zone);
    // The root (".") is no name in a domain's zone: such an owner is an answer that cannot be read (fuzz QA: it became a
    // record named "").
    if (!name) throw new PanelError('other', `${where} had an unexpected shape: the ${type} record on line ${Number(it.line_index) + 1} has the owner ${JSON.stringify(dname)}, which is no name in ${canonName(zone)}`);
    const spelled = spelledName(dname, zone);
    // Kept when the spelling says more than the name: another letter case, or a full name below the apex.
    const plain = spelled === name || (spelled === `${name}.` && name === canonName(zone));
    const rec: ZoneRecord = { name, ttl, type, value: '', ref: String(it.line_index), ...(plain ? {} : { source: spelled }) };
    if (type === 'TXT' || type === 'SPF') {
      rec.txt = fields;
      rec.value = fields.join('');
    } else if (type === 'AAAA' && fields.length === 1) {
      // In the one spelling of core/ip.ts, the DNS client's: as cPanel gives it (the zone file's text), an address
      // written `::FFFF:A00:1` did not equal the live answer `::ffff:10.0.0.1`.
      rec.value = canonicalIpv6(fields[0]) ?? fields[0];
    } else {
      const nf = namePositions(type);
      rec.value = fields.map((f, k) => (nf.includes(k) ? presentName(f, zone) : f)).join(' ');
    }
    records.push(rec);
  }
  const unwritable = unwritableMailText(records);
  return { domain: canonName(zone), serial, records, version: serial === null ? '' : String(serial), ...(unwritable ? { writeBlocked: unwritable } : {}) };
}

/** Printable ASCII only: what mass_edit_zone takes in a `data` element (§4.2). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A TXT record a mail fix may remove or rewrite: SPF at any name, `_dmarc`, `_mailchannels`, `*._domainkey`. */
function fixMayTouch(r: ZoneRecord): boolean {
  if (r.type.toUpperCase() !== 'TXT' && r.type.toUpperCase() !== 'SPF') return false;
  const labels = canonName(r.name).split('.');
  const text = r.txt ? r.txt.join('') : r.value;
  // At _dmarc and _mailchannels only the records those fixes own (a verification token there is left alone).
  // A TXT meant as SPF whose version tag receivers miss (a no-break space after v=spf1) is not counted: it holds the
  // very character that makes it unreadable, and blocking the whole zone for it would hide every fix (review); the
  // SPF fix may rewrite it, and only an undo of that (putting the broken text back) is refused (applyChanges).
  return ((labels[0] === '_dmarc' || labels[0] === '_mailchannels') && fixOwnsTxt(r.name, text)) || labels.includes('_domainkey') || isSpfRecord(text);
}

/**
 * Why no fix may write this zone, when a mail record a fix may remove or rewrite holds non-ASCII text; else null.
 *
 * cpanel.md §4.2 (the reference): every `data` element of mass_edit_zone / mass_edit_dns_zone must be printable ASCII;
 * cPanel quotes the value and escapes `"`, `\` and control bytes itself. So such a record cannot be written back
 * through the API, and sending `\DDD` escapes ourselves would not help: cPanel escapes the backslash, and the zone
 * would hold the literal text `\195\169`. A fix that removed or rewrote the record could then never be undone (the
 * undo must put the old text back), so the fix is blocked at preview (core: Zone.writeBlocked) and the user corrects the
 * record first. Records no fix touches (another TXT, any other type) do not block anything: untouched records are
 * rewritten by cPanel itself from its own copy when it saves the zone (§4.4).
 * INFERRED, to confirm on a live server (not in the reference): cPanel's own source (Cpanel/ZoneFile/LineEdit/Backend.pm
 * `_quote_cstring`) escapes every octet 0x7F–0xFF of a TXT value as `\DDD` *before* its ASCII check, and mass_edit_zone
 * decodes the JSON into octets, so raw UTF-8 text would be accepted and stored as escapes. If a live test confirms
 * it, this block can go and recordData can send the raw UTF-8 text (never pre-escaped).
 */
export function unwritableMailText(records: readonly ZoneRecord[]): string | null {
  const found: string[] = [];
  for (const r of records) {
    if (!fixMayTouch(r)) continue;
    const text = r.txt ? r.txt.join('') : r.value;
    if (PRINTABLE_ASCII.test(text)) continue;
    found.push(`${r.name} (${describeNonAscii(text)} in ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)})`);
  }
  if (!found.length) return null;
  const which = found.length === 1 ? `the TXT record at ${found[0]} holds` : `the TXT records at ${found.slice(0, 3).join(', ')}${found.length > 3 ? ` and ${found.length - 3} more` : ''} hold`;
  return `${which} text that is not printable ASCII, which cPanel's zone API cannot write back, so a fix that changed ${found.length === 1 ? 'it' : 'them'} could not be undone. Correct or remove ${found.length === 1 ? 'that record' : 'those records'} in cPanel » Zone Editor, then preview the fix again.`;
}

/** The first character outside printable ASCII, as U+XXXX (a pasted no-break space is the usual one). */
function describeNonAscii(text: string): string {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp > 0x7e) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return 'a character';
}

/** Split a TXT value into ≤255-byte character-strings (RFC 1035; cPanel splits at 255 too, §4.2), never inside a UTF-8 character. */
export function splitTxt(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > 255) {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  if (cur || !out.length) out.push(cur);
  return out;
}

/** Presentation value → cPanel `data` fields (one element per RDATA field; names get their trailing dot). */
export function recordData(r: ZoneRecord): string[] {
  const type = r.type.toUpperCase();
  if (type === 'TXT' || type === 'SPF') {
    const chunks = r.txt && r.txt.length ? r.txt : splitTxt(r.value);
    for (const c of chunks) {
      // Refused here, before anything is sent (see unwritableMailText): cPanel takes printable ASCII only (§4.2).
      if (!PRINTABLE_ASCII.test(c)) {
        throw new PanelError(
          'unsupported',
          `cannot write the TXT record at ${r.name}: its text is not printable ASCII (${describeNonAscii(c)}), which cPanel's zone API does not take (nothing was sent to cPanel); write it by hand in cPanel » Zone Editor`,
        );
      }
      if (Buffer.byteLength(c, 'utf8') > 255) throw new PanelError('other', `TXT chunk longer than 255 bytes for ${r.name}`);
    }
    return chunks;
  }
  const nf = namePositions(type);
  const fields = r.value.trim().split(/\s+/);
  return fields.map((f, i) => (nf.includes(i) && !f.endsWith('.') ? `${f}.` : f));
}

function refOf(c: Change): number {
  const ref = c.before?.ref;
  const n = ref === undefined ? NaN : Number(ref);
  if (!Number.isInteger(n) || n < 0) {
    throw new PanelError('other', `${c.action} of ${c.type} at ${c.name} needs the record's line index (before.ref) from a fresh read`);
  }
  return n;
}

/**
 * Change list → mass_edit_zone parameters. Repeats are named `add`, `add-1`, `add-2`… (the `name-N` form
 * `Cpanel::Args::get_multiple` accepts, §4.1; same convention as `domain`, `domain-1` in EmailAuth).
 */
export function massEditParams(zone: string, serial: string, changes: Change[]): [string, string][] {
  const adds: string[] = [];
  const edits: string[] = [];
  const removes: string[] = [];
  for (const c of changes) {
    if (c.action === 'add') {
      if (!c.after) throw new PanelError('other', `add of ${c.type} at ${c.name} has no record`);
      adds.push(JSON.stringify({ dname: ownerDname(c.after, zone), ttl: c.after.ttl, record_type: c.after.type.toUpperCase(), data: recordData(c.after) }));
    } else if (c.action === 'edit') {
      if (!c.after) throw new PanelError('other', `edit of ${c.type} at ${c.name} has no new record`);
      edits.push(
        JSON.stringify({ line_index: refOf(c), dname: ownerDname(c.after, zone, c.before), ttl: c.after.ttl, record_type: c.after.type.toUpperCase(), data: recordData(c.after) }),
      );
    } else if (c.action === 'remove') {
      removes.push(String(refOf(c)));
    } else {
      throw new PanelError('unsupported', `unknown change action ${(c as Change).action}`);
    }
  }
  if (!adds.length && !edits.length && !removes.length) throw new PanelError('other', 'no changes to apply');
  const out: [string, string][] = [
    ['zone', canonName(zone)],
    ['serial', serial],
  ];
  const push = (key: string, list: string[]) => list.forEach((v, i) => out.push([i === 0 ? key : `${key}-${i}`, v]));
  push('add', adds);
  push('edit', edits);
  push('remove', removes);
  return out;
}

/** Does a change touch a DKIM key record (selector._domainkey)? Then the validity cache must be refreshed (§8.4). */
export function touchesDkim(changes: Change[]): boolean {
  return changes.some((c) => c.type.toUpperCase() === 'TXT' && /(^|\.)_domainkey\./.test(canonName(c.name)));
}

/** Pick the zone that holds `domain`: the longest known zone equal to or above it (subdomains live in the parent zone). */
export function zoneFor(domain: string, zones: readonly string[]): string | null {
  const d = canonName(domain);
  let best: string | null = null;
  for (const z of zones) if (inZone(d, z) && (!best || z.length > best.length)) best = canonName(z);
  return best;
}

/** Map a failed mass_edit_zone / mass_edit_dns_zone answer to a PanelError (detect by data.type, §4.5); `panel` names it (WHM passes "WHM"). */
export function massEditError(zone: string, data: unknown, errors: string[], panel = 'cPanel'): PanelError {
  const d = (data && typeof data === 'object' ? data : {}) as { type?: unknown; detail?: { by_line?: unknown } | null };
  const text = errors.join('; ');
  if (d.type === 'Stale') return new PanelError('stale', `the DNS zone ${zone} changed since it was read (${text || 'serial mismatch'}); re-read and plan again`);
  if (d.type === 'InvalidZoneFile') {
    // `by_line`: [[line_index, message], …] (§4.5); anything else in it is left out rather than read.
    const byLine = Array.isArray(d.detail?.by_line) ? (d.detail.by_line as unknown[]) : [];
    const lines = byLine
      .filter((x): x is [number, unknown] => Array.isArray(x) && Number.isInteger(x[0]))
      .map(([l, m]) => `line ${l + 1}: ${String(m)}`)
      .join('; ');
    return new PanelError('invalid-zone', `${panel} rejected the edited zone ${zone}; nothing was changed (${lines || text})`);
  }
  return featureOrOther(text, `${panel} refused the zone edit for ${zone}: ${text || 'unknown error'}`);
}

/**
 * The zone's version after a mass_edit_zone / mass_edit_dns_zone answered as done: its `new_serial` (§4.4: the serial
 * the save gave — text in UAPI, a number in WHM API 1), which must be a serial (0–4294967295) after `expectedVersion`,
 * the one the write carried (RFC 1982 §3.2: a save only raises it). Anything else — none, an object, "-1", 1e-7,
 * 4294967296, a serial not after the old one — says nothing of the zone's version (fuzz QA: "[object Object]", "-1"
 * and "1e-7" were returned as it, and recorded as the zone's version after the fix): PanelError('other'); the write was
 * probably made, and apply settles it from the zone. `call` names the answer ("cPanel DNS::mass_edit_zone for x").
 */
export function newSerialOf(data: unknown, expectedVersion: string, call: string): string {
  const ns = data && typeof data === 'object' ? (data as { new_serial?: unknown }).new_serial : undefined;
  if (ns === undefined || ns === null) throw new PanelError('other', `${call} returned no new serial`);
  const text = typeof ns === 'number' && Number.isSafeInteger(ns) ? String(ns) : typeof ns === 'string' ? ns : '';
  const after = /^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff ? (Number(text) - Number(expectedVersion) + 2 ** 32) % 2 ** 32 : 0;
  if (after > 0 && after < 2 ** 31) return String(Number(text));
  const shown = (JSON.stringify(ns) ?? String(ns)).slice(0, 40);
  throw new PanelError('other', `${call} answered as done, but with ${shown} as the new serial, which is no serial after ${expectedVersion}: the zone's version after the write is not known`);
}

/**
 * Missing feature: "You do not have the feature “zoneedit”." (field reports of UAPI feature gates) or the record-type
 * gate "This interface cannot create “TXT” records…" (§4.3). The exact text for mass_edit_zone's any-of gate is
 * INFERRED; detection is by these phrasings.
 */
export function featureOrOther(text: string, fallback: string): PanelError {
  if (/do not have (the|any of the) features?|cannot create .{0,3}TXT.{0,3} records|feature .{0,3}zoneedit/i.test(text)) {
    return new PanelError(
      'feature-missing',
      `ask your host to enable Zone Editor (the cPanel "zoneedit" feature) for this account: TXT records cannot be changed without it (${text})`,
    );
  }
  return new PanelError('other', fallback);
}

/** The text of a record as compared: a TXT record's strings joined, else the presentation value. */
const textOf = (r: ZoneRecord): string => (r.txt ? r.txt.join('') : r.value);

/**
 * Why a mass_edit_zone with `changes` would not hit the records they name, given the zone as re-read just before it
 * (`current`, whose serial is the one the write carries); null when every line still holds them. mass_edit_zone edits
 * and removes by line index (§4.2) and compares only the serial: a hand edit of the zone file that adds or removes a
 * line without a new serial shifts the indexes, and the edit would overwrite whatever record now stands on that line
 * (QA: an SRV record replaced by the SPF fix's text). So each edited or removed line must still hold the record the
 * change's `before` says — owner, type, TTL, text —, as the files panel checks its lines before it writes.
 */
export function movedLines(current: Zone, changes: readonly Change[]): string | null {
  for (const c of changes) {
    if (c.action === 'add' || !c.before) continue;
    const b = c.before;
    const cur = current.records.find((r) => r.ref !== undefined && r.ref === b.ref);
    const same =
      !!cur && canonName(cur.name) === canonName(b.name) && cur.type.toUpperCase() === b.type.toUpperCase() && cur.ttl === b.ttl && textOf(cur) === textOf(b);
    if (same) continue;
    const now = !cur ? 'no record' : cur.type.toUpperCase() === b.type.toUpperCase() && canonName(cur.name) === canonName(b.name) ? 'other text or another TTL' : `the ${cur.type} record at ${canonName(cur.name)}`;
    return `line ${Number(b.ref) + 1} no longer holds the ${b.type} record at ${canonName(b.name)} (it holds ${now} now) — the zone file was edited without a new serial`;
  }
  return null;
}

/** TXT at `_domainkey.<domain>` or below it: where a panel's own DKIM key generation may publish records. */
function atDkimName(r: ZoneRecord, domain: string): boolean {
  const n = canonName(r.name);
  const d = canonName(domain);
  return r.type.toUpperCase() === 'TXT' && (n === `_domainkey.${d}` || n.endsWith(`._domainkey.${d}`));
}

/** What a panel's own DKIM key generation is known to write (cpanel.md §7.4, plesk.md §4): see undoGeneratedDkim. */
export interface PanelDkimWrites {
  /** Its key record goes to `<selector>._domainkey.<domain>` (`default` on cPanel and Plesk). */
  selector: string;
  /**
   * The server's public key when it can be read without asking the panel (its key file, on the server): the panel's
   * record carries that key. Unknown: any new record at the selector with a readable key counts as the panel's.
   */
  publicKey?: string | null;
  /** cPanel: `enable_dkim` replaces the `v=DKIM1` record at the selector (§7.4), in place, rather than adding beside it. */
  replacesKey?: boolean;
  /** Plesk: turning signing on also publishes a DomainKeys "policy" TXT at `_domainkey.<domain>` (§4, commonly `o=-`). */
  policy?: boolean;
}

/** A DomainKeys policy record (RFC 4870 §3.6.2.1: tags o, t, r, n): what Plesk publishes at `_domainkey.<domain>`. */
function isDomainKeysPolicy(text: string): boolean {
  const tags = text.split(';').map((t) => t.trim()).filter(Boolean);
  return tags.length > 0 && tags.every((t) => /^[otrn]\s*=/i.test(t));
}

/**
 * The changes that take back what the panel's own DKIM key generation published in `domain`'s zone, between `before`
 * (read before the panel was asked) and `after` (read after it answered). cPanel's `enable_dkim` (§7.4) and Plesk's
 * signing switch (plesk.md §4) publish `default._domainkey` themselves, and the fix applied next would then add a second
 * record (cPanel) or fail with "record exists" (Plesk). Taken back, the plan is the only thing that moves records, so
 * every panel ends with the plan's record (its value, its TTL).
 *
 * Only what the panel is known to write is taken back (`writes`): the new key record at its selector (with the server's
 * key when that is known), on cPanel the `v=DKIM1` records there it replaced — the one at the same line edited back in
 * place, so the plan's own edit of it still applies —, on Plesk its `_domainkey` policy record. Any other difference
 * under `_domainkey` (the customer adding or editing another selector's key meanwhile — QA: a Google key edited in the
 * Zone Editor was reverted, a SendGrid key just added removed) is someone else's and is left as it is: core compares
 * the zone with the one read before the key step and refuses the fix ("the zone changed while the key was generated").
 * Two new key records at the selector, neither known to be the panel's: PanelError('stale'), nothing taken back.
 */
export function undoGeneratedDkim(before: Zone, after: Zone, domain: string, writes: PanelDkimWrites): Change[] {
  const d = canonName(domain);
  const strip = (r: ZoneRecord): ZoneRecord => {
    const { ref: _ref, ...rest } = r;
    return rest;
  };
  // What changed under _domainkey (identical records counted): records new in `after`, records gone from `before`.
  const added = after.records.filter((r) => atDkimName(r, d));
  const gone: ZoneRecord[] = [];
  for (const r of before.records.filter((x) => atDkimName(x, d))) {
    const i = added.findIndex((x) => recordKey(x) === recordKey(r));
    if (i >= 0) added.splice(i, 1);
    else gone.push(r);
  }
  const keyName = `${writes.selector}._domainkey.${d}`;
  const serverKey = writes.publicKey ? canonicalKey(writes.publicKey) : null;
  const keys = added.filter((r) => {
    if (canonName(r.name) !== keyName) return false;
    const k = publishedKey(r);
    return !!k && (!serverKey || k === serverKey);
  });
  if (!serverKey && new Set(keys.map(publishedKey)).size > 1) {
    throw new PanelError(
      'stale',
      `the zone changed while the DKIM key was generated: ${keyName} gained ${keys.length} records with different keys, and which one the panel published cannot be told, so none was taken back. Keep the record with the key the panel's DKIM settings show, remove the other, then preview the DKIM fix again`,
    );
  }
  const changes: Change[] = [];
  const mine = keys[0];
  if (mine) {
    // cPanel replaced the v=DKIM1 record(s) at the selector: put them back (the one on the panel's line in place).
    const replaced = writes.replacesKey ? gone.filter((r) => canonName(r.name) === keyName && /^\s*v\s*=\s*DKIM1/i.test(textOf(r))) : [];
    const j = replaced.findIndex((x) => x.ref !== undefined && x.ref === mine.ref);
    if (j >= 0) {
      const [old] = replaced.splice(j, 1);
      changes.push({ action: 'edit', name: mine.name, type: mine.type, ttl: mine.ttl, before: mine, after: strip(old) });
    } else {
      changes.push({ action: 'remove', name: mine.name, type: mine.type, ttl: mine.ttl, before: mine, after: null });
    }
    for (const r of replaced) changes.push({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: strip(r) });
  }
  const policy = writes.policy ? added.find((r) => canonName(r.name) === `_domainkey.${d}` && isDomainKeysPolicy(textOf(r))) : undefined;
  if (policy) changes.push({ action: 'remove', name: policy.name, type: policy.type, ttl: policy.ttl, before: policy, after: null });
  return changes;
}
