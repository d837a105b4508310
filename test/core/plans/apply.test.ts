// Applying without losing anything: hash check, concurrent edits, publish-elsewhere, write-ahead intent and
// reconcile after a crash, undo, the per-domain lock, verification against the authoritative server.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../src/adapters/store/store.js';
import { PanelError, PartialWriteError } from '../../../src/core/panel.js';
import { NO_SERVER_ADDRESS, type Answer, type RRType } from '../../../src/core/resolver.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange, verify } from '../../../src/core/plans/apply.js';
import { applyAndCheck, lineDiff, recordKeys, serialOf, startPlay, TODAY, TODAY_SERIAL, withoutSerialLine, type Play, type PlayOptions } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});
async function start(opts: PlayOptions = {}): Promise<Play> {
  play = await startPlay(opts);
  return play;
}
const crashAt = (where: 'after-intent' | 'after-write') => (w: string) => {
  if (w === where) throw new Error(`injected crash ${w}`);
};
const isOwnedSpf = (domain: string) => (r: { name: string; type: string; txt?: string[] }) => r.name === domain && r.type === 'TXT' && /^v=spf1/i.test((r.txt ?? []).join(''));

describe('apply: hash and concurrency checks', () => {
  test('a wrong planHash is refused with the new plan; nothing is written or recorded', async () => {
    const p = await start();
    const before = p.zoneText('bakery.example');
    const plan = await p.plan('bakery.example', 'spf');
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: 'sha256:' + '0'.repeat(64) }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status !== 'refused') return;
    assert.ok(out.newPlan);
    assert.equal(out.why, 'changed');
    assert.equal(out.newPlan.planHash, plan.planHash);
    assert.deepEqual(out.newPlan.changes, plan.changes);
    assert.equal(p.zoneText('bakery.example'), before);
    assert.deepEqual(p.store.changesForDomain('bakery.example'), []);
  });

  test('a plan that became blocked since the preview → refused with the block as the reason (why: blocked), not "the zone changed"', async () => {
    const p = await start();
    const plan = await p.plan('newkey.example', 'dkim');
    assert.equal(plan.blocked, undefined);
    // Nothing in the zone changes; the panel now says it signs with a key it does not show: the DKIM plan is blocked.
    writeFileSync(join(p.dir, 'domains', 'newkey.example.json'), JSON.stringify({ dkim: true }));
    const out = await applyPlan({ domain: 'newkey.example', check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status !== 'refused') return;
    assert.equal(out.why, 'blocked');
    assert.equal(out.reason, out.newPlan?.blocked);
    assert.doesNotMatch(out.reason, /zone changed/);
  });

  test('the zone edited between preview and apply → refused, the edit stays, nothing recorded', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const edited = p.zoneText('bakery.example').replace('www\tIN\tCNAME\tbakery.example.', 'www\t600\tIN\tCNAME\tbakery.example.');
    p.writeZone('bakery.example', edited);
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status === 'refused') {
      assert.ok(out.newPlan);
      assert.notEqual(out.newPlan.planHash, plan.planHash);
    }
    assert.equal(p.zoneText('bakery.example'), edited);
    assert.deepEqual(p.store.changesForDomain('bakery.example'), []);
  });

  test('the zone edited after the re-plan, just before the panel write → the panel refuses (stale), nothing written', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    let edited = '';
    const out = await applyPlan(
      { domain: 'bakery.example', check: 'spf', planHash: plan.planHash },
      p.deps({
        crashPoint: (w) => {
          if (w !== 'after-intent') return;
          edited = p.zoneText('bakery.example') + '; edited by hand\n';
          p.writeZone('bakery.example', edited);
        },
      }),
    );
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText('bakery.example'), edited);
    const [ch] = p.store.changesForDomain('bakery.example');
    assert.equal(ch.status, 'failed');
    assert.deepEqual(p.store.pendingIntents(), []);
  });

  test('publish-elsewhere (lawyer.example is delegated to the old host): the plan lists the records; apply refused', async () => {
    const p = await start();
    const before = p.zoneText('lawyer.example');
    for (const check of ['spf', 'dkim', 'lockdown', 'dmarc'] as const) {
      const plan = await p.plan('lawyer.example', check);
      assert.equal(plan.mode, 'publish-elsewhere', check);
      assert.ok(plan.changes.length > 0, `${check}: records to publish`);
      assert.match(plan.notes[0], /ns1\.hostgator\.com/);
      const out = await applyPlan({ domain: 'lawyer.example', check, planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'refused', check);
      if (out.status === 'refused') assert.equal(out.newPlan?.mode, 'publish-elsewhere');
    }
    // The SPF plan starts from what the old host serves and says what to publish there.
    const spf = await p.plan('lawyer.example', 'spf');
    assert.equal(spf.changes[0].before?.value, 'v=spf1 +a +mx include:websitewelcome.com ~all');
    assert.equal(spf.changes[0].after?.value, 'v=spf1 +a +mx include:relay.mailchannels.net ~all');
    assert.equal(p.zoneText('lawyer.example'), before);
    assert.deepEqual(p.store.changesForDomain('lawyer.example'), []);
  });
});

