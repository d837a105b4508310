// Lockdown fix defects found by QA (mail-auth.md §4: `auth=` names a whole MailChannels account, `senderid=` one exact
// sender). The fix removes stale entries and adds `auth=<this host>` only where the record would otherwise let none of
// this host's senders through — never widening a record the customer narrowed to some senders, and never changing a
// record the check found ok.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

async function run(records: string[][], settings: Partial<MailSettings> = MC) {
  const map: ZoneMap = records.length ? { [NAME]: { TXT: records } } : {};
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    ...records.map((t, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: t.join(''), txt: t, ref: `l${i}` })),
  ];
  const ctx = checkContext(D, map, settings, zone);
  const findings = await lockdownCheck(ctx);
  const plan = await planLockdown(ctx, zone);
  const after = plan.changes.find((c) => c.after)?.after?.value ?? null;
  return { findings, plan, after };
}
const show = (r: Awaited<ReturnType<typeof run>>) =>
  `after: ${r.after}\n${r.findings.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''}`).join('\n')}\n${r.plan.notes.join('\n')}`;

describe('lockdown fix: never widens a record narrowed to some senders', () => {
  test("senderid= of this host + a previous host's auth= → the stale auth goes, no auth= of this host is added", async () => {
    const r = await run([['v=mc1 senderid=newhostmc|x-authuser|joe@cust.example auth=dreamhost']]);
    assert.equal(r.after, 'v=mc1 senderid=newhostmc|x-authuser|joe@cust.example', show(r));
    assert.ok(r.plan.notes.some((n) => n.startsWith('Drops auth=dreamhost')), show(r));
    assert.ok(!r.plan.notes.some((n) => /^Adds auth=/.test(n)), show(r));
  });

  test('sidw= of this host + stale senderid= → only the sidw= stays', async () => {
    const r = await run([['v=mc1 sidw=newhostmc|x-authuser|*@cust.example senderid=dreamhost|x-authuser|joe@cust.example']]);
    assert.equal(r.after, 'v=mc1 sidw=newhostmc|x-authuser|*@cust.example', show(r));
  });

  test('this host’s auth= already there: kept beside its senderid= (nothing widened, nothing narrowed)', async () => {
    const r = await run([['v=mc1 auth=newhostmc auth=dreamhost senderid=newhostmc|x-authuser|joe@cust.example cfid=abc.workers.dev']]);
    assert.equal(r.after, 'v=mc1 auth=newhostmc senderid=newhostmc|x-authuser|joe@cust.example', show(r));
  });
});

describe('lockdown fix: a record the check found ok is left alone', () => {
  for (const txt of [['v=mc1 sidw=newhostmc|x-authuser|*@cust.example'], ['v=mc1 senderid=newhostmc|x-authuser|joe@cust.example'], ['v=mc1 auth=newhostmc'], ['v=mc1  auth=newhostmc   senderid=newhostmc|x-authuser|joe@cust.example'], ['v=mc1 auth=newho', 'stmc']]) {
    test(JSON.stringify(txt), async () => {
      const r = await run([txt]);
      assert.deepEqual(
        r.findings.map((f) => f.rule),
        ['lockdown.ok'],
        show(r),
      );
      assert.deepEqual(r.plan.changes, [], show(r));
      assert.equal(r.plan.blocked, undefined);
    });
  }
});

describe('lockdown fix: auth= of this host is added where nothing else lets its senders through — with a note', () => {
  for (const [label, records] of [
    ['only a stale auth=', [['v=mc1 auth=dreamhost']]],
    ['only a stale senderid=', [['v=mc1 senderid=dreamhost|x-authuser|joe@cust.example']]],
    ['only cfid=', [['v=mc1 cfid=abc.workers.dev']]],
    ['";" separators with a stale auid', [['v=mc1; auid=dreamhost']]],
  ] as const) {
    test(label, async () => {
      const r = await run(records.map((x) => [...x]));
      assert.equal(r.after, 'v=mc1 auth=newhostmc', show(r));
      assert.ok(r.plan.notes.some((n) => /^Adds auth=newhostmc/.test(n) && /every sender/.test(n)), show(r));
    });
  }

  test('no record → one is published with auth= of this host, and the note says so', async () => {
    const r = await run([]);
    assert.equal(r.plan.changes[0]?.action, 'add');
    assert.equal(r.after, 'v=mc1 auth=newhostmc');
    assert.ok(r.plan.notes.some((n) => /auth=newhostmc/.test(n)), show(r));
  });
});

describe('lockdown: a TXT at _mailchannels that is not a lockdown record (QA: a verification token)', () => {
  test('beside this host’s record: not judged (lockdown.ok, no "multiple"), no change', async () => {
    const r = await run([['v=mc1 auth=newhostmc'], ['google-site-verification=zzz']]);
    assert.deepEqual(r.findings.map((f) => f.rule), ['lockdown.ok'], show(r));
    assert.deepEqual(r.plan.changes, [], show(r));
  });
  test('beside a stale record: the fix rewrites the lockdown record only, the token stays', async () => {
    const r = await run([['v=mc1 auth=dreamhost'], ['google-site-verification=zzz']]);
    assert.ok(!r.findings.some((f) => f.rule === 'lockdown.multiple' || f.rule === 'lockdown.syntax'), show(r));
    assert.ok(r.plan.changes.every((c) => !/google-site-verification/.test(c.before?.value ?? '')), JSON.stringify(r.plan.changes));
    assert.equal(r.after, 'v=mc1 auth=newhostmc', show(r));
    assert.ok(r.plan.notes.some((n) => /^Leaves "google-site-verification=zzz" at _mailchannels\.cust\.example as it is/.test(n)), show(r));
  });
  test('a record meant as lockdown but without v=mc1 is still judged (invalid)', async () => {
    const r = await run([['auth=newhostmc']]);
    assert.ok(r.findings.some((f) => f.rule === 'lockdown.syntax' && f.severity === 'fail'), show(r));
  });
});

describe('lockdown: every change the fix makes is said once (QA: silent case change, a note printed twice)', () => {
  test('a field named twice: one finding, one note; a kept repeated field is said to be written once', async () => {
    const r = await run([['v=mc1 auth=dreamhost auth=dreamhost auth=customerown auth=customerown']]);
    assert.deepEqual(r.findings.filter((f) => f.subject === 'auth=dreamhost').length, 1, show(r));
    assert.deepEqual(r.findings.filter((f) => f.subject === 'auth=customerown').length, 1, show(r));
    assert.equal(r.plan.notes.filter((n) => n.startsWith('Drops auth=dreamhost')).length, 1, show(r));
    assert.ok(r.plan.notes.includes('Writes auth=customerown once (the record names it more than once).'), show(r));
    assert.equal(r.after, 'v=mc1 auth=newhostmc auth=customerown', show(r));
  });
  test('sender ids that differ in case are two senders: both kept (review)', async () => {
    const r = await run([['v=mc1 auth=dreamhost senderid=acme|x-authuser|Bob senderid=acme|x-authuser|bob']]);
    assert.ok(r.after?.includes('senderid=acme|x-authuser|Bob') && r.after.includes('senderid=acme|x-authuser|bob'), show(r));
    assert.ok(!r.plan.notes.some((n) => n.includes('once')), show(r));
  });
  test('this host’s id in another case, in a record the fix rewrites: the note says it is written as configured', async () => {
    const r = await run([['v=mc1 auth=NEWHOSTMC auth=dreamhost']]);
    assert.equal(r.after, 'v=mc1 auth=newhostmc', show(r));
    assert.ok(r.plan.notes.includes("Writes auth=NEWHOSTMC as auth=newhostmc, this host's MailChannels account id as configured."), show(r));
  });
  test('…and in a record the check finds ok: no change and no note about writing it', async () => {
    for (const t of ['v=mc1 auth=NEWHOSTMC', 'v=mc1 auth=newhostmc auth=newhostmc']) {
      const r = await run([[t]]);
      assert.deepEqual(r.findings.map((f) => f.rule), ['lockdown.ok'], show(r));
      assert.deepEqual(r.plan.changes, [], show(r));
      assert.ok(!r.plan.notes.some((n) => n.startsWith('Writes')), show(r));
    }
  });
});
