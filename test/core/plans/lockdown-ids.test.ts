// Lockdown fix with ids mailhealth cannot place (the customer's own MailChannels account, or a previous host's): kept
// unless the user selects them for removal (PlanOptions.removeTerms — the CLI's --remove-term, the web's `remove` —
// a field as written, e.g. `auth=acme-emailapi`, any case). A previous host's id (a known hosting provider) still goes;
// this host's id never does, selected or not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import { parseLockdown } from '../../../src/core/lockdown/record.js';
import type { PlanOptions } from '../../../src/core/plans/plan.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

function setup(records: string[], settings: Partial<MailSettings> = MC) {
  const map: ZoneMap = {
    [D]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'] },
    'ns1.newhost.example': { A: ['127.0.0.1'] },
    ...(records.length ? { [NAME]: { TXT: records.map((t) => [t]) } } : {}),
  };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    ...records.map((t, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: t, txt: [t], ref: `l${i}` })),
  ];
  return { ctx: checkContext(D, map, settings, zone), zone };
}
async function plan(records: string[], opts: PlanOptions = {}, settings: Partial<MailSettings> = MC) {
  const { ctx, zone } = setup(records, settings);
  const p = await planLockdown(ctx, zone, opts);
  return { ...p, after: p.changes.find((c) => c.after)?.after?.value ?? null };
}
const show = (p: Awaited<ReturnType<typeof plan>>) => `after: ${p.after}\n${p.notes.join('\n')}`;

describe('lockdown fix: ids nobody could place are kept unless selected', () => {
  test("a record naming only the customer's own account: this host's auth= is added, the id kept", async () => {
    const p = await plan(['v=mc1 auth=acme-emailapi']);
    assert.equal(p.after, 'v=mc1 auth=newhostmc auth=acme-emailapi', show(p));
    assert.ok(p.notes.some((n) => n.startsWith('Adds auth=newhostmc')), show(p));
    assert.ok(
      p.notes.some((n) => n.startsWith('Keeps auth=acme-emailapi: ') && n.endsWith('Select it for removal if no sender of yours uses that MailChannels account.')),
      show(p),
    );
    assert.ok(!p.notes.some((n) => /^Drops auth=acme-emailapi/.test(n)), show(p));
  });

  test("this host's account beside the customer's own: nothing changes; the note says it can be selected", async () => {
    const p = await plan(['v=mc1 auth=myhostingco auth=acme-emailapi'], {}, { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'myhostingco' } });
    assert.deepEqual(p.changes, [], show(p));
    assert.equal(p.blocked, undefined);
    assert.ok(p.notes.some((n) => n.startsWith('Keeps auth=acme-emailapi: ')), show(p));
  });

  test('selected for removal (any case): removed, with a note; the other fields stay', async () => {
    const p = await plan(['v=mc1 auth=newhostmc auth=acme-emailapi senderid=acme|x-authsender|billing@cust.example'], { removeTerms: ['AUTH=Acme-EmailAPI'] });
    assert.equal(p.after, 'v=mc1 auth=newhostmc senderid=acme|x-authsender|billing@cust.example', show(p));
    assert.ok(p.notes.some((n) => n.startsWith('Removes auth=acme-emailapi (you selected it)')), show(p));
    assert.ok(p.notes.some((n) => n.startsWith('Keeps senderid=acme|x-authsender|billing@cust.example: ')), show(p));
  });

  test("a selected field the record does not have, and this host's own id selected: notes, nothing removed for them", async () => {
    const p = await plan(['v=mc1 auth=newhostmc auth=acme-emailapi'], { removeTerms: ['auth=nosuch', 'auth=newhostmc'] });
    assert.deepEqual(p.changes, [], show(p));
    assert.ok(p.notes.some((n) => n === 'You selected auth=nosuch for removal, but the _mailchannels record has no such field: nothing was removed for it.'), show(p));
    assert.ok(p.notes.some((n) => n.startsWith("Keeps auth=newhostmc although you selected it: it is this host's MailChannels account")), show(p));
    // Only this host's id selected, in a record the fix rewrites anyway: still kept.
    const q = await plan(['v=mc1 auth=newhostmc cfid=x.workers.dev'], { removeTerms: ['auth=newhostmc'] });
    assert.equal(q.after, 'v=mc1 auth=newhostmc', show(q));
  });

  test("a known hosting provider's id is still dropped; an unplaced one beside it kept", async () => {
    const p = await plan(['v=mc1 auth=dreamhost auth=acme-emailapi']);
    assert.equal(p.after, 'v=mc1 auth=newhostmc auth=acme-emailapi', show(p));
    assert.ok(p.notes.some((n) => n.startsWith('Drops auth=dreamhost: ') && n.includes('DreamHost')), show(p));
  });

  test('several records: merged into one with this host\'s id and the kept ids', async () => {
    const p = await plan(['v=mc1 auth=newhostmc', 'v=mc1 auth=acme-emailapi']);
    assert.equal(p.after, 'v=mc1 auth=newhostmc auth=acme-emailapi', show(p));
    // Selected: the record naming only it goes, the one naming this host's account stays as it is.
    const removed = await plan(['v=mc1 auth=newhostmc', 'v=mc1 auth=acme-emailapi'], { removeTerms: ['auth=acme-emailapi'] });
    assert.deepEqual(
      removed.changes.map((c) => `${c.action} ${c.before?.value ?? ''} → ${c.after?.value ?? ''}`),
      ['remove v=mc1 auth=acme-emailapi → '],
      show(removed),
    );
  });

  test('the selection reaches the lockdown planner through makePlanWith (CLI --remove-term, web remove=)', async () => {
    const { ctx } = setup(['v=mc1 auth=newhostmc auth=acme-emailapi']);
    const kept = await makePlanWith(ctx, 'lockdown');
    assert.deepEqual(kept.changes, []);
    const removed = await makePlanWith(ctx, 'lockdown', { removeTerms: ['auth=acme-emailapi'] });
    assert.equal(removed.changes.find((c) => c.after)?.after?.value, 'v=mc1 auth=newhostmc', removed.notes.join('\n'));
    assert.notEqual(removed.planHash, kept.planHash);
  });
});

describe('review: a sender id that cannot match is dropped, not kept as an unplaced id', () => {
  for (const [record, dropped] of [
    ['v=mc1 auth=newhostmc senderid=acme', 'senderid=acme'],
    ['v=mc1 senderid=acme', 'senderid=acme'],
    ['v=mc1 auth=newhostmc senderid=acme|x|a*b', 'senderid=acme|x|a*b'],
    ['v=mc1 auth=newhostmc sidw=acme', 'sidw=acme'],
  ] as const) {
    test(`${record}: the fix writes a valid record without ${dropped}; the check does not list it as an id to place`, async () => {
      const p = await plan([record]);
      assert.ok(p.after, show(p));
      assert.ok(!p.after.includes(dropped), show(p));
      assert.equal(parseLockdown([p.after]).class, 'valid', p.after);
      assert.ok(p.notes.some((n) => n.startsWith(`Drops ${dropped}:`)), show(p));
      const findings = await lockdownCheck(setup([record]).ctx);
      assert.ok(!findings.some((f) => f.rule === 'lockdown.unknown-id' && f.subject === dropped));
    });
  }
});
