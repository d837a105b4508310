// The smarthost cannot be read (a remote cPanel/WHM API: the relay lives in a root-only file): whether this server
// relays through MailChannels is unknown — the lockdown check says so (unknown) and the fix changes nothing; the
// admin's MailChannels account id, when set, says the host relays through MailChannels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withSettings } from '../../../src/adapters/panels/with-settings.js';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { MailSettings } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const WHY = 'the server\u2019s smarthost setting is in a root-only file, not readable through the API';
const REC = { name: `_mailchannels.${D}`, ttl: 3600, type: 'TXT', value: 'v=mc1 auth=newhostmc', txt: ['v=mc1 auth=newhostmc'] };

test('relay unknown: the check is unknown (not "inert"), the plan is blocked and removes nothing', async () => {
  for (const records of [[['v=mc1 auth=newhostmc']], []]) {
    const ctx = checkContext(D, { [`_mailchannels.${D}`]: { TXT: records } }, { relay: null, relayUnknown: WHY }, records.length ? [REC] : []);
    const f = await lockdownCheck(ctx);
    assert.deepEqual(f.map((x) => `${x.rule} ${x.severity}`), ['lockdown.relay-unknown unknown']);
    assert.equal(f[0].fix, undefined);
    const plan = await planLockdown(ctx, records.length ? [REC] : []);
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /Cannot tell whether this server relays through MailChannels/);
  }
  // Known to have no relay (relayUnknown absent): the record is inert for this server and left as it is (removing it
  // would let any MailChannels account send as the domain).
  const known = checkContext(D, { [`_mailchannels.${D}`]: { TXT: [['v=mc1 auth=newhostmc']] } }, { relay: null }, [REC]);
  assert.deepEqual((await lockdownCheck(known)).map((x) => x.rule), ['lockdown.inert']);
  assert.deepEqual((await planLockdown(known, [REC])).changes, []);
});

test("the admin's MailChannels account id says the host relays through MailChannels when the panel cannot tell", async () => {
  const base: MailSettings = { domain: D, hostname: 'h', ips: [], helo: 'h', nameservers: [], dkim: { selector: 'default', signing: false }, routing: 'local', relay: null, relayUnknown: WHY };
  const panel = { kind: 'test', capabilities: { serialCheckedWrites: false, generateDkim: false }, readMailSettings: async () => base } as unknown as Panel;
  const settings = (id?: string) => ({ getSetting: <T>() => id as T | undefined });
  const withId = await withSettings(panel, settings('newhostmc')).readMailSettings(D);
  assert.deepEqual(withId.relay, { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' });
  assert.equal(withId.relayUnknown, undefined);
  const ctx = checkContext(D, { [`_mailchannels.${D}`]: { TXT: [['v=mc1 auth=newhostmc']] } }, withId, [REC]);
  assert.deepEqual((await lockdownCheck(ctx)).map((x) => `${x.rule} ${x.severity}`), ['lockdown.ok pass']);
  const without = await withSettings(panel, settings(undefined)).readMailSettings(D);
  assert.equal(without.relay, null);
  assert.equal(without.relayUnknown, WHY);
});
