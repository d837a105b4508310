// Plesk's record-by-record writes when Plesk's answer to a step does not say what the step did (QA h3 D7–D10, D12,
// D15). The SPF fix of a migrated domain is `plesk bin dns --del <old>` then `--add <new>`.
// D8: `--add` exiting 0 with an error on stderr was trusted: the old SPF record deleted, the new one never added, the fix
//     "applied"; `--del` the same way left two SPF records.
// D9: `--del` deleting and then exiting non-zero was called someone else's edit ('stale'): the record lost, nothing put back.
// D10: `--add` adding and then exiting non-zero was a refusal: the old record put back beside the new one — two SPF.
// D12: the write landed and the re-read after it failed: reported as the write's failure.
// Now a step whose answer does not say (a non-zero exit, exit 0 with stderr, the REST front's HTTP error) is judged by
// the zone read again; the zone read after the whole write must hold it; a zone unreadable after a write that was made
// does not make it fail.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { CommandResult } from '../../../../src/adapters/panels/http.js';
import { PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { PanelHttpClient, type HttpRequest, type HttpResponse } from '../../../../src/adapters/panels/http.js';
import type { Change } from '../../../../src/core/model.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { addPleskAlias } from '../../../helpers/emulators/plesk.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, json, migratedRecords, NEW_SPF, OLD_SPF, page, pleskWorld, type CliFault, type World } from './world.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

const isDns = (utility: string, params: string[], action: '--add' | '--del') => utility === 'dns' && params[0] === action;
/** Answer the first `action` call with `answer`, after running it on the emulator when `acts`. */
const once = (action: '--add' | '--del', acts: boolean, answer: CommandResult): CliFault => {
  let done = false;
  return (utility, params, pass) => {
    if (done || !isDns(utility, params, action)) return null;
    done = true;
    return acts ? pass().then(() => answer) : answer;
  };
};

async function spfFix(world: World) {
  const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: world.direct, resolver: world.resolver });
  assert.deepEqual(
    plan.changes.map((c) => `${c.action} ${c.type} ${c.before?.value ?? ''} → ${c.after?.value ?? ''}`),
    [`edit TXT ${OLD_SPF} → ${NEW_SPF}`],
  );
  return applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, world.deps());
}

const history = (world: World) => world.store.changesForDomain(DOMAIN).map((c) => ({ status: c.status, verified: c.verified, error: c.error ?? '' }));

describe('Plesk: exit 0 with an error on stderr is judged by the zone (D8)', () => {
  it('`--add` that added nothing: the old SPF record is put back, the fix fails — not "applied" with no SPF', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--add', false, { code: 0, stdout: '', stderr: 'Unable to add DNS record: database is locked' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.match(out.status === 'failed' ? out.reason : '', /plesk bin dns --add alice\.example exited 0 but reported an error: Unable to add DNS record: database is locked — the zone, read again, does not hold the TXT record at alice\.example/);
    assert.deepEqual(w.spf(), [OLD_SPF], 'the old record is back, once');
    assert.equal(history(w)[0].status, 'failed');
    assert.deepEqual(w.store.pendingIntents(), []);
  });

  it('`--del` that deleted nothing: nothing is added beside it — one SPF record, the fix fails', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--del', false, { code: 0, stdout: '', stderr: 'An error occurred during domain update' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.match(out.status === 'failed' ? out.reason : '', /--del alice\.example exited 0 but reported an error: An error occurred during domain update — the zone, read again, still holds/);
    assert.deepEqual(w.spf(), [OLD_SPF]);
    assert.ok(!w.state.calls.some((c) => c.startsWith('bin:dns --add')), 'no add after a delete that did not happen');
  });

  it('a warning on stderr of a step that was made: the fix goes on and is applied', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--add', true, { code: 0, stdout: 'SUCCESS', stderr: 'PHP Warning: something deprecated' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(w.spf(), [NEW_SPF]);
  });
});

