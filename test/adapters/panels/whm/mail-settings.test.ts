// WHM adapter: the mail settings a cPanel server really has (cpanel.md §8.2 outbound IP, §8.4 DKIM validity cache,
// §7.2 SPF include hosts, §5/§10 local authority). The emulators behave like documented cPanel — not every key has a
// validity cache entry, /etc/mailips may hold only `*:` or nothing, the server may sit behind NAT, a zone may be a copy
// left here while the domain's NS point elsewhere — and the adapter must report what cPanel does, not what it expects.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { signingFromValidation } from '../../../../src/adapters/panels/cpanel/index.js';
import { WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { effectiveMailIp, isPublicIp, parseColonMap, parseCpnat, relayFromLocalopts } from '../../../../src/adapters/panels/whm/serverfiles.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { Answer, Resolver, RRType } from '../../../../src/core/resolver.js';
import { checkHost } from '../../../../src/core/spf/evaluate.js';
import { openStore } from '../../../../src/adapters/store/store.js';
import { makeCpState, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { startWhmServer, writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { MapResolver, zoneToMap, type ZoneMap } from '../../../helpers/map-resolver.js';
import { otherRsaKey } from '../../../helpers/scenario.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');

interface Rig {
  state: CpState;
  srv: RunningServer;
  root: string;
  /** WHM on the server (root, server files). */
  panel: WhmPanel;
  /** WHM from elsewhere (no server files). */
  remote: WhmPanel;
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.srv.close();
    rmSync(r.root, { recursive: true, force: true });
  }
});

async function rig(setup: (s: CpState) => void = () => {}, files: { localopts?: string } = {}): Promise<Rig> {
  const state = makeCpState();
  setup(state);
  const srv = await startWhmServer(state);
  const root = mkdtempSync(join(tmpdir(), 'mh-whm-mail-'));
  writeCpanelServerFiles(state, root, files);
  const client = () => new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'whm root:tok-root' } });
  const r: Rig = { state, srv, root, panel: new WhmPanel({ transport: new WhmHttp(client()), user: 'root', root }), remote: new WhmPanel({ transport: new WhmHttp(client()), user: 'root', root: null }) };
  rigs.push(r);
  return r;
}

/** What the domain's authoritative servers answer: the panel's zone as it is now (re-read on every question). */
function liveFrom(panel: WhmPanel, zone: string, extra: ZoneMap = {}): Resolver {
  const ask = async <T extends RRType>(name: string, type: T): Promise<Answer<T>> => new MapResolver({ ...extra, ...zoneToMap(await panel.readZone(zone)) }).resolve(name, type);
  return { resolve: ask, resolveAt: (_servers, name, type) => ask(name, type) };
}

