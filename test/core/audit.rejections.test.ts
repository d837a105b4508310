// An audit never rejects (rule 2: checks return findings, never throw), whatever a check, the panel or the resolver
// rejects with. Before: internalError and panelProblem read `(e as Error).message`, so a rejection with undefined (or
// null) threw a TypeError inside the handler — auditDomain rejected and the other checks' rejections went unhandled;
// and settleDriftFixes asked the resolver (authority) outside any try, so a resolver rejecting there escaped the audit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditDomain } from '../../src/core/audit.js';
import type { MailSettings, Zone, ZoneRecord } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import type { Answer, Resolver, RRType } from '../../src/core/resolver.js';
import { MapResolver, zoneToMap } from '../helpers/map-resolver.js';

const D = 'ne.example';
const rec = (name: string, type: string, value: string): ZoneRecord => ({ name, ttl: 300, type, value, ...(type === 'TXT' ? { txt: [value] } : {}), ref: `${name}/${type}` });
const SETTINGS = {
  domain: D,
  hostname: 'server1.newhost.example',
  ips: ['203.0.113.10'],
  helo: 'server1.newhost.example',
  nameservers: ['ns1.newhost.example'],
  dkim: { selector: 'default', signing: false },
  routing: 'local',
  relay: null,
} as MailSettings;

function panelOf(zone: Zone, over: Partial<Panel> = {}): Panel {
  return {
    kind: 'test',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => [],
    listDomains: async () => [{ domain: D, owner: 'u' }],
    readZone: async () => structuredClone(zone),
    readMailSettings: async () => structuredClone(SETTINGS),
    applyChanges: async () => {
      throw new Error('no writes in this test');
    },
    ...over,
  } as unknown as Panel;
}
const EMPTY: Zone = { domain: D, serial: 1, version: 'v1', records: [] };

/** Things code may reject with besides an Error. */
const thrown: [string, () => unknown, RegExp][] = [
  ['undefined', () => undefined, /no reason given/],
  ['null', () => null, /no reason given/],
  ['a string', () => 'resolver went away', /resolver went away/],
  ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } }), /an error that cannot be shown/],
];

describe('an audit never rejects: non-Error rejections become findings', () => {
  for (const [what, value, words] of thrown) {
    test(`every lookup rejecting with ${what}: internal-error findings, not a rejected audit`, async () => {
      const resolver: Resolver = { resolve: () => Promise.reject(value()) };
      const a = await auditDomain(D, { panel: panelOf(EMPTY), resolver });
      const internal = a.findings.filter((f) => f.rule.endsWith('.internal-error'));
      assert.ok(internal.length > 0, a.findings.map((f) => f.rule).join(', '));
      for (const f of internal) {
        assert.equal(f.severity, 'unknown');
        assert.match(f.message, words);
      }
    });

    test(`the panel's reads rejecting with ${what}: panel findings, not a rejected audit`, async () => {
      const reject = () => Promise.reject(value());
      const a = await auditDomain(D, { panel: panelOf(EMPTY, { readZone: reject, readMailSettings: reject } as Partial<Panel>), resolver: new MapResolver({}) });
      assert.deepEqual(a.findings.map((f) => f.rule).sort(), ['dns.panel-settings-unreadable', 'dns.panel-zone-unreadable']);
      for (const f of a.findings) assert.match(f.message, words);
    });
  }
});

