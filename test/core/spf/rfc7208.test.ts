// The openspf RFC 7208 suite (pyspf copy = primary, mailauth 2014-05 copy = secondary) run against checkHost(), each
// scenario's zonedata served by a real DNS server on 127.0.0.1 and read back through the wire resolver.
// Driver rules: shared/corpora/README.md §SPF.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as yaml from 'js-yaml';
import { startDnsServer, type DnsServer, type ServedData, type ServedZoneMap } from '../../../src/adapters/dns/server.js';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import type { Answer, RecordData, Resolver, RRType } from '../../../src/core/resolver.js';
import { checkMailFrom, type SpfResult } from '../../../src/core/spf/evaluate.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';

interface SuiteTest {
  spec: string | number;
  helo: string;
  host: string;
  mailfrom: string;
  result: SpfResult | SpfResult[];
  explanation?: string;
  description?: string;
}
interface Scenario {
  description: string;
  tests: Record<string, SuiteTest>;
  zonedata?: Record<string, unknown[]>;
}

/**
 * The only tests skipped, each for a feature the evaluator declares unsupported. (None: exp= and all macros, %{p}
 * included, are implemented.) Keep at most 5 entries, each with its reason.
 */
const SKIP: Record<string, string> = {};

const ALL_TYPES = ['A', 'AAAA', 'TXT', 'SPF', 'MX', 'NS', 'CNAME', 'PTR', 'SOA'];

/** A YAML string as the octets the suite means: `\xNN` escapes are single octets, raw UTF-8 stays UTF-8. */
function octets(s: string): Buffer {
  return /[^\x00-\xff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

function txtValue(v: unknown): Buffer[] {
  if (Array.isArray(v)) return v.map((x) => octets(String(x)));
  return [octets(String(v))];
}

/**
 * zonedata → served zone map, following the pyspf driver:
 * - `SPF:` entries are served as TXT unless the owner has explicit `TXT:` entries (`TXT: NONE` included);
 * - `NONE` = no record of that type;
 * - bare `TIMEOUT` = every type not explicitly listed *before* it times out (so `spftimeout`'s TXT still answers,
 *   while the SPF-derived TXT of `txttimeout` does not).
 */
function servedZone(zonedata: Record<string, unknown[]>): ServedZoneMap {
  const out: ServedZoneMap = {};
  for (const [owner, entries] of Object.entries(zonedata)) {
    const d: ServedData = {};
    const spfAsTxt: Buffer[][] = [];
    let explicitTxt = false;
    const seenBeforeTimeout = new Set<string>();
    let timeout = false;
    for (const e of entries ?? []) {
      if (e === 'TIMEOUT') {
        timeout = true;
        continue;
      }
      for (const [type, v] of Object.entries(e as Record<string, unknown>)) {
        if (type === 'TXT') explicitTxt = true;
        if (v === 'NONE') continue;
        if (!timeout) seenBeforeTimeout.add(type);
        switch (type) {
          case 'TXT':
            (d.TXT ??= []).push(txtValue(v));
            break;
          case 'SPF':
            (d.SPF ??= []).push(txtValue(v));
            spfAsTxt.push(txtValue(v));
            break;
          case 'MX': {
            const [priority, exchange] = v as [number, string];
            (d.MX ??= []).push({ priority, exchange: String(exchange) });
            break;
          }
          case 'A':
          case 'AAAA':
          case 'PTR':
          case 'CNAME':
          case 'NS':
            (d[type] ??= []).push(String(v));
            break;
          default:
            throw new Error(`unhandled zonedata type ${type} at ${owner}`);
        }
      }
    }
    if (!explicitTxt && spfAsTxt.length) d.TXT = spfAsTxt;
    if (timeout) d.TIMEOUT = ALL_TYPES.filter((t) => !seenBeforeTimeout.has(t));
    out[owner] = d;
  }
  return out;
}

/**
 * Diagnostic only (MAILHEALTH_SPF_RESOLVER=memory): the same served map answered in memory, with the server's rules
 * (absent name → NXDOMAIN, empty non-terminal / missing type → NODATA, TIMEOUT → unknown, CNAME chased). Tells
 * evaluator bugs from wire-resolver limits. The default (and what counts) is the real loopback server.
 */
function memoryResolver(map: ServedZoneMap): Resolver {
  const zones = new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return {
    async resolve<T extends RRType>(raw: string, type: T): Promise<Answer<T>> {
      let name = raw.toLowerCase().replace(/\.$/, '');
      const qname = name;
      for (let hop = 0; hop < 8; hop++) {
        const d = zones.get(name);
        if (!d) {
          const below = [...zones.keys()].some((k) => k.endsWith('.' + name));
          return { name: qname, type, status: below || hop > 0 ? 'nodata' : 'nxdomain', records: [] };
        }
        if (d.TIMEOUT === true || (Array.isArray(d.TIMEOUT) && d.TIMEOUT.includes(type))) {
          return { name: qname, type, status: 'unknown', records: [], error: 'timeout' };
        }
        if (type !== 'CNAME' && d.CNAME?.length) {
          name = d.CNAME[0].toLowerCase().replace(/\.$/, '');
          continue;
        }
        let records: unknown[] = [];
        if (type === 'TXT') records = (d.TXT ?? []).map((r) => r.map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : x)));
        else if (type === 'MX') records = (d.MX ?? []).map((m) => ({ priority: m.priority, exchange: m.exchange.toLowerCase().replace(/\.$/, '') }));
        else if (type === 'A' || type === 'AAAA' || type === 'PTR' || type === 'CNAME' || type === 'NS')
          records = ((d[type] ?? []) as string[]).map((x) => (type === 'A' || type === 'AAAA' ? x : x.toLowerCase().replace(/\.$/, '')));
        return { name: qname, type, status: records.length ? 'ok' : 'nodata', records: records as RecordData[T][] };
      }
      return { name: qname, type, status: 'unknown', records: [], error: 'CNAME loop' };
    },
  };
}
const USE_MEMORY = process.env.MAILHEALTH_SPF_RESOLVER === 'memory';

