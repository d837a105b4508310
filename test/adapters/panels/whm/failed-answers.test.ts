// WHM off the server: a failed or misshapen answer is never read as a setting or as "nothing" (QA h3).
// D1: validate_current_dkims with result 0 read as "no key, not signing" gave a healthy domain dkim.signing-off and made
//     the DKIM fix generate keys; a failed validate_current_ptrs read as an empty HELO ("The server says HELO , …").
// D2: Email::list_mxs through uapi_cpanel failing — even with HTTP 500 — read as routing "remote" (mx.routing-mismatch).
// D14: get_domain_info with data null or of another shape read as "no domains": a bulk run skipped the domains as no
//      longer on the server.
// D15/16: raw JavaScript errors ("object is not iterable") as finding text; WHM's mass_edit refusal called cPanel's.
// Now each is a PanelError saying which call and what was wrong; core reports the settings or zone unreadable
// (`unknown`) and plans nothing on them.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { bulkAudit } from '../../../../src/adapters/workers/bulk.js';
import { WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import type { DomainAudit } from '../../../../src/core/model.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, failed, frontWorld, healthyRecords, migratedRecords, respond, rewrite, type Rule, type World } from './front.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

const HTML500 = '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>';

/** The misbehaving answers QA h3 sent to each call (the envelope is WHM's; its data is not, or the call failed). */
const SHAPES: [string, (func: string) => Rule, RegExp][] = [
  ['metadata.result 0', (func) => ({ func, answer: failed() }), /failed: Internal error \(whostmgr\)/],
  ['data null', (func) => ({ func, answer: rewrite((j) => ({ ...j, data: null })) }), /had an unexpected shape \(no data\)/],
  ['data.payload an object', (func) => ({ func, answer: rewrite((j) => ({ ...j, data: { payload: { x: 1 } } })) }), /had an unexpected shape \(payload is an object instead of a list\)/],
  ['data.payload a list of nulls', (func) => ({ func, answer: rewrite((j) => ({ ...j, data: { payload: [null] } })) }), /had an unexpected shape \(a payload holding something other than items\)/],
];

const severe = (a: DomainAudit) => a.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => `${f.rule}: ${f.message.slice(0, 100)}`);
const unreadable = (a: DomainAudit) => a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable');
const rawJs = /is not iterable|Cannot read properties|undefined \(reading/;

describe('WHM: a failed EmailAuth validator makes the settings unreadable, never "no key" or an empty HELO (D1)', () => {
  for (const func of ['validate_current_dkims', 'validate_current_ptrs']) {
    for (const [shape, rule, message] of SHAPES) {
      it(`${func}: ${shape} → PanelError; the healthy domain's audit gains no warning, only the unknown finding`, async () => {
        w = await frontWorld(healthyRecords(), [rule(func)]);
        const e = await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other');
        assert.match(e.message, new RegExp(`${func} for alice\\.example`));
        assert.match(e.message, message);
        const a = await w.audit();
        assert.deepEqual(severe(a), [], 'no fail/warn from a call that failed');
        assert.equal(unreadable(a)?.severity, 'unknown');
        assert.doesNotMatch(JSON.stringify(a), rawJs);
        assert.doesNotMatch(JSON.stringify(a), /HELO ,/);
      });
    }
  }

  it('validate_current_dkims with an item WHM does not give (no state; expected not text): unexpected shape', async () => {
    for (const item of [{ domain: `default._domainkey.${DOMAIN}`, expected: '' }, { domain: `default._domainkey.${DOMAIN}`, state: 'VALID', expected: 7 }]) {
      w = await frontWorld(healthyRecords(), [{ func: 'validate_current_dkims', answer: rewrite((j) => ({ ...j, data: { payload: [item] } })) }]);
      await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /WHM's answer to validate_current_dkims for alice\.example had an unexpected shape \((an item without a state|expected is number, not the key record's text)\)/);
      await w.close();
      w = null;
    }
  });

  it('validate_current_ptrs with an item without a HELO: unexpected shape, not an empty HELO', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'validate_current_ptrs', answer: rewrite((j) => j.data.payload.forEach((x: any) => delete x.helo)) }]);
    await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /validate_current_ptrs for alice\.example had an unexpected shape \(an item without a helo\)/);
  });

  it('a validator answering no item for a domain still listed: unexpected shape (not-found only for a domain gone)', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'validate_current_dkims', answer: rewrite((j) => ({ ...j, data: { payload: [] } })) }]);
    await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /no item for alice\.example/);
  });

  it('validate_current_spfs alone failing loses nothing: the outbound IP is validate_current_ptrs’ too', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'validate_current_spfs', answer: failed() }]);
    const s = await w.panel.readMailSettings(DOMAIN);
    assert.deepEqual(s.ips, ['203.0.113.10']);
    assert.equal(s.helo, 'server1.newhost.example');
    assert.equal(s.dkim.signing, true);
    assert.ok(s.dkim.publicKey);
  });

  it('a healthy domain read through the front as it is: signing, its key, local routing', async () => {
    w = await frontWorld(healthyRecords());
    const s = await w.panel.readMailSettings(DOMAIN);
    assert.equal(s.dkim.signing, true);
    assert.equal(s.routing, 'local');
    assert.deepEqual(severe(await w.audit()), []);
  });
});

