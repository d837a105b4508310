// A declarative in-memory Resolver for unit tests (mailauth style): name → type → records.
// Names missing → NXDOMAIN; name present without the type → NODATA; 'TIMEOUT' → unknown (timeout).
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
