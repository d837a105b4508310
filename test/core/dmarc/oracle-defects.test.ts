// The DMARC defects test/e2e/dmarc-verdicts-oracle.test.ts found against Mail::DMARC (Debian's libmail-dmarc-perl),
// each on its exact input, here without Perl or DNS (that test skips without Mail::DMARC):
// (1) a record with a valid p and an invalid sp was read as its p — RFC 7489 §6.6.3 step 6 reads "a retrieved policy
//     record [that] contains an sp tag that is not valid" as p=none with a valid rua, else no DMARC processing at all,
//     for the domain itself too (the check said p=reject applied; only the organizational-domain path knew the rule);
// (2) the organizational domain came from the public suffix list's ICANN section only: example.uk.com (uk.com is a
//     private-section suffix; CentralNic sells such domains) was taken to belong to uk.com — it inherited uk.com's
//     policy, so did its subdomains, and reports to other.uk.com needed no authorisation. Receivers read the whole list;
// (3) ` v=DMARC1; p=none` (a space before the version) was counted as a DMARC record (dmarc.ok), while RFC 7489
//     §6.6.3 discards records that do not start with v= and Mail::DMARC applied the parent's policy instead.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { isDmarcRecord, needsExternalAuthorization, organizationalDomain, parseDmarcRecord, repairMeantDmarc } from '../../../src/core/dmarc/record.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const rules = async (ctx: ReturnType<typeof checkContext>) => (await dmarcCheck(ctx)).map((f) => `${f.severity} ${f.rule}`);

describe('(1) an invalid sp= makes the record one without a valid p= (RFC 7489 §6.6.3), for the domain itself too', () => {
  test('with a valid rua: p=none for the domain and its subdomains, said in the remarks', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; sp=block; rua=mailto:dmarc@example.net');
    assert.equal(r.policy, 'none');
    assert.equal(r.subdomainPolicy, 'none');
    assert.equal(r.nonExistentPolicy, 'none');
    assert.ok(r.errors.some((e) => /invalid sp=block/.test(e)), r.errors.join('; '));
    assert.ok(r.warnings.some((w) => /invalid sp=block: receivers read the record as p=none, not p=reject \(RFC 7489 §6\.6\.3\)/.test(w)), r.warnings.join('; '));
  });

  test('its np= is not applied either (the record is read as p=none)', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; sp=block; np=reject; rua=mailto:dmarc@example.net');
    assert.equal(r.nonExistentPolicy, 'none');
    assert.ok(r.warnings.some((w) => /np=reject is not applied: with an invalid sp receivers read the record as p=none/.test(w)), r.warnings.join('; '));
  });

  test('without one: no policy at all, and the error says so', () => {
    const r = parseDmarcRecord('v=DMARC1; p=reject; sp=block');
    assert.equal(r.policy, null);
    assert.equal(r.subdomainPolicy, null);
    assert.ok(r.errors.some((e) => /invalid sp=block and no valid rua: RFC 7489 receivers apply no DMARC processing, not p=reject/.test(e)), r.errors.join('; '));
  });

  test('the check: dmarc.syntax says receivers apply no DMARC processing (not p=reject)', async () => {
    const ctx = checkContext('sp-bad.example.net', { '_dmarc.sp-bad.example.net': { TXT: [['v=DMARC1; p=reject; sp=block']] } });
    const syntax = (await dmarcCheck(ctx)).find((f) => f.rule === 'dmarc.syntax');
    assert.match(syntax?.message ?? '', /apply no DMARC processing, not p=reject/);
  });

  test('a valid sp= (or none) is unchanged', () => {
    assert.equal(parseDmarcRecord('v=DMARC1; p=reject; sp=none').policy, 'reject');
    assert.equal(parseDmarcRecord('v=DMARC1; p=reject; sp=none').subdomainPolicy, 'none');
    assert.equal(parseDmarcRecord('v=DMARC1; p=quarantine').subdomainPolicy, 'quarantine');
  });
});

