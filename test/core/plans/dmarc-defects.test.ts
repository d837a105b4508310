// DMARC QA defects (cPanel emulator): (1) the fix threw away report addresses it could repair (`rua=local@domain`
// without mailto:, URIs separated by a space) and sent reports to postmaster@; (2) a `v=dmarc1` record beside a valid
// one counted as a second DMARC record and the merge loosened p=reject to p=none; (3) a record with no p= but sp=:
// the check said its subdomains inherit the sp=, the fix said receivers ignore the record. RFC 7489 §6.6.3 is followed
// throughout: a record not starting with "v=DMARC1" (exact value) is discarded, and one without a valid p= but with a
// valid rua= is read as `v=DMARC1; p=none` — for its subdomains too.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import * as record from '../../../src/core/dmarc/record.js';
import { isDmarcRecord, parseDmarcRecord, repairMeantDmarc, repairReportUri } from '../../../src/core/dmarc/record.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';
const SUB = `shop.${D}`;
const AUTH: ZoneMap = { [`${D}._report._dmarc.dmarcian.com`]: { TXT: [['v=DMARC1']] } };
const txt = (name: string, value: string, i = 0): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r${i}` });

/** The check's findings and the fix's plan for `domain` whose _dmarc holds `values` (live and in the panel's zone). */
async function run(domain: string, values: string[], world: ZoneMap = {}) {
  const recs = values.map((v, i) => txt(`_dmarc.${domain}`, v, i));
  const map: ZoneMap = { ...world, ...(values.length ? { [`_dmarc.${domain}`]: { TXT: values.map((v) => [v]) } } : {}) };
  const ctx = checkContext(domain, map, {}, recs);
  const findings = await dmarcCheck(ctx);
  const plan = await planDmarc(ctx, recs);
  assert.equal(plan.blocked, undefined);
  const removed = new Set(plan.changes.filter((c) => c.action !== 'add').map((c) => c.before));
  const left = [...recs.filter((r) => !removed.has(r)), ...plan.changes.filter((c) => c.after).map((c) => c.after!)].map((r) => r.value);
  return { findings, plan, left, notes: plan.notes };
}

describe('defect 1: report addresses the fix can repair are repaired, then checked like any other', () => {
  test('QA repro: rua=reports@dmarcian.com (no mailto:), authorised → rua=mailto:reports@dmarcian.com, not postmaster@', async () => {
    const { left, notes, findings } = await run(D, ['v=DMARC1; p=reject; rua=reports@dmarcian.com'], AUTH);
    assert.deepEqual(left, ['v=DMARC1; p=reject; rua=mailto:reports@dmarcian.com']);
    assert.ok(notes.includes('Repairs rua reports@dmarcian.com as mailto:reports@dmarcian.com: a report address needs the mailto: scheme.'), notes.join('\n'));
    assert.ok(!notes.some((n) => n.includes('postmaster@')), notes.join('\n'));
    // The check names the repair in its finding about the unreadable rua.
    const syntax = findings.find((f) => f.rule === 'dmarc.syntax');
    assert.ok(syntax, JSON.stringify(findings.map((f) => f.rule)));
    assert.equal(syntax.fix, 'dmarc');
    assert.match(syntax.message, /has no scheme/);
    assert.ok(syntax.message.includes('The DMARC fix repairs rua "reports@dmarcian.com" as mailto:reports@dmarcian.com'), syntax.message);
  });

  test('QA repro: two URIs separated by a space, authorised → a comma list keeping both', async () => {
    const { left, notes, findings } = await run(D, ['v=DMARC1; p=quarantine; rua=mailto:a@dmarcian.com mailto:b@alice.example'], AUTH);
    assert.deepEqual(left, ['v=DMARC1; p=quarantine; rua=mailto:a@dmarcian.com,mailto:b@alice.example']);
    assert.ok(
      notes.includes('Repairs rua mailto:a@dmarcian.com mailto:b@alice.example as mailto:a@dmarcian.com,mailto:b@alice.example: report addresses are separated by commas.'),
      notes.join('\n'),
    );
    const syntax = findings.find((f) => f.rule === 'dmarc.syntax');
    assert.ok(syntax?.message.includes('as mailto:a@dmarcian.com,mailto:b@alice.example'), syntax?.message);
  });

  test('a repaired address goes through the RFC 7489 §7.1 authorisation check: not authorised → kept, the note naming the record to publish', async () => {
    const one = await run(D, ['v=DMARC1; p=reject; rua=reports@dmarcian.com']);
    assert.deepEqual(one.left, ['v=DMARC1; p=reject; rua=mailto:reports@dmarcian.com']);
    assert.ok(one.notes.some((n) => n.startsWith('Repairs rua reports@dmarcian.com')), one.notes.join('\n'));
    assert.ok(
      one.notes.some((n) => n.startsWith('Keeps rua reports@dmarcian.com, although dmarcian.com does not authorise reports') && n.includes(`${D}._report._dmarc.dmarcian.com TXT "v=DMARC1"`)),
      one.notes.join('\n'),
    );
    const two = await run(D, ['v=DMARC1; p=quarantine; rua=mailto:a@dmarcian.com mailto:b@alice.example']);
    assert.deepEqual(two.left, ['v=DMARC1; p=quarantine; rua=mailto:a@dmarcian.com,mailto:b@alice.example']);
  });

  test('a repaired address at a previous host is dropped as stale; mixed repairs, ruf too', async () => {
    const { left, notes } = await run(D, ['v=DMARC1; p=none; rua=dmarc-reports@dreamhost.com, mailto:x@alice.example; ruf=f@alice.example'], AUTH);
    assert.deepEqual(left, ['v=DMARC1; p=none; rua=mailto:x@alice.example; ruf=mailto:f@alice.example']);
    assert.ok(notes.some((n) => n.startsWith('Drops rua dmarc-reports@dreamhost.com:')), notes.join('\n'));
    assert.ok(notes.includes('Repairs ruf f@alice.example as mailto:f@alice.example: a report address needs the mailto: scheme.'), notes.join('\n'));
  });

  test('what cannot be read as an address is still dropped', async () => {
    for (const rua of ['postmaster', 'reports at alice.example', 'mailto:nobody']) {
      const { left, notes } = await run(D, [`v=DMARC1; p=reject; rua=${rua}`]);
      assert.deepEqual(left, [`v=DMARC1; p=reject; rua=mailto:postmaster@${D}`], rua);
      assert.ok(notes.some((n) => n.startsWith(`Drops rua ${rua}:`)), `${rua}: ${notes.join('\n')}`);
      assert.ok(!notes.some((n) => n.startsWith('Repairs')), rua);
    }
  });

  test('repairReportUri: what it repairs and what it leaves', () => {
    const { repairReportUri } = record;
    assert.deepEqual(repairReportUri(' reports@dmarcian.com '), { uris: ['mailto:reports@dmarcian.com'], split: false, mailto: true });
    assert.deepEqual(repairReportUri('mailto:a@x.example  b@y.example!10m'), { uris: ['mailto:a@x.example', 'mailto:b@y.example!10m'], split: true, mailto: true });
    assert.deepEqual(repairReportUri('mailto:a@x.example https://r.example/x'), { uris: ['mailto:a@x.example', 'https://r.example/x'], split: true, mailto: false });
    for (const ok of ['mailto:a@x.example', 'mailto:a@x.example!5m']) assert.equal(repairReportUri(ok), null, ok);
    for (const bad of ['', 'postmaster', 'a@', 'mailto:nobody', 'junk more']) assert.equal(repairReportUri(bad), null, bad);
    // A piece that is no address beside one that is: kept apart, to be dropped on its own (QA: the valid one went too).
    assert.deepEqual(repairReportUri('mailto:a@x.example junk'), { uris: ['mailto:a@x.example', 'junk'], split: true, mailto: false });
    assert.deepEqual(repairReportUri('mailto a@x.example'), { uris: ['mailto', 'mailto:a@x.example'], split: true, mailto: true });
  });
});

describe('defect 2: a v=dmarc1 record is one receivers discard — not a second record, never merged', () => {
  const READABLE = 'v=DMARC1; p=reject; rua=mailto:a@alice.example';

  test('isDmarcRecord: the value DMARC1 is case-sensitive, the tag name and spacing are not', () => {
    assert.equal(isDmarcRecord('v=dmarc1; p=none'), false);
    assert.equal(isDmarcRecord('v=Dmarc1; p=none'), false);
    assert.equal(isDmarcRecord('V = DMARC1 ; p=none'), true);
    assert.equal(repairMeantDmarc('v=dmarc1; p=none'), 'v=DMARC1; p=none');
  });

  test('QA repro: beside a valid p=reject record → no dmarc.multiple; the fix removes it and keeps p=reject', async () => {
    const { findings, plan, left, notes } = await run(D, [READABLE, 'v=dmarc1; p=none']);
    assert.ok(!findings.some((f) => f.rule === 'dmarc.multiple'), JSON.stringify(findings.map((f) => f.rule)));
    assert.ok(!findings.some((f) => /invalid version/.test(f.message)), JSON.stringify(findings.map((f) => f.message)));
    const syntax = findings.filter((f) => f.rule === 'dmarc.syntax');
    assert.deepEqual(syntax.map((f) => `${f.severity} ${f.subject} ${f.fix}`), ['warn v=dmarc1; p=none dmarc']);
    assert.match(syntax[0].message, /receivers cannot read it .*apply the DMARC record beside it/);
    assert.deepEqual(left, [READABLE]);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.before?.value}`), ['remove v=dmarc1; p=none']);
    assert.ok(!notes.some((n) => n.startsWith('Merges') || /weakest/.test(n)), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith('Removes "v=dmarc1; p=none"') && n.includes('its policy is not merged in')), notes.join('\n'));
  });

  test('alone, its version is written DMARC1 and its policy kept (lenient receivers apply it today; review: it became p=none)', async () => {
    const { findings, left, notes } = await run(D, ['v=dmarc1; p=reject; rua=mailto:a@alice.example']);
    assert.deepEqual(findings.map((f) => `${f.severity} ${f.rule}`), ['fail dmarc.syntax']);
    assert.deepEqual(left, ['v=DMARC1; p=reject; rua=mailto:a@alice.example']);
    assert.ok(notes.some((n) => n.includes('the fix writes v=DMARC1 and keeps its p=reject')), notes.join('\n'));
    // Anything else wrong besides the case: repaired as any record meant as DMARC, its policy named, not switched on.
    const other = await run(D, ['v=dmarc1 p=reject']);
    assert.ok(other.notes.some((n) => n.includes('says p=reject, but receivers cannot read it')), other.notes.join('\n'));
  });

  test('a subdomain under a parent whose only record is v=dmarc1; p=reject inherits that policy and gets no record of its own', async () => {
    const { findings, plan } = await run(SUB, [], { [`_dmarc.${D}`]: { TXT: [['v=dmarc1; p=reject']] } });
    assert.deepEqual(findings.map((f) => f.rule), ['dmarc.inherited']);
    assert.deepEqual(plan.changes, []);
  });

  test('at the organizational domain: one readable record and a v=dmarc1 one → the subdomain inherits p=reject', async () => {
    const { findings, plan } = await run(SUB, [], { [`_dmarc.${D}`]: { TXT: [[READABLE], ['v=dmarc1; p=none']] } });
    assert.deepEqual(findings.map((f) => f.rule), ['dmarc.inherited']);
    assert.match(findings[0].message, /p=reject \(its p=reject\)/);
    assert.deepEqual(plan.changes, []);
  });
});

