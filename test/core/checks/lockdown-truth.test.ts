// Lockdown findings must say what MailChannels does with the record (review, helper Y's reproductions):
//  1. a field MailChannels ignores (`auid=x`, `V=MC1`) beside ids that are not this host's changes nothing — this
//     server's mail is rejected, so lockdown.stale-auth fails as it does for the record without that field, and the
//     syntax warning does not call the record one that "works";
//  2. a record naming only some of this host's senders (senderid=, sidw=) passes, but lockdown.ok does not say it
//     authorises the whole account;
//  3. several records none of which names this host: the failure says so for all of them, not "the record";
//  4. lockdown.unknown-id names its id once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

function world(records: string[], settings: Partial<MailSettings> = MC) {
  const map: ZoneMap = { [NAME]: { TXT: records.map((t) => [t]) } };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    ...records.map((t, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: t, txt: [t], ref: `l${i}` })),
  ];
  return { ctx: checkContext(D, map, settings, zone), zone };
}
const check = (records: string[], settings: Partial<MailSettings> = MC) => lockdownCheck(world(records, settings).ctx);
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''}: ${f.message}`).join('\n');
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}`);

describe("lockdown: a field MailChannels ignores does not hide that the record does not name this host", () => {
  // The record without the extra field is the reference: the same verdict with it, plus the syntax warning.
  for (const [label, record] of [
    ['unknown field auid=x', 'v=mc1 auth=acme auid=x'],
    ['upper-case V=MC1', 'V=MC1 auth=acme'],
  ] as const) {
    test(`${label}: lockdown.stale-auth fails, as for "v=mc1 auth=acme"`, async () => {
      const plain = await check(['v=mc1 auth=acme']);
      const fs = await check([record]);
      const stale = fs.filter((f) => f.rule === 'lockdown.stale-auth');
      assert.equal(stale.length, 1, show(fs));
      assert.equal(stale[0].severity, 'fail');
      assert.equal(stale[0].fix, 'lockdown');
      assert.equal(stale[0].message, plain.find((f) => f.rule === 'lockdown.stale-auth')?.message, show(fs));
      assert.deepEqual(
        rules(fs).filter((r) => r !== 'warn lockdown.syntax'),
        rules(plain),
        show(fs),
      );
      const syntax = fs.find((f) => f.rule === 'lockdown.syntax');
      assert.equal(syntax?.severity, 'warn', show(fs));
      assert.doesNotMatch(syntax.message, /works/, 'a record that lets none of this server\'s mail through does not "work"');
      assert.match(syntax.message, /^MailChannels reads the _mailchannels record, but /);
    });
  }

  test('the fix adds this host\'s auth= there (the failure offers a fix that changes something)', async () => {
    const { ctx, zone } = world(['v=mc1 auth=acme auid=x']);
    const p = await planLockdown(ctx, zone);
    assert.equal(p.blocked, undefined);
    assert.deepEqual(
      p.changes.map((c) => [c.action, c.after?.value]),
      [['edit', 'v=mc1 auth=newhostmc auth=acme']],
    );
  });

  test("with this host's auth= the record still works: the warning says so and nothing fails", async () => {
    const fs = await check(['v=mc1 auth=newhostmc auid=x']);
    assert.deepEqual(rules(fs), ['warn lockdown.syntax'], show(fs));
    assert.match(fs[0].message, /^The _mailchannels record works, but unknown field "auid=x" is ignored/);
  });

  test('a syntax failure still stands alone (the record authorises nobody as written; no second failure)', async () => {
    const fs = await check(['v=mc1; auth=acme']);
    assert.deepEqual(
      rules(fs).filter((r) => r.endsWith('lockdown.syntax') || r.endsWith('lockdown.stale-auth')),
      ['fail lockdown.syntax'],
      show(fs),
    );
  });
});