describe('apply: write-ahead intent and reconcile', () => {
  test("crash after the intent: nothing written; reconcile marks it failed ('not-written')", async () => {
    const p = await start();
    const before = p.zoneText('bakery.example');
    const plan = await p.plan('bakery.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    assert.equal(p.zoneText('bakery.example'), before);
    const [pending] = p.store.pendingIntents();
    assert.equal(pending.status, 'intent');
    assert.deepEqual(pending.changes.map((c) => c.after?.value), plan.changes.map((c) => c.after?.value));
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'not-written' }]);
    assert.equal(p.store.getChange(pending.id)!.status, 'failed');
    assert.equal(p.zoneText('bakery.example'), before);
    // The lock was released: a fresh apply goes through.
    await applyAndCheck(p, 'bakery.example', 'spf');
  });

  test('crash after the write: the zone holds the change; reconcile marks it applied', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-write') })), /injected crash/);
    assert.match(p.zoneText('bakery.example'), /include:_spf\.google\.com include:relay\.mailchannels\.net ~all/);
    const [pending] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'applied' }]);
    const ch = p.store.getChange(pending.id)!;
    assert.equal(ch.status, 'applied');
    assert.equal(ch.zoneVersionAfter, (await p.panel.readZone('bakery.example')).version);
    assert.deepEqual(p.store.pendingIntents(), []);
    assert.deepEqual((await p.plan('bakery.example', 'spf')).changes, []);
    // Reconcile again: nothing pending.
    assert.deepEqual(await reconcile(p.deps()), []);
  });

  test('a partly written intent (one of two changes in the zone) → reconcile restores the old records', async () => {
    const p = await start();
    const original = p.zoneText('twospf.example');
    const plan = await p.plan('twospf.example', 'spf');
    assert.deepEqual(
      plan.changes.map((c) => c.action),
      ['edit', 'remove'],
    );
    const zone = await p.panel.readZone('twospf.example');
    const id = p.store.recordIntent({ domain: 'twospf.example', check: 'spf', planHash: plan.planHash, zoneVersion: zone.version, changes: plan.changes, byUser: 'root' });
    // Only the edit reached the zone (a panel that edits record by record, interrupted).
    (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, recordByRecordWrites: true };
    await p.panel.applyChanges('twospf.example', [plan.changes[0]], zone.version);
    assert.notDeepEqual(recordKeys(p.zoneText('twospf.example'), 'twospf.example'), recordKeys(original, 'twospf.example'));
    assert.deepEqual(await reconcile(p.deps()), [{ id, outcome: 'restored' }]);
    assert.equal(p.store.getChange(id)!.status, 'restored');
    const now = p.zoneText('twospf.example');
    // The zone holds exactly the original records again (SOA aside), and lines not owned by SPF never moved.
    const notSoa = (r: { type: string }) => r.type !== 'SOA';
    assert.deepEqual(recordKeys(now, 'twospf.example', notSoa), recordKeys(original, 'twospf.example', notSoa));
    const d = lineDiff(original, now);
    for (const l of [...d.removed, ...d.added]) assert.match(l, /v=spf1/, `only SPF lines moved: ${l}`);
    // And the fix can be applied afresh.
    await applyAndCheck(p, 'twospf.example', 'spf');
  });
});

