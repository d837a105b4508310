// DKIM check: a key that is not this server's, when this server does not sign or the domain's mail is elsewhere.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { MailSettings } from '../../../src/core/model.js';
import { checkContext } from './context.js';

const key = () => createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();

async function mismatch(settings: Partial<MailSettings>) {
  const ctx = checkContext('d.example', { 'd.example': { TXT: [['v=spf1 ip4:203.0.113.10 -all']] }, 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; p=${theirs}`]] } }, settings);
  const fs = await dkimCheck(ctx);
  const f = fs.find((x) => x.rule === 'dkim.key-mismatch');
  assert.ok(f, fs.map((x) => x.rule).join(', '));
  return f;
}

describe('dkim check: key mismatch', () => {
  test('this server signs and mail is local: fail with a fix', async () => {
    const f = await mismatch({ dkim: { selector: 'default', signing: true, publicKey: mine } });
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'dkim');
  });

  test('this server does not sign: info, no fix', async () => {
    const f = await mismatch({ routing: 'remote', dkim: { selector: 'default', signing: false, publicKey: mine } });
    assert.equal(f.severity, 'info');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /does not sign/);
  });

  test('signing off with local routing: info, no fix', async () => {
    const f = await mismatch({ dkim: { selector: 'default', signing: false, publicKey: mine } });
    assert.equal(f.severity, 'info');
    assert.equal(f.fix, undefined);
  });

  test('mail routed elsewhere but this server signs: warn, no fix', async () => {
    const f = await mismatch({ routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } });
    assert.equal(f.severity, 'warn');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /handled elsewhere/);
  });
});

describe('dkim check: which findings offer the DKIM fix', () => {
  test("signing off and another sender's key at the server's selector: signing-off names it and offers no fix", async () => {
    const ctx = checkContext('d.example', { 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; p=${theirs}`]] } }, { dkim: { selector: 'default', signing: false, publicKey: mine } });
    const f = (await dkimCheck(ctx)).find((x) => x.rule === 'dkim.signing-off');
    assert.ok(f);
    assert.equal(f.fix, undefined);
    assert.match(f.message, /another sender's key/);
  });

  test('signing off and no key published: signing-off offers the fix', async () => {
    const ctx = checkContext('d.example', { 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; p=${mine}`]] } }, { dkim: { selector: 'default', signing: false, publicKey: mine } });
    const f = (await dkimCheck(ctx)).find((x) => x.rule === 'dkim.signing-off');
    assert.equal(f?.fix, 'dkim');
  });

  test('the panel signs but gave no readable key, none published: dkim.missing says so and offers no key generation', async () => {
    const ctx = checkContext('d.example', {}, { dkim: { selector: 'default', signing: true } });
    const f = (await dkimCheck(ctx)).find((x) => x.rule === 'dkim.missing');
    assert.ok(f);
    assert.equal(f.fix, undefined);
    assert.match(f.message, /key mailhealth cannot read here/);
  });
});
