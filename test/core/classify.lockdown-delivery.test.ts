// A Domain Lockdown id naming a hosting provider while the panel routes the domain's mail elsewhere (classify.ts
// lockdownId, what the lockdown check and fix call). Mail delivered at that provider may go out through its
// MailChannels account (DreamHost relays through MailChannels), so the id is not a previous host's leftover there. Where
// the mail is delivered was read from the MX of the panel's copy of the zone only — stale where the domain's DNS is
// served elsewhere (the customer moved their DNS and mail, the panel's copy still names this server), so the check
// failed auth=dreamhost and the fix dropped it: DreamHost's mail for the domain then bounced with MailChannels'
// "550 5.7.1 sender is not authorized". Now it is the classifier's MailDelivery (the live MX and the panel's copy
// together, then the PTR names of unnamed MX hosts), as for SPF includes and DKIM selectors; a DNS error there gives
// unknown (unanswered), never stale.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isUnanswered } from '../../src/core/classify.js';
import { lockdownCheck } from '../../src/core/checks/lockdown.js';
import type { MailSettings, ZoneRecord } from '../../src/core/model.js';
import { planLockdown } from '../../src/core/plans/lockdown.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext } from './checks/context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as const;
const REMOTE: Partial<MailSettings> = { ...MC, routing: 'remote' };
const LOCKDOWN = 'v=mc1 auth=newhostmc auth=dreamhost';

/** The panel's copy of the zone: this server's NS, MX `zoneMx` (none when null), and the lockdown record. */
function zone(zoneMx: string | null): ZoneRecord[] {
  return [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    ...(zoneMx ? [{ name: D, ttl: 3600, type: 'MX', value: `10 ${zoneMx}.`, ref: 'mx' }] : []),
    { name: NAME, ttl: 3600, type: 'TXT', value: LOCKDOWN, txt: [LOCKDOWN], ref: 'mc' },
  ];
}

/** Live DNS: the domain's MX (a list, or 'TIMEOUT') and the lockdown record. */
function live(mx: string[] | 'TIMEOUT'): ZoneMap {
  return {
    [D]: { MX: mx === 'TIMEOUT' ? 'TIMEOUT' : mx.map((exchange, i) => ({ priority: 10 * (i + 1), exchange })) },
    [NAME]: { TXT: [[LOCKDOWN]] },
    'server1.newhost.example': { A: ['203.0.113.10'] },
  };
}

function ctxFor(mx: string[] | 'TIMEOUT', zoneMx: string | null, settings: Partial<MailSettings> = REMOTE) {
  const records = zone(zoneMx);
  return { ctx: checkContext(D, live(mx), settings, records), records };
}