describe('a write that fails part-way', () => {
  test('the panel writes one of two changes, then fails → the written one is put back; history says restored, not applied', async () => {
    const p = await start();
    const original = p.zoneText('twospf.example');
    const plan = await p.plan('twospf.example', 'spf');
    assert.equal(plan.changes.length, 2);
    const write = p.panel.applyChanges.bind(p.panel);
    let calls = 0;
    p.panel.applyChanges = async (domain, changes, version) => {
      calls++;
      if (calls > 1) return write(domain, changes, version); // the restore goes through
      await write(domain, [changes[0]], version);
      throw new Error('injected: the panel failed on the second record');
    };
    const out = await applyPlan({ domain: 'twospf.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /injected: the panel failed on the second record — the records written before the failure were put back/);
    const ch = p.store.getChange(out.changeId!)!;
    assert.equal(ch.status, 'restored');
    assert.deepEqual(p.store.pendingIntents(), []);
    const notSoa = (r: { type: string }) => r.type !== 'SOA';
    assert.deepEqual(recordKeys(p.zoneText('twospf.example'), 'twospf.example', notSoa), recordKeys(original, 'twospf.example', notSoa));
  });

  test('the panel fails before writing anything → failed, nothing to put back', async () => {
    const p = await start();
    const before = p.zoneText('bakery.example');
    const plan = await p.plan('bakery.example', 'spf');
    p.panel.applyChanges = async () => {
      throw new Error('injected: panel unavailable');
    };
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.equal(out.reason, 'injected: panel unavailable');
    assert.equal(p.store.getChange(out.changeId!)!.status, 'failed');
    assert.equal(p.zoneText('bakery.example'), before);
  });
});

describe('reconcile never writes over an edit made after the crash', () => {
  test('a panel that writes a zone in one step: "old record gone, new one absent" is a manual edit → conflict, nothing restored', async () => {
    const p = await start();
    const plan = await p.plan('twospf.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'twospf.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    // The owner deletes the record the fix was about to edit, by hand.
    const old = plan.changes.find((c) => c.action === 'edit')!.before!;
    const line = p.zoneText('twospf.example').split('\n').find((l) => l.includes(old.txt![0]))!;
    p.writeZone('twospf.example', p.zoneText('twospf.example').replace(line + '\n', ''));
    const edited = p.zoneText('twospf.example');
    const [pending] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'conflict' }]);
    assert.equal(p.zoneText('twospf.example'), edited, 'the deleted record is not written back');
    assert.match(p.store.getChange(pending.id)!.error ?? '', /neither .* writes a zone in one step .*nothing was restored/);
  });

  test('crash after the intent, then the customer edits SPF by hand → conflict: nothing restored, no second SPF record', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    // The customer's own edit in the panel: a new SPF record replaces the old one.
    const old = plan.changes[0].before!.value;
    p.writeZone('bakery.example', p.zoneText('bakery.example').replace(`"${old}"`, '"v=spf1 ip4:198.51.100.7 -all"'));
    const edited = p.zoneText('bakery.example');
    const [pending] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'conflict' }]);
    assert.equal(p.zoneText('bakery.example'), edited, 'reconcile must not write');
    const ch = p.store.getChange(pending.id)!;
    assert.equal(ch.status, 'failed');
    assert.deepEqual(p.store.pendingIntents(), []);
    const spf = (await p.panel.readZone('bakery.example')).records.filter((r) => r.name === 'bakery.example' && r.type === 'TXT' && /^v=spf1/.test(r.value));
    assert.deepEqual(spf.map((r) => r.value), ['v=spf1 ip4:198.51.100.7 -all']);
  });

  test('a domain whose lock is held (a write in progress) is left pending for the next start', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    const [pending] = p.store.pendingIntents();
    const out = await p.store.withLock('domain:bakery.example', 'someone-else', 60_000, () => reconcile(p.deps()));
    assert.deepEqual(out, [{ id: pending.id, outcome: 'skipped: a fix on this domain is running' }]);
    assert.equal(p.store.getChange(pending.id)!.status, 'intent');
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'not-written' }]);
  });
});

