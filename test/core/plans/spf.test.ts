// SPF fix through the files panel and a loopback DNS server: demo domains and post-migration fixture zones.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import type { Answer, Resolver, RRType } from '../../../src/core/resolver.js';
import { applyAndCheck, fixable, startPlay, type Play, type PlayOptions } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});
async function start(opts: PlayOptions = {}): Promise<Play> {
  play = await startPlay(opts);
  return play;
}

/** The one SPF record at the apex after the fix, as its strings. */
async function spfStrings(p: Play, domain: string): Promise<string[][]> {
  const zone = await p.panel.readZone(domain);
  return zone.records.filter((r) => r.name === domain && r.type === 'TXT' && /^v=spf1/i.test(r.txt ? r.txt.join('') : r.value)).map((r) => r.txt ?? [r.value]);
}

describe('SPF fix on the demo domains', () => {
  test('bakery.example: drops the HostGator include, keeps Google, adds the relay; other TXT untouched', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'bakery.example', 'spf');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0].action, 'edit');
    assert.deepEqual(await spfStrings(p, 'bakery.example'), [['v=spf1 +a +mx include:_spf.google.com include:relay.mailchannels.net ~all']]);
    assert.ok(plan.notes.some((n) => n.includes('include:websitewelcome.com')));
    assert.match(p.zoneText('bakery.example'), /"google-site-verification=8c0ZJtC1q2s3d4f5g6h7j8k9"/);
  });

  test('dentist.example: ?all becomes ~all; the old-host mx and include are dropped', async () => {
    const p = await start();
    await applyAndCheck(p, 'dentist.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'dentist.example'), [['v=spf1 a include:relay.mailchannels.net ~all']]);
  });

  test('florist.example: -all stays -all', async () => {
    const p = await start();
    await applyAndCheck(p, 'florist.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'florist.example'), [['v=spf1 mx include:relay.mailchannels.net -all']]);
  });

  for (const domain of ['clean.example', 'plumber.example']) {
    test(`${domain}: already right → empty plan, apply refuses and writes nothing`, async () => {
      const p = await start();
      const before = p.zoneText(domain);
      const plan = await p.plan(domain, 'spf');
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(fixable(await p.findings(domain, 'spf'), 'spf'), []);
      const out = await applyPlan({ domain, check: 'spf', planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'refused');
      assert.equal(p.zoneText(domain), before);
      assert.deepEqual(p.store.changesForDomain(domain), []);
    });
  }
});

describe('SPF fix on post-migration fixture zones', () => {
  test('two SPF records are merged into one (first record keeps its TTL); the verification TXT stays', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'twospf.example', 'spf');
    assert.deepEqual(
      plan.changes.map((c) => c.action),
      ['edit', 'remove'],
    );
    assert.deepEqual(await spfStrings(p, 'twospf.example'), [['v=spf1 +a +mx include:_spf.google.com include:relay.mailchannels.net ~all']]);
    const zone = await p.panel.readZone('twospf.example');
    assert.equal(zone.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!.ttl, 300);
    assert.ok(zone.records.some((r) => r.value === 'google-site-verification=Zq81nVb3kX0pL2mW7'));
  });

  test('+all is replaced by ~all; an unknown include is kept', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'plusall.example', 'spf');
    assert.ok(plan.notes.some((n) => /\+all/.test(n)));
    assert.deepEqual(await spfStrings(p, 'plusall.example'), [['v=spf1 a mx include:spf.crm-vendor.example include:relay.mailchannels.net ~all']]);
    assert.match(p.zoneText('plusall.example'), /"MS=ms48213377"/);
  });

  test('an unknown term is removed when removeTerms selects it; the selection is part of the hash', async () => {
    const p = await start();
    const plain = await p.plan('plusall.example', 'spf');
    const opts = { removeTerms: ['include:spf.crm-vendor.example'] };
    const selected = await p.plan('plusall.example', 'spf', opts);
    assert.notEqual(plain.planHash, selected.planHash);
    // Applying with the hash of the other plan is refused.
    const wrong = await applyPlan({ domain: 'plusall.example', check: 'spf', planHash: plain.planHash, options: opts }, p.deps());
    assert.equal(wrong.status, 'refused');
    await applyAndCheck(p, 'plusall.example', 'spf', opts);
    assert.deepEqual(await spfStrings(p, 'plusall.example'), [['v=spf1 a mx include:relay.mailchannels.net ~all']]);
  });

  test('a record without all ends in ~all', async () => {
    const p = await start();
    await applyAndCheck(p, 'noall.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'noall.example'), [['v=spf1 mx include:relay.mailchannels.net ~all']]);
  });

  test("a redirect= to the previous host's record is dropped and the record gets ~all", async () => {
    const p = await start();
    await applyAndCheck(p, 'oldredirect.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'oldredirect.example'), [['v=spf1 mx include:relay.mailchannels.net ~all']]);
  });

  test('a redirect= whose target already authorises the relay: the check passes and the plan is empty', async () => {
    const p = await start();
    assert.deepEqual(fixable(await p.findings('redirect.example', 'spf'), 'spf'), [], 'the check already passes');
    const plan = await p.plan('redirect.example', 'spf');
    assert.deepEqual(
      plan.changes.map((c) => c.after?.value),
      [],
      'no change: the relay is authorised through redirect= (the planner must not evaluate the candidate with an all term, which makes redirect= ignored)',
    );
  });

  test('over 10 lookups → blocked, naming the costliest term; apply refused, nothing written', async () => {
    const p = await start();
    const before = p.zoneText('toomany.example');
    const plan = await p.plan('toomany.example', 'spf');
    assert.ok(plan.blocked, 'blocked');
    assert.match(plan.blocked!, /15 DNS lookups/);
    assert.match(plan.blocked!, /the costliest of those mailhealth could not place: include:big\.spfchain\.example \(6\)/);
    const out = await applyPlan({ domain: 'toomany.example', check: 'spf', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status === 'refused') assert.equal(out.reason, plan.blocked);
    assert.equal(p.zoneText('toomany.example'), before);
    assert.deepEqual(p.store.changesForDomain('toomany.example'), []);
    // Dropping the costliest term makes it fit.
    const fixed = await p.plan('toomany.example', 'spf', { removeTerms: ['include:big.spfchain.example'] });
    assert.equal(fixed.blocked, undefined);
    await applyAndCheck(p, 'toomany.example', 'spf', { removeTerms: ['include:big.spfchain.example'] });
  });

  test('a 600-byte record is published as strings of at most 255 bytes', async () => {
    const p = await start();
    // Over 512 bytes the check keeps warning (spf.record-too-long): only removing terms could clear that.
    const { plan } = await applyAndCheck(p, 'long.example', 'spf', {}, ['spf.record-too-long']);
    const after = plan.changes[0].after!;
    assert.ok(Buffer.byteLength(after.value) >= 600, `record is ${Buffer.byteLength(after.value)} bytes`);
    assert.ok(after.txt!.length >= 3);
    for (const s of after.txt!) assert.ok(Buffer.byteLength(s) <= 255);
    assert.equal(after.txt!.join(''), after.value);
    const [strings] = await spfStrings(p, 'long.example');
    assert.equal(strings.join(''), after.value);
    assert.match(after.value, /ip4:198\.18\.32\.0\/24 include:relay\.mailchannels\.net ~all$/);
    // Live DNS answers the same record.
    const live = await p.resolver().resolve('long.example', 'TXT');
    assert.ok(live.status === 'ok' && live.records.some((r) => r.join('') === after.value));
  });

  test('mail-service includes are kept; the old host include and its IP are dropped', async () => {
    const p = await start();
    await applyAndCheck(p, 'mailsvc.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'mailsvc.example'), [['v=spf1 include:_spf.google.com include:sendgrid.net include:relay.mailchannels.net ~all']]);
    // google._domainkey (not owned by the SPF fix) untouched.
    assert.match(p.zoneText('mailsvc.example'), /^google\._domainkey\tIN\tTXT\t"v=DKIM1; k=rsa; p=MIGf/m);
  });

  test('a mail-service include goes when removeTerms names it (the customer knows the domain no longer uses it), with a note', async () => {
    const p = await start();
    const plan = await p.plan('mailsvc.example', 'spf', { removeTerms: ['include:sendgrid.net'] });
    assert.doesNotMatch(plan.changes[0].after!.value, /include:sendgrid\.net/);
    assert.match(plan.changes[0].after!.value, /include:_spf\.google\.com/);
    assert.ok(plan.notes.some((n) => /^Removes include:sendgrid\.net \(you selected it\): it authorises SendGrid/.test(n)), plan.notes.join('\n'));
  });

  test('without a relay, the server IP is added when nothing in the record covers it', async () => {
    const p = await start({ server: { relay: null } });
    await applyAndCheck(p, 'ipneed.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'ipneed.example'), [['v=spf1 mx ip4:203.0.113.10 ~all']]);
  });
});

describe('SPF fix when DNS fails while planning (a failed lookup never changes a zone)', () => {
  /** The play's resolver, with the given questions answered `unknown` (SERVFAIL), as a live resolver reports it. */
  function failing(p: Play, questions: string[]): Resolver {
    const base = p.resolver();
    return {
      async resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>> {
        const key = `${name.toLowerCase().replace(/\.$/, '')} ${type}`;
        if (questions.includes(key)) return { name, type, status: 'unknown', records: [], error: 'servfail' };
        return base.resolve(name, type);
      },
    };
  }

  test('without a relay: the A and MX lookups of the domain fail → no ip4 added, the plan is blocked, apply refuses', async () => {
    const p = await start({ server: { relay: null } });
    const domain = 'clean.example';
    // With DNS answering, the record already covers this server: nothing to do.
    assert.deepEqual((await p.plan(domain, 'spf')).changes, []);
    const resolver = failing(p, [`${domain} A`, `${domain} AAAA`, `${domain} MX`]);
    const plan = await makePlan({ domain, check: 'spf' }, { panel: p.panel, resolver });
    assert.match(plan.blocked ?? '', /DNS did not answer while planning/);
    assert.ok(!plan.changes.some((c) => /ip4:203\.0\.113\.10/.test(c.after?.value ?? '')), 'a failed lookup must not add the server IP');
    const before = p.zoneText(domain);
    const out = await applyPlan({ domain, check: 'spf', planHash: plan.planHash }, p.deps({ resolver: failing(p, [`${domain} A`, `${domain} AAAA`, `${domain} MX`]) }));
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText(domain), before);
    assert.deepEqual(p.store.changesForDomain(domain), []);
  });

  test('without a relay: `ptr` whose PTR lookup fails → blocked, not "add the server IP"', async () => {
    const p = await start({ server: { relay: null } });
    const domain = 'clean.example';
    p.writeZone(domain, p.zoneText(domain).replace(/"v=spf1[^"]*"/, '"v=spf1 ptr -all"'));
    p.refresh();
    assert.doesNotMatch((await p.plan(domain, 'spf')).blocked ?? '', /DNS did not answer/);
    const resolver = failing(p, ['10.113.0.203.in-addr.arpa PTR']);
    const plan = await makePlan({ domain, check: 'spf' }, { panel: p.panel, resolver });
    assert.match(plan.blocked ?? '', /DNS did not answer while planning/);
  });

  test('with a relay: an include of the record times out → the relay include is not judged missing; blocked', async () => {
    const p = await start();
    const domain = 'bakery.example';
    const resolver = failing(p, ['_spf.google.com TXT']);
    const plan = await makePlan({ domain, check: 'spf' }, { panel: p.panel, resolver });
    assert.match(plan.blocked ?? '', /DNS did not answer while planning/);
    const out = await applyPlan({ domain, check: 'spf', planHash: plan.planHash }, p.deps({ resolver: failing(p, ['_spf.google.com TXT']) }));
    assert.equal(out.status, 'refused');
  });
});

describe('SPF fix: terms that make receivers fail the whole record', () => {
  const withSpf = (p: Play, spf: string) => {
    p.writeZone('clean.example', p.zoneText('clean.example').replace('"v=spf1 +a +mx include:relay.mailchannels.net ~all"', `"${spf}"`));
    p.refresh();
  };

  for (const [bad, why] of [
    ['ip4:192.0.2.300', /invalid ip4 address/],
    ['ip4:203.0.113.0/33', /ip4/],
    ['include:nope.google.com', /nope\.google\.com does not exist/],
    ['include:aspmx.l.google.com', /aspmx\.l\.google\.com publishes no SPF record/],
  ] as const) {
    test(`${bad} is dropped (a permanent error for every receiver), the rest kept`, async () => {
      const p = await start();
      withSpf(p, `v=spf1 +a +mx ${bad} include:relay.mailchannels.net ~all`);
      const plan = await p.plan('clean.example', 'spf');
      assert.ok(plan.notes.some((n) => n.startsWith(`Drops ${bad}:`) && why.test(n)), plan.notes.join('\n'));
      await applyAndCheck(p, 'clean.example', 'spf');
      assert.deepEqual(await spfStrings(p, 'clean.example'), [['v=spf1 +a +mx include:relay.mailchannels.net ~all']]);
    });
  }

  test('"include _spf.google.com" (colon missing) is joined into include:_spf.google.com, not dropped', async () => {
    const p = await start();
    withSpf(p, 'v=spf1 +a +mx include _spf.google.com include:relay.mailchannels.net ~all');
    const plan = await p.plan('clean.example', 'spf');
    assert.ok(plan.notes.some((n) => /Joins "include _spf\.google\.com" into include:_spf\.google\.com/.test(n)), plan.notes.join('\n'));
    await applyAndCheck(p, 'clean.example', 'spf');
    assert.deepEqual(await spfStrings(p, 'clean.example'), [['v=spf1 +a +mx include:_spf.google.com include:relay.mailchannels.net ~all']]);
  });

  test('a redirect to a known mail service goes when selected for removal (as a service’s include does)', async () => {
    const p = await start();
    withSpf(p, 'v=spf1 +a +mx include:relay.mailchannels.net redirect=_spf.google.com');
    const plan = await p.plan('clean.example', 'spf', { removeTerms: ['redirect=_spf.google.com'] });
    assert.ok(plan.notes.some((n) => n.startsWith('Removes redirect=_spf.google.com (you selected it)')), plan.notes.join('\n'));
    assert.ok(plan.changes.some((c) => c.after && !(c.after.txt ?? [c.after.value]).join('').includes('redirect=')), JSON.stringify(plan.changes));
  });

  test('this server’s terms stay when selected for removal', async () => {
    const p = await start();
    withSpf(p, 'v=spf1 +a +mx include:relay.mailchannels.net redirect=_spf.google.com');
    const plan = await p.plan('clean.example', 'spf', { removeTerms: ['include:relay.mailchannels.net'] });
    assert.ok(plan.notes.some((n) => n.startsWith('Keeps include:relay.mailchannels.net although you selected it')), plan.notes.join('\n'));
  });
});
