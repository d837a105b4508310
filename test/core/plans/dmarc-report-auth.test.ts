// DMARC QA (mail-auth pass): a report address at another domain without the RFC 7489 §7.1 authorisation record.
// ma.example had `rua=mailto:dmarc@m3.example; ruf=…` and m3.example publishes no
// `ma.example._report._dmarc.m3.example TXT "v=DMARC1"`. The finding said the reports "are dropped" without the remedy,
// and the fix replaced both addresses with postmaster@ma.example — undoing the customer's choice, when what is missing
// is a record in m3.example's DNS. Now:
//  - the finding names that exact record, and at a DMARC report service the customer uses (dmarcian: providers.json
//    kind report-processor) says to set the domain up there, since the service publishes the record;
//  - the fix keeps such an address (receivers ignore it until it is authorised; once it is, reports arrive with no
//    further change), so the finding offers no fix; a previous host's address still goes;
//  - a DNS error on the authorisation lookup is unknown: never a reason to drop, and no longer a block either.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const txt = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value], ref: 'd' });

/** The check's findings and the fix's plan for `domain` whose _dmarc holds `value` (live and in the panel's zone). */
async function run(domain: string, value: string, world: ZoneMap = {}) {
  const recs = [txt(`_dmarc.${domain}`, value)];
  const map: ZoneMap = { ...world, [`_dmarc.${domain}`]: { TXT: [[value]] } };
  const findings = await dmarcCheck(checkContext(domain, map, {}, recs));
  const plan = await planDmarc(checkContext(domain, map, {}, recs), recs);
  const after = plan.changes.find((c) => c.after)?.after?.value ?? null;
  return { findings, plan, after, notes: plan.notes };
}
const show = (fs: Finding[], notes: string[] = [], after: string | null = null) =>
  `${fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} fix=${f.fix}: ${f.message}`).join('\n')}\n-- after: ${after}\n${notes.join('\n')}`;

describe('DMARC report address at another domain that does not authorise the reports (RFC 7489 §7.1)', () => {
  test('QA ma.example: the finding names the record m3.example must publish; the fix keeps both addresses', async () => {
    const { findings, plan, after, notes } = await run('ma.example', 'v=DMARC1; p=reject; rua=mailto:dmarc@m3.example; ruf=mailto:dmarc@m3.example');
    const why = show(findings, notes, after);
    const unauth = findings.filter((f) => f.rule === 'dmarc.unauthorized-destination');
    assert.deepEqual(
      unauth.map((f) => `${f.severity} ${f.subject}`),
      ['warn rua=mailto:dmarc@m3.example', 'warn ruf=mailto:dmarc@m3.example'],
      why,
    );
    for (const f of unauth) {
      assert.ok(f.message.includes('publish ma.example._report._dmarc.m3.example'), f.message);
      assert.ok(f.message.includes(`To receive them, publish ma.example._report._dmarc.m3.example TXT "v=DMARC1" in m3.example's DNS`), f.message);
      assert.match(f.message, /The DMARC fix keeps the address/);
      assert.equal(f.fix, undefined, 'the fix changes nothing for it: no fix offered');
      assert.deepEqual(f.evidence.authorization, ['ma.example._report._dmarc.m3.example: none']);
    }
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.changes, [], why);
    assert.ok(!notes.some((n) => n.includes('postmaster@')), why);
  });

  test('QA m2.example: at dmarcian (a DMARC report service) the finding says to set the domain up there; kept', async () => {
    const { findings, after, plan, notes } = await run('m2.example', 'v=DMARC1; p=reject; rua=mailto:dmarc@m2.example,mailto:x@ag.dmarcian.com');
    const why = show(findings, notes, after);
    const f = findings.find((x) => x.rule === 'dmarc.unauthorized-destination');
    assert.ok(f, why);
    assert.equal(f.classification?.provider, 'dmarcian');
    assert.match(f.message, /x@ag\.dmarcian\.com is at dmarcian, a DMARC report service, which publishes that record once m2\.example is set up in your dmarcian account: add m2\.example there/);
    assert.ok(f.message.includes('m2.example._report._dmarc.ag.dmarcian.com TXT "v=DMARC1"'), f.message);
    assert.equal(f.fix, undefined);
    assert.deepEqual(plan.changes, [], why);
  });

  test('at the provider the domain\'s mail is delivered to (kept, not a report service): ask that provider to publish the record', async () => {
    const world: ZoneMap = { 'x8.example': { MX: [{ priority: 0, exchange: 'mx1.dreamhost.com' }] }, 'mx1.dreamhost.com': { A: ['69.163.136.10'] } };
    const value = 'v=DMARC1; p=none; rua=mailto:dmarc@dreamhost.com';
    const recs = [txt('_dmarc.x8.example', value), { name: 'x8.example', ttl: 3600, type: 'MX', value: '0 mx1.dreamhost.com.', ref: 'mx' } as ZoneRecord];
    const ctx = checkContext('x8.example', { ...world, '_dmarc.x8.example': { TXT: [[value]] } }, { routing: 'remote' }, recs);
    const findings = await dmarcCheck(ctx);
    const f = findings.find((x) => x.rule === 'dmarc.unauthorized-destination');
    assert.ok(f, show(findings));
    assert.equal(f.classification?.class, 'keep');
    assert.match(f.message, /dreamhost\.com is DreamHost's, a service x8\.example uses: to receive them, ask DreamHost to publish x8\.example\._report\._dmarc\.dreamhost\.com TXT "v=DMARC1"/);
    assert.doesNotMatch(f.message, /account/);
    assert.deepEqual((await planDmarc(ctx, recs)).changes, []);
  });

  test("a previous host's address still goes; the unauthorised one is kept, its note naming the record", async () => {
    const { after, notes, findings } = await run('ma.example', 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com,mailto:dmarc@m3.example');
    const why = show(findings, notes, after);
    assert.equal(after, 'v=DMARC1; p=quarantine; rua=mailto:dmarc@m3.example', why);
    assert.ok(notes.some((n) => n.startsWith('Drops rua dmarc-reports@dreamhost.com:')), why);
    assert.ok(
      notes.some((n) => n.startsWith('Keeps rua dmarc@m3.example, although m3.example does not authorise reports for ma.example yet') && n.includes('ma.example._report._dmarc.m3.example TXT "v=DMARC1"')),
      why,
    );
    assert.ok(!notes.some((n) => n.includes('postmaster@')), `an address is left: no postmaster@ added\n${why}`);
    // The stale one is the fix's; the unauthorised one is not.
    assert.equal(findings.find((f) => f.rule === 'dmarc.stale-destination')?.fix, 'dmarc', why);
  });

  test('an authorised address: no finding against it, kept without a note', async () => {
    const { findings, after, notes } = await run('ma.example', 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com,mailto:dmarc@m3.example', {
      'ma.example._report._dmarc.m3.example': { TXT: [['v=DMARC1']] },
    });
    const why = show(findings, notes, after);
    assert.ok(!findings.some((f) => f.rule === 'dmarc.unauthorized-destination'), why);
    assert.equal(after, 'v=DMARC1; p=quarantine; rua=mailto:dmarc@m3.example', why);
    assert.ok(!notes.some((n) => n.includes('m3.example')), why);
  });

  test('a DNS timeout on the authorisation lookup: unknown in the check, never a reason to drop the address', async () => {
    const world: ZoneMap = { 'ma.example._report._dmarc.m3.example': { TXT: 'TIMEOUT' } };
    const { findings, plan, after, notes } = await run('ma.example', 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com,mailto:dmarc@m3.example', world);
    const why = show(findings, notes, after);
    assert.ok(findings.some((f) => f.rule === 'dmarc.dns-error' && f.severity === 'unknown'), why);
    assert.ok(!findings.some((f) => f.rule === 'dmarc.unauthorized-destination'), why);
    assert.equal(plan.blocked, undefined, why);
    assert.equal(after, 'v=DMARC1; p=quarantine; rua=mailto:dmarc@m3.example', why);
    assert.ok(notes.some((n) => n.startsWith('Keeps rua dmarc@m3.example: whether m3.example accepts reports for ma.example could not be checked')), why);
    // Alone in the record: nothing to change at all.
    const alone = await run('ma.example', 'v=DMARC1; p=reject; rua=mailto:dmarc@m3.example', world);
    assert.equal(alone.plan.blocked, undefined);
    assert.deepEqual(alone.plan.changes, [], show(alone.findings, alone.notes, alone.after));
  });
});