describe('undo', () => {
  test('undo of an added record restores the file exactly (except the serial line)', async () => {
    const p = await start();
    const { before, outcome } = await applyAndCheck(p, 'dentist.example', 'dmarc');
    const undo = await undoChange(outcome.changeId, p.deps());
    assert.equal(undo.status, 'applied', JSON.stringify(undo));
    if (undo.status !== 'applied') return;
    assert.equal(undo.verified, 'yes');
    const now = p.zoneText('dentist.example');
    assert.equal(withoutSerialLine(now), withoutSerialLine(before));
    assert.equal(serialOf(now), TODAY_SERIAL + 1);
    assert.equal(p.store.getChange(outcome.changeId)!.status, 'reverted');
    assert.equal(p.store.getChange(outcome.changeId)!.undoneBy, undo.changeId);
    assert.equal(p.store.getChange(undo.changeId)!.undoOf, outcome.changeId);
  });

  test('undo of an edit + remove restores the owned records exactly; nothing else moves', async () => {
    const p = await start();
    const { before, outcome } = await applyAndCheck(p, 'twospf.example', 'spf');
    const undo = await undoChange(outcome.changeId, p.deps());
    assert.equal(undo.status, 'applied', JSON.stringify(undo));
    const now = p.zoneText('twospf.example');
    const notSoa = (r: { type: string }) => r.type !== 'SOA';
    assert.deepEqual(recordKeys(now, 'twospf.example', notSoa), recordKeys(before, 'twospf.example', notSoa));
    assert.deepEqual(recordKeys(now, 'twospf.example', isOwnedSpf('twospf.example')), recordKeys(before, 'twospf.example', isOwnedSpf('twospf.example')));
    const d = lineDiff(before, now);
    for (const l of [...d.removed, ...d.added]) assert.match(l, /v=spf1/, `only SPF lines moved: ${l}`);
  });

  test(
    'undo of an edit restores the file byte for byte (except the serial line)',
    async () => {
      const p = await start();
      const { before, outcome } = await applyAndCheck(p, 'twospf.example', 'spf');
      await undoChange(outcome.changeId, p.deps());
      assert.equal(withoutSerialLine(p.zoneText('twospf.example')), withoutSerialLine(before));
    },
  );

  test('undo after a later edit of the same record refuses, says why, and changes nothing', async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'bakery.example', 'spf');
    const edited = p.zoneText('bakery.example').replace('include:relay.mailchannels.net ~all', 'include:relay.mailchannels.net ip4:198.51.100.99 ~all');
    p.writeZone('bakery.example', edited);
    p.refresh();
    const undo = await undoChange(outcome.changeId, p.deps());
    assert.equal(undo.status, 'refused');
    if (undo.status === 'refused') assert.match(undo.reason, /later edit/);
    assert.equal(p.zoneText('bakery.example'), edited);
    assert.equal(p.store.getChange(outcome.changeId)!.status, 'applied');
    assert.equal(p.store.getChange(outcome.changeId)!.undoneBy, null);
  });

  test('undo twice is refused the second time', async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'florist.example', 'lockdown');
    assert.equal((await undoChange(outcome.changeId, p.deps())).status, 'applied');
    const text = p.zoneText('florist.example');
    const second = await undoChange(outcome.changeId, p.deps());
    assert.equal(second.status, 'refused');
    assert.equal(p.zoneText('florist.example'), text);
    assert.equal((await undoChange(9999, p.deps())).status, 'refused');
  });

  test('a failed change cannot be undone', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })));
    await reconcile(p.deps());
    const [ch] = p.store.changesForDomain('bakery.example');
    assert.equal((await undoChange(ch.id, p.deps())).status, 'refused');
  });
});

