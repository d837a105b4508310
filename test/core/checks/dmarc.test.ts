// DMARC check: a subdomain without a record whose organizational domain's lookup gets no answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { checkContext } from './context.js';

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
