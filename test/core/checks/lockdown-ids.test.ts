// Lockdown check with ids mailhealth cannot place (classify.ts lockdownId → unknown): the customer may send through a
// MailChannels account of their own (Email API) next to the host — `v=mc1 auth=newhostmc auth=acme-emailapi`. Such an
// id is lockdown.unknown-id, never a stale-auth failure of its own; a record that does not authorise this host's
// account still fails (MailChannels would reject this server's mail), and its fix keeps the id.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

async function check(records: string[], settings: Partial<MailSettings> = MC) {
  const map: ZoneMap = { [NAME]: { TXT: records.map((t) => [t]) } };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    ...records.map((t, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: t, txt: [t], ref: `l${i}` })),
  ];
  return lockdownCheck(checkContext(D, map, settings, zone));
}
const show = (fs: Awaited<ReturnType<typeof check>>) => fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''}: ${f.message}`).join('\n');

describe('lockdown check: ids nobody could place', () => {
  test("this host's account beside the customer's own: unknown-id (info — a judgement, not DNS trouble), no stale-auth, no failure", async () => {
    const fs = await check(['v=mc1 auth=newhostmc auth=acme-emailapi']);
    assert.deepEqual(
      fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''}`),
      ['info lockdown.unknown-id auth=acme-emailapi', 'pass lockdown.ok '],
      show(fs),
    );
    assert.equal(fs[0].classification?.class, 'unknown');
    assert.match(fs[0].message, /the customer's own MailChannels account, or a previous host's/);
    assert.match(fs[0].message, /keeps it unless you select it for removal/);
    assert.equal(fs[0].fix, undefined, 'nothing to fix unless the user selects it');
  });

  test('the same with sender ids of another account', async () => {
    const fs = await check(['v=mc1 auth=newhostmc senderid=acme|x-authsender|billing@cust.example sidw=acme|x-authsender|b*@cust.example']);
    assert.deepEqual(
      fs.map((f) => `${f.severity} ${f.rule}`),
      ['info lockdown.unknown-id', 'info lockdown.unknown-id', 'pass lockdown.ok'],
      show(fs),
    );
  });

  test("a record naming only such an id still fails: it does not authorise this host's account; the fix keeps the id", async () => {
    const fs = await check(['v=mc1 auth=acme-emailapi']);
    const stale = fs.filter((f) => f.rule === 'lockdown.stale-auth');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].severity, 'fail');
    assert.equal(stale[0].subject, undefined, 'the record, not the id, is at fault');
    assert.equal(stale[0].fix, 'lockdown');
    assert.match(stale[0].message, /does not authorise this host's MailChannels account \(newhostmc\)/);
    assert.match(stale[0].message, /the fix adds auth=newhostmc and keeps it/);
    assert.ok(fs.some((f) => f.rule === 'lockdown.unknown-id' && f.subject === 'auth=acme-emailapi'), show(fs));
  });

  test("several records: one with only an unplaced id fails as a record that does not name this host's account", async () => {
    const fs = await check(['v=mc1 auth=newhostmc', 'v=mc1 auth=acme-emailapi']);
    assert.ok(fs.some((f) => f.rule === 'lockdown.multiple' && f.severity === 'warn'), show(fs));
    const stale = fs.filter((f) => f.rule === 'lockdown.stale-auth');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].severity, 'fail');
    assert.equal(stale[0].subject, 'v=mc1 auth=acme-emailapi');
    assert.match(stale[0].message, /if MailChannels reads that record of the 2, it rejects this server's mail/);
  });

  test("a known hosting provider's id stays a stale-auth failure (florist.example's auth=dreamhost)", async () => {
    const fs = await check(['v=mc1 auth=dreamhost']);
    const f = fs.find((x) => x.rule === 'lockdown.stale-auth');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.equal(f.subject, 'auth=dreamhost');
    assert.equal(f.classification?.provider, 'dreamhost');
    // Beside this host's id: a warning, as before.
    const beside = await check(['v=mc1 auth=newhostmc auth=dreamhost']);
    assert.deepEqual(
      beside.map((x) => `${x.severity} ${x.rule} ${x.subject ?? ''}`),
      ['warn lockdown.stale-auth auth=dreamhost'],
      show(beside),
    );
  });
});
