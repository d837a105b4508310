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
  return records.filter((r) => canonName(r.name) === n && (!type || r.type.toUpperCase() === type.toUpperCase()));
}

/** TXT values at a name, character-strings joined (RFC 7208 §3.3). */
export function txtAt(records: readonly ZoneRecord[], name: string): string[] {
  return recordsAt(records, name, 'TXT').map((r) => (r.txt ? r.txt.join('') : r.value));
}
