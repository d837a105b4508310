// Pure helpers over a panel zone.
import { createHash } from 'node:crypto';
import { canonName } from './domain.js';
import type { ZoneRecord } from './model.js';

/** Stable text of a record, for hashing and comparison (ignores `ref`). */
export function recordKey(r: ZoneRecord): string {
  const value = r.type === 'TXT' && r.txt ? JSON.stringify(r.txt) : r.value;
  return `${canonName(r.name)}\t${r.ttl}\t${r.type.toUpperCase()}\t${value}`;
}

/** Concurrency token for panels without a serial: a hash of every record (order-independent). */
export function hashRecords(records: readonly ZoneRecord[]): string {
  const lines = records.map(recordKey).sort();
  return 'sha256:' + createHash('sha256').update(lines.join('\n')).digest('hex');
}

export function recordsAt(records: readonly ZoneRecord[], name: string, type?: string): ZoneRecord[] {
  const n = canonName(name);
  const t = type ? upperType(type) : '';
  const out: ZoneRecord[] = [];
  for (const r of records) if (canonName(r.name) === n && (!t || upperType(r.type) === t)) out.push(r);
  return out;
}

// Record types are a handful of short strings ("TXT", "MX"…): their upper-case forms are remembered (toUpperCase is a
// runtime call in V8, and an audit compares types hundreds of times per domain). Bounded: cleared when full.
const upperTypes = new Map<string, string>();
function upperType(type: string): string {
  let u = upperTypes.get(type);
  if (u === undefined) {
    if (upperTypes.size >= 1024) upperTypes.clear();
    u = type.toUpperCase();
    upperTypes.set(type, u);
  }
  return u;
}

/**
 * A zone's records grouped by name, for code that asks about many names of one zone (an audit asks about the same
 * few names a dozen times): `at(name, type)` gives what `recordsAt(records, name, type)` gives. Build it from records
 * that no longer change.
 */
export class RecordIndex {
  /** Canonical name → its records in zone order. */
  private readonly byName = new Map<string, ZoneRecord[]>();
  /** Every record's type is already upper case (the usual case): types compare as they are. */
  private readonly typesUpper: boolean = true;
  constructor(records: readonly ZoneRecord[]) {
    for (const r of records) {
      const n = canonName(r.name);
      const list = this.byName.get(n);
      if (list) list.push(r);
      else this.byName.set(n, [r]);
      if (this.typesUpper && upperType(r.type) !== r.type) this.typesUpper = false;
    }
  }
  at(name: string, type?: string): ZoneRecord[] {
    const list = this.byName.get(canonName(name));
    if (!list) return [];
    if (!type) return list.slice();
    const t = upperType(type);
    const out: ZoneRecord[] = [];
    for (const r of list) if ((this.typesUpper ? r.type : upperType(r.type)) === t) out.push(r);
    return out;
  }
}

/** TXT values at a name, character-strings joined (RFC 7208 §3.3). */
export function txtAt(records: readonly ZoneRecord[], name: string): string[] {
  return recordsAt(records, name, 'TXT').map((r) => (r.txt ? r.txt.join('') : r.value));
}

/** The exchange host of a zone MX record's value ("10 mail.example.com." → "mail.example.com"), canonical. */
export function mxExchange(r: ZoneRecord): string {
  return canonName(r.value.trim().split(/\s+/).pop() ?? '');
}