describe('dns.drift settlement with a resolver that rejects: a finding, never a rejected audit', () => {
  // The panel's copy has the fixed SPF; the live DNS still serves the previous host's include: dns.drift on the apex
  // TXT, and the SPF findings judge the live record (spf.stale-term, offering the fix) — so settleDriftFixes runs and
  // asks whether this server's zone is the live one (the NS lookup), which is where this resolver rejects.
  const panelZone: Zone = { domain: D, serial: 1, version: 'v1', records: [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'TXT', 'v=spf1 ip4:203.0.113.10 ~all')] };
  const live = zoneToMap({ ...panelZone, records: [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'TXT', 'v=spf1 ip4:203.0.113.10 include:websitewelcome.com ~all')] });
  live['websitewelcome.com'] = { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] };

  /** Answers as `live` does, except that the domain's NS lookup rejects from the `from`-th time on. */
  function rejectingNs(from: number, value: unknown): Resolver {
    const base = new MapResolver(live);
    let ns = 0;
    return {
      resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        if (type === 'NS' && name.toLowerCase() === D && ++ns >= from) return Promise.reject(value);
        return base.resolve(name, type);
      },
    };
  }
  // Only the checks that do not ask for the NS themselves beside the dns check: the dns check's own NS lookup (the
  // first) is answered, settleDriftFixes' (the second) rejects.
  const checks = ['spf', 'dns'] as ('spf' | 'dns')[];

  test('control: with the resolver answering, the drift settles (the SPF findings offer no fix, say why)', async () => {
    const a = await auditDomain(D, { panel: panelOf(panelZone), resolver: rejectingNs(Infinity, undefined), checks });
    assert.ok(a.findings.some((f) => f.rule === 'dns.drift'), a.findings.map((f) => f.rule).join(', '));
    const stale = a.findings.find((f) => f.rule === 'spf.stale-term');
    assert.ok(stale, a.findings.map((f) => f.rule).join(', '));
    assert.equal(stale.fix, undefined);
    assert.match(stale.message, /already right for this \(dns\.drift\)/);
  });

  for (const [what, value] of [['an Error', new Error('socket closed')], ['undefined', undefined]] as const) {
    test(`the NS lookup rejecting (${what}) while settling: dns.internal-error, no fix offered, the audit resolves`, async () => {
      const a = await auditDomain(D, { panel: panelOf(panelZone), resolver: rejectingNs(2, value), checks });
      assert.ok(a.findings.some((f) => f.rule === 'dns.drift'), a.findings.map((f) => f.rule).join(', '));
      assert.ok(a.findings.some((f) => f.rule === 'spf.stale-term'), a.findings.map((f) => f.rule).join(', '));
      const e = a.findings.find((f) => f.rule === 'dns.internal-error');
      assert.ok(e, a.findings.map((f) => f.rule).join(', '));
      assert.equal(e.severity, 'unknown');
      assert.match(e.message, /^Could not tell whether this server's DNS is the live one, to settle the fixes dns\.drift touches: /);
      assert.match(e.message, value instanceof Error ? /socket closed/ : /no reason given/);
      assert.deepEqual(a.findings.filter((f) => f.fix).map((f) => f.rule), [], 'no fix offered while it cannot be told what it would change');
      assert.ok(!a.findings.some((f) => f.severity === 'fail' && f.check === 'dns'), 'never a fail from a DNS error');
    });
  }
});

describe('a rejection while settling dns.drift hides only the fixes of the drifted names (review)', () => {
  // Panel: the SPF record with a previous host's include, as live; a DMARC record live DNS does not serve yet (drift at
  // _dmarc only). The SPF fix's names did not drift: it is offered whatever the settling of _dmarc runs into.
  const spf = 'v=spf1 ip4:203.0.113.10 include:websitewelcome.com ~all';
  const panelZone: Zone = { domain: D, serial: 1, version: 'v1', records: [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'TXT', spf), rec(`_dmarc.${D}`, 'TXT', 'v=DMARC1; p=quarantine')] };
  const live = zoneToMap({ ...panelZone, records: [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'TXT', spf)] });
  live['websitewelcome.com'] = { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] };
  function rejectingNs(from: number): Resolver {
    const base = new MapResolver(live);
    let ns = 0;
    return {
      resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        if (type === 'NS' && name.toLowerCase() === D && ++ns >= from) return Promise.reject(new Error('socket closed'));
        return base.resolve(name, type);
      },
    };
  }
  const checks = ['spf', 'dmarc', 'dns'] as ('spf' | 'dmarc' | 'dns')[];

  test('the SPF fix stays offered; the DMARC fix (its name drifted) is not; dns.internal-error says why', async () => {
    const control = await auditDomain(D, { panel: panelOf(panelZone), resolver: rejectingNs(Infinity), checks });
    assert.ok(control.findings.some((f) => f.fix === 'spf'), control.findings.map((f) => f.rule).join(', '));
    const a = await auditDomain(D, { panel: panelOf(panelZone), resolver: rejectingNs(2), checks });
    const rules = a.findings.map((f) => `${f.rule}${f.fix ? ` fix=${f.fix}` : ''}`).join(', ');
    assert.ok(a.findings.some((f) => f.rule === 'dns.internal-error'), rules);
    assert.ok(a.findings.some((f) => f.rule === 'spf.stale-term' && f.fix === 'spf'), rules);
    assert.ok(!a.findings.some((f) => f.fix === 'dmarc'), rules);
  });
});
