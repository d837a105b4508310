// cPanel (UAPI): DKIM key generation on an account without the zoneedit feature (cpanel.md §4.3, §7.4). enable_dkim
// publishes the server's key in place of the record at default._domainkey, and without zoneedit neither taking that
// back nor the fix's own write can be done: the adapter refuses before any key is made, and if the take-back still
// fails it keeps the cause's code and says what the zone now holds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp, type UapiTransport } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { openStore } from '../../../../src/adapters/store/store.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { makeCpState, startCpanelServer, zoneView, type CpState } from '../../../helpers/emulators/cpanel.js';
import { MapResolver, zoneToMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { otherRsaKey } from '../../../helpers/scenario.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const Z = 'alice.example';
const OLD = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** alice.example publishes the previous host's key; this server has none for it yet. */
async function setup(features: string[], wrap: (t: UapiTransport) => UapiTransport = (t) => t): Promise<{ state: CpState; panel: CpanelPanel; url: string }> {
  const state = makeCpState();
  state.dkimDomains = state.dkimDomains.filter((d) => d !== Z);
  state.validityCache = state.validityCache.filter((d) => d !== Z);
  for (const l of state.zones[Z].lines) if (l?.kind === 'record' && l.dname === 'default._domainkey') l.data = [OLD.slice(0, 255), OLD.slice(255)];
  state.accounts.find((a) => a.user === 'alice')!.features = features;
  const srv = await startCpanelServer(state);
  cleanup.push(() => srv.close());
  const transport = wrap(new UapiHttp(new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'cpanel alice:tok-alice' } })));
  return { state, panel: new CpanelPanel({ transport, user: 'alice', owner: 'res1' }), url: srv.url };
}

const dkimText = (st: CpState) => zoneView(st, Z).filter((r) => r.name === `default._domainkey.${Z}`).map((r) => r.data.join(''));

