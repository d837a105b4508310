// cPanel or WHM behind a proxy: the zone write (`DNS::mass_edit_zone` over UAPI, `mass_edit_dns_zone` over WHM API 1)
// answered 502/503/504 by the proxy (or with a body that is no API envelope) may still be saved by the panel after the
// proxy gave up. That is no-answer: the intent stays open and the domain locked, and reconcile settles it from the zone
// once the lock runs out — applied when the save landed, and the fix can then be undone. A 4xx, or the panel's own
// error envelope, stays a refusal. The same for a local `uapi` / `whmapi1` killed before it exited. Loopback emulator
// + gateway; cpanel.md §2, §4 (cPanel), §6 (WHM); README "never lose a record".
//
// gatewaySuite(family) registers those tests for one of the two; test/adapters/panels/{cpanel,whm}/gateway.test.ts
// each call it. gatewayRig and settledAppliedThenUndone serve Plesk's gateway test as well.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange, type ApplyDeps } from '../../src/core/plans/apply.js';
import { makePlan } from '../../src/core/plans/index.js';
import { installFakeBins, killedAfter } from './emulators/bins.js';
import { makeCpState, zoneView, type CpState, type RunningServer } from './emulators/cpanel.js';
import { SPF } from './emulators/fixture.js';
import { startGateway, type Gateway, type GatewayRule } from './emulators/gateway.js';
import { MapResolver, zoneToMap, type ZoneMap } from './map-resolver.js';
import { rejectsWith } from './panel-errors.js';

/** What the SPF fix resolves beyond the domain's own zone: the server's address and the old host's include. */
export const SPF_WORLD: ZoneMap = { 'server1.host.example': { A: ['203.0.113.10'] }, 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.0.2.9 -all']] } };

/** A panel emulator behind a gateway, and a history store on a clock the test moves (to run a domain's lock out). */
export interface GatewayRig<S, P extends Panel> {
  state: S;
  gw: Gateway;
  store: Store;
  clock: { now: number };
  /** The panel through the gateway. */
  panel: P;
  /** The panel straight to the emulator (settling later, when the gateway is fine again). */
  direct: P;
  close(): Promise<void>;
}

/** Start the emulator for `state` behind a gateway with `rules`, and a store in a temp dir; `panel` makes the panel for a base URL. */
export async function gatewayRig<S, P extends Panel>(o: { state: S; start(state: S): Promise<RunningServer>; rules: GatewayRule[]; tmpName: string; panel(baseUrl: string): P }): Promise<GatewayRig<S, P>> {
  const srv = await o.start(o.state);
  const gw = await startGateway(srv.url, o.rules);
  const tmp = mkdtempSync(join(tmpdir(), `mh-${o.tmpName}-gateway-`));
  const clock = { now: 0 };
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => clock.now });
  return {
    state: o.state,
    gw,
    store,
    clock,
    panel: o.panel(gw.url),
    direct: o.panel(srv.url),
    close: async () => {
      store.close();
      await gw.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * The write whose answer the gateway lost did land: reconcile leaves the open change alone while the domain's lock
 * holds, settles it as applied once the lock has run out, and the fix can then be undone — the old SPF record back.
 */
export async function settledAppliedThenUndone<P extends Panel>(r: GatewayRig<unknown, P> & { deps(panel: P): ApplyDeps }, changeId: number, spfValues: () => string[]): Promise<void> {
  assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id: changeId, outcome: 'skipped: a fix on this domain is running' }]);
  r.clock.now += LOCK_TTL_MS + 1;
  assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id: changeId, outcome: 'applied' }]);
  assert.equal(r.store.getChange(changeId)!.status, 'applied');
  const undone = await undoChange(changeId, r.deps(r.panel));
  assert.equal(undone.status, 'applied', JSON.stringify(undone));
  assert.deepEqual(spfValues(), [SPF]);
}

/** What sets cPanel (UAPI) and WHM (WHM API 1) apart in gatewaySuite: names, paths, the panel's own error, how to reach it. */
export interface GatewayFamily {
  /** As the panel is named in the test names: 'cPanel', 'WHM'. */
  label: string;
  /** The zone write and read by their API function names, the URL path before them, and the envelope's name. */
  api: { path: string; write: string; read: string; envelope: string };
  /** The panel's own error envelope saying 'Internal server error' (the body of a 500), and what of it the refusal names. */
  ownError: { body: string; named: string };
  /** Who makes the fixes (the user the panel is reached as). */
  byUser: string;
  start(state: CpState): Promise<RunningServer>;
  /** The panel over HTTP to `baseUrl`, with the user's API token. */
  http(baseUrl: string): Panel;
  /** The local executable, and the panel over the one at `path`. */
  cli: { bin: 'uapi' | 'whmapi1'; panel(path: string): Panel };
}

