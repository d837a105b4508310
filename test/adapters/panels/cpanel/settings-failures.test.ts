// A failed or misshapen answer to one of the mail-settings calls is never read as a setting (QA h3 D1, D2, D3, D15):
// validate_current_dkims failing read as "no key, not signing" gave a healthy domain dkim.signing-off and made the DKIM
// fix generate keys; list_mxs failing read as routing "remote" (mx.routing-mismatch); validate_current_ptrs failing
// read as an empty HELO (ptr.mismatch "The server says HELO , but …"). Now readMailSettings fails with a PanelError
// saying which call (core: dns.panel-settings-unreadable, `unknown`, no plan) — except where the server's own files
// say it (on the server: /etc/mailhelo, /etc/localdomains).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import type { DomainAudit } from '../../../../src/core/model.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { makeCpState, startCpanelServer } from '../../../helpers/emulators/cpanel.js';
import { serverFixture } from '../../../helpers/emulators/rig.js';
import { writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, failed, frontWorld, healthyRecords, migratedRecords, rewrite, type Rule, type World } from './front.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

/** The misbehaving answers QA h3 sent to each call (the envelope is cPanel's; its data is not). */
const SHAPES: [string, (fn: string) => Rule][] = [
  ['status 0 with errors', (fn) => ({ fn, answer: failed() })],
  ['data null', (fn) => ({ fn, answer: rewrite((j) => ({ ...j, data: null })) })],
  ['data an object instead of a list', (fn) => ({ fn, answer: rewrite((j) => ({ ...j, data: { unexpected: true } })) })],
  ['data a list of nulls', (fn) => ({ fn, answer: rewrite((j) => ({ ...j, data: [null] })) })],
];

const severe = (a: DomainAudit) => a.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => f.rule);
const unreadable = (a: DomainAudit) => a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable');

describe('cPanel: a failed mail-settings call makes the settings unreadable, never a setting', () => {
  for (const fn of ['EmailAuth::validate_current_dkims', 'Email::list_mxs', 'EmailAuth::validate_current_ptrs']) {
    for (const [shape, rule] of SHAPES) {
      it(`${fn}: ${shape} → PanelError; the healthy domain's audit gains no warning, only the unknown finding`, async () => {
        w = await frontWorld(healthyRecords(), [rule(fn)]);
        const e = await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other');
        assert.match(e.message, new RegExp(`${fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} for alice\\.example (failed: Internal error|had an unexpected shape \\((no data|an object instead of a list|a list holding something other than items)\\))`));
        const a = await w.audit();
        assert.deepEqual(severe(a), [], `no fail/warn from a call that failed: ${severe(a).join(', ')}`);
        assert.equal(unreadable(a)?.severity, 'unknown');
        assert.doesNotMatch(JSON.stringify(a), /is not iterable|Cannot read properties/);
      });
    }
  }

  it('validate_current_dkims with an item cPanel does not give (no state, expected not text)', async () => {
    for (const item of [{ domain: `default._domainkey.${DOMAIN}`, expected: '' }, { domain: `default._domainkey.${DOMAIN}`, state: 'VALID', expected: 7 }]) {
      w = await frontWorld(healthyRecords(), [{ fn: 'EmailAuth::validate_current_dkims', answer: rewrite((j) => ({ ...j, data: [item] })) }]);
      await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /validate_current_dkims for alice\.example had an unexpected shape \((an item without a state|expected is number, not the key record's text)\)/);
      await w.close();
      w = null;
    }
  });

  it('list_mxs naming a routing cPanel does not document, or no item for the domain: not read as remote', async () => {
    w = await frontWorld(healthyRecords(), [{ fn: 'Email::list_mxs', answer: rewrite((j) => j.data.forEach((x: any) => (x.detected = 'backup'))) }]);
    await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /detected "backup", none of auto, local, remote, secondary/);
    await w.close();
    w = await frontWorld(healthyRecords(), [{ fn: 'Email::list_mxs', answer: rewrite((j) => j.data.forEach((x: any) => (x.domain = 'other.example'))) }]);
    await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /no item for alice\.example/);
  });

  it('a subdomain list_mxs has no item for (it lists mail-routing domains only): remote, the reading that keeps records', async () => {
    w = await frontWorld(healthyRecords(), [{ fn: 'Email::list_mxs', answer: rewrite((j) => ({ ...j, data: j.data.filter((x: any) => x.domain !== 'blog.alice.example') })) }]);
    assert.equal((await w.panel.readMailSettings('blog.alice.example')).routing, 'remote');
    assert.equal((await w.panel.readMailSettings(DOMAIN)).routing, 'local');
  });

  it('validate_current_ptrs with an item without a HELO: not an empty HELO', async () => {
    w = await frontWorld(healthyRecords(), [{ fn: 'EmailAuth::validate_current_ptrs', answer: rewrite((j) => j.data.forEach((x: any) => delete x.helo)) }]);
    await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', /validate_current_ptrs for alice\.example had an unexpected shape \(an item without a helo\)/);
  });

  it('a domain not on the account: not-found, as before (the validators answer no item for it)', async () => {
    w = await frontWorld(healthyRecords());
    await rejectsWith(w.panel.readMailSettings('elsewhere.example'), 'not-found', /not a domain of the cPanel account alice/);
  });

  it('validate_current_spfs alone failing loses nothing: the outbound IP is validate_current_ptrs’ too', async () => {
    w = await frontWorld(healthyRecords(), [{ fn: 'EmailAuth::validate_current_spfs', answer: failed() }]);
    const s = await w.panel.readMailSettings(DOMAIN);
    assert.deepEqual(s.ips, ['203.0.113.10']);
    assert.equal(s.helo, 'server1.newhost.example');
    assert.equal(s.dkim.signing, true);
  });

  it('has_local_authority answering a list of nulls: whose DNS is not known (unknown), no JavaScript error', async () => {
    w = await frontWorld(healthyRecords(), [{ fn: 'DNS::has_local_authority', answer: rewrite((j) => ({ ...j, data: [null] })) }]);
    const s = await w.panel.readMailSettings(DOMAIN);
    assert.ok(s.nameserversUnknown, 'nameservers not known');
  });
});

