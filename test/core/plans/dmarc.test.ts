// DMARC fix through the files panel and a loopback DNS server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { applyAndCheck, playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();

async function dmarcTxt(p: Play, domain: string): Promise<string[]> {
  const zone = await p.panel.readZone(domain);
  return zone.records.filter((r) => r.name === `_dmarc.${domain}` && r.type === 'TXT').map((r) => (r.txt ?? [r.value]).join(''));
}

describe('DMARC fix', () => {
  test('dentist.example: missing → p=none with reports to postmaster@ the domain', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'dentist.example', 'dmarc');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0].action, 'add');
    assert.deepEqual(await dmarcTxt(p, 'dentist.example'), ['v=DMARC1; p=none; rua=mailto:postmaster@dentist.example']);
  });

  test("florist.example: reports to the previous host are replaced; the policy is kept", async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'florist.example', 'dmarc');
    assert.ok(plan.notes.some((n) => n.includes('dmarc-reports@dreamhost.com')));
    assert.deepEqual(await dmarcTxt(p, 'florist.example'), ['v=DMARC1; p=quarantine; rua=mailto:postmaster@florist.example']);
  });

  test('an external destination that does not authorise the reports is kept, as an authorised one is: the finding names the record to publish there', async () => {
    // Receivers send nothing to it until its domain publishes the RFC 7489 §7.1 record; replacing it would undo the
    // customer's choice (dmarc-report-auth.test.ts). So the fix leaves the record as it is and the finding offers none.
    const p = await start();
    const plan = await p.plan('dmarcext.example', 'dmarc');
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.changes, []);
    const findings = await p.findings('dmarcext.example', 'dmarc');
    const unauth = findings.filter((f) => f.rule === 'dmarc.unauthorized-destination');
    assert.deepEqual(unauth.map((f) => f.subject).sort(), ['rua=mailto:agg@unauthorized-collector.example', 'ruf=mailto:forensic@unauthorized-collector.example']);
    for (const f of unauth) {
      assert.equal(f.fix, undefined);
      assert.ok(f.message.includes('dmarcext.example._report._dmarc.unauthorized-collector.example TXT "v=DMARC1"'), f.message);
    }
    assert.ok(!findings.some((f) => f.subject === 'rua=mailto:agg@reports-partner.example' && f.rule !== 'dmarc.destination'));
    const [rec] = await dmarcTxt(p, 'dmarcext.example');
    assert.match(rec, /rua=mailto:agg@unauthorized-collector\.example,mailto:agg@reports-partner\.example;/);
  });

  test('a valid record written without spaces is left as it is (nothing to change), not rewritten', async () => {
    const p = await start();
    const text = p.zoneText('clean.example').replace(/^_dmarc\t.*$/m, '_dmarc\tIN\tTXT\t"v=DMARC1;p=reject;rua=mailto:dmarc@clean.example"');
    assert.match(text, /p=reject;rua=/);
    p.writeZone('clean.example', text);
    p.refresh();
    const plan = await p.plan('clean.example', 'dmarc');
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
  });

  test('two records with different policies → one record with the weaker policy (never tightened)', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'dmarctwo.example', 'dmarc');
    assert.deepEqual(
      plan.changes.map((c) => c.action),
      ['edit', 'remove'],
    );
    assert.deepEqual(await dmarcTxt(p, 'dmarctwo.example'), ['v=DMARC1; p=quarantine; rua=mailto:dmarc@dmarctwo.example']);
  });

  test('broken tags are dropped; the valid ones and the policy are kept', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'dmarcsyntax.example', 'dmarc');
    assert.ok(plan.notes.some((n) => n.includes('adkim=x')));
    assert.ok(plan.notes.some((n) => n.includes('foo=bar')));
    assert.deepEqual(await dmarcTxt(p, 'dmarcsyntax.example'), ['v=DMARC1; p=quarantine; rua=mailto:dmarc@dmarcsyntax.example']);
  });

  test('an SPF record published at _dmarc is removed and a DMARC record published', async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'dmarcwrong.example', 'dmarc');
    assert.deepEqual(plan.changes.map((c) => c.action).sort(), ['add', 'remove']);
    assert.deepEqual(await dmarcTxt(p, 'dmarcwrong.example'), ['v=DMARC1; p=none; rua=mailto:postmaster@dmarcwrong.example']);
  });

  test('a record with no p= gets p=none, not a stricter policy', async () => {
    const p = await start();
    p.writeZone('plumber.example', p.zoneText('plumber.example').replace('"v=DMARC1; p=none; rua=mailto:postmaster@plumber.example"', '"v=DMARC1; rua=mailto:postmaster@plumber.example; adkim=s"'));
    p.refresh();
    await applyAndCheck(p, 'plumber.example', 'dmarc');
    assert.deepEqual(await dmarcTxt(p, 'plumber.example'), ['v=DMARC1; p=none; adkim=s; rua=mailto:postmaster@plumber.example']);
  });

  test('_dmarc is an alias (CNAME to a DMARC service) → blocked: no TXT beside it, the alias kept, apply refuses', async () => {
    const p = await start();
    p.writeZone('dentist.example', p.zoneText('dentist.example') + '_dmarc\tIN\tCNAME\tdentist-example.dmarc.vendor.example.\n');
    p.refresh();
    const before = p.zoneText('dentist.example');
    const plan = await p.plan('dentist.example', 'dmarc');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /_dmarc\.dentist\.example is an alias \(CNAME to dentist-example\.dmarc\.vendor\.example/);
    const out = await applyPlan({ domain: 'dentist.example', check: 'dmarc', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText('dentist.example'), before);
  });

  for (const domain of ['bakery.example', 'clean.example', 'plumber.example']) {
    test(`${domain}: already right → empty plan`, async () => {
      const p = await start();
      assert.deepEqual((await p.plan(domain, 'dmarc')).changes, []);
    });
  }
});
