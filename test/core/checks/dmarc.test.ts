// DMARC check: a subdomain without a record whose organizational domain's lookup gets no answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { checkContext } from './context.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';

describe('dmarc check: inherited policy', () => {
  test('org-domain lookup times out: unknown, no dmarc.missing, no fix', async () => {
    const ctx = checkContext('shop.example.com', { 'shop.example.com': {}, '_dmarc.example.com': { TXT: 'TIMEOUT' } });
    const fs = await dmarcCheck(ctx);
    assert.equal(fs.length, 1);
    assert.equal(fs[0].severity, 'unknown');
    assert.equal(fs[0].rule, 'dmarc.dns-error');
    assert.equal(fs[0].fix, undefined);
    assert.match(fs[0].message, /_dmarc\.example\.com/);
  });

  test('org-domain has a record: inherited', async () => {
    const ctx = checkContext('shop.example.com', { '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] } });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule}`), ['pass dmarc.inherited']);
  });

  test('a record with a space before v= at a subdomain: the parent applies, and the unreadable record is named', async () => {
    const ctx = checkContext('shop.example.com', { '_dmarc.shop.example.com': { TXT: [[' v=DMARC1; p=none']] }, '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] } });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule}`), ['pass dmarc.inherited']);
    assert.match(fs[0].message, /policy of example\.com applies: p=reject/);
    assert.match(fs[0].message, /" v=DMARC1; p=none" at _dmarc\.shop\.example\.com is meant as DMARC but receivers cannot read it/);
  });

  test('an unrelated TXT at a subdomain\'s _dmarc is not named as meant for DMARC', async () => {
    const ctx = checkContext('shop.example.com', { '_dmarc.shop.example.com': { TXT: [['google-site-verification=abc']] }, '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] } });
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule}`), ['pass dmarc.inherited']);
    assert.doesNotMatch(fs[0].message, /meant as DMARC/);
  });

  test('neither has a record: dmarc.missing with a fix', async () => {
    const ctx = checkContext('shop.example.com', {});
    const fs = await dmarcCheck(ctx);
    assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule} ${f.fix}`), ['warn dmarc.missing dmarc']);
  });
});

// A record meant as DMARC that receivers cannot read was reported as "has no DMARC record" (dmarc.missing), and the
// fix then deleted it and published p=none — an admin reading the audit thought no record was there at all.
describe('dmarc check: a record meant as DMARC that receivers cannot read', () => {
  for (const txt of ['v=DMARC1 p=reject', 'p=quarantine; v=DMARC1', ' V = dmarc1 p=none']) {
    test(`${JSON.stringify(txt)}: dmarc.syntax (fail) naming the record, with the fix`, async () => {
      const ctx = checkContext('cust.example', { '_dmarc.cust.example': { TXT: [[txt]] } });
      const fs = await dmarcCheck(ctx);
      assert.deepEqual(fs.map((f) => `${f.severity} ${f.rule} ${f.fix}`), ['fail dmarc.syntax dmarc']);
      assert.match(fs[0].message, /is meant as DMARC but receivers cannot read it .*must start with "v=DMARC1;"/);
      assert.ok(fs[0].message.includes(JSON.stringify(txt)));
    });
  }
  test('an unrelated TXT at _dmarc is still "no DMARC record"', async () => {
    const ctx = checkContext('cust.example', { '_dmarc.cust.example': { TXT: [['google-site-verification=abc']] } });
    assert.deepEqual((await dmarcCheck(ctx)).map((f) => f.rule), ['dmarc.missing']);
  });
});

// Review: the fix removed a record meant as DMARC ("it is not a DMARC record") and published a fresh p=none with
// reports to postmaster@ — the admin's own rua and tags were lost, and check and plan described the record in opposite
// terms. Now it is rewritten in DMARC's syntax with its tags; the written policy is named, not switched on silently.
describe('dmarc fix: a record meant as DMARC is repaired, keeping its tags', () => {
  const plan = async (txt: string) => {
    const rec = { name: '_dmarc.cust.example', ttl: 3600, type: 'TXT', value: txt, txt: [txt], ref: 'd' };
    const ctx = checkContext('cust.example', { '_dmarc.cust.example': { TXT: [[txt]] } }, {}, [rec]);
    return planDmarc(ctx, [rec]);
  };
  test('p=quarantine; v=DMARC1; rua=mailto:d@cust.example → v=DMARC1; p=none; rua=mailto:d@cust.example, naming p=quarantine', async () => {
    const p = await plan('p=quarantine; v=DMARC1; rua=mailto:d@cust.example');
    assert.equal(p.blocked, undefined);
    assert.deepEqual(p.changes.map((c) => `${c.action} ${c.after?.value}`), ['edit v=DMARC1; p=none; rua=mailto:d@cust.example']);
    assert.ok(p.notes.some((n) => n.startsWith('Rewrites "p=quarantine; v=DMARC1; rua=mailto:d@cust.example" in DMARC\'s syntax')), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => n.includes('says p=quarantine, but receivers cannot read it') && n.includes('set p=quarantine yourself')), p.notes.join('\n'));
    assert.ok(!p.notes.some((n) => n.includes('it is not a DMARC record')), p.notes.join('\n'));
  });
  test('v=DMARC1 p=none rua=mailto:d@cust.example pct=50 → the same tags with ";"', async () => {
    const p = await plan('v=DMARC1 p=none rua=mailto:d@cust.example pct=50');
    assert.deepEqual(p.changes.map((c) => c.after?.value), ['v=DMARC1; p=none; pct=50; rua=mailto:d@cust.example']);
  });
});

// QA of the repair: beside a readable record, an unreadable one must not enter the merge (it made the fix weaken
// p=reject to p=none); a subdomain inheriting its parent's policy gets no record over it; commas, kept quotes and
// joined strings are repaired too; text that merely mentions v=DMARC1 is no DMARC record.
describe('dmarc fix: the repair of a record meant as DMARC, where it applies', () => {
  const planAt = async (domain: string, txts: string[], world: Record<string, { TXT: string[][] }> = {}) => {
    const recs = txts.map((t, i) => ({ name: `_dmarc.${domain}`, ttl: 3600, type: 'TXT', value: t, txt: [t], ref: `d${i}` }));
    const ctx = checkContext(domain, { [`_dmarc.${domain}`]: { TXT: txts.map((t) => [t]) }, ...world }, {}, recs);
    return { plan: await planDmarc(ctx, recs), findings: await dmarcCheck(ctx) };
  };
  test('a readable p=reject beside an unreadable one keeps p=reject; the unreadable one is removed', async () => {
    const { plan } = await planAt('cust.example', ['v=DMARC1; p=reject; rua=mailto:dmarc@cust.example', 'v=DMARC1 p=quarantine']);
    assert.ok(!plan.changes.some((c) => c.after && /p=none/.test(c.after.value)), JSON.stringify(plan.changes.map((c) => [c.action, c.after?.value])));
    assert.ok(plan.changes.some((c) => c.action === 'remove' && c.before?.value === 'v=DMARC1 p=quarantine'));
    assert.ok(!plan.notes.some((n) => n.startsWith('Merges')), plan.notes.join('\n'));
  });
  test('a subdomain with only an unreadable record inherits its parent’s policy: dmarc.inherited, and the fix publishes nothing', async () => {
    const { plan, findings } = await planAt('shop.cust.example', ['v=DMARC1 p=reject'], { '_dmarc.cust.example': { TXT: [['v=DMARC1; p=reject; rua=mailto:d@cust.example']] } });
    assert.deepEqual(findings.map((f) => f.rule), ['dmarc.inherited']);
    // The record meant as DMARC is named, not passed over as if there were none.
    assert.match(findings[0].message, /The TXT record "v=DMARC1 p=reject" at _dmarc\.shop\.cust\.example is meant as DMARC but receivers cannot read it/);
    assert.deepEqual(plan.changes, []);
  });
  for (const [txt, want] of [
    ['v=DMARC1, p=reject, rua=mailto:dmarc@cust.example', 'v=DMARC1; p=none; rua=mailto:dmarc@cust.example'],
    ['"v=DMARC1; p=reject; rua=mailto:dmarc@cust.example"', 'v=DMARC1; p=none; rua=mailto:dmarc@cust.example'],
    ['v=DMARC1p=reject;rua=mailto:dmarc@cust.example', 'v=DMARC1; p=none; rua=mailto:dmarc@cust.example'],
  ]) {
    test(`${JSON.stringify(txt)} is repaired keeping its rua`, async () => {
      const { plan, findings } = await planAt('cust.example', [txt]);
      assert.deepEqual(findings.map((f) => f.rule), ['dmarc.syntax']);
      assert.deepEqual(plan.changes.map((c) => c.after?.value), [want]);
    });
  }
  test('text that only mentions v=DMARC1 is no DMARC record: dmarc.missing', async () => {
    for (const txt of ['note: set v=DMARC1 later', 'please publish v=DMARC1 p=none here']) {
      const { findings } = await planAt('cust.example', [txt]);
      assert.deepEqual(findings.map((f) => f.rule), ['dmarc.missing'], txt);
    }
  });
});
