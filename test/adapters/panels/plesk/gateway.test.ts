// Plesk behind its gateway (nginx in front of PHP on :8443): a `plesk bin dns` call over REST answered 502/503/504 may
// still have been made — PHP goes on after nginx gives up. Such a step is no-answer: nothing more is written (no
// further step, no undo), the intent stays open and the domain locked, and reconcile settles it from the zone once the
// lock runs out. The zone never ends with the old and the new SPF record side by side because of our rollback.
// A 4xx, or Plesk's own error answer, stays a refusal (the steps taken are undone). The same for a local `plesk`
// killed before it exited. Loopback emulator + gateway; plesk.md §1.4, §1.5, §2.1; README "never lose a record".
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ZoneRecord } from '../../../../src/core/model.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskLocalCli, PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { applyPlan, LOCK_TTL_MS, reconcile, type ApplyDeps } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { installFakeBins, killedAfter } from '../../../helpers/emulators/bins.js';
import { SPF } from '../../../helpers/emulators/fixture.js';
import type { GatewayRequest, GatewayRule } from '../../../helpers/emulators/gateway.js';
import { addPleskAlias, liveOf, makePleskState, recordsOf, startPleskServer, type PleskState } from '../../../helpers/emulators/plesk.js';
import { gatewayRig, settledAppliedThenUndone, SPF_WORLD, type GatewayRig } from '../../../helpers/gateway-suite.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

interface Rig extends GatewayRig<PleskState, PleskPanel> {
  deps(panel: PleskPanel, domain?: string): ApplyDeps;
}

async function rig(rules: GatewayRule[], tweak?: (s: PleskState) => void): Promise<Rig> {
  const state = makePleskState();
  tweak?.(state);
  const make = (url: string) => {
    const rest = new PanelHttpClient({ baseUrl: url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    return new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null });
  };
  const base = await gatewayRig({ state, start: startPleskServer, rules, tmpName: 'plesk', panel: make });
  return { ...base, deps: (panel, domain = 'bob.example') => ({ panel, resolver: liveOf(state, domain, SPF_WORLD), history: base.store, byUser: 'root', now: () => new Date(0) }) };
}

/** A `dns` call over REST whose first parameter is `action` (and, if given, whose value is `value`). */
const dnsCall =
  (action: '--add' | '--del', value?: string) =>
  (r: GatewayRequest): boolean => {
    if (r.method !== 'POST' || !r.url.startsWith('/api/v2/cli/dns/call')) return false;
    const params = (JSON.parse(r.body) as { params: string[] }).params;
    return params[0] === action && (value === undefined || params.includes(value));
  };
const spfValues = (state: PleskState, d = 'bob.example') => recordsOf(state, d).filter((r) => r.type === 'TXT' && r.host === `${d}.` && r.value.startsWith('v=spf1')).map((r) => r.value).sort();
const dnsCalls = (state: PleskState) => state.calls.filter((c) => c.startsWith('bin:dns')).map((c) => c.replace(/ -ttl \d+$/, ''));

