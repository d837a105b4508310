// QA-IDN-3: DomainInfo::list_domains naming a domain in Unicode. listDomains lists it by its A-label (listedDomain);
// the zone lookup (zonesOf), the sub_domains check of readMailSettings and every other entry point must take the same
// canonical form, or the listed name is "not a domain of the cPanel account". The emulator holds the zones as cPanel
// stores them (lower case, punycode: Cpanel::Validate::Domain::Normalize); a transport in front of it rewrites the
// listing to the Unicode spelling, and can answer list_mxs with no item.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp, type UapiTransport } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import type { Change } from '../../../../src/core/model.js';
import { makeCpState, startCpanelServer, zoneView, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { makeFixture, zoneRecords } from '../../../helpers/emulators/fixture.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const IDN = 'xn--bcher-kva.example'; // bücher.example
const SUB = 'xn--shp-tna.alice.example'; // shöp.alice.example
const alice = { user: 'alice', role: 'customer' } as const;

describe('cPanel: a domain list_domains names in Unicode is found by the A-label it is listed under', () => {
  let state: CpState;
  let srv: RunningServer;
  let calls: string[];
  let noMxItems: boolean;
  let unicodeItems: boolean;
  let panel: CpanelPanel;

  before(async () => {
    const f = makeFixture();
    const acct = f.accounts.find((a) => a.user === 'alice')!;
    acct.addon.push(IDN);
    acct.sub.push(SUB);
    f.zones[IDN] = zoneRecords(IDN, f.dkim.publicKey);
    state = makeCpState(f);
    srv = await startCpanelServer(state);
  });
  after(() => srv.close());

  beforeEach(() => {
    calls = [];
    noMxItems = false;
    unicodeItems = false;
    const inner = new UapiHttp(new PanelHttpClient({ baseUrl: srv.url, label: 'cPanel', headers: { authorization: 'cpanel alice:tok-alice' } }));
    const transport: UapiTransport = {
      label: 'cPanel',
      async call(module, func, params = []) {
        calls.push(`${module}::${func} ${params.map((p) => p.join('=')).join(' ')}`);
        const r = await inner.call(module, func, params);
        if (func === 'list_domains' && r.ok) {
          const d = r.data as { addon_domains: string[]; sub_domains: string[] };
          d.addon_domains = [...d.addon_domains.map((x) => (x === IDN ? 'bücher.example' : x)), 'not a domain.example'];
          d.sub_domains = d.sub_domains.map((x) => (x === SUB ? 'shöp.alice.example' : x));
        }
        if (func === 'list_mxs' && noMxItems) return { ...r, data: [] };
        // As list_domains: the Unicode spelling in list_mxs's and EmailAuth's items too (review).
        if (unicodeItems && (func === 'list_mxs' || module === 'EmailAuth') && r.ok && Array.isArray(r.data)) {
          return { ...r, data: (r.data as Record<string, unknown>[]).map((x) => (typeof x.domain === 'string' ? { ...x, domain: x.domain.replace(IDN, 'bücher.example') } : x)) };
        }
        return r;
      },
    };
    panel = new CpanelPanel({ transport, user: 'alice' });
  });

  it('lists the A-label, reads and writes its zone under it, and reads its mail settings', async () => {
    const listed = (await panel.listDomains(alice)).map((d) => d.domain);
    assert.ok(listed.includes(IDN) && listed.includes(SUB), JSON.stringify(listed));
    assert.ok(!listed.some((d) => /[^\x20-\x7e]/.test(d) || d.includes(' ')), JSON.stringify(listed));

    const zone = await panel.readZone(IDN);
    assert.equal(zone.domain, IDN);
    assert.ok(zone.records.some((r) => r.name === `_mailchannels.${IDN}` && r.type === 'TXT'));
    assert.ok(calls.includes(`DNS::parse_zone zone=${IDN}`), JSON.stringify(calls));
    // Any spelling of the name finds the same zone.
    assert.equal((await panel.readZone('bücher.example')).domain, IDN);

    const settings = await panel.readMailSettings(IDN);
    assert.equal(settings.domain, IDN);
    assert.equal(settings.routing, 'local');

    const add: Change = { action: 'add', name: `_dmarc.${IDN}`, type: 'TXT', ttl: 14400, before: null, after: { name: `_dmarc.${IDN}`, ttl: 14400, type: 'TXT', value: 'v=DMARC1; p=none', txt: ['v=DMARC1; p=none'] } };
    await panel.applyChanges(IDN, [add], zone.version);
    const written = zoneView(state, IDN);
    assert.ok(written.some((r) => r.name === `_dmarc.${IDN}` && r.type === 'TXT' && r.data.join('') === 'v=DMARC1; p=none'), JSON.stringify(written));
  });

  it('list_mxs and EmailAuth items that name the domain in Unicode are its items (review: "no item for xn--bcher-kva.example")', async () => {
    unicodeItems = true;
    const settings = await panel.readMailSettings(IDN);
    assert.equal(settings.domain, IDN);
    assert.equal(settings.routing, 'local');
    assert.ok(calls.some((c) => c.startsWith('EmailAuth::')), JSON.stringify(calls));
  });

  it('a subdomain listed in Unicode is known as one: no list_mxs item reads as "remote", not as an unexpected answer', async () => {
    noMxItems = true;
    const settings = await panel.readMailSettings(SUB);
    assert.equal(settings.domain, SUB);
    assert.equal(settings.routing, 'remote');
  });

  it('a listed name that is no domain is neither listed nor taken for a zone: parse_zone is never asked for it', async () => {
    await rejectsWith(panel.readZone('not a domain.example'), 'not-found', /is not a domain of the cPanel account alice/);
    assert.ok(!calls.some((c) => c.startsWith('DNS::parse_zone')), JSON.stringify(calls));
  });
});