describe('WHM on the server: the outbound mail IP (cpanel.md §8.2)', () => {
  it('empty /etc/mailips → the main IP, never the account’s dedicated IP', async () => {
    const r = await rig();
    writeFileSync(join(r.root, 'etc/mailips'), '');
    // carol's account has the dedicated IP 203.0.113.12 (listaccts `ip`, /etc/domainips): not used for mail.
    assert.deepEqual((await r.panel.readMailSettings('carol.example')).ips, ['203.0.113.10']);
    assert.deepEqual((await r.panel.readMailSettings('bob.example')).ips, ['203.0.113.10']);
  });

  it('`*:` with no address is no default: the main IP', async () => {
    const r = await rig((s) => (s.mailips = { '*': '' }));
    assert.equal(parseColonMap('*:\n').size, 0);
    assert.deepEqual((await r.panel.readMailSettings('alice.example')).ips, ['203.0.113.10']);
  });

  it('mailips[domain] → mailips[*] → main IP; the SPF fix authorises the IP Exim uses', async () => {
    const r = await rig((s) => (s.mailips = { 'bob.example': '203.0.113.11' }));
    assert.deepEqual((await r.panel.readMailSettings('bob.example')).ips, ['203.0.113.11']);
    assert.deepEqual((await r.panel.readMailSettings('carol.example')).ips, ['203.0.113.10']);
    const resolver = new MapResolver({
      'carol.example': { NS: ['ns1.host.example', 'ns2.host.example'], TXT: [['v=spf1 +a +mx ~all']], A: ['203.0.113.12'], MX: [{ priority: 10, exchange: 'mail.carol.example' }] },
      'mail.carol.example': { A: ['203.0.113.12'] },
    });
    const plan = await makePlan({ domain: 'carol.example', check: 'spf' }, { panel: r.panel, resolver, now: () => FIXED });
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      ['v=spf1 +a +mx ip4:203.0.113.10 ~all'],
    );
  });

  it('behind NAT: the local address is mapped through /var/cpanel/cpnat to the public one', async () => {
    const r = await rig((s) => {
      s.mainIp = '10.0.0.5';
      s.mailips = { '*': '10.0.0.5', 'bob.example': '10.0.0.6' };
      s.nat = { '10.0.0.5': '203.0.113.10', '10.0.0.6': '203.0.113.11' };
    });
    assert.deepEqual((await r.panel.readMailSettings('alice.example')).ips, ['203.0.113.10']);
    assert.deepEqual((await r.panel.readMailSettings('bob.example')).ips, ['203.0.113.11']);
    // The remote (EmailAuth) view agrees: validate_current_spfs checks the NAT-mapped IP (§7.2).
    assert.deepEqual((await r.remote.readMailSettings('bob.example')).ips, ['203.0.113.11']);
  });

  it('behind NAT without a readable map: WHM’s validate_current_spfs gives the public IP', async () => {
    const r = await rig((s) => {
      s.mainIp = '10.0.0.5';
      s.mailips = { '*': '10.0.0.5' };
      s.nat = { '10.0.0.5': '198.51.100.5' };
    });
    unlinkSync(join(r.root, 'var/cpanel/cpnat'));
    r.state.calls.length = 0;
    assert.deepEqual((await r.panel.readMailSettings('alice.example')).ips, ['198.51.100.5']);
    assert.ok(r.state.calls.includes('whm:validate_current_spfs alice.example'), r.state.calls.join(', '));
    // A public address needs no question.
    const plain = await rig();
    plain.state.calls.length = 0;
    await plain.panel.readMailSettings('alice.example');
    assert.ok(!plain.state.calls.some((c) => c.startsWith('whm:validate_current_spfs')), plain.state.calls.join(', '));
  });

  it('helpers: cpnat parsing, effective IP, public-address test', () => {
    const nat = parseCpnat('10.0.0.5 203.0.113.10\n10.0.0.6\n10.0.0.7 203.0.113.10\nnonsense here\n');
    assert.deepEqual([...nat], [['10.0.0.5', '203.0.113.10']]);
    assert.deepEqual(effectiveMailIp({ mailIp: null, mainIp: '10.0.0.5', nat }), { ip: '203.0.113.10', natMapped: true });
    assert.deepEqual(effectiveMailIp({ mailIp: '192.0.2.7', mainIp: '10.0.0.5', nat }), { ip: '192.0.2.7', natMapped: false });
    assert.equal(effectiveMailIp({ mailIp: null, mainIp: null, nat }), null);
    assert.equal(isPublicIp('10.0.0.5'), false);
    assert.equal(isPublicIp('100.64.1.1'), false);
    assert.equal(isPublicIp('8.8.8.8'), true);
    assert.equal(isPublicIp('203.0.113.10'), true);
  });
});