function loadSuite(rel: string): Scenario[] {
  return yaml.loadAll(readCorpus(rel)) as Scenario[];
}

function runSuite(rel: string): void {
  const path = corpusPath(rel);
  describe(rel, { skip: path ? false : corpusMissing(rel) }, () => {
    if (!path) return;
    const scenarios = loadSuite(rel);
    for (const sc of scenarios) {
      describe(sc.description, () => {
        let server: DnsServer;
        before(async () => {
          server = await startDnsServer({ data: servedZone(sc.zonedata ?? {}) });
        });
        after(async () => {
          await server.close();
        });
        for (const [name, t] of Object.entries(sc.tests)) {
          test(name, { skip: SKIP[name] ?? false }, async () => {
            // A fresh uncached resolver per test; a short timeout only matters for the TIMEOUT owners.
            const resolver = USE_MEMORY
              ? memoryResolver(servedZone(sc.zonedata ?? {}))
              : createResolver({ servers: [server.address], timeoutMs: 300, tries: 1, cache: false });
            const got = await checkMailFrom(t.host, t.mailfrom, t.helo, resolver);
            const want = Array.isArray(t.result) ? t.result : [t.result];
            assert.ok(
              want.includes(got.result),
              `${name} (spec ${t.spec}): got ${got.result}, want ${want.join('|')}\n${got.trace.join('\n')}`,
            );
            if (t.explanation !== undefined && got.result === 'fail') {
              if (t.explanation === 'DEFAULT') {
                assert.equal(got.explanation, undefined, `${name}: exp= should have been ignored`);
              } else {
                // Case-insensitive: pyspf writes %{i} IPv6 nibbles in upper case, RFC 7208 §7.4's example in lower case.
                assert.equal(got.explanation?.toLowerCase(), t.explanation.toLowerCase(), `${name}: explanation`);
              }
            }
          });
        }
      });
    }
  });
}

runSuite('spf/pyspf-rfc7208-tests.yml');
runSuite('spf/mailauth-rfc7208-tests-2014-05.yml');