describe('cPanel DKIM key generation without zoneedit', () => {
  for (const features of [['emailauth'], ['simplezoneedit', 'changemx', 'emailauth']]) {
    it(`features ${features.join(', ')}: refused before any key is made, the zone untouched, feature-missing`, async () => {
      const { state, panel } = await setup(features);
      const zone = JSON.stringify(state.zones[Z]);
      await rejectsWith(panel.generateDkim(Z), 'feature-missing', /no DKIM key was generated for alice\.example and the zone was not changed: ask your host to enable Zone Editor/);
      assert.equal(JSON.stringify(state.zones[Z]), zone);
      assert.deepEqual(dkimText(state), [OLD]);
      assert.ok(!state.dkimDomains.includes(Z), 'no key made');
      assert.ok(!state.calls.some((c) => c.startsWith('EmailAuth::ensure_dkim_keys_exist') || c.startsWith('EmailAuth::enable_dkim')), state.calls.join(', '));
    });
  }

  it('through a fix: failed with "the zone was not changed", the previous record still there', async () => {
    const { state, panel } = await setup(['emailauth']);
    const resolver = { resolve: async <T extends Parameters<MapResolver['resolve']>[1]>(name: string, type: T) => new MapResolver(zoneToMap(await panel.readZone(Z))).resolve(name, type) };
    const dir = mkdtempSync(join(tmpdir(), 'mh-cpanel-dkim-'));
    const store = openStore(join(dir, 'h.sqlite'), { now: () => FIXED.getTime() });
    cleanup.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const deps = { panel, resolver, history: store, byUser: 'alice', now: () => FIXED };
    const plan = await makePlan({ domain: Z, check: 'dkim' }, deps);
    assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
    const out = await applyPlan({ domain: Z, check: 'dkim', planHash: plan.planHash }, deps);
    assert.equal(out.status, 'failed');
    assert.match((out as { reason: string }).reason, /zoneedit.*the zone was not changed\.$/s);
    assert.deepEqual(dkimText(state), [OLD]);
  });

  it('the take-back refused after cPanel made the key: the code is kept and the message says what the zone holds', async () => {
    let edits = 0;
    const { state, panel } = await setup(['zoneedit', 'emailauth'], (t) => ({
      label: t.label,
      call: async (m, f, p) => {
        // The permission check passes (the account had zoneedit); it is taken away before the take-back.
        if (m === 'DNS' && f === 'mass_edit_zone' && ++edits === 2) return { ok: false, data: null, errors: ['You do not have the feature “zoneedit”.'], warnings: [] };
        return t.call(m, f, p);
      },
    }));
    const e = await rejectsWith(panel.generateDkim(Z), 'feature-missing');
    assert.match(e.message, /cPanel generated a DKIM key for alice\.example and published it in the zone itself: it replaced the TXT record at default\._domainkey\.alice\.example \("v=DKIM1; k=rsa; p=MIIB/);
    assert.match(e.message, /The zone now publishes this server's key at default\._domainkey\.alice\.example/);
    assert.match(e.message, /zoneedit/);
    assert.deepEqual(dkimText(state), [`v=DKIM1; k=rsa; p=${state.dkim.publicKey};`]);
  });
});

describe('cPanel: a fix stopped right after enable_dkim published the key in place of the old record', () => {
  it('reconcile records it as applied with the real key (the old record kept in the history), not "failed, may not be published"', async () => {
    // The process "dies" right after enable_dkim: every later call of that fix never returns.
    let frozen = false;
    const { state, panel: dying, url } = await setup(['zoneedit', 'emailauth'], (t) => ({
      label: t.label,
      call: async (m, f, p) => {
        if (frozen) return new Promise<never>(() => {});
        const r = await t.call(m, f, p);
        if (m === 'EmailAuth' && f === 'enable_dkim') frozen = true;
        return r;
      },
    }));
    const dir = mkdtempSync(join(tmpdir(), 'mh-cp-dkim-crash-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let clock = FIXED.getTime();
    const history = openStore(join(dir, 'h.sqlite'), { now: () => clock });
    cleanup.push(() => history.close());
    const resolverOf = (p: CpanelPanel) => ({ resolve: async <T extends Parameters<MapResolver['resolve']>[1]>(name: string, type: T) => new MapResolver(zoneToMap(await p.readZone(Z))).resolve(name, type) });
    const plan = await makePlan({ domain: Z, check: 'dkim' }, { panel: dying, resolver: resolverOf(dying), now: () => FIXED });
    assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
    void applyPlan({ domain: Z, check: 'dkim', planHash: plan.planHash }, { panel: dying, resolver: resolverOf(dying), history, byUser: 'alice', now: () => FIXED });
    while (!frozen) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!dkimText(state).includes(OLD), 'cPanel replaced the old record with its key');
    // A new process, after the lease ran out.
    clock += LOCK_TTL_MS + 1_000;
    const fresh = new CpanelPanel({ transport: new UapiHttp(new PanelHttpClient({ baseUrl: url, headers: { authorization: 'cpanel alice:tok-alice' } })), user: 'alice', owner: 'res1' });
    const deps = { panel: fresh, resolver: resolverOf(fresh), history, byUser: 'alice', now: () => FIXED };
    assert.deepEqual(await reconcile(deps, 'at start'), [{ id: 1, outcome: 'applied' }]);
    const ch = history.getChange(1)!;
    assert.equal(ch.status, 'applied');
    assert.match(ch.error ?? '', /published the new key itself in place of the old record/);
    assert.equal(ch.changes[0].before?.txt?.join('') ?? ch.changes[0].before?.value, OLD, 'the old record in the history');
    assert.equal(dkimText(state).length, 1);
    assert.equal(ch.changes[0].after?.txt?.join('') ?? ch.changes[0].after?.value, dkimText(state)[0], 'the key cPanel published');
    // Undo is refused as for any generated key this server signs with (turn signing off first), not "failed".
    const undo = await undoChange(1, deps);
    assert.equal(undo.status, 'refused');
    if (undo.status === 'refused') assert.match(undo.reason, /Turn DKIM signing off/);
  });
});
