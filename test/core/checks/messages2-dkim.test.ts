// Message QA, second pass: dkim.revoked ("The key at … is revoked (empty p=).") and dkim.malformed said what is wrong
// but not whether the DKIM fix publishes this server's key there — which it does exactly where its plan writes the
// selector (src/core/plans/dkim.ts): the server's key, or one the panel generates when the server has none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makePlan } from '../../../src/core/plans/index.js';
import { findings, rules, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

describe('messages: dkim.revoked and dkim.malformed say what the DKIM fix does', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'revoked.test': { zone: zoneText({ dkim: '"v=DKIM1; k=rsa; p="' }) },
        'malformed.test': { zone: zoneText({ dkim: '"v=DKIM1; k=rsa; p=not*base64"' }) },
        // No key on the server, signing off: the fix has the panel generate one.
        'nokey.test': { zone: zoneText({ dkim: '"v=DKIM1; k=rsa; p="' }), pem: null },
        // A revoked key at another selector the audit probes: nothing of this server's, left alone.
        'other.test': { zone: zoneText({ extra: ['old._domainkey\tIN\tTXT\t"v=DKIM1; k=rsa; p="', 'bad._domainkey\tIN\tTXT\t"v=DKIM1; k=rsa; p=not*base64"'] }) },
      },
    });
  });
  after(() => s.cleanup());

  const one = async (domain: string, rule: string, subject?: string, options?: Parameters<Scenario['audit']>[1]) => {
    const a = await s.audit(domain, options);
    const fs = findings(a, rule, subject);
    assert.equal(fs.length, 1, `${domain}: ${JSON.stringify(rules(a), null, 1)}`);
    return fs[0];
  };
  const planNotes = async (domain: string) => (await makePlan({ domain, check: 'dkim' }, { panel: s.panel, resolver: s.resolver })).notes.join('\n');

  test("a revoked key at the server's selector: every signed message fails, and the fix replaces it with the server's key (as its plan says)", async () => {
    const f = await one('revoked.test', 'dkim.revoked');
    assert.equal(f.fix, 'dkim');
    assert.match(f.message, /revoked \(empty p=\)\. Every message this server signs for revoked\.test fails DKIM\. The DKIM fix replaces it with the key this server signs with\./);
    assert.match(await planNotes('revoked.test'), /Replaces the revoked key record at default\._domainkey\.revoked\.test \(empty p=\) with the key this server signs with/);
  });

  test("a malformed record at the server's selector: the fix replaces it with the server's key (as its plan says)", async () => {
    const f = await one('malformed.test', 'dkim.malformed');
    assert.equal(f.fix, 'dkim');
    assert.match(f.message, /is malformed: .*\. The DKIM fix replaces it with the key this server signs with\./);
    assert.match(await planNotes('malformed.test'), /Replaces the malformed DKIM record at default\._domainkey\.malformed\.test with the key this server signs with/);
  });

  test('no key on the server: the fix has the panel generate one and publishes it in place of the revoked record', async () => {
    const f = await one('nokey.test', 'dkim.revoked');
    assert.equal(f.fix, 'dkim');
    assert.match(f.message, /The DKIM fix has the panel generate a 2048-bit key for nokey\.test and turn signing on, and publishes that key in its place\./);
    const plan = await makePlan({ domain: 'nokey.test', check: 'dkim' }, { panel: s.panel, resolver: s.resolver });
    assert.deepEqual(plan.actions.map((x) => x.kind), ['generate-dkim']);
    assert.equal(plan.changes[0]?.before?.value, 'v=DKIM1; k=rsa; p=');
  });

  test('at another selector: a revoked key affects none of this server\'s mail and is left alone; a malformed one is not the fix\'s to touch', async () => {
    const opts = { extraSelectors: ['old', 'bad'] };
    const r = await one('other.test', 'dkim.revoked', 'old', opts);
    assert.equal(r.fix, undefined);
    assert.match(r.message, /This server signs with selector default, not old, so none of its mail is affected .*and the DKIM fix leaves it alone\./);
    const m = await one('other.test', 'dkim.malformed', 'bad', opts);
    assert.equal(m.fix, undefined);
    assert.match(m.message, /The DKIM fix does not touch it: it publishes only at default\._domainkey\.other\.test, the selector this server signs with\. Whoever signs with selector bad must publish a correct record there, or remove it if nothing does\./);
  });
});