describe('defect 3: no p= but sp= — one rule for the check and the fix (RFC 7489 §6.6.3)', () => {
  const PARENT = `v=DMARC1; rua=mailto:d@${D}; sp=reject`;

  test('the parser: applied as p=none, for subdomains and non-existent ones too; sp= named as not applied', () => {
    const r = parseDmarcRecord(PARENT);
    assert.deepEqual([r.policy, r.subdomainPolicy, r.nonExistentPolicy], ['none', 'none', 'none']);
    assert.ok(r.warnings.some((w) => /^sp=reject is not applied: .*p=none/.test(w)), JSON.stringify(r.warnings));
    const np = parseDmarcRecord(`v=DMARC1; p=bogus; np=quarantine; rua=mailto:d@${D}`);
    assert.deepEqual([np.policy, np.subdomainPolicy, np.nonExistentPolicy], ['none', 'none', 'none']);
    // Without a valid rua: no DMARC processing at all, sp= or not.
    const none = parseDmarcRecord('v=DMARC1; sp=reject');
    assert.deepEqual([none.policy, none.subdomainPolicy, none.nonExistentPolicy], [null, null, null]);
    // With a valid p, sp= applies as before.
    assert.equal(parseDmarcRecord('v=DMARC1; p=none; sp=reject').subdomainPolicy, 'reject');
  });

  test('QA repro: a subdomain inherits p=none, not the sp=reject; the fix publishes nothing over it', async () => {
    const { findings, plan } = await run(SUB, [], { [`_dmarc.${D}`]: { TXT: [[PARENT]] } });
    assert.deepEqual(findings.map((f) => `${f.severity} ${f.rule}`), ['pass dmarc.inherited']);
    assert.match(findings[0].message, /the policy of alice\.example applies: p=none \(its record has no valid p=, so its sp=reject is not applied either; with a report address receivers apply it as p=none\)/);
    assert.doesNotMatch(findings[0].message, /\bp=reject/);
    assert.deepEqual(plan.changes, []);
    assert.match(plan.notes.join(' '), /inherits p=none from alice\.example/);
  });

  test('QA repro: the fix on the parent writes p=none and says receivers apply the record as p=none (not "ignore")', async () => {
    const { left, notes, findings } = await run(D, [PARENT]);
    assert.deepEqual(left, [`v=DMARC1; p=none; rua=mailto:d@${D}`]);
    assert.ok(notes.some((n) => n.startsWith('Drops sp=reject: receivers apply that record as p=none today')), notes.join('\n'));
    assert.ok(!notes.some((n) => /ignore/.test(n)), notes.join('\n'));
    // The check on the parent says the same: p=none, and why sp= does nothing.
    assert.ok(findings.some((f) => f.rule === 'dmarc.policy-none'));
    assert.ok(findings.some((f) => f.rule === 'dmarc.remarks' && /sp=reject is not applied/.test(f.message)));
  });

  test('without a report address the record applies nothing: the subdomain has no policy, the fix still says "ignore"', async () => {
    const sub = await run(SUB, [], { [`_dmarc.${D}`]: { TXT: [['v=DMARC1; sp=reject']] } });
    assert.deepEqual(sub.findings.map((f) => f.rule), ['dmarc.missing']);
    const parent = await run(D, ['v=DMARC1; sp=reject']);
    assert.ok(parent.notes.some((n) => n.startsWith('Drops sp=reject: receivers ignore that record today')), parent.notes.join('\n'));
  });
});