describe('WHM: the DKIM fix never generates a key because validate_current_dkims failed (D1)', () => {
  for (const [shape, rule] of SHAPES) {
    it(`${shape}: no plan, no key generated, no zone write`, async () => {
      // The previous host's key is published; the server has its own. Read right, the fix publishes the server's key.
      w = await frontWorld(migratedRecords(), [rule('validate_current_dkims')]);
      const before = await w.records();
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim' }, { panel: w.panel, resolver: w.resolver }).catch((e: Error) => e);
      // The old code planned "This server has no DKIM key"; applying it generated keys: apply what was planned.
      if (!(plan instanceof Error)) await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, w.deps()).catch(() => undefined);
      assert.deepEqual(
        w.cp.calls.filter((c) => /ensure_dkim_keys_exist|enable_dkim|install_dkim|mass_edit/.test(c)),
        [],
        'no key generated, no DKIM switch, no zone write',
      );
      assert.ok(plan instanceof Error, `no plan: ${plan instanceof Error ? '' : JSON.stringify({ actions: plan.actions, notes: plan.notes })}`);
      assert.match(plan.message, /The panel could not provide the server's mail settings: .*validate_current_dkims/);
      assert.deepEqual(await w.records(), before);
    });
  }
});

describe('WHM: Email::list_mxs through uapi_cpanel failing is not routing "remote" (D2)', () => {
  const cases: [string, Rule['answer'], RegExp][] = [
    ['HTTP 500 with an HTML page', respond(500, HTML500), /WHM uapi_cpanel: HTTP 500/],
    ['HTTP 503 with an HTML page', respond(503, HTML500), /WHM uapi_cpanel: HTTP 503/],
    ['200 with an empty body', respond(200, '', { 'content-type': 'application/json' }), /not a WHM API 1 envelope/],
    ['metadata.result 0', failed('Internal error (whostmgr)'), /WHM uapi_cpanel \(Email::list_mxs as alice\) failed: Internal error \(whostmgr\)/],
    ['data null', rewrite((j) => ({ ...j, data: null })), /uapi_cpanel \(Email::list_mxs as alice\) had an unexpected shape \(no UAPI answer under data\.uapi\)/],
    ['the UAPI call failed (status 0)', rewrite((j) => ({ ...j, data: { uapi: { status: 0, errors: ['cpsrvd: internal error'], data: null } } })), /Email::list_mxs for alice\.example failed: cpsrvd: internal error/],
    ['UAPI data an object', rewrite((j) => ({ ...j, data: { uapi: { status: 1, data: { x: 1 } } } })), /Email::list_mxs for alice\.example had an unexpected shape \(an object instead of a list\)/],
    ['no item for the domain', rewrite((j) => ({ ...j, data: { uapi: { status: 1, data: [] } } })), /no item for alice\.example/],
  ];
  for (const [name, answer, message] of cases) {
    it(`${name}: PanelError; no mx.routing-mismatch, no fail/warn — the settings unknown`, async () => {
      w = await frontWorld(healthyRecords(), [{ func: 'uapi:list_mxs', answer }]);
      const e = await w.panel.readMailSettings(DOMAIN).then(
        () => assert.fail('read'),
        (x: Error) => x,
      );
      assert.match(e.message, message);
      const a = await w.audit();
      assert.deepEqual(severe(a), []);
      assert.ok(!a.findings.some((f) => f.rule === 'mx.routing-mismatch'));
      assert.equal(unreadable(a)?.severity, 'unknown');
      assert.doesNotMatch(JSON.stringify(a), rawJs);
    });
  }

  it('a subdomain list_mxs gives no item for: remote, the reading that keeps another provider’s records (as on cPanel)', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'uapi:list_mxs', answer: rewrite((j) => ({ ...j, data: { uapi: { ...j.data.uapi, data: [] } } })) }]);
    assert.equal((await w.panel.readMailSettings('blog.alice.example')).routing, 'remote');
  });
});