const Z = 'alice.example';

/** Registers the gateway and killed-executable tests (see the top of this file) for cPanel or WHM. */
export function gatewaySuite(f: GatewayFamily): void {
  const { label, api } = f;
  const massEdit: GatewayRule['match'] = (q) => q.method === 'POST' && q.url.startsWith(api.path + api.write);

  type Rig = GatewayRig<CpState, Panel> & { deps(panel: Panel): ApplyDeps };

  async function rig(rules: GatewayRule[]): Promise<Rig> {
    const base = await gatewayRig({ state: makeCpState(), start: f.start, rules, tmpName: label.toLowerCase(), panel: f.http });
    // Live DNS is the zone as the panel holds it now (read straight from the emulator, not through the gateway).
    const resolver: Resolver = { resolve: async (name, type) => new MapResolver({ ...SPF_WORLD, ...zoneToMap(await base.direct.readZone(Z)) }).resolve(name, type) } as Resolver;
    return { ...base, deps: (panel) => ({ panel, resolver, history: base.store, byUser: f.byUser, now: () => new Date(0) }) };
  }

  const spfValues = (state: CpState) => zoneView(state, Z).filter((r) => r.type === 'TXT' && r.name === Z && r.data.join('').startsWith('v=spf1')).map((r) => r.data.join(''));

  async function applySpf(r: Rig) {
    const plan = await makePlan({ domain: Z, check: 'spf' }, r.deps(r.panel));
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value}`), [`edit ${SPF}`]);
    const written = plan.changes[0].after!.value;
    return { out: await applyPlan({ domain: Z, check: 'spf', planHash: plan.planHash }, r.deps(r.panel)), written };
  }

  describe(`${label}: ${api.write} answered by a gateway is no-answer, settled from the zone`, () => {
    it(`504 at once, ${label} saves a moment later: the intent stays open; reconcile finds it applied; one SPF record; undo works`, async () => {
      const r = await rig([{ match: massEdit, forward: 'defer', status: 504 }]);
      try {
        const { out, written } = await applySpf(r);
        assert.equal(out.status, 'failed', JSON.stringify(out));
        if (out.status !== 'failed') return;
        assert.match(out.reason, /did not answer the write itself \(HTTP 504 from a gateway.*not known yet/);
        assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
        assert.deepEqual(spfValues(r.state), [SPF], 'not saved yet');
        await r.gw.flush(); // the panel finishes the save after the proxy gave up
        assert.deepEqual(spfValues(r.state), [written]);
        await settledAppliedThenUndone(r, out.changeId!, () => spfValues(r.state));
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

    it(`a 200 whose body is no ${api.envelope} envelope (after the save): no-answer, not "unexpected answer"`, async () => {
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

    it(`reads stay errors: a 504 to ${api.read} is not no-answer`, async () => {
      const r = await rig([{ match: (q) => q.url.startsWith(api.path + api.read), forward: 'never', status: 504 }]);
      try {
        await rejectsWith(r.panel.readZone(Z), 'other', /HTTP 504/);
      } finally {
        await r.close();
      }
    });
  });

  describe(`${label}: a refusal stays a refusal`, () => {
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

    it(`${label}’s own error envelope with a 500: a refusal (${f.ownError.named}), not no-answer`, async () => {
      const r = await rig([{ match: massEdit, forward: 'never', status: 500, contentType: 'application/json', body: f.ownError.body }]);
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

  describe(`${label}: a local \`${f.cli.bin}\` killed before it exited is no-answer`, () => {
    it(`killed after ${api.write} saved: no-answer (not "failed"); the zone holds the change`, async () => {
      const state = makeCpState();
      const bins = installFakeBins(state);
      try {
        const read = f.cli.panel(bins.path(f.cli.bin));
        const panel = f.cli.panel(killedAfter(bins, f.cli.bin, api.write));
        const z = await read.readZone(Z);
        const spf = z.records.find((x) => x.type === 'TXT' && x.name === Z && x.value === SPF)!;
        const change: Change = { action: 'edit', name: Z, type: 'TXT', ttl: spf.ttl, before: spf, after: { name: Z, ttl: spf.ttl, type: 'TXT', value: 'v=spf1 -all', txt: ['v=spf1 -all'] } };
        await rejectsWith(panel.applyChanges(Z, [change], z.version), 'no-answer', /did not answer: killed by SIGTERM/);
        assert.ok((await read.readZone(Z)).records.some((x) => x.type === 'TXT' && x.value === 'v=spf1 -all'));
        // A read through the same wrapper is not killed (it kills on the zone write only) and answers as before.
        assert.equal((await panel.readZone(Z)).domain, Z);
      } finally {
        rmSync(bins.dir, { recursive: true, force: true });
      }
    });
  });
}
