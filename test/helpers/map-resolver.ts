// A declarative in-memory Resolver for unit tests (mailauth style): name → type → records.
// Names missing → NXDOMAIN; name present without the type → NODATA; 'TIMEOUT' → unknown (timeout).
import { canonName } from '../../src/core/domain.js';
import type { Zone } from '../../src/core/model.js';
import type { Answer, RecordData, Resolver, RRType } from '../../src/core/resolver.js';

export type ZoneMap = Record<string, Partial<{ [T in RRType]: RecordData[T][] | 'TIMEOUT' | 'SERVFAIL' }>>;

export class MapResolver implements Resolver {
  public readonly log: string[] = [];
  constructor(private readonly zones: ZoneMap) {}
  async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
    const n = name.toLowerCase().replace(/\.$/, '');
    this.log.push(`${n} ${type}`);
    const entry = this.zones[n];
    if (!entry) return { name: n, type, status: 'nxdomain', records: [] };
    const v = entry[type];
    if (v === 'TIMEOUT') return { name: n, type, status: 'unknown', records: [], error: 'timeout' };
    if (v === 'SERVFAIL') return { name: n, type, status: 'unknown', records: [], error: 'servfail' };
    if (!v || v.length === 0) return { name: n, type, status: 'nodata', records: [] };
    return { name: n, type, status: 'ok', records: v as RecordData[T][] };
  }
}

/** A panel zone → what an authoritative server for it answers. */
export function zoneToMap(zone: Zone): ZoneMap {
  const map: ZoneMap = {};
  for (const r of zone.records) {
    const e = (map[canonName(r.name)] ??= {}) as Record<string, unknown[]>;
    const t = r.type.toUpperCase();
    if (t === 'TXT') (e.TXT ??= []).push(r.txt ?? [r.value]);
    else if (t === 'MX') {
      const [p, h] = r.value.split(/\s+/);
      (e.MX ??= []).push({ priority: Number(p), exchange: canonName(h) });
    } else if (['A', 'AAAA', 'NS', 'CNAME', 'PTR'].includes(t)) (e[t] ??= []).push(canonName(r.value));
  }
  return map;
}