describe('per-domain lock', () => {
  test('while another owner holds domain:<d>, apply and undo are refused and nothing is written', async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'florist.example', 'dmarc');
    const plan = await p.plan('florist.example', 'spf');
    assert.ok(p.store.tryLock('domain:florist.example', 'web:4242:abc', 60_000));
    const text = p.zoneText('florist.example');
    // Each waits a little for the lock (undo-lock-wait.test.ts: the wait itself), then is refused.
    const out = await applyPlan({ domain: 'florist.example', check: 'spf', planHash: plan.planHash }, p.deps({ lockWaitMs: 200 }));
    assert.equal(out.status, 'refused');
    if (out.status === 'refused') assert.match(out.reason, /Another fix on florist\.example/);
    const undo = await undoChange(outcome.changeId, p.deps({ lockWaitMs: 200 }));
    assert.equal(undo.status, 'refused');
    assert.equal(p.zoneText('florist.example'), text);
    // Another domain is not blocked.
    await applyAndCheck(p, 'bakery.example', 'spf');
    assert.ok(p.store.releaseLock('domain:florist.example', 'web:4242:abc'));
    await applyAndCheck(p, 'florist.example', 'spf');
  });
});

describe('verification', () => {
  test("the authoritative server already serves the change → 'yes'", async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'florist.example', 'lockdown');
    assert.equal(outcome.verified, 'yes');
    assert.equal(outcome.message, 'applied');
  });

  test("the authoritative server still serves the old records → 'propagating', then 'yes' once it reloads", async () => {
    const p = await start({ autoRefresh: false });
    const plan = await p.plan('florist.example', 'lockdown');
    const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied');
    if (out.status !== 'applied') return;
    assert.equal(out.verified, 'propagating');
    assert.match(out.message, /propagating/);
    assert.equal(p.store.getChange(out.changeId)!.verified, 'propagating');
    p.refresh();
    assert.equal(await verify('florist.example', out.plan.changes, p.deps()), 'yes');
  });

  test("each name server is asked on its own: one still serving the old records (a secondary not caught up) or not answering → 'propagating'", async () => {
    const p = await start();
    const nameservers = ['ns1.mover.example', 'ns2.mover.example'];
    const plan = await p.plan('florist.example', 'lockdown');
    const deps = p.deps();
    const real = deps.resolver.resolveAt!.bind(deps.resolver);
    // What the servers answer before the write: ns2 keeps answering that (it has not transferred the new zone).
    const old = new Map<string, Answer<RRType>>();
    for (const c of plan.changes) old.set(c.name, await real(['127.0.0.1'], c.name, c.type === 'CNAME' ? 'CNAME' : 'TXT'));
    let ns2: 'old' | 'timeout' | 'caught-up' = 'old';
    const asked: string[] = [];
    deps.resolver.resolveAt = async <T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>> => {
      assert.equal(servers.length, 1, 'one server per question');
      asked.push(servers[0]);
      if (servers[0] === 'ns2.mover.example' && ns2 === 'old') return old.get(name) as Answer<T>;
      if (servers[0] === 'ns2.mover.example' && ns2 === 'timeout') return { name, type, status: 'unknown', records: [], error: 'timeout' };
      return real(['127.0.0.1'], name, type);
    };
    const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied');
    if (out.status !== 'applied') return;
    // The panel lists two name servers (the plan was made with its own one: only verification is asked about here).
    const settings = deps.panel.readMailSettings.bind(deps.panel);
    deps.panel = Object.assign(Object.create(deps.panel) as typeof deps.panel, { readMailSettings: async (d: string) => ({ ...(await settings(d)), nameservers }) });
    assert.equal(await verify('florist.example', out.plan.changes, deps), 'propagating');
    assert.ok(asked.includes('ns1.mover.example') && asked.includes('ns2.mover.example'), asked.join(', '));
    ns2 = 'timeout';
    assert.equal(await verify('florist.example', out.plan.changes, deps), 'propagating');
    ns2 = 'caught-up';
    assert.equal(await verify('florist.example', out.plan.changes, deps), 'yes');
    // A listed name server without any address (no A, no AAAA) serves nobody: left out, not "propagating" for ever;
    // when none of them has one, nothing was asked: propagating.
    const noAddress = <T extends RRType>(name: string, type: T): Answer<T> => ({ name, type, status: 'unknown', records: [], error: NO_SERVER_ADDRESS });
    const withGhost = deps.resolver.resolveAt;
    deps.resolver.resolveAt = async <T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>> =>
      servers[0] === 'ns2.mover.example' ? noAddress(name, type) : withGhost!(servers, name, type);
    assert.equal(await verify('florist.example', out.plan.changes, deps), 'yes');
    deps.resolver.resolveAt = async <T extends RRType>(_servers: string[], name: string, type: T): Promise<Answer<T>> => noAddress(name, type);
    assert.equal(await verify('florist.example', out.plan.changes, deps), 'propagating');
  });

  test("a removal still served → 'propagating'", async () => {
    const p = await start({ autoRefresh: false });
    const plan = await p.plan('lockmulti.example', 'lockdown');
    assert.ok(plan.changes.some((c) => c.action === 'remove'), JSON.stringify(plan.changes));
    const out = await applyPlan({ domain: 'lockmulti.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status === 'applied' && out.verified, 'propagating');
  });
});