describe('Plesk: a step that acted and then failed is the step made (D9, D10)', () => {
  it('`--del` deleting, then exit 1: not "someone else’s edit" — the fix goes on, one SPF record, applied and verified', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--del', true, { code: 1, stdout: '', stderr: 'Unable to update the DNS zone: named reload failed' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(w.spf(), [NEW_SPF]);
    assert.deepEqual(history(w).map((h) => `${h.status} ${h.verified}`), ['applied yes']);
  });

  it('`--add` adding, then exit 1: the new record is this write’s — one SPF record, applied (not the old one put back beside it)', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--add', true, { code: 1, stdout: '', stderr: 'Unable to update the DNS zone: named reload failed' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(w.spf(), [NEW_SPF]);
  });

  it('`--del` run by the REST front, then its HTTP 500 error answer: judged by the zone too — applied, nothing lost', async () => {
    w = await pleskWorld(migratedRecords());
    let hit = false;
    w.rest.push((req, pass) => {
      if (hit || !req.path.startsWith('/api/v2/cli/dns/call') || !JSON.stringify(req.json).includes('--del')) return null;
      hit = true;
      return pass().then(() => json(500, { code: 500, message: 'Internal error: could not reload the zone' }));
    });
    const out = await spfFix(w);
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(w.spf(), [NEW_SPF]);
  });

  it('a later step refused after a step that acted and failed: that step is undone too — the old record back, once', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--del', true, { code: 1, stdout: '', stderr: 'named reload failed' }));
    w.cli.push(once('--add', false, { code: 1, stdout: '', stderr: 'Unable to add DNS record: invalid value' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.deepEqual(w.spf(), [OLD_SPF]);
  });

  it('a `--del` of a record someone else removed (Plesk: "does not exist"): still refused as the zone changed, nothing re-added', async () => {
    w = await pleskWorld(migratedRecords());
    let done = false;
    w.cli.push((utility, params, pass) => {
      if (done || !isDns(utility, params, '--del')) return null;
      done = true;
      w!.state.records = w!.state.records.filter((r) => r.value !== OLD_SPF); // another admin's delete, just before ours
      return pass();
    });
    const out = await spfFix(w);
    assert.equal(out.status, 'refused', JSON.stringify(out));
    assert.deepEqual(w.spf(), []);
  });
});

describe('Plesk: the zone after the write must hold it (D7, D8)', () => {
  it('every step answered exit 0 but nothing changed: failed, not "applied"; the zone as it was', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push((utility) => (utility === 'dns' ? { code: 0, stdout: 'SUCCESS', stderr: '' } : null));
    const out = await spfFix(w);
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.match(out.status === 'failed' ? out.reason : '', /Plesk answered every step of the write to alice\.example as made, but the zone read right after it still holds the TXT record at alice\.example "v=spf1 \+a \+mx include:websitewelcome\.com/);
    assert.deepEqual(w.spf(), [OLD_SPF]);
    assert.equal(history(w)[0].status, 'failed');
  });

  it('the `--add` answered exit 0 but not made: the old record put back (restored), never an SPF-less zone recorded as applied', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push(once('--add', false, { code: 0, stdout: 'SUCCESS', stderr: '' }));
    const out = await spfFix(w);
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.deepEqual(w.spf(), [OLD_SPF]);
    assert.match(history(w)[0].error, /does not hold the TXT record at alice\.example "v=spf1 \+a \+mx include:_spf\.google\.com ~all"/);
  });
});

describe('Plesk: a zone that cannot be read after a write that was made (D12)', () => {
  const failReads = (world: World) => {
    let on = false;
    world.cli.push((utility, params, pass) => (isDns(utility, params, '--add') ? pass().then((r) => ((on = true), r)) : null));
    world.rest.push((req) => (on && req.method === 'GET' && req.path.startsWith('/api/v2/dns/records') ? page(500, '<h1>500 Internal Server Error</h1>') : null));
  };

  it('adapter: applyChanges resolves with the version the zone has once it holds exactly the write', async () => {
    w = await pleskWorld(migratedRecords());
    const z = await w.direct.readZone(DOMAIN);
    const old = z.records.find((r) => r.type === 'TXT' && r.value === OLD_SPF)!;
    const change: Change = { action: 'edit', name: DOMAIN, type: 'TXT', ttl: old.ttl, before: old, after: { name: DOMAIN, ttl: old.ttl, type: 'TXT', value: NEW_SPF, txt: [NEW_SPF] } };
    failReads(w);
    const r = await w.panel.applyChanges(DOMAIN, [change], z.version);
    assert.deepEqual(w.spf(), [NEW_SPF]);
    assert.equal(r.version, (await w.direct.readZone(DOMAIN)).version);
  });

  it('apply: not "failed" — the change is recorded as written (applied), no intent left open', async () => {
    w = await pleskWorld(migratedRecords());
    const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: w.direct, resolver: w.resolver });
    failReads(w);
    const out = await applyPlan({ domain: DOMAIN, check: 'spf', planHash: plan.planHash }, w.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(w.spf(), [NEW_SPF]);
    assert.equal(history(w)[0].status, 'applied');
    assert.deepEqual(w.store.pendingIntents(), []);
  });

  it('a step whose answer does not say, and a zone that cannot be read to judge it: no-answer — nothing more written', async () => {
    w = await pleskWorld(migratedRecords());
    const z = await w.direct.readZone(DOMAIN);
    const old = z.records.find((r) => r.type === 'TXT' && r.value === OLD_SPF)!;
    const change: Change = { action: 'edit', name: DOMAIN, type: 'TXT', ttl: old.ttl, before: old, after: { name: DOMAIN, ttl: old.ttl, type: 'TXT', value: NEW_SPF, txt: [NEW_SPF] } };
    let on = false;
    w.cli.push((utility, params, pass) => (isDns(utility, params, '--del') ? pass().then(() => ((on = true), { code: 1, stdout: '', stderr: 'named reload failed' })) : null));
    w.rest.push((req) => (on && req.method === 'GET' && req.path.startsWith('/api/v2/dns/records') ? page(500, 'down') : null));
    await rejectsWith(w.panel.applyChanges(DOMAIN, [change], z.version), 'no-answer', /failed \(exit 1\): named reload failed; whether Plesk made that change cannot be told: the zone could not be read again/);
    assert.ok(!w.state.calls.some((c) => c.startsWith('bin:dns --add')), 'nothing more written');
  });
});