describe('WHM: DKIM signing needs the validity cache (cpanel.md §8.4)', () => {
  it('on the server: the key is published but the cache entry is missing → not signing, reported, the correct record kept', async () => {
    const r = await rig();
    unlinkSync(join(r.root, 'var/cpanel/domain_keys/validity_cache/alice.example'));
    r.state.validityCache = r.state.validityCache.filter((d) => d !== 'alice.example');
    const s = await r.panel.readMailSettings('alice.example');
    assert.equal(s.dkim.publicKey, r.state.dkim.publicKey);
    assert.equal(s.dkim.signing, false);

    const resolver = liveFrom(r.panel, 'alice.example');
    const audit = await auditDomain('alice.example', { panel: r.panel, resolver, now: () => FIXED, checks: ['dkim'] });
    const lines = audit.findings.map((f) => `${f.severity} ${f.rule}`);
    assert.ok(lines.includes('warn dkim.signing-off'), `not reported as fine: ${lines.join(', ')}`);
    const plan = await makePlan({ domain: 'alice.example', check: 'dkim' }, { panel: r.panel, resolver, now: () => FIXED });
    assert.deepEqual(plan.changes, [], 'a correct record is not rewritten');

    // cPanel's own remedy: re-validate the published key, which sets the cache entry.
    const after = await r.panel.startDkimSigning('alice.example');
    assert.equal(after.dkim.signing, true);
    assert.ok(existsSync(join(r.root, 'var/cpanel/domain_keys/validity_cache/alice.example')));
    const again = await auditDomain('alice.example', { panel: r.panel, resolver, now: () => FIXED, checks: ['dkim'] });
    assert.deepEqual(again.findings.map((f) => `${f.severity} ${f.rule}`), ['pass dkim.ok']);
  });

  it('on the server: a previous host’s key is published (so no cache entry yet) → the fix replaces it, and cPanel then signs', async () => {
    const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;
    const r = await rig((s) => {
      const z = s.zones['alice.example'];
      const i = z.lines.findIndex((l) => l?.kind === 'record' && l.dname === 'default._domainkey');
      z.lines[i] = { kind: 'record', dname: 'default._domainkey', ttl: 14400, type: 'TXT', data: [old.slice(0, 255), old.slice(255)] };
      s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
    });
    assert.ok(!existsSync(join(r.root, 'var/cpanel/domain_keys/validity_cache/alice.example')));
    const s = await r.panel.readMailSettings('alice.example');
    assert.equal(s.dkim.signing, true, 'cPanel signs as soon as its key is published: not "signing off"');
    const resolver = liveFrom(r.panel, 'alice.example');
    const audit = await auditDomain('alice.example', { panel: r.panel, resolver, now: () => FIXED, checks: ['dkim'] });
    assert.ok(audit.findings.some((f) => f.rule === 'dkim.key-mismatch' && f.fix === 'dkim'), audit.findings.map((f) => f.rule).join(', '));
    const plan = await makePlan({ domain: 'alice.example', check: 'dkim' }, { panel: r.panel, resolver, now: () => FIXED });
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.equal(plan.changes.length, 1);
    const store = openStore(join(r.root, 'h.sqlite'), { now: () => FIXED.getTime() });
    try {
      const out = await applyPlan({ domain: 'alice.example', check: 'dkim', planHash: plan.planHash }, { panel: r.panel, resolver, history: store, byUser: 'root', now: () => FIXED });
      assert.equal(out.status, 'applied', JSON.stringify(out));
    } finally {
      store.close();
    }
    assert.ok(existsSync(join(r.root, 'var/cpanel/domain_keys/validity_cache/alice.example')), 'the write refreshed the cache');
    assert.equal((await r.panel.readMailSettings('alice.example')).dkim.signing, true);
  });

  it('remote WHM: cPanel could not set the cache entry for a VALID key → not signing', async () => {
    const r = await rig((s) => {
      s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
      s.validityCacheFails = ['alice.example'];
    });
    const s = await r.remote.readMailSettings('alice.example');
    assert.equal(s.dkim.publicKey, r.state.dkim.publicKey);
    assert.equal(s.dkim.signing, false);
    // The entry set by the validator → signing.
    r.state.validityCacheFails = [];
    assert.equal((await r.remote.readMailSettings('alice.example')).dkim.signing, true);
  });

  it('the validator item decides when the cache cannot be read', () => {
    const key = 'MIIB';
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'set' }, key), true);
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'none' }, key), true);
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'error' }, key), false);
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'invalid' }, key), false);
    assert.equal(signingFromValidation({ state: 'MISMATCH', validity_cache_update: 'none' }, key), true, 'cPanel signs once its key is published');
    assert.equal(signingFromValidation({ state: 'NOPUB', validity_cache_update: 'none' }, undefined), false);
    assert.equal(signingFromValidation({ state: 'VALID' }, key), true, 'a cPanel without the validity cache signs with its key');
    // The entry itself, when readable, wins for a VALID record.
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'none' }, key, false), false);
    assert.equal(signingFromValidation({ state: 'VALID', validity_cache_update: 'none' }, key, true), true);
    assert.equal(signingFromValidation({ state: 'MISSING', validity_cache_update: 'none' }, key, false), true);
  });
});

