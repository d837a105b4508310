// Delegation/drift defects reproduced by QA: nameservers split between this server and the previous host, false drift
// for names the panel's zone answers through a CNAME or a wildcard, and a subdomain zone not delegated on its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { startDnsServer } from '../../../src/adapters/dns/server.js';
import { authority, dnsCheck } from '../../../src/core/checks/dns.js';
import { makeClassifier } from '../../../src/core/classify.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { RecordIndex } from '../../../src/core/zone.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'shop.example';
const NS = ['ns1.newhost.example', 'ns2.newhost.example'];
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}: ${f.message}`).join('\n');
const rec = (name: string, type: string, value: string, txt?: string[]): ZoneRecord => ({ name, ttl: 300, type, value, ...(txt ? { txt } : {}) });

describe("defect 5: live nameservers split between this server and the previous host", () => {
  for (const live of [
    ['ns1.newhost.example', 'ns2.hostgator.com'],
    ['ns1.newhost.example', 'ns1.hostgator.com', 'ns2.hostgator.com', 'ns3.hostgator.com'],
  ]) {
    test(`live NS ${live.join(', ')}: a warning naming the previous host's nameservers, not a plain pass`, async () => {
      const fs = await dnsCheck(checkContext(D, { [D]: { NS: live } }, {}, []));
      assert.ok(!fs.some((f) => f.rule === 'dns.authoritative'), show(fs));
      const w = fs.find((f) => f.rule === 'dns.not-authoritative');
      assert.ok(w, show(fs));
      assert.equal(w.severity, 'warn');
      for (const n of live.filter((x) => x.includes('hostgator'))) assert.match(w.message, new RegExp(n.replace(/\./g, '\\.')));
      assert.match(w.message, /at random/);
      assert.equal(w.classification?.class, 'stale');
    });
  }

  test('the planner still applies to the panel (one of the live nameservers is this server)', async () => {
    const a = await authority(checkContext(D, { [D]: { NS: ['ns1.newhost.example', 'ns2.hostgator.com'] } }, {}, []));
    assert.equal(a.state, 'authoritative');
  });

  test('a foreign nameserver that is no previous host (a secondary at another DNS host): still a pass, naming it', async () => {
    const fs = await dnsCheck(checkContext(D, { [D]: { NS: ['ns1.newhost.example', 'ns.secondary-dns.example'] } }, {}, []));
    const ok = fs.find((f) => f.rule === 'dns.authoritative');
    assert.ok(ok, show(fs));
    assert.match(ok.message, /ns\.secondary-dns\.example/);
  });
});

