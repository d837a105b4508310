// The Plesk fix path end to end (core plan → apply → reconcile → undo over the emulator on loopback): a DKIM selector
// that is a CNAME, a write whose answer is lost mid-way, a record someone else deletes while we write, and IDN
// domains Plesk knows by their Unicode name. plesk.md §1.2, §2.1, §4; README "Choices made where the issues were silent".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError, PartialWriteError } from '../../../../src/core/panel.js';
import { canonName } from '../../../../src/core/domain.js';
import { PanelHttpClient, type CommandResult } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli, type PleskCliTransport } from '../../../../src/adapters/panels/plesk/index.js';
import { openStore, type Store } from '../../../../src/adapters/store/store.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange, type ApplyDeps } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { auditDomain } from '../../../../src/core/audit.js';
import type { RunningServer } from '../../../helpers/emulators/cpanel.js';
import { SPF } from '../../../helpers/emulators/fixture.js';
import { addPleskAlias, liveOf, makePleskState, recordsOf, startPleskServer, writePleskKeys, type PleskState } from '../../../helpers/emulators/plesk.js';
import { type ZoneMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const FIXED = () => new Date(0);
const OLD_CNAME = 'default._domainkey.oldhost.example.';
// What the SPF fix writes for bob.example: the stale include dropped, its outbound IP added; +a and +mx stay — bob.example
// and mail.bob.example point at the server's main IP (its host name's address), this server's though bob sends from .11.
const NEW_SPF = 'v=spf1 +a +mx ip4:203.0.113.11 ~all';
const OTHER_SPF = 'v=spf1 +a +mx include:_spf.oldhost.example -all';

interface Rig {
  state: PleskState;
  srv: RunningServer;
  rest: PanelHttpClient;
  store: Store;
  /** The history's clock (ms): move it past LOCK_TTL_MS to let a kept lock run out. */
  clock: { now: number };
  panel(opts?: { root?: string | null; cli?: (inner: PleskCliTransport) => PleskCliTransport }): PleskPanel;
  deps(panel: PleskPanel, extra?: ZoneMap, domain?: string): ApplyDeps;
  close(): Promise<void>;
}

async function rig(tweak?: (s: PleskState) => void): Promise<Rig> {
  const state = makePleskState();
  tweak?.(state);
  const srv = await startPleskServer(state);
  const tmp = mkdtempSync(join(tmpdir(), 'mh-plesk-fixpath-'));
  const clock = { now: 0 };
  const store = openStore(join(tmp, 'h.sqlite'), { now: () => clock.now });
  const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
  return {
    state,
    srv,
    rest,
    store,
    clock,
    panel: (opts = {}) => {
      const inner = new PleskRestCli(rest);
      return new PleskPanel({ rest, apiKey: state.apiKey, cli: opts.cli ? opts.cli(inner) : inner, root: opts.root ?? null });
    },
    deps: (panel, extra = {}, domain = 'bob.example') => ({ panel, resolver: liveOf(state, domain, extra), history: store, byUser: 'root', now: FIXED }),
    close: async () => {
      store.close();
      await srv.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}


/** What the SPF fix of bob.example needs from the world (this server's A, the stale include's record). */
const SPF_WORLD: ZoneMap = { 'server1.host.example': { A: ['203.0.113.10'] }, 'websitewelcome.com': { TXT: [['v=spf1 ip4:192.0.2.9 -all']] }, '_spf.oldhost.example': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] } };

const spfValues = (state: PleskState, d = 'bob.example') => recordsOf(state, d).filter((r) => r.type === 'TXT' && r.host === `${d}.` && r.value.startsWith('v=spf1')).map((r) => r.value).sort();
const dnsCalls = (state: PleskState) => state.calls.filter((c) => c.startsWith('bin:dns')).map((c) => c.replace(/ -ttl \d+$/, ''));
const domainId = (state: PleskState, d: string) => state.domains.find((x) => x.name === d)!.id;

/** Put a CNAME at default._domainkey.<d> in place of its TXT key (the selector still points at the old host). */
function cnameSelector(state: PleskState, d: string, zoneId = domainId(state, d)): void {
  state.records = state.records.filter((r) => !(r.domain_id === zoneId && r.host === `default._domainkey.${d}.`));
  state.records.push({ id: state.nextId++, domain_id: zoneId, type: 'CNAME', host: `default._domainkey.${d}.`, value: OLD_CNAME, opt: '', ttl: 3600 });
}
const OLD_HOST_KEY: ZoneMap = { 'default._domainkey.oldhost.example': { TXT: [['v=DKIM1; k=rsa; p=AAAA']] } };

describe('Plesk: a DKIM selector that is a CNAME is replaced by the server’s key (README "Aliases")', () => {
  it('key file known: the CNAME is deleted (dns --del -cname) before the TXT is added; undo puts the alias back', async () => {
    const r = await rig((s) => cnameSelector(s, 'bob.example'));
    try {
      const root = mkdtempSync(join(tmpdir(), 'mh-plesk-root-'));
      writePleskKeys(r.state, root, ['bob.example']);
      const panel = r.panel({ root });
      const deps = r.deps(panel, OLD_HOST_KEY);
      const plan = await makePlan({ domain: 'bob.example', check: 'dkim' }, deps);
      assert.equal(plan.blocked, undefined);
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.type}`), ['add TXT', 'remove CNAME']);
      const out = await applyPlan({ domain: 'bob.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      const at = () => recordsOf(r.state, 'bob.example').filter((x) => x.host === 'default._domainkey.bob.example.');
      assert.deepEqual(at().map((x) => `${x.type} ${x.value}`), [`TXT v=DKIM1; k=rsa; p=${r.state.dkim.publicKey}`]);
      // The alias goes first: the name never holds a CNAME beside a TXT (an invalid zone).
      assert.deepEqual(dnsCalls(r.state), [
        'bin:dns --del bob.example -cname default._domainkey -canonical default._domainkey.oldhost.example',
        `bin:dns --add bob.example -txt v=DKIM1; k=rsa; p=${r.state.dkim.publicKey} -domain default._domainkey`,
      ]);
      r.state.calls.length = 0;
      const undone = await undoChange((out as { changeId: number }).changeId, deps);
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(at().map((x) => `${x.type} ${x.value} ${x.ttl}`), [`CNAME ${OLD_CNAME} 3600`]);
      assert.deepEqual(dnsCalls(r.state), [
        `bin:dns --del bob.example -txt v=DKIM1; k=rsa; p=${r.state.dkim.publicKey} -domain default._domainkey`,
        'bin:dns --add bob.example -cname default._domainkey -canonical default._domainkey.oldhost.example',
      ]);
      rmSync(root, { recursive: true, force: true });
    } finally {
      await r.close();
    }
  });

  it('no key yet: the key is generated, signing turned on, and the CNAME replaced by the new key’s record', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-plesk-root-'));
    const r = await rig((s) => {
      cnameSelector(s, 'bob.example');
      s.mailPrefs['bob.example'].sign = false;
      s.root = root; // where Plesk writes the key it generates
    });
    try {
      const panel = r.panel({ root });
      const deps = r.deps(panel, OLD_HOST_KEY);
      const plan = await makePlan({ domain: 'bob.example', check: 'dkim' }, deps);
      assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
      const out = await applyPlan({ domain: 'bob.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.equal(r.state.mailPrefs['bob.example'].sign, true);
      const dk = recordsOf(r.state, 'bob.example').filter((x) => x.host.endsWith('_domainkey.bob.example.'));
      assert.deepEqual(dk.map((x) => `${x.type} ${x.host} ${x.value}`), [`TXT default._domainkey.bob.example. v=DKIM1; k=rsa; p=${r.state.dkim.publicKey}`]);
    } finally {
      await r.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('an alias’s CNAME goes through REST: DELETE by id before the POST of the TXT; a failed POST puts the CNAME back', async () => {
    const r = await rig((s) => {
      const a = addPleskAlias(s, 'alice.example', { name: 'alice-alias.example' });
      cnameSelector(s, 'alice-alias.example', a.id);
    });
    try {
      const real = r.rest.request.bind(r.rest);
      const writes: string[] = [];
      let refuse = true;
      r.rest.request = async (req) => {
        if (req.method === 'POST' && req.path === '/api/v2/dns/records') {
          const j = req.json as { type: string; value: string };
          writes.push(`POST ${j.type} ${j.value.slice(0, 20)}`);
          if (refuse && j.type === 'TXT') return { status: 400, json: { code: 400, message: 'injected failure' }, text: '' };
        }
        if (req.method === 'DELETE') writes.push(`DELETE ${req.path}`);
        return real(req);
      };
      const panel = r.panel();
      const key = (x: { host: string; type: string; value: string; ttl: number }) => `${x.host} ${x.type} ${x.ttl} ${canonName(x.value)}`;
      const before = recordsOf(r.state, 'alice-alias.example').map(key).sort();
      const z = await panel.readZone('alice-alias.example');
      const cname = z.records.find((x) => x.type === 'CNAME' && x.name === 'default._domainkey.alice-alias.example')!;
      const txt: ZoneRecord = { name: cname.name, ttl: 3600, type: 'TXT', value: `v=DKIM1; k=rsa; p=${r.state.dkim.publicKey}` };
      const changes: Change[] = [
        { action: 'add', name: txt.name, type: 'TXT', ttl: 3600, before: null, after: txt },
        { action: 'remove', name: cname.name, type: 'CNAME', ttl: cname.ttl, before: cname, after: null },
      ];
      await rejectsWith(panel.applyChanges('alice-alias.example', changes, z.version), 'other', /injected failure/);
      assert.deepEqual(writes, [`DELETE /api/v2/dns/records/${cname.ref}`, 'POST TXT v=DKIM1; k=rsa; p=MI', 'POST CNAME default._domainkey.o']);
      assert.deepEqual(recordsOf(r.state, 'alice-alias.example').map(key).sort(), before);
      refuse = false;
      const z2 = await panel.readZone('alice-alias.example');
      const cname2 = z2.records.find((x) => x.type === 'CNAME' && x.name === cname.name)!;
      await panel.applyChanges('alice-alias.example', [changes[0], { ...changes[1], before: cname2 }], z2.version);
      const at = recordsOf(r.state, 'alice-alias.example').filter((x) => x.host === 'default._domainkey.alice-alias.example.');
      assert.deepEqual(at.map((x) => x.type), ['TXT']);
      assert.ok(!r.state.calls.some((c) => c.startsWith('bin:')));
    } finally {
      await r.close();
    }
  });
});

/** A CLI transport whose `dns` call matching `when` gets no answer: after Plesk did it (`reached`), or before. */
const noAnswerOn =
  (when: (params: string[]) => boolean, reached: boolean) =>
  (inner: PleskCliTransport): PleskCliTransport => ({
    async run(utility: string, params: string[]): Promise<CommandResult> {
      if (utility === 'dns' && when(params)) {
        if (reached) await inner.run(utility, params);
        throw new PanelError('no-answer', 'Plesk at 127.0.0.1 did not answer (ETIMEDOUT): injected');
      }
      return inner.run(utility, params);
    },
  });

describe('Plesk: a write whose answer is lost (no-answer) writes nothing more; reconcile settles it from the zone', () => {
  it('the lost call had gone through: no rollback, the intent stays open and the domain locked; once the lock runs out reconcile finds it applied — one SPF record', async () => {
    const r = await rig();
    try {
      const panel = r.panel({ cli: noAnswerOn((p) => p[0] === '--add' && p[3] === NEW_SPF, true) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value} -> ${c.after?.value}`), [`edit ${SPF} -> ${NEW_SPF}`]);
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed');
      if (out.status !== 'failed') return;
      assert.match(out.reason, /did not answer .*not known yet/);
      // Nothing was written after the call that got no answer (no rollback re-adding the old record).
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `, `bin:dns --add bob.example -txt ${NEW_SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), [NEW_SPF]);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      assert.deepEqual(await reconcile(r.deps(r.panel(), SPF_WORLD)), [{ id: out.changeId!, outcome: 'skipped: a fix on this domain is running' }]);
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.panel(), SPF_WORLD)), [{ id: out.changeId!, outcome: 'applied' }]);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'applied');
      assert.deepEqual(spfValues(r.state), [NEW_SPF]);
    } finally {
      await r.close();
    }
  });

  it('the lost call had not reached Plesk: reconcile finds the write partly done and puts the old record back — one SPF record', async () => {
    const r = await rig();
    try {
      const panel = r.panel({ cli: noAnswerOn((p) => p[0] === '--add' && p[3] === NEW_SPF, false) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed');
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), []);
      r.clock.now += LOCK_TTL_MS + 1;
      const id = (out as { changeId: number }).changeId;
      assert.deepEqual(await reconcile(r.deps(r.panel(), SPF_WORLD)), [{ id, outcome: 'restored' }]);
      assert.deepEqual(spfValues(r.state), [SPF]);
      assert.equal(r.store.getChange(id)!.status, 'restored');
    } finally {
      await r.close();
    }
  });

  it('two SPF records (edit + remove), no answer on the add Plesk did make: reconcile puts the old records back, never old and new together', async () => {
    const r = await rig((s) => s.records.push({ id: s.nextId++, domain_id: domainId(s, 'bob.example'), type: 'TXT', host: 'bob.example.', value: OTHER_SPF, opt: '', ttl: 14400 }));
    try {
      const panel = r.panel({ cli: noAnswerOn((p) => p[0] === '--add', true) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      assert.deepEqual(plan.changes.map((c) => c.action), ['edit', 'remove']);
      const written = plan.changes[0].after!.value;
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed');
      assert.deepEqual(spfValues(r.state), [OTHER_SPF, written].sort(), 'nothing written after the lost answer');
      r.clock.now += LOCK_TTL_MS + 1;
      const id = (out as { changeId: number }).changeId;
      assert.deepEqual(await reconcile(r.deps(r.panel(), SPF_WORLD)), [{ id, outcome: 'restored' }]);
      assert.deepEqual(spfValues(r.state), [OTHER_SPF, SPF].sort());
    } finally {
      await r.close();
    }
  });

  it('an alias (REST): no answer to a POST → no-answer, nothing more sent; an undo step that gets no answer stops the undo', async () => {
    const r = await rig((s) => addPleskAlias(s, 'alice.example', { name: 'alice-alias.example' }));
    try {
      const real = r.rest.request.bind(r.rest);
      const writes: string[] = [];
      let lose: (m: string) => boolean = (m) => m === 'POST';
      r.rest.request = async (req) => {
        if (req.method === 'POST' && req.path === '/api/v2/dns/records') writes.push(`POST ${(req.json as { value: string }).value}`);
        if (req.method === 'DELETE') writes.push(`DELETE ${req.path}`);
        const res = await real(req);
        if (req.path.startsWith('/api/v2/dns/records') && lose(req.method ?? 'GET')) throw new PanelError('no-answer', 'Plesk at 127.0.0.1 did not answer: injected');
        return res;
      };
      const panel = r.panel();
      const z = await panel.readZone('alice-alias.example');
      const spf = z.records.find((x) => x.type === 'TXT' && x.name === 'alice-alias.example' && x.value === SPF)!;
      const after: ZoneRecord = { name: spf.name, ttl: spf.ttl, type: 'TXT', value: NEW_SPF };
      await rejectsWith(panel.applyChanges('alice-alias.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after }], z.version), 'no-answer');
      assert.deepEqual(writes, [`POST ${NEW_SPF}`]);
      // Now the add is answered, the delete of the old record fails, and the undo's DELETE of the new one gets no answer.
      const id = r.state.records.find((x) => x.value === NEW_SPF)!.id;
      r.state.records = r.state.records.filter((x) => x.id !== id);
      writes.length = 0;
      const z2 = await panel.readZone('alice-alias.example');
      const spf2 = z2.records.find((x) => x.type === 'TXT' && x.value === SPF)!;
      let deletes = 0;
      r.rest.request = async (req) => {
        if (req.method === 'POST' && req.path === '/api/v2/dns/records') writes.push(`POST ${(req.json as { value: string }).value}`);
        if (req.method === 'DELETE') {
          writes.push(`DELETE ${req.path}`);
          if (++deletes === 1) return { status: 500, json: { code: 500, message: 'injected failure' }, text: '' };
          await real(req);
          throw new PanelError('no-answer', 'Plesk at 127.0.0.1 did not answer: injected');
        }
        return real(req);
      };
      lose = () => false;
      await rejectsWith(panel.applyChanges('alice-alias.example', [{ action: 'edit', name: spf2.name, type: 'TXT', ttl: spf2.ttl, before: spf2, after }], z2.version), 'no-answer', /injected failure; rolling back, removing alice-alias\.example TXT got no answer/);
      assert.equal(writes.length, 3);
    } finally {
      await r.close();
    }
  });
});

/** A CLI transport that lets `act` run (another admin's edit) just before the n-th `dns` call. */
const before =
  (n: number, act: () => void) =>
  (inner: PleskCliTransport): PleskCliTransport => {
    let i = 0;
    return {
      run(utility: string, params: string[]) {
        if (utility === 'dns' && ++i === n) act();
        return inner.run(utility, params);
      },
    };
  };
const deleteRecord = (state: PleskState, value: string) => () => {
  state.records = state.records.filter((x) => x.value !== value);
};

// `plesk bin dns --add` exits 2 when the record already exists (plesk.md §2.1, official: "treat as already present").
// The same record added by someone else between the re-read and the add failed the whole fix and rolled it back.
describe('Plesk: an add answered "already exists" (exit 2) is the record in place, as planned', () => {
  it('the fix is applied, nothing is rolled back, and the zone holds the new record once', async () => {
    const r = await rig();
    try {
      const cli = (inner: PleskCliTransport): PleskCliTransport => ({
        async run(utility: string, params: string[]): Promise<CommandResult> {
          if (utility === 'dns' && params[0] === '--add' && params[3] === NEW_SPF) {
            await inner.run(utility, params); // someone else's identical add, just before ours
            return { code: 2, stdout: '', stderr: 'Unable to add DNS record: record already exists' };
          }
          return inner.run(utility, params);
        },
      });
      const deps = r.deps(r.panel({ cli }), SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `, `bin:dns --add bob.example -txt ${NEW_SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), [NEW_SPF]);
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: a record someone else deletes while we write stays deleted (nothing re-added; refused, not "restored")', () => {
  it('adapter: a `dns --del` that finds no such record → stale (it deleted nothing); one failing with the record there → other', async () => {
    const r = await rig();
    try {
      const z = await r.panel().readZone('bob.example');
      const spf = z.records.find((x) => x.type === 'TXT' && x.value === SPF)!;
      const change: Change = { action: 'remove', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after: null };
      const gone = r.panel({ cli: before(1, deleteRecord(r.state, SPF)) });
      const e = await rejectsWith(gone.applyChanges('bob.example', [change], z.version), 'stale', /no longer in the zone/);
      assert.ok(e instanceof PartialWriteError && e.leftWritten.length === 0);
      const z2 = await r.panel().readZone('bob.example');
      const lock = z2.records.find((x) => x.name === '_mailchannels.bob.example')!;
      const refusing = r.panel({ cli: () => ({ run: async () => ({ code: 1, stdout: '', stderr: 'injected failure' }) }) });
      await rejectsWith(refusing.applyChanges('bob.example', [{ action: 'remove', name: lock.name, type: 'TXT', ttl: lock.ttl, before: lock, after: null }], z2.version), 'other', /injected failure/);
    } finally {
      await r.close();
    }
  });

  it('one SPF record, deleted by another admin just before our `dns --del`: refused with the new plan; nothing written, the record stays deleted', async () => {
    const r = await rig();
    try {
      const panel = r.panel({ cli: before(1, deleteRecord(r.state, SPF)) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'refused', JSON.stringify(out));
      if (out.status !== 'refused') return;
      assert.equal(out.why, 'changed');
      assert.ok(out.newPlan);
      assert.deepEqual(dnsCalls(r.state), [`bin:dns --del bob.example -txt ${SPF} -domain `]);
      assert.deepEqual(spfValues(r.state), []);
      const [ch] = r.store.changesForDomain('bob.example');
      assert.equal(ch.status, 'failed');
      assert.match(ch.error ?? '', /^refused: .*no longer in the zone/);
      assert.doesNotMatch(ch.error ?? '', /restored/);
      assert.deepEqual(r.store.pendingIntents(), []);
    } finally {
      await r.close();
    }
  });

  it('two SPF records, the second deleted by another admin mid-write: our own steps are undone, the other admin’s delete stays; refused', async () => {
    const r = await rig((s) => s.records.push({ id: s.nextId++, domain_id: domainId(s, 'bob.example'), type: 'TXT', host: 'bob.example.', value: OTHER_SPF, opt: '', ttl: 14400 }));
    try {
      // Steps: del A, add N, del B — B goes just before its delete.
      const panel = r.panel({ cli: before(3, deleteRecord(r.state, OTHER_SPF)) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      assert.deepEqual(plan.changes.map((c) => c.action), ['edit', 'remove']);
      const N = plan.changes[0].after!.value;
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'refused', JSON.stringify(out));
      assert.deepEqual(dnsCalls(r.state), [
        `bin:dns --del bob.example -txt ${SPF} -domain `,
        `bin:dns --add bob.example -txt ${N} -domain `,
        `bin:dns --del bob.example -txt ${OTHER_SPF} -domain `,
        `bin:dns --del bob.example -txt ${N} -domain `,
        `bin:dns --add bob.example -txt ${SPF} -domain `,
      ]);
      assert.deepEqual(spfValues(r.state), [SPF], 'A is back (we removed it), B stays deleted (another admin did)');
      const [ch] = r.store.changesForDomain('bob.example');
      assert.equal(ch.status, 'failed');
      assert.match(ch.error ?? '', /^refused: /);
    } finally {
      await r.close();
    }
  });

  it('a genuine partial write (an undo step fails) beside another admin’s delete: only what this write left is put back', async () => {
    const r = await rig((s) => s.records.push({ id: s.nextId++, domain_id: domainId(s, 'bob.example'), type: 'TXT', host: 'bob.example.', value: OTHER_SPF, opt: '', ttl: 14400 }));
    try {
      // B is deleted by another admin just before our `--del B`; then the rollback's re-add of A fails once.
      let readds = 0;
      const panel = r.panel({
        cli: (inner) =>
          before(
            3,
            deleteRecord(r.state, OTHER_SPF),
          )({
            run: async (u, p) => (u === 'dns' && p[0] === '--add' && p[3] === SPF && ++readds === 1 ? { code: 1, stdout: '', stderr: 'injected failure' } : inner.run(u, p)),
          }),
      });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /rolling back failed: restoring bob\.example TXT .*put back/);
      assert.deepEqual(spfValues(r.state), [SPF], 'A put back (this write removed it); B not re-added');
      const ch = r.store.getChange(out.changeId!)!;
      assert.equal(ch.status, 'restored');
      assert.match(ch.error ?? '', /put back what this write had left \(removed bob\.example TXT "v=spf1 \+a \+mx include:websitewelcome\.com ~all"\); nothing else was written/);
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: an undo whose write fails part-way is settled like a fix (QA: the domain was left without SPF)', () => {
  it('two refused adds during the undo: the record the undo removed is put back, the change stays undoable, and undo then works', async () => {
    const r = await rig();
    try {
      let refuse = 0;
      const panel = r.panel({ cli: (inner) => ({ run: async (u, p) => (u === 'dns' && p[0] === '--add' && refuse > 0 && refuse-- ? { code: 1, stdout: '', stderr: 'Unable to update DNS zone: temporary failure' } : inner.run(u, p)) }) });
      const deps = r.deps(panel, SPF_WORLD);
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      const applied = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(applied.status, 'applied', JSON.stringify(applied));
      if (applied.status !== 'applied') return;
      assert.deepEqual(spfValues(r.state), [NEW_SPF]);
      // The undo deletes NEW_SPF, its add of SPF is refused, and so is the adapter's own re-add of NEW_SPF.
      refuse = 2;
      const failed = await undoChange(applied.changeId, deps);
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      if (failed.status !== 'failed') return;
      assert.deepEqual(spfValues(r.state), [NEW_SPF], 'the fix’s record is back: the domain keeps an SPF record');
      assert.match(failed.reason, /put back/);
      assert.equal(r.store.getChange(failed.changeId!)!.status, 'restored');
      const orig = r.store.getChange(applied.changeId)!;
      assert.equal(orig.status, 'applied');
      assert.equal(orig.undoneBy, null);
      // Plesk works again: the change is still undoable, and the undo lands.
      const undone = await undoChange(applied.changeId, deps);
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(spfValues(r.state), [SPF]);
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: a record-by-record write that outlasts one lease keeps its domain (QA: two SPF records)', () => {
  it('each plesk bin step takes 70 s: the lease is renewed while the write runs, and a settler meanwhile leaves the domain alone', async () => {
    const r = await rig();
    try {
      let slow = false;
      let step = 0;
      let settler: { id: number; outcome: string }[] | null = null;
      const panel = r.panel({
        cli: (inner) => ({
          run: async (u, p) => {
            if (slow && u === 'dns') {
              step++;
              r.clock.now += 70_000; // this step takes 70 s of the history's clock…
              await new Promise((res) => setTimeout(res, 40)); // …during which the lease beats (every 5 ms here)
              if (step === 2) {
                // The service's settler runs while the fix's second step is in flight.
                settler = await reconcile({ panel: r.panel(), resolver: liveOf(r.state, 'bob.example', SPF_WORLD), history: r.store, byUser: 'service', now: FIXED }, 'while the service runs');
              }
            }
            return inner.run(u, p);
          },
        }),
      });
      const deps = { ...r.deps(panel, SPF_WORLD), leaseBeatMs: 5 };
      const plan = await makePlan({ domain: 'bob.example', check: 'spf' }, deps);
      slow = true;
      const out = await applyPlan({ domain: 'bob.example', check: 'spf', planHash: plan.planHash }, deps);
      assert.equal(step, 2, 'a delete and an add');
      assert.deepEqual(settler, [{ id: 1, outcome: 'skipped: a fix on this domain is running' }]);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.deepEqual(spfValues(r.state), [NEW_SPF], 'one SPF record, the fix’s');
    } finally {
      await r.close();
    }
  });
});

describe('Plesk: an IDN domain Plesk knows by its Unicode name is written by that name', () => {
  const idn = (s: PleskState) => {
    const dom = s.domains.find((d) => d.name === 'alice-shop.example')!;
    dom.name = 'bücher.example';
    dom.ascii_name = 'xn--bcher-kva.example';
    for (const x of s.records) if (x.domain_id === dom.id) x.host = x.host.replace('alice-shop.example', 'xn--bcher-kva.example');
    s.mailPrefs['bücher.example'] = s.mailPrefs['alice-shop.example'];
  };
  const d = 'xn--bcher-kva.example';

  it('a DMARC fix and its undo: `plesk bin dns <Unicode name>`, the record under the A-label', async () => {
    const r = await rig(idn);
    try {
      const panel = r.panel();
      const deps = r.deps(panel, {}, 'bücher.example');
      const plan = await makePlan({ domain: d, check: 'dmarc' }, deps);
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.name}`), [`add _dmarc.${d}`]);
      const out = await applyPlan({ domain: d, check: 'dmarc', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.ok(dnsCalls(r.state).every((c) => c.startsWith('bin:dns --add bücher.example -txt v=DMARC1')), JSON.stringify(dnsCalls(r.state)));
      const dmarc = () => recordsOf(r.state, 'bücher.example').filter((x) => x.host === `_dmarc.${d}.`);
      assert.equal(dmarc().length, 1);
      const undone = await undoChange((out as { changeId: number }).changeId, deps);
      assert.equal(undone.status, 'applied', JSON.stringify(undone));
      assert.deepEqual(dmarc(), []);
    } finally {
      await r.close();
    }
  });

  it('generating a DKIM key: `domain_pref --update <Unicode name>`; the records Plesk publishes (key and `_domainkey` policy, §4) are taken back, the plan publishes the key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-plesk-root-'));
    const r = await rig((s) => {
      idn(s);
      const id = domainId(s, 'bücher.example');
      s.records = s.records.filter((x) => !(x.domain_id === id && x.host === `default._domainkey.${d}.`));
      s.mailPrefs['bücher.example'] = { sign: false, mailservice: true };
      s.root = root;
    });
    try {
      const published: string[] = [];
      const panel = r.panel({
        root,
        cli: (inner) => ({
          async run(u, p) {
            const res = await inner.run(u, p);
            if (u === 'domain_pref') published.push(...recordsOf(r.state, 'bücher.example').filter((x) => x.host.endsWith(`_domainkey.${d}.`)).map((x) => `${x.host} ${x.value.slice(0, 8)}`));
            return res;
          },
        }),
      });
      const deps = r.deps(panel, {}, 'bücher.example');
      const plan = await makePlan({ domain: d, check: 'dkim' }, deps);
      assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
      const out = await applyPlan({ domain: d, check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      assert.ok(r.state.calls.includes('bin:domain_pref --update bücher.example -sign_outgoing_mail true'));
      assert.equal(r.state.mailPrefs['bücher.example'].sign, true);
      assert.deepEqual(published.sort(), [`_domainkey.${d}. o=-`, `default._domainkey.${d}. v=DKIM1;`]);
      const dk = recordsOf(r.state, 'bücher.example').filter((x) => x.host.endsWith(`_domainkey.${d}.`));
      assert.deepEqual(dk.map((x) => `${x.host} ${x.value}`), [`default._domainkey.${d}. v=DKIM1; k=rsa; p=${r.state.dkim.publicKey}`]);
    } finally {
      await r.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('Plesk: the key is published but DKIM signing is off — the fix turns it on (domain_pref -sign_outgoing_mail true)', () => {
  /** bob.example with its key file on the server (root), its key published, and signing off for it in Plesk. */
  async function signingOff(extra?: (s: PleskState) => void) {
    const root = mkdtempSync(join(tmpdir(), 'mh-plesk-root-'));
    const r = await rig((s) => {
      s.mailPrefs['bob.example'].sign = false;
      s.root = root;
      extra?.(s);
    });
    writePleskKeys(r.state, root, ['bob.example']);
    return { r, root, done: async () => (await r.close(), rmSync(root, { recursive: true, force: true })) };
  }
  const dkimFindings = async (r: Rig, panel: PleskPanel, domain = 'bob.example') =>
    (await auditDomain(domain, { panel, resolver: liveOf(r.state, domain), now: FIXED, checks: ['dkim'] })).findings;

  it('the audit offers the fix; the plan has one action and no record change; apply turns signing on, takes back the `_domainkey` record Plesk adds; audit again: ok', async () => {
    const { r, root, done } = await signingOff();
    try {
      const panel = r.panel({ root });
      assert.equal((await panel.readMailSettings('bob.example')).dkim.startSigning, 'switch');
      const off = (await dkimFindings(r, panel)).find((f) => f.rule === 'dkim.signing-off');
      assert.equal(off?.fix, 'dkim');
      const before = JSON.stringify(recordsOf(r.state, 'bob.example'));
      const deps = r.deps(panel);
      const plan = await makePlan({ domain: 'bob.example', check: 'dkim' }, deps);
      assert.equal(plan.blocked, undefined);
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
      const out = await applyPlan({ domain: 'bob.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      if (out.status !== 'applied') return;
      assert.equal(out.verified, 'yes');
      assert.ok(r.state.calls.includes('bin:domain_pref --update bob.example -sign_outgoing_mail true'));
      assert.equal(r.state.mailPrefs['bob.example'].sign, true);
      // Plesk published its `_domainkey` policy record when signing went on (§4): taken back, the zone as it was.
      assert.ok(r.state.calls.includes('bin:dns --del bob.example -txt o=- -domain _domainkey'), JSON.stringify(dnsCalls(r.state)));
      assert.equal(JSON.stringify(recordsOf(r.state, 'bob.example')), before);
      assert.deepEqual(r.store.getChange(out.changeId)!.changes, []);
      assert.deepEqual((await dkimFindings(r, panel)).map((f) => f.rule), ['dkim.ok']);
    } finally {
      await done();
    }
  });

  it("signing went on but taking Plesk's own `_domainkey` record back out got no answer: failed, naming the record to check — not left to be settled by whether the panel signs", async () => {
    const { r, root, done } = await signingOff();
    try {
      const deps = r.deps(r.panel({ root, cli: noAnswerOn((p) => p.includes('--del'), true) }));
      const plan = await makePlan({ domain: 'bob.example', check: 'dkim' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.reason, /could not be taken back out: it .*_domainkey.*no answer: check the zone for them/);
      assert.notEqual(r.store.getChange(out.changeId!)!.status, 'intent', 'settled now, not left open for reconcile');
    } finally {
      await done();
    }
  });

  it('domain_pref gets no answer: the intent stays open and the domain locked; once the lock runs out reconcile finds Plesk signing → applied', async () => {
    const { r, root, done } = await signingOff();
    try {
      const lost = (inner: PleskCliTransport): PleskCliTransport => ({
        async run(utility, params) {
          if (utility === 'domain_pref') {
            await inner.run(utility, params); // it went through; the answer was lost
            throw new PanelError('no-answer', 'Plesk at 127.0.0.1 did not answer (ETIMEDOUT): injected');
          }
          return inner.run(utility, params);
        },
      });
      const deps = r.deps(r.panel({ root, cli: lost }));
      const plan = await makePlan({ domain: 'bob.example', check: 'dkim' }, deps);
      const out = await applyPlan({ domain: 'bob.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'failed');
      if (out.status !== 'failed') return;
      assert.match(out.reason, /did not answer .*whether the panel started signing is not known yet/);
      assert.equal(r.store.getChange(out.changeId!)!.status, 'intent');
      assert.deepEqual(await reconcile(r.deps(r.panel({ root }))), [{ id: out.changeId!, outcome: 'skipped: a fix on this domain is running' }]);
      r.clock.now += LOCK_TTL_MS + 1;
      assert.deepEqual(await reconcile(r.deps(r.panel({ root }))), [{ id: out.changeId!, outcome: 'applied' }]);
      assert.equal(r.store.getChange(out.changeId!)!.verified, 'yes');
    } finally {
      await done();
    }
  });

  it('a domain alias signs as its domain does: the audit offers no fix and names where to turn it on; startDkimSigning refuses; the plan is blocked', async () => {
    const { r, root, done } = await signingOff((s) => addPleskAlias(s, 'bob.example', { name: 'bob-alias.example' }));
    try {
      writePleskKeys(r.state, root, ['bob-alias.example']);
      const panel = r.panel({ root });
      const s = await panel.readMailSettings('bob-alias.example');
      assert.equal(s.dkim.signing, false);
      assert.equal(s.dkim.startSigning, undefined);
      const findings = await dkimFindings(r, panel, 'bob-alias.example');
      assert.deepEqual(findings.filter((f) => f.fix).map((f) => f.rule), []);
      assert.match(findings.find((f) => f.rule === 'dkim.signing-off')!.message, /bob-alias\.example is a domain alias of bob\.example and signs its mail as bob\.example does: turn on "Use DKIM spam protection system to sign outgoing email messages" in the Mail Settings of bob\.example in Plesk/);
      await rejectsWith(panel.startDkimSigning('bob-alias.example'), 'unsupported', /domain alias of bob\.example/);
      const plan = await makePlan({ domain: 'bob-alias.example', check: 'dkim' }, r.deps(panel, {}, 'bob-alias.example'));
      assert.deepEqual(plan.actions, []);
      assert.match(plan.blocked ?? '', /Mail Settings of bob\.example/);
      assert.ok(!r.state.calls.some((c) => c.startsWith('bin:domain_pref')));
    } finally {
      await done();
    }
  });

  // Plesk's guide: domain aliases used for sending need "the same records as the main domain, but with the alias
  // name" (plesk.md §4, official) — the alias's mail is signed with its domain's key. The alias was judged by a key
  // file of its own only: with none (Plesk makes keys for domains), "no key, not signing", and the fix could not
  // publish the domain's key under the alias's name.
  it('a domain alias without a key file of its own signs with its domain’s key: the audit expects that key, the fix publishes it under the alias’s name', async () => {
    const { r, root, done } = await signingOff((s) => {
      s.mailPrefs['bob.example'].sign = true;
      addPleskAlias(s, 'bob.example', { name: 'bob-alias.example' });
    });
    try {
      const zoneId = r.state.aliases.find((a) => a.name === 'bob-alias.example')!.id;
      r.state.records = r.state.records.filter((x) => !(x.domain_id === zoneId && x.host.includes('_domainkey')));
      const panel = r.panel({ root });
      const s = await panel.readMailSettings('bob-alias.example');
      assert.equal(s.dkim.signing, true);
      assert.equal(s.dkim.publicKey, r.state.dkim.publicKey);
      const findings = await dkimFindings(r, panel, 'bob-alias.example');
      assert.equal(findings.find((f) => f.rule === 'dkim.missing')?.fix, 'dkim', JSON.stringify(findings.map((f) => [f.rule, f.fix])));
      const deps = r.deps(panel, {}, 'bob-alias.example');
      const plan = await makePlan({ domain: 'bob-alias.example', check: 'dkim' }, deps);
      assert.equal(plan.blocked, undefined);
      assert.deepEqual(plan.changes.map((c) => [c.action, c.name, c.after?.value]), [['add', 'default._domainkey.bob-alias.example', `v=DKIM1; k=rsa; p=${r.state.dkim.publicKey}`]]);
      const out = await applyPlan({ domain: 'bob-alias.example', check: 'dkim', planHash: plan.planHash }, deps);
      assert.equal(out.status, 'applied', JSON.stringify(out));
      const published = recordsOf(r.state, 'bob-alias.example').filter((x) => x.host === 'default._domainkey.bob-alias.example.');
      assert.equal(published.length, 1);
      assert.deepEqual((await dkimFindings(r, panel, 'bob-alias.example')).map((f) => f.rule), ['dkim.ok']);
      assert.ok(!r.state.calls.some((c) => c.startsWith('bin:domain_pref')), "the domain's switch is not touched");
    } finally {
      await done();
    }
  });

  // QA: the domain signs (switch on) with a key mailhealth cannot read here (no key files, no record in its zone): the
  // domain said so (dkim.missing), the alias said "signing is turned off — turn it on", though it is on.
  it('a domain alias whose domain signs with a key not readable here: signing, and no "turn it on"', async () => {
    const { r, root, done } = await signingOff((s) => {
      s.mailPrefs['bob.example'].sign = true;
      addPleskAlias(s, 'bob.example', { name: 'bob-alias.example' });
    });
    try {
      rmSync(join(root, 'etc/domainkeys/bob.example'), { recursive: true, force: true });
      const zoneId = r.state.domains.find((d) => d.name === 'bob.example')!.id;
      r.state.records = r.state.records.filter((x) => !(x.domain_id === zoneId && x.host.includes('_domainkey')));
      const panel = r.panel({ root });
      const s = await panel.readMailSettings('bob-alias.example');
      assert.equal(s.dkim.signing, true);
      assert.equal(s.dkim.publicKey, undefined);
      const findings = await dkimFindings(r, panel, 'bob-alias.example');
      assert.ok(!findings.some((f) => f.rule === 'dkim.signing-off'), JSON.stringify(findings.map((f) => [f.rule, f.message])));
    } finally {
      await done();
    }
  });

  it('a domain alias with no key (neither its own nor its domain’s), signing off: Plesk cannot generate its key, so no DKIM finding offers the fix and dkim.signing-off says why', async () => {
    const { r, root, done } = await signingOff((s) => addPleskAlias(s, 'bob.example', { name: 'bob-alias.example' }));
    try {
      rmSync(join(root, 'etc/domainkeys/bob.example'), { recursive: true, force: true });
      const panel = r.panel({ root });
      const findings = await dkimFindings(r, panel, 'bob-alias.example');
      assert.ok(findings.length > 0);
      assert.deepEqual(findings.filter((f) => f.fix).map((f) => f.rule), [], JSON.stringify(findings.map((f) => [f.rule, f.fix])));
      assert.match(findings.find((f) => f.rule === 'dkim.signing-off')!.message, /cannot generate one for it: bob-alias\.example is a domain alias of bob\.example and signs with bob\.example's DKIM key, which is not on this server/);
    } finally {
      await done();
    }
  });
});