describe('Plesk: answers that say nothing (D9, D15)', () => {
  it('PleskRestCli: an answer without the utility’s exit code is no-answer, never a made-up exit 1', async () => {
    class Fixed extends PanelHttpClient {
      constructor(private readonly answer: HttpResponse) {
        super({ baseUrl: 'http://127.0.0.1:9', label: 'Plesk' });
      }
      override async request(_req: HttpRequest): Promise<HttpResponse> {
        return this.answer;
      }
    }
    for (const answer of [json(200, { stdout: 'SUCCESS', stderr: '' }), json(200, { code: '0', stdout: '' }), json(302, {})]) {
      await rejectsWith(new PleskRestCli(new Fixed(answer)).run('dns', ['--del', DOMAIN]), 'no-answer', /did not answer with the utility's exit code/);
    }
    assert.deepEqual(await new PleskRestCli(new Fixed(json(200, { code: 2, stdout: '', stderr: 'exists' }))).run('dns', []), { code: 2, stdout: '', stderr: 'exists' });
  });

  it('a refusal with no text says so, not "failed (exit 1): "', async () => {
    w = await pleskWorld(migratedRecords());
    w.cli.push((utility) => (utility === 'dns' ? { code: 1, stdout: '', stderr: '' } : null));
    const z = await w.direct.readZone(DOMAIN);
    const old = z.records.find((r) => r.type === 'TXT' && r.value === OLD_SPF)!;
    const e = await rejectsWith(w.panel.applyChanges(DOMAIN, [{ action: 'remove', name: DOMAIN, type: 'TXT', ttl: old.ttl, before: old, after: null }], z.version), 'other');
    assert.equal(e.message, 'plesk bin dns --del alice.example failed (exit 1), with no message');
  });
});

describe('Plesk domain alias (REST by id): an error answer after the step was made (D9, D10)', () => {
  const ALIAS = 'alias.example';
  async function aliasWorld(): Promise<World> {
    const world = await pleskWorld(migratedRecords());
    addPleskAlias(world.state, DOMAIN, { name: ALIAS });
    return world;
  }
  async function aliasSpfEdit(world: World): Promise<{ change: Change; version: string }> {
    const z = await world.direct.readZone(ALIAS);
    const old = z.records.find((r) => r.type === 'TXT' && r.name === ALIAS && r.value.startsWith('v=spf1'))!;
    const value = 'v=spf1 +a +mx -all';
    return { change: { action: 'edit', name: ALIAS, type: 'TXT', ttl: old.ttl, before: old, after: { name: ALIAS, ttl: old.ttl, type: 'TXT', value, txt: [value] } }, version: z.version };
  }
  const aliasSpf = (world: World) =>
    world.state.records
      .filter((r) => r.host === `${ALIAS}.` && r.type === 'TXT' && r.value.startsWith('v=spf1'))
      .map((r) => r.value)
      .sort();

  it('DELETE by id deleting, then HTTP 500: the write is made — one SPF record, the new one', async () => {
    w = await aliasWorld();
    const { change, version } = await aliasSpfEdit(w);
    w.rest.push((req, pass) => (req.method === 'DELETE' ? pass().then(() => json(500, { code: 500, message: 'Internal error' })) : null));
    await w.panel.applyChanges(ALIAS, [change], version);
    assert.deepEqual(aliasSpf(w), ['v=spf1 +a +mx -all']);
  });

  it('POST adding, then HTTP 500: the new record is found by value and is this write’s — one SPF record', async () => {
    w = await aliasWorld();
    const { change, version } = await aliasSpfEdit(w);
    w.rest.push((req, pass) => (req.method === 'POST' && req.path === '/api/v2/dns/records' ? pass().then(() => json(500, { code: 500, message: 'Internal error' })) : null));
    await w.panel.applyChanges(ALIAS, [change], version);
    assert.deepEqual(aliasSpf(w), ['v=spf1 +a +mx -all']);
  });

  it('POST refused with HTTP 400 (nothing added): a refusal, the zone as it was', async () => {
    w = await aliasWorld();
    const { change, version } = await aliasSpfEdit(w);
    const before = aliasSpf(w);
    w.rest.push((req) => (req.method === 'POST' && req.path === '/api/v2/dns/records' ? json(400, { code: 400, message: 'Invalid DNS record' }) : null));
    await rejectsWith(w.panel.applyChanges(ALIAS, [change], version), 'other', /Plesk could not add the TXT record at alias\.example: HTTP 400: Invalid DNS record/);
    assert.deepEqual(aliasSpf(w), before);
  });
});