describe("lockdown.ok for a record naming only some of this host's senders", () => {
  test('senderid=: one exact sender, not the account — and says auth= would allow every sender', async () => {
    const sender = 'senderid=newhostmc|x-authuser|joe@cust.example';
    const fs = await check([`v=mc1 ${sender}`]);
    assert.deepEqual(rules(fs), ['pass lockdown.ok'], show(fs));
    const m = fs[0].message;
    assert.doesNotMatch(m, /authorises this host's MailChannels account\./, show(fs));
    assert.ok(m.includes(`only the sender ${sender}`), m);
    assert.match(m, /MailChannels rejects mail as cust\.example from this server's other senders/);
    assert.match(m, /auth=newhostmc would allow every sender of this host/);
  });

  test('sidw=: the senders its pattern matches', async () => {
    const pattern = 'sidw=newhostmc|x-authuser|*@cust.example';
    const fs = await check([`v=mc1 ${pattern}`]);
    assert.deepEqual(rules(fs), ['pass lockdown.ok'], show(fs));
    assert.ok(fs[0].message.includes(`only the senders matching ${pattern}`), fs[0].message);
  });

  test("auth= of this host (with or without sender ids too): the whole account, as before", async () => {
    for (const r of ['v=mc1 auth=newhostmc', 'v=mc1 auth=newhostmc senderid=newhostmc|x-authuser|joe@cust.example']) {
      const fs = await check([r]);
      assert.deepEqual(rules(fs), ['pass lockdown.ok'], show(fs));
      assert.equal(fs[0].message, "Domain Lockdown authorises this host's MailChannels account.");
    }
  });

  test('the fix leaves the narrowed record as it is (unchanged behaviour)', async () => {
    const { ctx, zone } = world(['v=mc1 senderid=newhostmc|x-authuser|joe@cust.example']);
    assert.deepEqual((await planLockdown(ctx, zone)).changes, []);
  });
});

describe('lockdown.stale-auth for several records, none naming this host', () => {
  test('says none of them does, with their count', async () => {
    const fs = await check(['v=mc1 auth=acme1', 'v=mc1 auth=acme2']);
    const stale = fs.filter((f) => f.rule === 'lockdown.stale-auth');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].severity, 'fail');
    assert.match(stale[0].message, /^None of the 2 _mailchannels records authorises this host's MailChannels account \(newhostmc\)/);
    assert.match(stale[0].message, /They name only auth=acme1, auth=acme2; the fix adds auth=newhostmc and keeps them/);
  });

  test('one record: "The record does not authorise", as before', async () => {
    const fs = await check(['v=mc1 auth=acme1']);
    assert.match(fs.find((f) => f.rule === 'lockdown.stale-auth')?.message ?? '', /^The record does not authorise .* It names only auth=acme1;/, show(fs));
  });
});

describe('lockdown.unknown-id names its id once', () => {
  test('auth=', async () => {
    const fs = await check(['v=mc1 auth=newhostmc auth=acme']);
    const u = fs.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(u, show(fs));
    assert.equal(u.message.split('auth=acme').length - 1, 1, u.message);
    assert.match(u.message, /^auth=acme is not this host's MailChannels account \(newhostmc\)/);
  });

  test('senderid= (its reason names the id with its provider)', async () => {
    const id = 'senderid=acme|x-authsender|billing@cust.example';
    const fs = await check([`v=mc1 auth=newhostmc ${id}`]);
    const u = fs.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(u, show(fs));
    assert.equal(u.message.split(id).length - 1, 1, u.message);
  });

  test('no account id configured: the reason names the id at its end — said once, a sentence of its own', async () => {
    const fs = await check(['v=mc1 auth=x'], { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net' } } as Partial<MailSettings>);
    const u = fs.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(u, show(fs));
    assert.equal(u.severity, 'unknown');
    assert.equal(u.message.split('auth=x').length - 1, 1, u.message);
    assert.match(u.message, /^This server relays through MailChannels but its account id is not configured/);
  });
});