describe('cPanel: the DKIM fix never generates a key because validate_current_dkims failed (QA h3 D1)', () => {
  for (const [shape, rule] of SHAPES) {
    it(`${shape}: no plan, no key generated, no DKIM call that writes, the zone unchanged`, async () => {
      // The previous host's key is published; the server has its own. Read right, the fix publishes the server's key.
      w = await frontWorld(migratedRecords(), [rule('EmailAuth::validate_current_dkims')]);
      const before = await w.records();
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim' }, { panel: w.panel, resolver: w.resolver }).catch((e: Error) => e);
      // The old code planned "This server has no DKIM key" and applying it generated keys: apply what was planned.
      if (!(plan instanceof Error)) await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, w.deps()).catch(() => undefined);
      assert.deepEqual(
        w.cp.calls.filter((c) => /ensure_dkim_keys_exist|enable_dkim|install_dkim|mass_edit_zone/.test(c)),
        [],
        'no key generated, no DKIM switch, no zone write',
      );
      assert.ok(plan instanceof Error, `no plan: ${plan instanceof Error ? '' : JSON.stringify({ actions: plan.actions, notes: plan.notes })}`);
      assert.match(plan.message, /The panel could not provide the server's mail settings: .*validate_current_dkims/);
      assert.deepEqual(await w.records(), before);
    });
  }
});

describe('cPanel on the server: the server’s own files answer for a call that failed', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  async function onServer(fn: string): Promise<CpanelPanel> {
    const cp = makeCpState(serverFixture(healthyRecords()));
    const root = mkdtempSync(join(tmpdir(), 'mh-cpanel-onserver-'));
    writeCpanelServerFiles(cp, root);
    const server = await startCpanelServer(cp);
    // A transport that answers `fn` with cPanel's error envelope, the rest from the emulator.
    const inner = new UapiHttp(new PanelHttpClient({ baseUrl: server.url, headers: { authorization: 'cpanel alice:tok-alice' } }));
    const transport = {
      label: 'cPanel',
      call: (m: string, f: string, p: [string, string][] = []) => (`${m}::${f}` === fn ? Promise.resolve({ ok: false, data: null, errors: ['cpsrvd: internal error'], warnings: [] }) : inner.call(m, f, p)),
    };
    cleanup.push(async () => {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    });
    return new CpanelPanel({ transport, user: 'alice', root });
  }

  it('validate_current_ptrs failed: the HELO from /etc/mailhelo, the IP from /etc/mailips — not empty', async () => {
    const s = await (await onServer('EmailAuth::validate_current_ptrs')).readMailSettings(DOMAIN);
    assert.equal(s.helo, 'server1.newhost.example');
    assert.deepEqual(s.ips, ['203.0.113.10']);
  });

  it('list_mxs failed: the routing from /etc/localdomains', async () => {
    assert.equal((await (await onServer('Email::list_mxs')).readMailSettings(DOMAIN)).routing, 'local');
  });

  it('validate_current_dkims failed: still unreadable (the key files do not say whether cPanel signs)', async () => {
    await rejectsWith((await onServer('EmailAuth::validate_current_dkims')).readMailSettings(DOMAIN), 'other', /validate_current_dkims for alice\.example failed: cpsrvd: internal error/);
  });
});