describe('a write the panel took but never answered (timeout)', () => {
  test('the intent stays open, the domain waits LOCK_TTL_MS, then reconcile settles it from the zone', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const write = p.panel.applyChanges.bind(p.panel);
    // The panel writes the zone, but its answer never arrives (as a cPanel save that outlasts the HTTP timeout).
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version);
      throw new PanelError('no-answer', 'cPanel at 127.0.0.1 did not answer (ETIMEDOUT): timed out');
    };
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /did not answer .*not known yet.*checks the zone again in about 2 minutes/);
    const [pending] = p.store.pendingIntents();
    assert.equal(pending.id, out.changeId);
    // Not settled while the panel may still be at work: the domain's lock is held for LOCK_TTL_MS.
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'skipped: a fix on this domain is running' }]);
    // The same plan again meanwhile: not written twice — it is being applied (the open intent).
    const again = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(again.status, 'already');
    if (again.status === 'already') assert.equal(again.changeStatus, 'intent');
    // Once the lock has run out (a clock LOCK_TTL_MS later): the zone holds the change → applied.
    const later = openStore(p.dbPath, { now: () => TODAY.getTime() + LOCK_TTL_MS + 1 });
    try {
      p.panel.applyChanges = write;
      assert.deepEqual(await reconcile({ ...p.deps(), history: later }), [{ id: pending.id, outcome: 'applied' }]);
      assert.equal(later.getChange(pending.id)!.status, 'applied');
    } finally {
      later.close();
    }
  });
});