describe('lockdown ids and where the domain mail is delivered (routing remote)', () => {
  test("live MX at DreamHost, the panel's stale copy naming this server: auth=dreamhost is unknown (kept), not stale", async () => {
    const { ctx, records } = ctxFor(['mx1.mail.dreamhost.com', 'mx2.mail.dreamhost.com'], 'server1.newhost.example');
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'unknown', c.reason);
    assert.equal(isUnanswered(c), false);
    assert.match(c.reason, /names DreamHost, where cust\.example's mail is delivered \(MX mx1\.mail\.dreamhost\.com, mx2\.mail\.dreamhost\.com; the panel routes its mail elsewhere\)/);
    assert.equal(c.provider, 'dreamhost');
    // Another hosting provider is still a previous host's.
    assert.equal((await ctx.classifier.lockdownId('auth', 'hostgator')).class, 'stale');
    assert.equal((await ctx.classifier.lockdownId('senderid', 'dreamhost|x-authuser|joe@cust.example')).class, 'unknown');

    // The check does not fail it, and the fix leaves the record as it is.
    const fs = await lockdownCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'lockdown.stale-auth'), fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    assert.ok(fs.some((f) => f.rule === 'lockdown.unknown-id' && f.subject === 'auth=dreamhost'));
    const plan = await planLockdown(ctx, records);
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
  });

  test("the panel's copy naming DreamHost's MX while the live MX is elsewhere: still unknown (either may be in use)", async () => {
    const { ctx } = ctxFor(['aspmx.l.google.com'], 'mx1.mail.dreamhost.com');
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'unknown', c.reason);
    assert.match(c.reason, /MX mx1\.mail\.dreamhost\.com/);
  });

  test('the live MX lookup gets no answer: unknown (unanswered), never stale — the fix keeps the id', async () => {
    for (const zoneMx of [null, 'server1.newhost.example']) {
      const { ctx, records } = ctxFor('TIMEOUT', zoneMx);
      const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
      assert.equal(c.class, 'unknown', `${zoneMx}: ${c.reason}`);
      assert.ok(isUnanswered(c), c.reason);
      assert.match(c.reason, /the MX lookup of cust\.example got no answer \(timeout\)/);
      const plan = await planLockdown(ctx, records);
      assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
      const fs = await lockdownCheck(ctx);
      assert.ok(!fs.some((f) => f.rule === 'lockdown.stale-auth'), fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    }
  });

  test("the same for the classifier's other remote-routing decisions: a hosting provider's SPF include is unanswered, not stale, while the live MX does not answer", async () => {
    // The panel's copy names an MX (this server), but without the live answer it does not say where the mail goes now.
    const { ctx } = ctxFor('TIMEOUT', 'server1.newhost.example');
    const c = await ctx.classifier.spfTerm('include:websitewelcome.com');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
    assert.match(c.reason, /HostGator.*the MX lookup of cust\.example got no answer \(timeout\)/);
    // Answered and elsewhere: a previous host's, as before.
    assert.equal((await ctxFor(['aspmx.l.google.com'], 'server1.newhost.example').ctx.classifier.spfTerm('include:websitewelcome.com')).class, 'stale');
  });

  test('live MX elsewhere (not DreamHost) and answered: auth=dreamhost is a previous host\'s, as before', async () => {
    const { ctx, records } = ctxFor(['aspmx.l.google.com'], 'server1.newhost.example');
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'stale', c.reason);
    const plan = await planLockdown(ctx, records);
    assert.equal(plan.changes.find((x) => x.after)?.after?.value, 'v=mc1 auth=newhostmc', plan.notes.join('\n'));
  });

  // Routing local: the live MX still counts (classify.ts liveMxAt) — at DreamHost, it is either left from DreamHost or
  // the mailboxes are still there and send through DreamHost's MailChannels account: unknown, kept unless selected.
  test('local routing, the live MX at DreamHost: auth=dreamhost is unknown (kept), naming the MX', async () => {
    const { ctx, records } = ctxFor(['mx1.mail.dreamhost.com'], 'server1.newhost.example', { ...MC, routing: 'local' });
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'unknown', c.reason);
    assert.equal(isUnanswered(c), false);
    assert.match(c.reason, /names DreamHost, where cust\.example's live MX delivers its mail \(MX mx1\.mail\.dreamhost\.com\) while the panel delivers it on this server/);
    const plan = await planLockdown(ctx, records);
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
  });

  test('local routing, the live MX at this server: a hosting provider named is stale; the MX is asked only for such an id', async () => {
    const { ctx } = ctxFor(['server1.newhost.example'], 'server1.newhost.example', { ...MC, routing: 'local' });
    const log = (ctx.resolver as unknown as { log: string[] }).log;
    assert.equal((await ctx.classifier.lockdownId('auth', 'someaccount')).class, 'unknown');
    assert.ok(!log.includes(`${D} MX`), log.join('\n'));
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'stale', c.reason);
    assert.ok(log.includes(`${D} MX`), log.join('\n'));
  });

  test('local routing, the live MX lookup gets no answer: unknown (unanswered), never stale', async () => {
    const { ctx } = ctxFor('TIMEOUT', 'server1.newhost.example', { ...MC, routing: 'local' });
    const c = await ctx.classifier.lockdownId('auth', 'dreamhost');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
    assert.match(c.reason, /the MX lookup of cust\.example got no answer \(timeout\)/);
  });
});
