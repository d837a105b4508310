// cPanel behind a proxy: `DNS::mass_edit_zone` answered 502/503/504 by the proxy (or with a body that is no UAPI
// envelope) may still be saved by cPanel after the proxy gave up. That is no-answer: the intent stays open and the
// domain locked, and reconcile settles it from the zone once the lock runs out — applied when the save landed, and the
// fix can then be undone. A 4xx, or cPanel's own error envelope, stays a refusal. The same for a local `uapi` killed
// before it exited. Loopback emulator + gateway; cpanel.md §2, §4; README "never lose a record".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiCli, UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { openStore, type Store } from '../../../../src/adapters/store/store.js';
import type { Change } from '../../../../src/core/model.js';
import type { Resolver } from '../../../../src/core/resolver.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange, type ApplyDeps } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { installFakeBins, killedAfter } from '../../../helpers/emulators/bins.js';
import { makeCpState, startCpanelServer, zoneView, type CpState } from '../../../helpers/emulators/cpanel.js';
import { SPF } from '../../../helpers/emulators/fixture.js';
import { startGateway, type Gateway, type GatewayRule } from '../../../helpers/emulators/gateway.js';
import { MapResolver, zoneToMap, type ZoneMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const Z = 'alice.example';
const WORLD: ZoneMap = { 'server1.host.example': { A: ['203.0.113.10'] }, 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.0.2.9 -all']] } };
const massEdit: GatewayRule['match'] = (q) => q.method === 'POST' && q.url.startsWith('/execute/DNS/mass_edit_zone');

interface Rig {
  state: CpState;
  gw: Gateway;
  store: Store;
  clock: { now: number };
  panel: CpanelPanel;
  direct: CpanelPanel;
  deps(panel: CpanelPanel): ApplyDeps;
  close(): Promise<void>;
}

async function rig(rules: GatewayRule[]): Promise<Rig> {
  const state = makeCpState();
  const srv = await startCpanelServer(state);
  const gw = await startGateway(srv.url, rules);
  const tmp = mkdtempSync(join(tmpdir(), 'mh-cpanel-gateway-'));
  const clock = { now: 0 };
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => clock.now });
  const make = (url: string) => new CpanelPanel({ transport: new UapiHttp(new PanelHttpClient({ baseUrl: url, label: 'cPanel', headers: { authorization: 'cpanel alice:tok-alice' } })), user: 'alice' });
  const direct = make(srv.url);
  // Live DNS is the zone as cPanel holds it now (read straight from the emulator, not through the gateway).
  const resolver: Resolver = { resolve: async (name, type) => new MapResolver({ ...WORLD, ...zoneToMap(await direct.readZone(Z)) }).resolve(name, type) } as Resolver;
  return {
    state,
    gw,
    store,
    clock,
    panel: make(gw.url),
    direct,
    deps: (panel) => ({ panel, resolver, history: store, byUser: 'alice', now: () => new Date(0) }),
    close: async () => {
      store.close();
      await gw.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const spfValues = (state: CpState) => zoneView(state, Z).filter((r) => r.type === 'TXT' && r.name === Z && r.data.join('').startsWith('v=spf1')).map((r) => r.data.join(''));

async function applySpf(r: Rig) {
  const plan = await makePlan({ domain: Z, check: 'spf' }, r.deps(r.panel));
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value}`), [`edit ${SPF}`]);
  const written = plan.changes[0].after!.value;
  return { out: await applyPlan({ domain: Z, check: 'spf', planHash: plan.planHash }, r.deps(r.panel)), written };
}

describe('cPanel: mass_edit_zone answered by a gateway is no-answer, settled from the zone', () => {
  it('504 at once, cPanel saves a moment later: the intent stays open; reconcile finds it applied; one SPF record; undo works', async () => {
    const r = await rig([{ match: massEdit, forward: 'defer', status: 504 }]);
    try {
      const { out, written } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /did not answer the write itself \(HTTP 504 from a gateway.*not known yet/);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      assert.deepEqual(spfValues(r.state), [SPF], 'not saved yet');
      await r.gw.flush(); // cPanel finishes the save after the proxy gave up
      assert.deepEqual(spfValues(r.state), [written]);
      assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id: out.changeId!, outcome: 'skipped: a fix on this domain is running' }]);
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id: out.changeId!, outcome: 'applied' }]);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'applied');
      const undone = await undoChange(out.changeId!, r.deps(r.panel));
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('502 and the save never happens: no-answer too; reconcile finds nothing written (failed), the zone untouched', async () => {
    const r = await rig([{ match: massEdit, forward: 'never', status: 502 }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      const id = (out as { changeId: number }).changeId;
      assert.equal(r.store.getChange(id)!.status, 'intent');
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id, outcome: 'not-written' }]);
      assert.equal(r.store.getChange(id)!.status, 'failed');
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('a 200 whose body is no UAPI envelope (after the save): no-answer, not "unexpected answer"', async () => {
    const r = await rig([{ match: massEdit, forward: 'after', status: 200, body: '<html>Please wait…</html>' }]);
    try {
      const z = await r.panel.readZone(Z);
      const spf = z.records.find((x) => x.type === 'TXT' && x.name === Z && x.value === SPF)!;
      const change: Change = { action: 'edit', name: Z, type: 'TXT', ttl: spf.ttl, before: spf, after: { name: Z, ttl: spf.ttl, type: 'TXT', value: 'v=spf1 -all', txt: ['v=spf1 -all'] } };
      await rejectsWith(r.panel.applyChanges(Z, [change], z.version), 'no-answer', /HTTP 200/);
      assert.deepEqual(spfValues(r.state), ['v=spf1 -all']);
    } finally {
      await r.close();
    }
  });

  it('reads stay errors: a 504 to parse_zone is not no-answer', async () => {
    const r = await rig([{ match: (q) => q.url.startsWith('/execute/DNS/parse_zone'), forward: 'never', status: 504 }]);
    try {
      await rejectsWith(r.panel.readZone(Z), 'other', /HTTP 504/);
    } finally {
      await r.close();
    }
  });
});

describe('cPanel: a refusal stays a refusal', () => {
  it('a 4xx from the proxy (never forwarded): failed at once, settled, nothing written', async () => {
    const r = await rig([{ match: massEdit, forward: 'never', status: 413, body: '<html>413 Request Entity Too Large</html>' }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /HTTP 413/);
      assert.doesNotMatch(out.reason, /not known yet/);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'failed');
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('cPanel’s own error envelope with a 500: a refusal (its errors named), not no-answer', async () => {
    const r = await rig([{ match: massEdit, forward: 'never', status: 500, contentType: 'application/json', body: JSON.stringify({ status: 0, data: null, errors: ['Internal server error'], messages: null, metadata: {}, warnings: null }) }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /Internal server error/);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'failed');
    } finally {
      await r.close();
    }
  });
});

describe('cPanel: a local `uapi` killed before it exited is no-answer', () => {
  it('killed after mass_edit_zone saved: no-answer (not "failed"); the zone holds the change', async () => {
    const state = makeCpState();
    const bins = installFakeBins(state);
    try {
      const read = new CpanelPanel({ transport: new UapiCli(bins.path('uapi')), user: 'alice' });
      const panel = new CpanelPanel({ transport: new UapiCli(killedAfter(bins, 'uapi', 'mass_edit_zone')), user: 'alice' });
      const z = await read.readZone(Z);
      const spf = z.records.find((x) => x.type === 'TXT' && x.name === Z && x.value === SPF)!;
      const change: Change = { action: 'edit', name: Z, type: 'TXT', ttl: spf.ttl, before: spf, after: { name: Z, ttl: spf.ttl, type: 'TXT', value: 'v=spf1 -all', txt: ['v=spf1 -all'] } };
      await rejectsWith(panel.applyChanges(Z, [change], z.version), 'no-answer', /did not answer: killed by SIGTERM/);
      assert.ok((await read.readZone(Z)).records.some((x) => x.type === 'TXT' && x.value === 'v=spf1 -all'));
      // A read through the same wrapper is not killed (it kills on mass_edit_zone only) and answers as before.
      assert.equal((await panel.readZone(Z)).domain, Z);
    } finally {
      rmSync(bins.dir, { recursive: true, force: true });
    }
  });
});
