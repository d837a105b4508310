// Lockdown fix, QA defect: on a server that does not send through MailChannels the _mailchannels record is left as it
// is. Without a record MailChannels applies no restriction (mail-auth.md §4): deleting a restrictive record (the QA
// case: "v=mc1 auth=customerown") would let every MailChannels account send as the domain. The check says so and
// offers no fix; the planner changes nothing and notes why.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';
import { checkContext } from '../checks/context.js';

const D = 'dlockinert.example';
const NAME = `_mailchannels.${D}`;
const VALUE = 'v=mc1 auth=customerown';
const REC: ZoneRecord = { name: NAME, ttl: 3600, type: 'TXT', value: VALUE, txt: [VALUE] };

/** No relay at all, or a smarthost that is not MailChannels. */
const NOT_MC: Partial<MailSettings>[] = [{ relay: null }, { relay: { provider: 'smtp2go', host: 'mail.smtp2go.com' } }];

describe('Lockdown on a server that does not relay through MailChannels', () => {
  test('QA repro dlockinert.example: the check offers no fix and does not call the record a leftover to remove', async () => {
    for (const settings of NOT_MC) {
      const ctx = checkContext(D, { [D]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'] }, [NAME]: { TXT: [[VALUE]] } }, settings, [REC]);
      const f = await lockdownCheck(ctx);
      assert.deepEqual(f.map((x) => `${x.rule} ${x.severity}`), ['lockdown.inert warn']);
      assert.equal(f[0].fix, undefined, 'no fix: the planner leaves the record');
      assert.doesNotMatch(f[0].message, /leftover|does nothing|only lets/);
      assert.match(f[0].message, /does not affect this server's mail/);
      assert.match(f[0].message, /removing it would let any of them/);

      const plan = await planLockdown(ctx, [REC]);
      assert.deepEqual(plan.changes, []);
      assert.equal(plan.blocked, undefined);
      assert.equal(plan.notes.length, 1);
      assert.match(plan.notes[0], /^Leaves the _mailchannels record as it is: this server does not send through MailChannels/);
      assert.match(plan.notes[0], /any MailChannels account may send as dlockinert\.example/);

      const full = await makePlanWith(ctx, 'lockdown');
      assert.equal(full.mode, 'apply');
      assert.deepEqual(full.changes, []);
      assert.equal(full.blocked, undefined);
    }
  });

  test('a stale-looking id, several records or an alias: still nothing changed, nothing blocked', async () => {
    const recs: ZoneRecord[] = [
      { ...REC, value: 'v=mc1 auth=dreamhost', txt: ['v=mc1 auth=dreamhost'] },
      { ...REC, value: 'v=mc1 auth=oldhostmc', txt: ['v=mc1 auth=oldhostmc'] },
    ];
    const alias: ZoneRecord = { name: NAME, ttl: 3600, type: 'CNAME', value: 'lockdown.service.example' };
    for (const records of [recs, [alias]]) {
      const ctx = checkContext(D, {}, { relay: null }, records);
      const plan = await planLockdown(ctx, records);
      assert.deepEqual(plan.changes, []);
      assert.equal(plan.blocked, undefined);
      assert.match(plan.notes.join(' '), /Leaves the _mailchannels record as it is/);
    }
  });

  test('no record and no MailChannels: nothing to do, no note', async () => {
    const ctx = checkContext(D, {}, { relay: null }, []);
    assert.deepEqual(await planLockdown(ctx, []), { changes: [], notes: [] });
    assert.deepEqual((await lockdownCheck(ctx)).map((x) => x.rule), ['lockdown.none']);
  });

  test('relaying through MailChannels is unchanged: a stale auth= is still replaced', async () => {
    const stale: ZoneRecord = { ...REC, value: 'v=mc1 auth=dreamhost', txt: ['v=mc1 auth=dreamhost'] };
    const ctx = checkContext(D, {}, { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } }, [stale]);
    const plan = await planLockdown(ctx, [stale]);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.after?.value}`), ['edit v=mc1 auth=newhostmc']);
  });
});

describe('Lockdown fix through the files panel with relay: null (florist.example: "v=mc1 auth=dreamhost")', () => {
  let play: Play | null = null;
  afterEach(async () => {
    await play?.close();
    play = null;
  });

  test('the preview changes nothing, apply refuses ("nothing"), the zone and history stay as they were', async () => {
    const p = (play = await startPlay({ server: { relay: null } }));
    const before = p.zoneText('florist.example');
    const f = await p.findings('florist.example', 'lockdown');
    assert.deepEqual(f.map((x) => `${x.rule} ${x.fix ?? '-'}`), ['lockdown.inert -']);
    const plan = await p.plan('florist.example', 'lockdown');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.notes.join(' '), /Leaves the _mailchannels record as it is/);
    const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.equal(out.status === 'refused' && out.why, 'nothing');
    assert.equal(p.zoneText('florist.example'), before);
    assert.deepEqual(p.store.changesForDomain('florist.example'), []);
  });
});

// `v=mc1 auth=newhostmc auid=newhostmc`: the parser noted the unknown field but the check said lockdown.ok and the fix
// "nothing to change". Now a warning, and the fix writes the documented form (unknown fields dropped, names lower case).
describe('Lockdown: fields MailChannels does not document beside a valid auth=', () => {
  const RELAY: Partial<MailSettings> = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } };
  for (const [value, words, after] of [
    ['v=mc1 auth=newhostmc auid=newhostmc', /unknown field "auid=newhostmc" is ignored \(auid= is a common misspelling of auth=\)/, 'v=mc1 auth=newhostmc'],
    ['v=mc1 auth=newhostmc foo=bar', /unknown field "foo=bar" is ignored: MailChannels documents only/, 'v=mc1 auth=newhostmc'],
    ['v=mc1 AUTH=newhostmc', /"AUTH": case sensitivity is undocumented/, 'v=mc1 auth=newhostmc'],
  ] as const) {
    test(`${value}: lockdown.syntax (warn) with the fix, which writes ${after}`, async () => {
      const rec: ZoneRecord = { ...REC, value, txt: [value] };
      const ctx = checkContext(D, { [NAME]: { TXT: [[value]] } }, RELAY, [rec]);
      const f = await lockdownCheck(ctx);
      const syntax = f.filter((x) => x.rule === 'lockdown.syntax');
      assert.equal(syntax.length, 1, f.map((x) => `${x.rule}: ${x.message}`).join('\n'));
      assert.equal(syntax[0].severity, 'warn');
      assert.equal(syntax[0].fix, 'lockdown');
      assert.match(syntax[0].message, words);
      assert.ok(!f.some((x) => x.rule === 'lockdown.ok'));
      const plan = await planLockdown(ctx, [rec]);
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.after?.value}`), [`edit ${after}`]);
    });
  }
  test('a record in the documented form is still lockdown.ok with nothing to change', async () => {
    const value = 'v=mc1 auth=newhostmc';
    const rec: ZoneRecord = { ...REC, value, txt: [value] };
    const ctx = checkContext(D, { [NAME]: { TXT: [[value]] } }, RELAY, [rec]);
    assert.deepEqual((await lockdownCheck(ctx)).map((x) => x.rule), ['lockdown.ok']);
    assert.deepEqual((await planLockdown(ctx, [rec])).changes, []);
  });
});
