// Message QA: spf.void-lookups failed the domain's SPF with only "causes 3 void lookups (limit 2): a:…: 1, …" — jargon
// with neither the consequence nor a way forward.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { checkContext, SERVER_IP } from './context.js';

describe('messages: spf', () => {
  test('spf.void-lookups says what a void lookup is, what receivers do past 2, and what to do', async () => {
    const D = 'voids.example';
    const fs = await spfCheck(checkContext(D, { [D]: { TXT: [[`v=spf1 ip4:${SERVER_IP} a:v1.gone.example a:v2.gone.example a:v3.gone.example -all`]] } }));
    const f = fs.find((x) => x.rule === 'spf.void-lookups');
    assert.ok(f, fs.map((x) => x.rule).join(', '));
    assert.equal(f.severity, 'fail');
    assert.match(f.message, /a:v1\.gone\.example: 1/);
    assert.match(f.message, /names that do not exist or have no addresses/);
    assert.match(f.message, /receivers return permerror and SPF fails for every message/);
    assert.match(f.message, /Remove the terms whose names no longer exist \(the SPF fix drops those\)/);
  });
});

describe('messages: classification reasons', () => {
  test('an mx term whose mail server matches nothing known says so in a sentence (was "MX x of y match nothing known")', async () => {
    const { makeClassifier } = await import('../../../src/core/classify.js');
    const D = 'mxonly.example';
    const ctx = checkContext(D, { [D]: { MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: ['198.51.100.9'] } });
    const one = await makeClassifier(ctx).spfTerm('mx');
    assert.equal(one.class, 'unknown');
    assert.match(one.reason, /mxonly\.example's mail server mail\.mxonly\.example matches nothing known/);
  });
});