describe('the lock kept after a write the panel never answered', () => {
  // Another process trying the domain's lock at the moment the fix's own lock is released: with a release followed by
  // a new lock, it could take the domain in between and reconcile the intent while the panel may still be writing.
  function racingHistory(p: Play, took: boolean[]) {
    const history = Object.create(p.store) as typeof p.store;
    history.releaseLock = (name: string, owner: string) => {
      const released = p.store.releaseLock(name, owner);
      if (name === 'domain:bakery.example') took.push(p.store.tryLock(name, 'another-process', LOCK_TTL_MS));
      return released;
    };
    return history;
  }
  const noAnswer = (p: Play) => {
    const write = p.panel.applyChanges.bind(p.panel);
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version);
      throw new PanelError('no-answer', 'cPanel at 127.0.0.1 did not answer (ETIMEDOUT): timed out');
    };
    return write;
  };

  test('apply: handed over in one step — nobody can take the domain between the fix and the settling lease', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    noAnswer(p);
    const took: boolean[] = [];
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, { ...p.deps(), history: racingHistory(p, took) });
    assert.equal(out.status, 'failed');
    assert.deepEqual(took, [false]);
    assert.match(p.store.lockHolder('domain:bakery.example')!.owner, /^settle-later:/);
  });

  test('undo: the same', async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'bakery.example', 'spf');
    noAnswer(p);
    const took: boolean[] = [];
    const undo = await undoChange(outcome.changeId, { ...p.deps(), history: racingHistory(p, took) });
    assert.equal(undo.status, 'failed');
    assert.deepEqual(took, [false]);
    assert.match(p.store.lockHolder('domain:bakery.example')!.owner, /^settle-later:/);
  });

  test('a fix whose lease ran out during the write still leaves the domain locked for settling', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    let clock = TODAY.getTime();
    const history = openStore(p.dbPath, { now: () => clock });
    try {
      const write = noAnswer(p);
      const slow = p.panel.applyChanges;
      p.panel.applyChanges = async (domain, changes, version) => {
        clock += LOCK_TTL_MS + 1; // the panel gives up only after the fix's lease has run out
        return slow(domain, changes, version);
      };
      const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, { ...p.deps(), history });
      assert.equal(out.status, 'failed');
      assert.match(history.lockHolder('domain:bakery.example')!.owner, /^settle-later:/);
      p.panel.applyChanges = write;
    } finally {
      history.close();
    }
  });
});

describe('a write the panel undid itself except some steps (PartialWriteError)', () => {
  test('steps the zone no longer shows: nothing is put back, history says failed (not "restored")', async () => {
    const p = await start();
    const plan = await p.plan('bakery.example', 'spf');
    const before = p.zoneText('bakery.example');
    // The adapter says it could not take out a record it had added — but the zone does not hold it (someone removed it).
    p.panel.applyChanges = async (_domain, changes) => {
      const added = changes.find((c) => c.after)!.after!;
      throw new PartialWriteError('other', 'step 2 failed', [{ action: 'add', name: added.name, type: added.type, ttl: added.ttl, before: null, after: added }]);
    };
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.doesNotMatch(out.reason, /put back/);
    const ch = p.store.getChange(out.changeId!)!;
    assert.equal(ch.status, 'failed');
    assert.match(ch.error ?? '', /no longer shows what this write had left/);
    assert.equal(p.zoneText('bakery.example'), before);
  });
});

describe('an undo the panel took but never answered', () => {
  test('stays an open intent (not "failed"), then reconcile settles it from the zone: the change is reverted', async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'bakery.example', 'spf');
    const write = p.panel.applyChanges.bind(p.panel);
    p.panel.applyChanges = async (domain, changes, version) => {
      await write(domain, changes, version);
      throw new PanelError('no-answer', 'cPanel at 127.0.0.1 did not answer (ETIMEDOUT): timed out');
    };
    const undo = await undoChange(outcome.changeId, p.deps());
    assert.equal(undo.status, 'failed');
    if (undo.status !== 'failed') return;
    assert.match(undo.reason, /whether the undo was written is not known yet/);
    const [pending] = p.store.pendingIntents();
    assert.equal(pending.id, undo.changeId);
    assert.equal(p.store.getChange(outcome.changeId)!.status, 'applied');
    const later = openStore(p.dbPath, { now: () => TODAY.getTime() + LOCK_TTL_MS + 1 });
    try {
      p.panel.applyChanges = write;
      assert.deepEqual(await reconcile({ ...p.deps(), history: later }), [{ id: pending.id, outcome: 'applied' }]);
      assert.equal(later.getChange(outcome.changeId)!.status, 'reverted');
    } finally {
      later.close();
    }
  });
});