describe('a TXT at _dmarc that is not a mail record is not the fix’s (QA: a verification token was deleted)', () => {
  test('beside a record with a stale report address: the DMARC record is rewritten, the token stays', async () => {
    const { left, notes, findings } = await run(D, ['v=DMARC1; p=reject; rua=mailto:dmarc@websitewelcome.com', 'google-site-verification=yyy']);
    assert.ok(findings.some((f) => f.rule === 'dmarc.stale-destination'), findings.map((f) => f.rule).join(','));
    assert.ok(left.includes('google-site-verification=yyy'), left.join(' | '));
    assert.equal(left.filter((v) => v.startsWith('v=DMARC1')).length, 1, left.join(' | '));
    assert.ok(notes.some((n) => /^Leaves "google-site-verification=yyy" at _dmarc\.alice\.example as it is/.test(n)), notes.join('\n'));
  });
  test('with no DMARC record: one is added, the token stays', async () => {
    const { left } = await run(D, ['google-site-verification=yyy']);
    assert.deepEqual(left.sort(), ['google-site-verification=yyy', `v=DMARC1; p=none; rua=mailto:postmaster@${D}`].sort());
  });
  test('an SPF record published at _dmarc by mistake is still the fix’s to remove', async () => {
    const { left } = await run(D, ['v=spf1 -all']);
    assert.ok(!left.includes('v=spf1 -all'), left.join(' | '));
  });
});

