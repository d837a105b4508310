// QA: the SPF fix and redirect=.
//  1. Merging `v=spf1 mx redirect=_spf.google.com` and `v=spf1 a -all` dropped the redirect with the note "receivers
//     ignore redirect= in a record that has an all term" — false: its record had no all term, receivers applied it,
//     and Google's mail then failed. In a merge the redirect of a kept service becomes include:<target>, said in a note
//     (a redirect beside its own record's all term is still dropped as ignored).
//  2. Dropping a previous host's redirect= (its target ending in -all) ended the record in ~all "(it had no all
//     term)": the policy in effect for unlisted servers was fail, silently made softfail. The record now ends in the
//     target's all term (never weaker than ~all), and the note says so.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext } from '../checks/context.js';

const D = 'redir.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

async function plan(records: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}, removeTerms: string[] = []) {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { A: ['203.0.113.10'], MX: [{ priority: 10, exchange: 'server1.newhost.example' }], TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = records.map((value, i) => ({ name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `spf:${i}` }));
  const p = await planSpf(checkContext(D, map, settings, zone), zone, { removeTerms });
  // The SPF records the zone holds after the plan.
  const removed = new Set(p.changes.map((c) => c.before).filter((r) => r));
  const left = zone.filter((r) => !removed.has(r)).concat(p.changes.flatMap((c) => (c.after ? [c.after] : [])));
  const after = p.changes.length ? left.map((r) => (r.txt ?? [r.value]).join('')).join(' | ') : null;
  return { p, after, show: `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

describe('SPF fix: merging a record whose redirect= applied with one that has an all term', () => {
  test('redirect=_spf.google.com (no all in its record) + a -all → include:_spf.google.com, with a true note', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=_spf.google.com', 'v=spf1 a -all']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx a include:_spf.google.com -all', show);
    assert.ok(p.notes.some((n) => /^Replaces redirect=_spf\.google\.com with include:_spf\.google\.com: the merged record ends in -all/.test(n)), show);
    assert.ok(!p.notes.some((n) => /authorises nobody today/.test(n)), `the redirect applied: it authorised Google\n${show}`);
  });

  test('the QA scenario with a relay: Google kept beside the relay include', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=_spf.google.com', 'v=spf1 a -all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx a include:_spf.google.com include:relay.mailchannels.net -all', show);
  });

  test('the other record already includes the target: the redirect goes, and the note says the include keeps them', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=_spf.google.com', 'v=spf1 include:_spf.google.com -all']);
    assert.equal(after, 'v=spf1 mx include:_spf.google.com -all', show);
    assert.ok(p.notes.some((n) => /^Drops redirect=_spf\.google\.com: .* already has include:_spf\.google\.com/.test(n)), show);
  });

  test('a redirect beside its own record\'s all term is still dropped as ignored (what receivers do today)', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=_spf.google.com -all']);
    assert.equal(after, 'v=spf1 mx -all', show);
    assert.ok(p.notes.some((n) => /receivers ignore redirect= in a record that has an all term/.test(n)), show);
  });

  test('merging the include past 10 lookups → blocked, naming the lookups (not a silent drop)', async () => {
    const { p, show } = await plan(
      ['v=spf1 mx redirect=_spf.google.com', 'v=spf1 include:spf.protection.outlook.com include:mailgun.org include:sendgrid.net include:relay.mailchannels.net -all'],
    );
    // 1 (mx) + 3 (outlook) + 4 (mailgun) + 1 (sendgrid) + 1 (relay) + 2 (google) = 12.
    assert.match(p.blocked ?? '', /would need 12 DNS lookups \(limit 10/, show);
    assert.match(p.blocked!, /include:_spf\.google\.com \(2\)/, show);
  });
});

describe('SPF fix: dropping a previous host\'s redirect= keeps the all term its target applied', () => {
  const OLD = (all: string): ZoneMap => ({ 'spf.web-hosting.com': { TXT: [[`v=spf1 ip4:198.54.112.0/20 ${all}`]] } });

  test('target ends in -all → the record ends in -all, and the note says why', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], OLD('-all'));
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx -all', show);
    assert.ok(p.notes.some((n) => /^Ends the record with -all, as spf\.web-hosting\.com's record does: redirect=spf\.web-hosting\.com applied its -all/.test(n)), show);
    assert.ok(!p.notes.some((n) => /it had no all term/.test(n)), show);
  });

  test('the QA scenario with a relay: -all kept beside the relay include', async () => {
    const { after, show } = await plan(['v=spf1 redirect=spf.web-hosting.com'], OLD('-all'), RELAY);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -all', show);
  });

  test('target ends in ~all → ~all, said as the target\'s', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], OLD('~all'));
    assert.equal(after, 'v=spf1 mx ~all', show);
    assert.ok(p.notes.some((n) => n.startsWith("Ends the record with ~all, as spf.web-hosting.com's record does")), show);
  });

  test('target ends in ?all → ~all (never weaker), and the note says the target had ?all', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], OLD('?all'));
    assert.equal(after, 'v=spf1 mx ~all', show);
    assert.ok(p.notes.some((n) => /^Ends the record with ~all: redirect=spf\.web-hosting\.com applied spf\.web-hosting\.com's \?all/.test(n)), show);
  });

  test('the target chains to another redirect ending in -all → -all', async () => {
    const { after, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], {
      'spf.web-hosting.com': { TXT: [['v=spf1 ip4:198.54.112.0/20 redirect=_spf.web-hosting.com']] },
      '_spf.web-hosting.com': { TXT: [['v=spf1 ip4:198.54.128.0/20 -all']] },
    });
    assert.equal(after, 'v=spf1 mx -all', show);
  });

  test('no answer for the target: the plan waits for DNS (the all term is not guessed)', async () => {
    const { p, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], { 'spf.web-hosting.com': { TXT: 'TIMEOUT' } });
    assert.match(p.blocked ?? '', /DNS did not answer/, show);
  });
});

// QA pass 2: merging records that each carry redirect= kept the first and dropped the second ("… is kept"), then
// dropped the first too (beside all, or a previous host's) — Google lost, the note false, the result hanging on the
// order DNS gives the records in. Every redirect is now decided on its own merits after the merge.
describe('SPF fix: several redirect= terms, each decided on its own merits, whatever the record order', () => {
  const WH: ZoneMap = { 'spf.web-hosting.com': { TXT: [['v=spf1 ip4:198.54.112.0/20 -all']] } };
  const both = <T>(a: T, b: T): [T, T][] => [
    [a, b],
    [b, a],
  ];

  for (const [r1, r2] of both('v=spf1 a redirect=spf.protection.outlook.com -all', 'v=spf1 mx redirect=_spf.google.com')) {
    test(`redirect beside all + a service's redirect (${r1.includes('outlook') ? 'beside-all first' : 'service first'}): Google becomes an include`, async () => {
      const { p, after, show } = await plan([r1, r2]);
      assert.equal(p.blocked, undefined, show);
      assert.match(after ?? '', /^v=spf1 (a mx|mx a) include:_spf\.google\.com -all$/, show);
      assert.ok(p.notes.some((n) => /^Replaces redirect=_spf\.google\.com with include:_spf\.google\.com: the merged record ends in -all/.test(n)), show);
      assert.ok(p.notes.some((n) => /^Drops redirect=spf\.protection\.outlook\.com: receivers ignore redirect= in a record that has an all term/.test(n)), show);
      assert.ok(!p.notes.some((n) => /is kept\.$/.test(n)), show);
    });
  }

  for (const [r1, r2] of both('v=spf1 a redirect=spf.web-hosting.com', 'v=spf1 mx redirect=_spf.google.com')) {
    test(`a previous host's redirect + a service's, no all (${r1.includes('web-hosting') ? 'stale first' : 'service first'}): the service's stays the redirect`, async () => {
      const { p, after, show } = await plan([r1, r2], WH);
      assert.equal(p.blocked, undefined, show);
      assert.match(after ?? '', /^v=spf1 (a mx|mx a) redirect=_spf\.google\.com$/, show);
      assert.ok(p.notes.some((n) => /^Drops redirect=spf\.web-hosting\.com: .*Namecheap/.test(n)), show);
      assert.ok(!p.notes.some((n) => /redirect=_spf\.google\.com/.test(n) && n.startsWith('Drops')), show);
    });
  }

  test('stale redirect + service redirect + a record with -all: stale dropped, Google an include', async () => {
    const { p, after, show } = await plan(['v=spf1 a redirect=spf.web-hosting.com', 'v=spf1 mx redirect=_spf.google.com', 'v=spf1 ip4:198.51.100.1 -all'], WH);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 a mx ip4:198.51.100.1 include:_spf.google.com -all', show);
  });

  test('one record with two redirects, the first a previous host\'s: the second stays', async () => {
    const { after, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com redirect=_spf.google.com'], WH);
    assert.equal(after, 'v=spf1 mx redirect=_spf.google.com', show);
  });

  test('two services\' redirects, no all: both become includes (two redirect= are a permanent error)', async () => {
    const { p, after, show } = await plan(['v=spf1 mx redirect=_spf.google.com', 'v=spf1 a redirect=spf.protection.outlook.com']);
    assert.equal(after, 'v=spf1 mx a include:_spf.google.com include:spf.protection.outlook.com ~all', show);
    assert.ok(p.notes.some((n) => /^Replaces redirect=_spf\.google\.com with include:_spf\.google\.com: the merged record would carry 2 redirect= terms/.test(n)), show);
  });
});

describe('SPF fix: a dropped redirect= whose target has no all term that decides — the note says why', () => {
  test('the target publishes two SPF records: said so (not "publishes no SPF record")', async () => {
    const { p, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], { 'spf.web-hosting.com': { TXT: [['v=spf1 -all'], ['v=spf1 ~all']] } });
    assert.ok(p.notes.some((n) => /^Ends the record with ~all: .*spf\.web-hosting\.com publishes 2 SPF records/.test(n)), show);
    assert.ok(!p.notes.some((n) => /publishes no SPF record/.test(n)), show);
  });

  test('the redirect chain loops: said so', async () => {
    const { p, show } = await plan(['v=spf1 mx redirect=spf.web-hosting.com'], {
      'spf.web-hosting.com': { TXT: [['v=spf1 ip4:198.54.112.0/20 redirect=_a.web-hosting.com']] },
      '_a.web-hosting.com': { TXT: [['v=spf1 redirect=spf.web-hosting.com']] },
    });
    assert.ok(p.notes.some((n) => /^Ends the record with ~all: .*loops back to spf\.web-hosting\.com/.test(n)), show);
    assert.ok(!p.notes.some((n) => /publishes no SPF record/.test(n)), show);
  });
});
