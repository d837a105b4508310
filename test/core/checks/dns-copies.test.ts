// A zone holding the same record twice (a record added twice in a zone editor, a migration tool): DNS serves it once
// (RFC 2181 §5), so the audit, which reads live DNS, sees one record — but the fixes removed the copy (or merged "two
// records") while no finding offered them (offered-invariant.test.ts), and dns.drift called the copy "a change not yet
// propagated". Now dns.drift says what it is, and offers the fix that owns the name where that fix's plan removes the
// copies of its record; the plan keeps one copy and says so (and judges the record once: no merge of two records).
// Through the real adapters: a files panel and its zones served by the loopback DNS server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DomainAudit, FixKind } from '../../../src/core/model.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { dkimRdata, MAILCHANNELS, rsaKey, scenario, zoneText, type Scenario } from '../../helpers/scenario.js';

const SPF = '"v=spf1 a mx ip4:203.0.113.10 -all"';
const DMARC = '"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"';
const show = (a: DomainAudit) => a.findings.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}${f.fix ? ` (fix: ${f.fix})` : ''}: ${f.message}`).join('\n');

/** The domain's dns.drift finding at `name`, its plan for `fix`, and the zone's records there. */
async function copies(s: Scenario, domain: string, name: string, fix: FixKind) {
  const audit = await s.audit(domain);
  const drift = audit.findings.filter((f) => f.rule === 'dns.drift' && f.subject === `${name} TXT`);
  const plan = await makePlan({ domain, check: fix }, { panel: s.panel, resolver: s.resolver });
  const zone = await s.panel.readZone(domain);
  const here = zone.records.filter((r) => r.name.toLowerCase() === name && r.type === 'TXT');
  return { audit, drift, plan, here };
}

describe('the same record twice in the panel\'s zone', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'spf.test': { zone: zoneText({ extra: [`@\tIN\tTXT\t${SPF}`] }) },
        'dmarc.test': { zone: zoneText({ extra: [`_dmarc\tIN\tTXT\t${DMARC}`] }) },
        'dkim.test': { zone: zoneText({ extra: [`default._domainkey\tIN\tTXT\t${dkimRdata(rsaKey().publicB64)}`] }) },
        'token.test': { zone: zoneText({ extra: ['@\tIN\tTXT\t"site-verification=abc"', '@\tIN\tTXT\t"site-verification=abc"'] }) },
      },
    });
  });
  after(() => s.cleanup());

  for (const [domain, at, fix, what] of [
    ['spf.test', 'spf.test', 'spf', 'SPF record'],
    ['dmarc.test', '_dmarc.dmarc.test', 'dmarc', 'DMARC record'],
    ['dkim.test', 'default._domainkey.dkim.test', 'dkim', 'DKIM record'],
  ] as const) {
    test(`${what}: dns.drift says so and offers the ${fix} fix, whose plan removes the copy and nothing else`, async () => {
      const { audit, drift, plan, here } = await copies(s, domain, at, fix);
      assert.equal(here.length, 2);
      assert.equal(drift.length, 1, show(audit));
      assert.equal(drift[0].fix, fix, show(audit));
      assert.match(drift[0].message, /^The panel's copy of the zone holds the same TXT record at .* more than once .*DNS serves it once \(RFC 2181 §5\).* keeps one\.$/);
      assert.equal(plan.blocked, undefined, plan.blocked);
      assert.deepEqual(
        plan.changes.map((c) => c.action),
        ['remove'],
        JSON.stringify(plan.changes),
      );
      assert.ok(here.includes(plan.changes[0].before!) || here.some((r) => r.ref === plan.changes[0].before!.ref));
      assert.ok(plan.notes.some((n) => n.startsWith(`Removes a copy of the ${what} at ${at}`)), plan.notes.join('\n'));
      assert.ok(!plan.notes.some((n) => /^Merges/.test(n)), plan.notes.join('\n'));
    });
  }

  test('a verification token twice at the apex: said, no fix (the SPF fix does not own it), a hand edit', async () => {
    const { audit, drift, plan } = await copies(s, 'token.test', 'token.test', 'spf');
    assert.equal(drift.length, 1, show(audit));
    assert.equal(drift[0].fix, undefined);
    assert.match(drift[0].message, /Remove the extra copies in the panel\.$/);
    assert.deepEqual(plan.changes, []);
  });
});

describe('the _mailchannels record twice, on a server relaying through MailChannels', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      server: { relay: MAILCHANNELS },
      domains: {
        'mc.test': { zone: zoneText({ spf: '"v=spf1 a mx include:relay.mailchannels.net -all"', extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"', '_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"'] }) },
      },
    });
  });
  after(() => s.cleanup());

  test('judged once (lockdown.ok, no merge of two records); dns.drift offers the lockdown fix, which removes the copy', async () => {
    const { audit, drift, plan } = await copies(s, 'mc.test', '_mailchannels.mc.test', 'lockdown');
    assert.ok(audit.findings.some((f) => f.rule === 'lockdown.ok'), show(audit));
    assert.equal(drift.length, 1, show(audit));
    assert.equal(drift[0].fix, 'lockdown', show(audit));
    assert.deepEqual(
      plan.changes.map((c) => c.action),
      ['remove'],
    );
    assert.ok(!plan.notes.some((n) => /^Merges|once \(the records name it/.test(n)), plan.notes.join('\n'));
    assert.ok(plan.notes.some((n) => n.startsWith('Removes a copy of the _mailchannels record at _mailchannels.mc.test')), plan.notes.join('\n'));
  });
});