describe('report URIs separated by spaces, one of them invalid', () => {
  test('rua=mailto:a@… mailto:junk → the valid address is kept, only the invalid one dropped (was: both replaced by postmaster@)', async () => {
    const { left, notes } = await run(D, [`v=DMARC1; p=reject; rua=mailto:a@${D} mailto:junk`]);
    assert.deepEqual(left, [`v=DMARC1; p=reject; rua=mailto:a@${D}`]);
    assert.ok(notes.some((n) => n.startsWith('Drops rua mailto:junk:')), notes.join('\n'));
    assert.ok(!notes.some((n) => n.includes('postmaster@')), notes.join('\n'));
  });
  test('one invalid URI alone is not "repaired" into itself', () => {
    assert.equal(repairReportUri('mailto:junk'), null);
  });
});

test('rua=mailto:a@… mailto:b@… junk → both addresses kept, only junk dropped (QA: all three replaced by postmaster@)', async () => {
  const { left, notes } = await run(D, [`v=DMARC1; p=none; rua=mailto:a@${D} mailto:b@${D} junk`]);
  assert.deepEqual(left, [`v=DMARC1; p=none; rua=mailto:a@${D},mailto:b@${D}`]);
  assert.ok(notes.some((n) => n.startsWith('Drops rua junk:')), notes.join('\n'));
  assert.equal(repairReportUri('junk more'), null, 'nothing readable: not repaired');
});