describe('WHM: a domain list of another shape is an error, never "no domains" (D14)', () => {
  const cases: [string, (j: any) => unknown, RegExp][] = [
    ['data null', (j) => ({ ...j, data: null }), /get_domain_info had an unexpected shape \(no data\)/],
    ['data a list', (j) => ({ ...j, data: [j.data] }), /get_domain_info had an unexpected shape \(a list instead of an object\)/],
    ['domains an object', (j) => ({ ...j, data: { domains: { x: 1 } } }), /get_domain_info had an unexpected shape \(domains is an object instead of a list\)/],
    ['no domains list', (j) => ({ ...j, data: {} }), /get_domain_info had an unexpected shape \(no list of domains\)/],
    ['an entry without its account', (j) => ({ ...j, data: { domains: j.data.domains.map((d: any, i: number) => (i === 0 ? { domain: d.domain } : d)) } }), /entry 1 is not a domain with its account/],
  ];
  for (const [name, edit, message] of cases) {
    it(`${name}: listDomains, readZone and readMailSettings fail saying so — 'other', not 'not-found'`, async () => {
      w = await frontWorld(healthyRecords(), [{ func: 'get_domain_info', answer: rewrite(edit) }]);
      await rejectsWith(w.panel.listDomains({ user: 'root', role: 'admin' }), 'other', message);
      await rejectsWith(w.panel.readZone(DOMAIN), 'other', message);
      await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', message);
      const a = await w.audit();
      assert.doesNotMatch(JSON.stringify(a), rawJs);
      assert.doesNotMatch(JSON.stringify(a), /not a domain this WHM user/);
    });
  }

  it('a bulk run whose domain list turns to data null mid-run skips nothing as "no longer on the server"', async () => {
    w = await frontWorld(healthyRecords());
    const who = { user: 'root', role: 'admin' as const };
    const listed = await w.panel.listDomains(who); // the run's list, taken at the start (panel fine)
    assert.ok(listed.some((d) => d.domain === DOMAIN));
    w.rules.push({ func: 'get_domain_info', answer: rewrite((j) => ({ ...j, data: null })) });
    w.clock.now += WhmPanel.INFO_TTL_MS + 1; // the cached list has aged out
    const gone: string[] = [];
    const run = await bulkAudit([DOMAIN], { panel: w.panel, resolver: {}, inProcess: w.resolver, scope: () => w!.panel.listDomains(who) }, { threads: 0, onGone: (d) => void gone.push(d) });
    assert.deepEqual(gone, [], 'not skipped as gone');
    assert.deepEqual(run.audits.map((a) => `${a.domain} ${a.status}`), [`${DOMAIN} unknown`]);
  });

  it('listaccts with data null: an error, never "no accounts"', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'listaccts', answer: rewrite((j) => ({ ...j, data: null })) }]);
    await rejectsWith(w.panel.listAccounts(), 'other', /WHM's answer to listaccts had an unexpected shape \(no data\), so the server's accounts cannot be read from it/);
  });

  it('parse_dns_zone with data.payload an object: a clear unexpected shape, not "object is not iterable" (D15)', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'parse_dns_zone', answer: rewrite((j) => ({ ...j, data: { payload: { x: 1 } } })) }]);
    const e = await rejectsWith(w.panel.readZone(DOMAIN), 'other', /WHM's answer to parse_dns_zone for alice\.example had an unexpected shape/);
    assert.doesNotMatch(e.message, rawJs);
  });
});

describe('WHM: a mass_edit_dns_zone refusal says WHM (D16)', () => {
  it('WHM refusing the edit: "WHM refused the zone edit", not cPanel', async () => {
    w = await frontWorld(healthyRecords(), [{ func: 'mass_edit_dns_zone', answer: rewrite((j) => ({ metadata: { ...j.metadata, result: 0, reason: 'Permission denied' }, data: null })) }]);
    const zone = await w.panel.readZone(DOMAIN);
    const spf = zone.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
    const after = { ...spf, value: 'v=spf1 +a +mx -all', txt: ['v=spf1 +a +mx -all'] };
    const e = await rejectsWith(w.panel.applyChanges(DOMAIN, [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after }], zone.version), 'other');
    assert.match(e.message, /^WHM refused the zone edit for alice\.example: Permission denied/);
  });
});
