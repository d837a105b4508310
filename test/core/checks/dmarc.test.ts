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
