// cPanel zone items (UAPI DNS::parse_zone / WHM parse_dns_zone) ⇄ core ZoneRecord, and Change ⇄ mass_edit_zone
// parameters. Shared by the cPanel (UAPI) and WHM adapters. Shapes: shared/reference/cpanel.md §3, §4 (CONFIRMED there
// unless a comment says INFERRED).
import { canonName, inZone } from '../../../core/domain.js';
import type { Change, Zone, ZoneRecord } from '../../../core/model.js';
import { PanelError } from '../../../core/panel.js';

export interface ParseZoneItem {
  line_index: number;
  type: 'record' | 'comment' | 'control' | string;
  dname_b64?: string;
  ttl?: number | string;
  record_type?: string;
  data_b64?: string[];
  text_b64?: string;
}

function b64(s: string): string {
  const buf = Buffer.from(s, 'base64');
  // Decoded bytes may be any octets; latin1 keeps every byte as one character (zone data is ASCII in practice).
  return buf.toString('latin1');
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

/** Field positions holding domain names, per type, for absolutising and presenting without the trailing dot. */
const NAME_FIELDS: Record<string, number[]> = { CNAME: [0], NS: [0], PTR: [0], MX: [1], SRV: [3], DNAME: [0], SOA: [0, 1] };

function presentName(field: string, zone: string): string {
  if (field.endsWith('.')) return canonName(field);
  // A relative target in the zone file is relative to the origin (INFERRED: cPanel writes FQDNs with dots itself).
  return canonName(`${field}.${zone}`);
}

export function decodeZone(zone: string, items: ParseZoneItem[]): Zone {
  const records: ZoneRecord[] = [];
  let serial: number | null = null;
  for (const it of items ?? []) {
    if (it.type !== 'record' || !it.record_type) continue;
    const type = it.record_type.toUpperCase();
    const fields = (it.data_b64 ?? []).map(b64);
    if (type === 'SOA') {
      const s = Number(fields[2]);
      if (Number.isFinite(s)) serial = s;
      // Also kept as a record, as the files panel keeps it: core reads the SOA (MNAME naming the previous host is a
      // trace of it; its TTL is the default for new records). Never written: mass_edit refuses SOA edits (§4.2).
    }
    const name = absoluteName(b64(it.dname_b64 ?? ''), zone);
    const ttl = Number(it.ttl ?? 14400);
    const rec: ZoneRecord = { name, ttl: Number.isFinite(ttl) ? ttl : 14400, type, value: '', ref: String(it.line_index) };
    if (type === 'TXT' || type === 'SPF') {
      rec.txt = fields;
      rec.value = fields.join('');
    } else {
      const nf = NAME_FIELDS[type] ?? [];
      rec.value = fields.map((f, i) => (nf.includes(i) ? presentName(f, zone) : f)).join(' ');
    }
    records.push(rec);
  }
  return { domain: canonName(zone), serial, records, version: serial === null ? '' : String(serial) };
}

/** Split a TXT value into ≤255-byte character-strings (RFC 1035; cPanel splits at 255 too, §4.2). */
export function splitTxt(value: string): string[] {
  const out: string[] = [];
  const buf = Buffer.from(value, 'latin1');
  for (let i = 0; i < buf.length; i += 255) out.push(buf.subarray(i, i + 255).toString('latin1'));
  return out.length ? out : [''];
}

/** Presentation value → cPanel `data` fields (one element per RDATA field; names get their trailing dot). */
export function recordData(r: ZoneRecord): string[] {
  const type = r.type.toUpperCase();
  if (type === 'TXT' || type === 'SPF') {
    const chunks = r.txt && r.txt.length ? r.txt : splitTxt(r.value);
    for (const c of chunks) {
      if (Buffer.byteLength(c, 'latin1') > 255) throw new PanelError('other', `TXT chunk longer than 255 bytes for ${r.name}`);
      if (!/^[\x20-\x7e]*$/.test(c)) {
        throw new PanelError('other', `TXT value for ${r.name} must contain only printable ASCII characters (cPanel refuses others)`);
      }
    }
    return chunks;
  }
  const nf = NAME_FIELDS[type] ?? [];
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
      adds.push(JSON.stringify({ dname: relativeDname(c.after.name, zone), ttl: c.after.ttl, record_type: c.after.type.toUpperCase(), data: recordData(c.after) }));
    } else if (c.action === 'edit') {
      if (!c.after) throw new PanelError('other', `edit of ${c.type} at ${c.name} has no new record`);
      edits.push(
        JSON.stringify({ line_index: refOf(c), dname: relativeDname(c.after.name, zone), ttl: c.after.ttl, record_type: c.after.type.toUpperCase(), data: recordData(c.after) }),
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

/** Map a failed mass_edit_zone / mass_edit_dns_zone answer to a PanelError (detect by data.type, §4.5). */
export function massEditError(zone: string, data: unknown, errors: string[]): PanelError {
  const d = (data && typeof data === 'object' ? data : {}) as { type?: string; detail?: { by_line?: [number, string][] } | null };
  const text = errors.join('; ');
  if (d.type === 'Stale') return new PanelError('stale', `the DNS zone ${zone} changed since it was read (${text || 'serial mismatch'}); re-read and plan again`);
  if (d.type === 'InvalidZoneFile') {
    const lines = (d.detail?.by_line ?? []).map(([l, m]) => `line ${l + 1}: ${m}`).join('; ');
    return new PanelError('invalid-zone', `cPanel rejected the edited zone ${zone}; nothing was changed (${lines || text})`);
  }
  return featureOrOther(text, `cPanel refused the zone edit for ${zone}: ${text || 'unknown error'}`);
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

/** TXT at `_domainkey.<domain>` or below it: where a panel's own DKIM key generation may publish records. */
function atDkimName(r: ZoneRecord, domain: string): boolean {
  const n = canonName(r.name);
  const d = canonName(domain);
  return r.type.toUpperCase() === 'TXT' && (n === `_domainkey.${d}` || n.endsWith(`._domainkey.${d}`));
}

/**
 * The changes that put back the DKIM TXT records of `domain` as they were before the panel generated a key: cPanel's
 * `enable_dkim` (§7.4) and Plesk's signing switch (plesk.md §4) publish `default._domainkey` themselves, and the fix
 * applied next would then add a second record (cPanel) or fail with "record exists" (Plesk). Undone, the plan is the
 * only thing that moves records, so every panel ends with the plan's record (its value, its TTL). A record the panel
 * replaced in place (same ref: cPanel line index) is edited back in place, so the plan's own edit of it still applies.
 */
export function undoGeneratedDkim(before: Zone, after: Zone, domain: string): Change[] {
  const key = (r: ZoneRecord) => `${canonName(r.name)}\t${r.txt ? r.txt.join('') : r.value}`;
  const strip = (r: ZoneRecord): ZoneRecord => {
    const { ref: _ref, ...rest } = r;
    return rest;
  };
  const added = after.records.filter((r) => atDkimName(r, domain));
  const gone: ZoneRecord[] = [];
  for (const r of before.records.filter((x) => atDkimName(x, domain))) {
    const i = added.findIndex((x) => key(x) === key(r));
    if (i >= 0) added.splice(i, 1);
    else gone.push(r);
  }
  const changes: Change[] = [];
  for (const r of added) {
    const j = gone.findIndex((x) => x.ref !== undefined && x.ref === r.ref);
    if (j >= 0) {
      const [old] = gone.splice(j, 1);
      changes.push({ action: 'edit', name: r.name, type: r.type, ttl: r.ttl, before: r, after: strip(old) });
    } else {
      changes.push({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
    }
  }
  for (const r of gone) changes.push({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: strip(r) });
  return changes;
}
