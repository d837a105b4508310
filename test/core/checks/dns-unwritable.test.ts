// A zone the panel will not write as it is (here: a files-panel zone with a line that cannot be read, which may hide
// records): the audit said nothing about it and offered every fix, whose preview then said "cannot apply" and whose
// apply was refused. Now the dns check says so (dns.panel-zone-unwritable, warn, with the reason) and no finding
// offers a fix; a domain whose DNS is served elsewhere (its fixes are records to publish there) is not affected.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { auditDomain } from '../../../src/core/audit.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { startPlay, TODAY, type Play } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

async function audit(p: Play, domain: string) {
  return auditDomain(domain, { panel: new FilesPanel(p.dir), resolver: p.resolver(), now: () => TODAY });
}

test('an unreadable line in an authoritative zone: a warning naming it, and no fix offered', async () => {
  const p = (play = await startPlay());
  const domain = 'florist.example';
  const before = await audit(p, domain);
  assert.ok(before.findings.some((f) => f.fix), 'fixes offered on the readable zone');
  assert.ok(!before.findings.some((f) => f.rule === 'dns.panel-zone-unwritable'));
  p.writeZone(domain, p.zoneText(domain) + 'broken IN TXT ( "unclosed\n');
  const a = await audit(p, domain);
  const w = a.findings.find((f) => f.rule === 'dns.panel-zone-unwritable');
  assert.equal(w?.severity, 'warn');
  assert.match(w!.message, /No fix can be applied to florist\.example through the panel: the zone file of florist\.example has lines mailhealth cannot read \(line \d+: a quoted string is not closed on its line/);
  assert.match(w!.message, /; repair it in the panel first\.$/, 'one sentence, one full stop');
  // The plan's reason is a sentence too (found by QA: a bulk row read "…repair it in the panel first Nothing was changed").
  assert.match((await p.plan(domain, 'lockdown')).blocked ?? '', /repair it in the panel first\.$/);
  assert.deepEqual(a.findings.filter((f) => f.fix).map((f) => f.rule), [], 'no finding offers a fix');
  // The problems themselves are still reported.
  assert.ok(a.findings.some((f) => f.rule === 'lockdown.stale-auth'));
});

test('a domain whose DNS is served elsewhere: no such warning (its fixes are records to publish there)', async () => {
  const p = (play = await startPlay());
  const domain = 'lawyer.example';
  p.writeZone(domain, p.zoneText(domain) + 'broken IN TXT ( "unclosed\n');
  const a = await audit(p, domain);
  assert.ok(!a.findings.some((f) => f.rule === 'dns.panel-zone-unwritable'));
  assert.ok(a.findings.some((f) => f.fix), 'fixes still offered (as records to publish elsewhere)');
});

test('whether this server’s DNS is the live one cannot be told (NS lookup SERVFAIL): no finding offers a fix, and the fix says why', async () => {
  const p = (play = await startPlay());
  const domain = 'florist.example';
  const real = p.resolver();
  const resolver = {
    ...real,
    resolve: (async (name: string, type: string) =>
      name === domain && type === 'NS' ? { name, type, status: 'unknown', records: [], error: 'servfail' } : real.resolve(name, type as never)) as typeof real.resolve,
  };
  const a = await auditDomain(domain, { panel: new FilesPanel(p.dir), resolver, now: () => TODAY });
  assert.ok(a.findings.some((f) => f.rule === 'dns.dns-error'), a.findings.map((f) => f.rule).join(', '));
  assert.ok(a.findings.some((f) => f.rule === 'lockdown.stale-auth'), 'the problems are still reported');
  assert.deepEqual(a.findings.filter((f) => f.fix).map((f) => f.rule), [], 'no finding offers a fix');
  // The same answer to the fix itself: no plan until DNS answers.
  const { makePlan, PlanError } = await import('../../../src/core/plans/index.js');
  await assert.rejects(makePlan({ domain, check: 'lockdown' }, { panel: new FilesPanel(p.dir), resolver, now: () => TODAY }), (e: unknown) => e instanceof PlanError && /Could not tell whether this server's DNS is the live one/.test((e as Error).message));
});