describe('(2) the organizational domain by the whole public suffix list (its private section too)', () => {
  test('example.uk.com and foo.github.io are their own organizational domains', () => {
    assert.equal(organizationalDomain('shop.example.uk.com'), 'example.uk.com');
    assert.equal(organizationalDomain('example.uk.com'), 'example.uk.com');
    assert.equal(organizationalDomain('foo.github.io'), 'foo.github.io');
    // ICANN-section names as before.
    assert.equal(organizationalDomain('a.b.example.co.uk'), 'example.co.uk');
    assert.equal(organizationalDomain('Shop.Example.COM.'), 'example.com');
    assert.equal(organizationalDomain('co.uk'), 'co.uk');
  });

  test('reports for example.uk.com sent to another uk.com domain need its authorisation (RFC 7489 §7.1)', () => {
    assert.equal(needsExternalAuthorization('example.uk.com', 'reports.other.uk.com'), true);
    assert.equal(needsExternalAuthorization('shop.example.uk.com', 'example.uk.com'), false);
  });

  test('example2.uk.com without a record does not inherit uk.com’s: dmarc.missing', async () => {
    const ctx = checkContext('example2.uk.com', { '_dmarc.uk.com': { TXT: [['v=DMARC1; p=none']] } });
    assert.deepEqual(await rules(ctx), ['warn dmarc.missing']);
  });

  test('shop.example.uk.com inherits example.uk.com’s sp=, not uk.com’s p=', async () => {
    const ctx = checkContext('shop.example.uk.com', {
      '_dmarc.example.uk.com': { TXT: [['v=DMARC1; p=reject; sp=quarantine']] },
      '_dmarc.uk.com': { TXT: [['v=DMARC1; p=none']] },
    });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => f.rule), ['dmarc.inherited']);
    assert.match(fs[0].message, /the policy of example\.uk\.com applies: p=quarantine/);
  });
});

describe('(3) a record must start with its v= tag: a leading space makes it one receivers cannot read', () => {
  const TXT = ' v=DMARC1; p=none';

  test('not a DMARC record; repairMeantDmarc writes it without the space', () => {
    assert.equal(isDmarcRecord(TXT), false);
    assert.equal(isDmarcRecord('\tv=DMARC1; p=none'), false);
    assert.equal(repairMeantDmarc(TXT), 'v=DMARC1; p=none');
    // Whitespace around "=" is still allowed (RFC 7489 §6.4: "v" *WSP "=" *WSP).
    assert.equal(isDmarcRecord('v = DMARC1 ; p=none'), true);
  });

  test('the check: dmarc.syntax (fail, with the fix), not dmarc.ok', async () => {
    const ctx = checkContext('lead.example.net', { '_dmarc.lead.example.net': { TXT: [[TXT]] } });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule} ${f.fix}`), ['fail dmarc.syntax dmarc']);
    assert.match(fs[0].message, /is meant as DMARC but receivers cannot read it/);
  });

  test('under a parent with a record: the parent’s policy applies, as Mail::DMARC applies it', async () => {
    const ctx = checkContext('lead.example.net', { '_dmarc.lead.example.net': { TXT: [[TXT]] }, '_dmarc.example.net': { TXT: [['v=DMARC1; p=quarantine; sp=reject']] } });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => f.rule), ['dmarc.inherited']);
    assert.match(fs[0].message, /the policy of example\.net applies: p=reject/);
  });

  test('the fix rewrites it starting with v=DMARC1, keeping p=none', async () => {
    const name = '_dmarc.lead.example.net';
    const zone: ZoneRecord[] = [{ name, ttl: 3600, type: 'TXT', value: TXT, txt: [TXT] }];
    const ctx = checkContext('lead.example.net', { 'lead.example.net': { NS: ['ns1.newhost.example', 'ns2.newhost.example'] }, [name]: { TXT: [[TXT]] } }, {}, zone);
    const plan = await planDmarc(ctx, zone);
    assert.equal(plan.blocked, undefined, plan.blocked);
    const after = plan.changes.flatMap((c) => (c.after ? [(c.after.txt ?? [c.after.value]).join('')] : []));
    assert.equal(after.length, 1, JSON.stringify(plan.changes));
    assert.match(after[0], /^v=DMARC1; p=none(;|$)/);
    assert.ok(plan.changes.some((c) => c.before === zone[0]), 'the record with the space is replaced');
  });
});