/** Plan and apply the SPF fix of bob.example through the gateway: one edit of its SPF record, to `written`. */
async function applySpf(r: Rig) {
  const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, r.deps(r.panel));
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value}`), [`edit ${SPF}`]);
  const written = plan.changes[0].after!.value;
  assert.notEqual(written, SPF);
  r.state.calls.length = 0;
  return { out: await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, r.deps(r.panel)), written };
}

describe('Plesk: a dns call answered by the gateway (502/503/504) is no-answer — nothing more written, settled from the zone', () => {
  it('504 on `--add` after Plesk added the record: no rollback (no old record re-added), one SPF record; settled as applied; undo works', async () => {
    const r = await rig([{ match: dnsCall('--add'), forward: 'after', status: 504 }]);
    try {
      const { out, written } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /did not answer the write itself \(HTTP 504 from a gateway.*not known yet/);
      assert.deepEqual(r.gw.picked.length, 1);
      // Nothing after the call whose answer was lost: no `--add` of the old record.
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `, `bin:dns --add bob.example -txt ${written} -domain `]);
      assert.deepEqual(spfValues(r.state), [written]);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      await settledAppliedThenUndone(r, out.changeId!, () => spfValues(r.state));
    } finally {
      await r.close();
    }
  });

  it('504 on `--del` after Plesk deleted the record: not taken for "already gone" (stale); nothing more sent; reconcile puts the old record back', async () => {
    const r = await rig([{ match: dnsCall('--del', SPF), forward: 'after', status: 504 }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /not known yet/);
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), []);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id: out.changeId!, outcome: 'restored' }]);
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('502 on `--add` that never reached Plesk: still no undo from here; reconcile finds the write part-done and puts the old record back', async () => {
    const r = await rig([{ match: dnsCall('--add'), forward: 'never', status: 502 }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `]);
      const id = (out as { changeId: number }).changeId;
      assert.equal(r.store.getChange(id)!.status, 'intent');
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.direct)), [{ id, outcome: 'restored' }]);
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('503 answered with a body that is no `cli/call` answer, and a 200 without the exit code: no-answer at the transport', async () => {
    const r = await rig([
      { match: dnsCall('--add', 'a'), forward: 'after', status: 503, contentType: 'application/json', body: '{"error":"upstream"}' },
      { match: dnsCall('--add', 'b'), forward: 'after', status: 200, contentType: 'application/json', body: '{}' },
    ]);
    try {
      const cli = new PleskRestCli(new PanelHttpClient({ baseUrl: r.gw.url, label: 'Plesk', headers: { 'x-api-key': r.state.apiKey } }));
      await rejectsWith(cli.run('dns', ['--add', 'bob.example', '-txt', 'a', '-domain', 'x']), 'no-answer', /HTTP 503/);
      await rejectsWith(cli.run('dns', ['--add', 'bob.example', '-txt', 'b', '-domain', 'y']), 'no-answer', /HTTP 200/);
      assert.deepEqual(recordsOf(r.state, 'bob.example').filter((x) => ['a', 'b'].includes(x.value)).map((x) => x.host), ['x.bob.example.', 'y.bob.example.']);
    } finally {
      await r.close();
    }
  });

  it('a domain alias (REST records): 504 on the POST of the new record after Plesk stored it → no-answer, no DELETE sent; reconcile leaves one SPF record', async () => {
    const A = 'alice-alias.example';
    const r = await rig([{ match: (q) => q.method === 'POST' && q.url.startsWith('/api/v2/dns/records'), forward: 'after', status: 504 }], (s) => addPleskAlias(s, 'alice.example', { name: A }));
    try {
      const plan = await makePlan({ domain: A, check: 'spf' }, r.deps(r.panel, A));
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value}`), [`edit ${SPF}`]);
      r.state.calls.length = 0;
      const out = await applyPlan({ domain: A, check: 'spf', planHash: plan.planHash }, r.deps(r.panel, A));
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /HTTP 504 from a gateway.*not known yet/);
      // The new record first (an alias's edit is add + delete): its POST landed, nothing was sent after it.
      assert.deepEqual(r.state.calls.filter((c) => c.includes('/dns/records') && !c.startsWith('GET')), [`POST /api/v2/dns/records?domain=${A}`]);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.direct, A)), [{ id: out.changeId!, outcome: 'restored' }]);
      assert.deepEqual(spfValues(r.state, A), [SPF]);
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: a refusal stays a refusal (the steps taken are undone, the fix fails, one SPF record)', () => {
  it('a 4xx from the gateway (the call never reached Plesk): the old record is put back at once; failed', async () => {
    const r = await rig([{ match: dnsCall('--add'), forward: 'never', status: 413, body: '<html>413 Request Entity Too Large</html>' }]);
    try {
      const { out, written } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /HTTP 413/);
      assert.doesNotMatch(out.reason, /not known yet/);
      assert.notEqual(r.store.getChange(out.changeId!)!.status, 'intent');
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `, `bin:dns --add bob.example -txt ${SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });

  it('Plesk’s own error answer with a 500 (`{code, message}`): a refusal, not no-answer', async () => {
    const r = await rig([{ match: dnsCall('--add'), forward: 'never', status: 500, contentType: 'application/json', body: '{"code":500,"message":"Internal error"}' }]);
    try {
      const { out } = await applySpf(r);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      assert.match((out as { reason: string }).reason, /HTTP 500: Internal error/);
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: a local `plesk` killed before it exited is no-answer', () => {
  it('killed after the `--add` went through: no rollback, the zone holds the new SPF record only', async () => {
    const NEW = 'v=spf1 ip4:203.0.113.11 ~all';
    const state = makePleskState();
    const bins = installFakeBins(state);
    const srv = await startPleskServer(state, bins.stateFile);
    try {
      const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
      const panel = new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskLocalCli(killedAfter(bins, 'plesk', '--add')), root: null });
      const z = await panel.readZone('bob.example');
      const spf = z.records.find((x) => x.type === 'TXT' && x.name === 'bob.example' && x.value === SPF)!;
      const after: ZoneRecord = { name: spf.name, ttl: spf.ttl, type: 'TXT', value: NEW, txt: [NEW] };
      await rejectsWith(panel.applyChanges('bob.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after }], z.version), 'no-answer', /did not answer: killed by SIGTERM/);
      const st = bins.read<PleskState>();
      assert.deepEqual(spfValues(st), [NEW]);
      assert.deepEqual(dnsCalls(st), [`bin:dns --del bob.example -txt ${SPF} -domain `, `bin:dns --add bob.example -txt ${NEW} -domain `]);
    } finally {
      await srv.close();
      rmSync(bins.dir, { recursive: true, force: true });
    }
  });
});