describe('defect 6: drift read the way DNS answers from the panel\'s zone', () => {
  test('_dmarc CNAME dmarc.ionos.de in the panel, live the same alias: no drift', async () => {
    const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(`_dmarc.${D}`, 'CNAME', 'dmarc.ionos.de')];
    const live: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { CNAME: ['dmarc.ionos.de'], TXT: [['v=DMARC1; p=none']] } };
    const fs = await dnsCheck(checkContext(D, live, {}, panel));
    assert.ok(!fs.some((f) => f.rule === 'dns.drift'), show(fs));
  });

  test('_dmarc CNAME in the panel, live alias elsewhere: drift on the alias', async () => {
    const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(`_dmarc.${D}`, 'CNAME', 'dmarc.ionos.de')];
    const live: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { CNAME: ['dmarc.other.example'], TXT: [['v=DMARC1; p=none']] } };
    const fs = await dnsCheck(checkContext(D, live, {}, panel));
    const d = fs.find((f) => f.rule === 'dns.drift');
    assert.ok(d, show(fs));
    assert.match(JSON.stringify(d.evidence), /dmarc\.ionos\.de/);
  });

  test('a CNAME to a name inside the zone: the target\'s records are the panel\'s answer', async () => {
    const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(`_dmarc.${D}`, 'CNAME', `dmarc.${D}`), rec(`dmarc.${D}`, 'TXT', 'v=DMARC1; p=none', ['v=DMARC1; p=none'])];
    const same: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { TXT: [['v=DMARC1; p=none']] } };
    assert.ok(!(await dnsCheck(checkContext(D, same, {}, panel))).some((f) => f.rule === 'dns.drift'));
    const other: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { TXT: [['v=DMARC1; p=reject']] } };
    assert.ok((await dnsCheck(checkContext(D, other, {}, panel))).some((f) => f.rule === 'dns.drift' && f.subject === `_dmarc.${D} TXT`));
  });

  test('a wildcard TXT in the panel: the names it answers for are no drift; a name with records of its own is not covered', async () => {
    const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(`*.${D}`, 'TXT', 'hello', ['hello'])];
    const live: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { TXT: [['hello']] }, [`_mailchannels.${D}`]: { TXT: [['hello']] }, [`default._domainkey.${D}`]: { TXT: [['hello']] } };
    const fs = await dnsCheck(checkContext(D, live, {}, panel));
    assert.ok(!fs.some((f) => f.rule === 'dns.drift'), show(fs));
    // _dmarc exists in the panel's zone (an A record): the wildcard does not apply, so a live TXT there is drift.
    const panel2 = [...panel, rec(`_dmarc.${D}`, 'A', '192.0.2.1')];
    const fs2 = await dnsCheck(checkContext(D, live, {}, panel2));
    assert.ok(fs2.some((f) => f.rule === 'dns.drift' && f.subject === `_dmarc.${D} TXT`), show(fs2));
  });

  test('an empty non-terminal is not covered by the wildcard (RFC 4592)', async () => {
    // _domainkey.shop.example exists (a selector below it), so default._domainkey… is answered by *._domainkey only.
    const panel = [rec(D, 'NS', 'ns1.newhost.example'), rec(`*.${D}`, 'TXT', 'hello', ['hello']), rec(`s1._domainkey.${D}`, 'TXT', 'v=DKIM1; p=', ['v=DKIM1; p='])];
    const live: ZoneMap = { [D]: { NS }, [`_dmarc.${D}`]: { TXT: [['hello']] }, [`_mailchannels.${D}`]: { TXT: [['hello']] }, [`default._domainkey.${D}`]: { TXT: [['hello']] } };
    // default._domainkey is below the existing _domainkey: *.shop.example does not cover it — no record there.
    const fs = await dnsCheck(checkContext(D, live, {}, panel));
    assert.deepEqual(
      fs.filter((f) => f.rule === 'dns.drift').map((f) => f.subject),
      [`default._domainkey.${D} TXT`],
      show(fs),
    );
  });

  test('over the wire: _dmarc published as a CNAME to IONOS is no drift', async () => {
    const dns = await startDnsServer({
      data: {
        [D]: { NS, MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [['v=spf1 a mx ~all']] },
        [`_dmarc.${D}`]: { CNAME: ['dmarc.ionos.de'] },
        'dmarc.ionos.de': { TXT: [['v=DMARC1; p=quarantine']] },
      },
    });
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 1000 });
    try {
      const records = [rec(D, 'NS', 'ns1.newhost.example'), rec(D, 'MX', `10 mail.${D}`), rec(D, 'TXT', 'v=spf1 a mx ~all', ['v=spf1 a mx ~all']), rec(`_dmarc.${D}`, 'CNAME', 'dmarc.ionos.de')];
      const settings: MailSettings = { domain: D, hostname: 'server1.newhost.example', ips: ['203.0.113.10'], helo: 'server1.newhost.example', nameservers: NS, dkim: { selector: 'default', signing: true }, routing: 'local', relay: null };
      const zone = { domain: D, serial: 1, records, version: 't' };
      const zoneIndex = new RecordIndex(records);
      const classifier = makeClassifier({ domain: D, zone, zoneIndex, settings, resolver, knowledge: defaultKnowledge });
      const fs = await dnsCheck({ domain: D, zone, zoneIndex, settings, resolver, classifier, knowledge: defaultKnowledge, options: {} });
      assert.ok(fs.some((f) => f.rule === 'dns.authoritative'), show(fs));
      assert.ok(!fs.some((f) => f.rule === 'dns.drift'), show(fs));
    } finally {
      resolver.close();
      await dns.close();
    }
  });
});

describe('defect 10: a subdomain with a zone of its own that is not delegated', () => {
  const S = 'shop.alice.example';
  const panel = [rec(S, 'NS', 'ns1.newhost.example')];
  test("its parent on this server's nameservers: judged through the parent (served here), not 'not delegated'", async () => {
    const fs = await dnsCheck(checkContext(S, { 'alice.example': { NS }, [S]: { A: ['203.0.113.10'] } }, {}, panel));
    assert.ok(!fs.some((f) => f.rule === 'dns.not-authoritative'), show(fs));
    const ok = fs.find((f) => f.rule === 'dns.authoritative');
    assert.ok(ok, show(fs));
    assert.match(ok.message, /alice\.example/);
  });

  test('its parent at another DNS host: not authoritative (a warning naming those nameservers), not "not delegated"', async () => {
    const fs = await dnsCheck(checkContext(S, { 'alice.example': { NS: ['ns1.hostgator.com'] } }, {}, panel));
    const w = fs.find((f) => f.rule === 'dns.not-authoritative');
    assert.ok(w, show(fs));
    assert.equal(w.severity, 'warn');
    assert.match(w.message, /ns1\.hostgator\.com/);
  });

  test('a registrable domain with no NS stays "not delegated" (fail)', async () => {
    const fs = await dnsCheck(checkContext('gone.example', {}, {}, [rec('gone.example', 'NS', 'ns1.newhost.example')]));
    assert.ok(fs.some((f) => f.rule === 'dns.not-authoritative' && f.severity === 'fail'), show(fs));
  });
});