describe('WHM: whose nameservers (cpanel.md §5, §10 "copy here, NS elsewhere")', () => {
  const cloudflare = ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'];
  /** alice.example: the local zone lists Cloudflare's NS (a copy left after a migration) and public DNS agrees. */
  const copyHere = (s: CpState) => {
    for (const l of s.zones['alice.example'].lines) if (l && l.kind === 'record' && l.type === 'NS') l.data = [l.data[0] === 'ns1.host.example.' ? `${cloudflare[0]}.` : `${cloudflare[1]}.`];
    s.remoteAuthority = { 'alice.example': cloudflare };
  };
  const live: ZoneMap = {
    'alice.example': { NS: cloudflare, TXT: [['v=spf1 +a +mx include:websitewelcome.com ~all']], MX: [{ priority: 10, exchange: 'mail.alice.example' }], A: ['203.0.113.10'] },
  };

  it('remote WHM: a local copy while the NS point elsewhere is not this server’s zone → publish-elsewhere, nothing applied', async () => {
    const r = await rig(copyHere);
    r.state.calls.length = 0;
    const s = await r.remote.readMailSettings('alice.example');
    assert.deepEqual(s.nameservers, []);
    assert.ok(r.state.calls.includes('whm:has_local_authority alice.example'), r.state.calls.join(', '));
    const plan = await makePlan({ domain: 'alice.example', check: 'dmarc' }, { panel: r.remote, resolver: new MapResolver(live), now: () => FIXED });
    assert.equal(plan.mode, 'publish-elsewhere');
  });

  it('on the server without /etc/wwwacct.conf: the same answer (never the zone’s own NS)', async () => {
    const r = await rig(copyHere);
    assert.deepEqual((await r.panel.readMailSettings('alice.example')).nameservers, []);
    const plan = await makePlan({ domain: 'alice.example', check: 'dmarc' }, { panel: r.panel, resolver: new MapResolver(live), now: () => FIXED });
    assert.equal(plan.mode, 'publish-elsewhere');
  });

  it('a zone this server serves: has_local_authority’s nameservers, and fixes apply', async () => {
    const r = await rig();
    const s = await r.remote.readMailSettings('alice.example');
    assert.deepEqual(s.nameservers, ['ns1.host.example', 'ns2.host.example']);
    const plan = await makePlan({ domain: 'alice.example', check: 'dmarc' }, { panel: r.remote, resolver: new MapResolver({ 'alice.example': { NS: ['ns1.host.example', 'ns2.host.example'] } }), now: () => FIXED });
    assert.equal(plan.mode, 'apply');
  });

  it('has_local_authority refused → no nameservers (never a write to a zone that may not be served)', async () => {
    const r = await rig();
    const transport = new WhmHttp(new PanelHttpClient({ baseUrl: r.srv.url, headers: { authorization: 'whm root:tok-root' } }));
    const refusing = { call: (func: string, params?: [string, string][]) => (func === 'has_local_authority' ? Promise.resolve({ ok: false, data: null, reason: 'Permission denied' }) : transport.call(func, params)) };
    const panel = new WhmPanel({ transport: refusing, user: 'root', root: null });
    assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, []);
  });
});

describe('WHM: a smarthost that is not MailChannels (cpanel.md §7.2 SPF include hosts)', () => {
  const localopts = 'smarthost_routelist=* smtp.relayco.example::587\nsmarthost_auth_required=1\nspf_include_hosts=_spf.relayco.example\nsmarthost_autodiscover_spf_include=0\n';

  it('the admin’s spf_include_hosts is the relay’s include host', () => {
    assert.deepEqual(relayFromLocalopts(localopts), { provider: 'smtp.relayco.example', host: '_spf.relayco.example' });
    // Several hosts (`;` `,` `:` separated): the one in the smarthost's organisation.
    assert.deepEqual(relayFromLocalopts('smarthost_routelist=* smtp.relayco.example::587\nspf_include_hosts=_spf.google.com; spf.relayco.example\n'), {
      provider: 'smtp.relayco.example',
      host: 'spf.relayco.example',
    });
    // None set: the smarthost host; the SPF planner then finds the name that publishes SPF.
    assert.deepEqual(relayFromLocalopts('smarthost_routelist=* smtp.example.net::25\n'), { provider: 'smtp.example.net', host: 'smtp.example.net' });
    // MailChannels as before.
    assert.deepEqual(relayFromLocalopts('smarthost_routelist=* smtp.mailchannels.net::587\nsmarthost_username=acme\n'), { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'acme' });
  });

  it('the SPF fix includes the admin’s host and the relay’s mail passes SPF', async () => {
    const r = await rig(() => {}, { localopts });
    const s = await r.panel.readMailSettings('alice.example');
    assert.deepEqual(s.relay, { provider: 'smtp.relayco.example', host: '_spf.relayco.example' });
    const zones: ZoneMap = {
      'alice.example': { NS: ['ns1.host.example', 'ns2.host.example'], TXT: [['v=spf1 +a +mx ~all']], MX: [{ priority: 10, exchange: 'mail.alice.example' }], A: ['203.0.113.10'] },
      'mail.alice.example': { A: ['203.0.113.10'] },
      '_spf.relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] },
      'smtp.relayco.example': { A: ['198.51.100.25'] },
    };
    const plan = await makePlan({ domain: 'alice.example', check: 'spf' }, { panel: r.panel, resolver: new MapResolver(zones), now: () => FIXED });
    assert.equal(plan.blocked, undefined, plan.blocked);
    const spf = plan.changes.map((c) => c.after?.value).find(Boolean)!;
    assert.equal(spf, 'v=spf1 +a +mx include:_spf.relayco.example ~all');
    zones['alice.example'].TXT = [[spf]];
    const res = await checkHost('198.51.100.25', 'alice.example', 'postmaster@alice.example', 'mail.relayco.example', new MapResolver(zones));
    assert.equal(res.result, 'pass');
  });
});
