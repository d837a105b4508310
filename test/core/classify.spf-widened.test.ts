// An `a`/`mx` SPF term with a prefix length (`a:host/16`, `mx//64`) covers whole networks around its host's addresses
// (RFC 7208 §5.6): it is this server's when one of them holds this server's outbound IP. When the address (or MX)
// lookup that would tell got no answer (timeout, SERVFAIL), the term is unknown and marked unanswered — never the host's
// own class. Before, the unanswered lookup was skipped and the host's class by name stood: `a:gator4000.hostgator.com/16`
// was a previous host's (stale, HostGator in the knowledge base) under SERVFAIL, offered for removal, while with DNS
// answering the same term covers this server's IP (rule 2: a DNS error is never a reason to change a zone).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isUnanswered } from '../../src/core/classify.js';
import { makePlan } from '../../src/core/plans/index.js';
import type { MailSettings } from '../../src/core/model.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { findings, scenario, zoneText } from '../helpers/scenario.js';
import { checkContext, SERVER_IP } from './checks/context.js';

const D = 'shop.example';
// 203.0.5.5/16 holds this server's outbound IP (203.0.113.10); a /24 around it does not.
const COVERING = '203.0.5.5';
const classifier = (map: ZoneMap, settings: Partial<MailSettings> = {}) => checkContext(D, map, settings).classifier;

describe('classifier: a prefix-length a/mx term whose lookup got no answer', () => {
  test('answered: a:HOST/16 whose /16 holds this server is this server (a previous host by name notwithstanding)', async () => {
    const c = await classifier({ 'gator4000.hostgator.com': { A: [COVERING] } }).spfTerm('a:gator4000.hostgator.com/16');
    assert.equal(c.class, 'this-server', c.reason);
  });

  for (const fail of ['SERVFAIL', 'TIMEOUT'] as const) {
    test(`A ${fail}: a:HOST/16 is unknown (unanswered), not the host's stale by name`, async () => {
      const c = await classifier({ 'gator4000.hostgator.com': { A: fail, AAAA: fail } }).spfTerm('a:gator4000.hostgator.com/16');
      assert.equal(c.class, 'unknown', c.reason);
      assert.ok(isUnanswered(c), `marked unanswered: ${c.reason}`);
      assert.match(c.reason, /^a:gator4000\.hostgator\.com\/16: the A lookup of gator4000\.hostgator\.com got no answer/);
      assert.match(c.reason, /whether the networks it covers hold this server's outbound IP is not known/);
    });
  }

  test('A answered outside, AAAA SERVFAIL: a:HOST/24//64 is unknown (the IPv6 network may hold this server)', async () => {
    const c = await classifier(
      { 'gator4000.hostgator.com': { A: ['192.185.1.10'], AAAA: 'SERVFAIL' } },
      { ips: [SERVER_IP, '2001:db8:5::10'] },
    ).spfTerm('a:gator4000.hostgator.com/24//64');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
    assert.match(c.reason, /the AAAA lookup of gator4000\.hostgator\.com got no answer/);
  });

  test('every answer in and none covering: the host\'s own class stands (stale by name)', async () => {
    const c = await classifier({ 'gator4000.hostgator.com': { A: ['192.185.1.10'] } }).spfTerm('a:gator4000.hostgator.com/24');
    assert.equal(c.class, 'stale', c.reason);
    assert.ok(!isUnanswered(c));
  });

  test("mx:DOMAIN/16 whose exchanger's A lookup got no answer: unknown (unanswered), not stale", async () => {
    const map: ZoneMap = { 'old.example': { MX: [{ priority: 10, exchange: 'gator4000.hostgator.com' }] }, 'gator4000.hostgator.com': { A: 'SERVFAIL', AAAA: 'SERVFAIL' } };
    const c = await classifier(map).spfTerm('mx:old.example/16');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
    assert.match(c.reason, /the A lookup of gator4000\.hostgator\.com got no answer/);
    // Answered, the same exchanger's /16 holds this server.
    const ok = await classifier({ ...map, 'gator4000.hostgator.com': { A: [COVERING] } }).spfTerm('mx:old.example/16');
    assert.equal(ok.class, 'this-server', ok.reason);
  });

  test('mx:DOMAIN/16 whose MX lookup got no answer: unknown (unanswered)', async () => {
    const c = await classifier({ 'old.example': { MX: 'SERVFAIL' } }).spfTerm('mx:old.example/16');
    assert.equal(c.class, 'unknown', c.reason);
    assert.ok(isUnanswered(c), c.reason);
  });

  test("a mail service's term stays kept under SERVFAIL (kept either way: nothing to settle)", async () => {
    const c = await classifier({ 'aspmx.l.google.com': { A: 'SERVFAIL', AAAA: 'SERVFAIL' } }).spfTerm('a:aspmx.l.google.com/24');
    assert.equal(c.class, 'keep', c.reason);
  });
});

describe('audit and SPF fix over the loopback DNS server: a:HOST/16 with the host SERVFAILing', () => {
  const spec = (servfail: boolean) => ({
    domains: { [D]: { zone: zoneText({ spf: '"v=spf1 a:gator9.hostgator.com/16 ~all"' }) } },
    extra: { 'gator9.hostgator.com': servfail ? { SERVFAIL: true as const } : { A: [COVERING] } },
  });

  test('DNS answering: the term covers this server, nothing stale, the fix changes nothing', async () => {
    const s = await scenario(spec(false));
    try {
      const a = await s.audit(D);
      assert.deepEqual(findings(a, 'spf.stale-term'), []);
      const plan = await makePlan({ domain: D, check: 'spf' }, { panel: s.panel, resolver: s.resolver });
      assert.deepEqual(plan.changes, []);
    } finally {
      await s.cleanup();
    }
  });

  test('SERVFAIL: no stale verdict, no fix offered for the term, and the plan writes nothing', async () => {
    const s = await scenario(spec(true));
    try {
      const a = await s.audit(D);
      const term = a.findings.filter((f) => f.check === 'spf' && f.subject?.startsWith('a:gator9.hostgator.com/16'));
      assert.ok(term.length, a.findings.map((f) => `${f.rule} ${f.subject ?? ''}`).join('\n'));
      for (const f of term) {
        assert.notEqual(f.rule, 'spf.stale-term', f.message);
        assert.equal(f.classification?.class, 'unknown', f.message);
        assert.equal(f.fix, undefined, `offered for removal on a SERVFAIL: ${f.message}`);
      }
      const plan = await makePlan({ domain: D, check: 'spf' }, { panel: s.panel, resolver: s.resolver });
      assert.ok(plan.blocked || plan.changes.length === 0, `plan writes on a SERVFAIL: ${JSON.stringify(plan.changes.map((c) => [c.before?.value, c.after?.value]))}`);
      assert.ok(!plan.changes.some((c) => c.before?.value.includes('gator9') && !c.after?.value.includes('gator9')), 'the term is never dropped');
    } finally {
      await s.cleanup();
    }
  });
});
