// MailChannels Domain Lockdown fix through the files panel and a loopback DNS server.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { applyAndCheck, startPlay, type Play, type PlayOptions } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});
async function start(opts: PlayOptions = {}): Promise<Play> {
  play = await startPlay(opts);
  return play;
}

async function lockdownTxt(p: Play, domain: string): Promise<string[][]> {
  const zone = await p.panel.readZone(domain);
  return zone.records.filter((r) => r.name === `_mailchannels.${domain}` && r.type === 'TXT').map((r) => r.txt ?? [r.value]);
}

describe('Lockdown fix (this server relays through MailChannels as newhostmc)', () => {
  test('_mailchannels is an alias (CNAME) → blocked: no TXT beside it, the alias kept, apply refuses', async () => {
    const p = await start();
    p.writeZone('florist.example', p.zoneText('florist.example').replace('_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost"', '_mailchannels\tIN\tCNAME\tlockdown.agency.example.'));
    p.refresh();
    const before = p.zoneText('florist.example');
    assert.match(before, /_mailchannels\tIN\tCNAME/);
    const plan = await p.plan('florist.example', 'lockdown');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /_mailchannels\.florist\.example is an alias/);
    const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText('florist.example'), before);
  });

  test('a value with a comma (unwritable in the record syntax) is dropped with a note, not a crash', async () => {
    const p = await start();
    p.writeZone('florist.example', p.zoneText('florist.example').replace('_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost"', '_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc senderid=newhostmc|x,y|z"'));
    p.refresh();
    const plan = await p.plan('florist.example', 'lockdown');
    assert.ok(plan.notes.some((n) => /Drops senderid=newhostmc\|x,y\|z: a value with a space, comma or semicolon/.test(n)), plan.notes.join('\n'));
    await applyAndCheck(p, 'florist.example', 'lockdown');
    assert.deepEqual(await lockdownTxt(p, 'florist.example'), [['v=mc1 auth=newhostmc']]);
  });

  test('a merged record over 255 bytes is published as several character-strings of at most 255 bytes', async () => {
    const p = await start();
    const ids = Array.from({ length: 12 }, (_, i) => `senderid=newhostmc|x-authuser|billing-system-${String(i).padStart(2, '0')}`).join(' ');
    p.writeZone('florist.example', p.zoneText('florist.example').replace('_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost"', `_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost" " ${ids}"`));
    // (Not served: a string over 255 octets cannot be put on the wire — the live answer stays the old one.)
    const plan = await p.plan('florist.example', 'lockdown');
    const after = plan.changes.find((c) => c.after)?.after;
    assert.ok(after && Buffer.byteLength(after.value) > 255, JSON.stringify(plan));
    assert.ok(after.txt!.length >= 2 && after.txt!.every((c) => Buffer.byteLength(c) <= 255));
    assert.equal(after.txt!.join(''), after.value);
    await applyAndCheck(p, 'florist.example', 'lockdown');
    const [written] = await lockdownTxt(p, 'florist.example');
    assert.equal(written.join(''), after.value);
    assert.ok(written.every((c) => Buffer.byteLength(c) <= 255));
  });

  test("florist.example: the previous host's auth= becomes this host's", async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'florist.example', 'lockdown');
    assert.ok(plan.notes.some((n) => n.includes('auth=dreamhost')));
    assert.deepEqual(await lockdownTxt(p, 'florist.example'), [['v=mc1 auth=newhostmc']]);
  });

  test("two records with cfid= and the old host's auth=/senderid= → one record with this host's ids", async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'lockmulti.example', 'lockdown');
    assert.deepEqual(
      plan.changes.map((c) => c.action),
      ['edit', 'remove'],
    );
    for (const want of ['cfid=oldsite.workers.dev', 'auth=hostgator', 'senderid=hostgator|cpanel|u123']) {
      assert.ok(
        plan.notes.some((n) => n.includes(want)),
        `a note says ${want} is dropped`,
      );
    }
    assert.deepEqual(await lockdownTxt(p, 'lockmulti.example'), [['v=mc1 senderid=newhostmc|cpanel|lockmulti']]);
  });

  test('";" separators are rewritten in MailChannels syntax', async () => {
    const p = await start();
    await applyAndCheck(p, 'locksyntax.example', 'lockdown');
    assert.deepEqual(await lockdownTxt(p, 'locksyntax.example'), [['v=mc1 auth=newhostmc']]);
  });

  test('no record → one is published', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'newkey.example', 'lockdown');
    assert.equal(plan.changes[0].action, 'add');
    assert.deepEqual(await lockdownTxt(p, 'newkey.example'), [['v=mc1 auth=newhostmc']]);
  });

  test('clean.example: already right → empty plan', async () => {
    const p = await start();
    assert.deepEqual((await p.plan('clean.example', 'lockdown')).changes, []);
  });

  test('relaying through MailChannels without a configured account id → blocked, nothing written', async () => {
    const p = await start({ server: { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } } });
    const before = p.zoneText('florist.example');
    const plan = await p.plan('florist.example', 'lockdown');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /account id is not configured/);
    const out = await applyPlan({ domain: 'florist.example', check: 'lockdown', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText('florist.example'), before);
  });
});

describe('Lockdown fix when the server does not relay through MailChannels (relay: null)', () => {
  for (const domain of ['florist.example', 'lockmulti.example', 'bakery.example']) {
    // Removing it would lift the restriction it sets (no record: any MailChannels account may send as the domain).
    test(`${domain}: the inert _mailchannels record(s) are left as they are`, async () => {
      const p = await start({ server: { relay: null } });
      const before = await lockdownTxt(p, domain);
      const plan = await p.plan(domain, 'lockdown');
      assert.deepEqual(plan.changes, []);
      assert.ok(plan.notes.some((n) => /Leaves the _mailchannels record as it is/.test(n)), plan.notes.join(' | '));
      assert.deepEqual(await lockdownTxt(p, domain), before);
    });
  }

  test('no record and no MailChannels → nothing to do', async () => {
    const p = await start({ server: { relay: null } });
    assert.deepEqual((await p.plan('newkey.example', 'lockdown')).changes, []);
  });
});
