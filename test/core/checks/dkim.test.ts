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

  /** The findings with the server's own key published as it should be at the server's selector. */
  async function ownKeyPublished(dkim: MailSettings['dkim']) {
    return dkimCheck(checkContext('d.example', { 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; p=${mine.slice(0, 200)}`, mine.slice(200)]] } }, { dkim }));
  }

  test('signing off, the own key published, and the panel can turn signing on: dkim.signing-off offers the fix and says what it does', async () => {
    const sw = (await ownKeyPublished({ selector: 'default', signing: false, publicKey: mine, startSigning: 'switch' })).find((x) => x.rule === 'dkim.signing-off');
    assert.equal(sw?.fix, 'dkim');
    assert.match(sw!.message, /^DKIM signing is turned off for d\.example on this server, though its key is published at default\._domainkey\.d\.example\. The DKIM fix has the panel turn signing on \(no record changes\)\.$/);
    const re = (await ownKeyPublished({ selector: 'default', signing: false, publicKey: mine, startSigning: 'recheck' })).find((x) => x.rule === 'dkim.signing-off');
    assert.equal(re?.fix, 'dkim');
    assert.match(re!.message, /the panel has not seen its key at default\._domainkey\.d\.example published yet\. The DKIM fix has the panel check again and start signing/);
  });

  test('signing off, the own key published, and the panel cannot turn signing on: no DKIM finding offers the fix; signing-off says where to turn it on', async () => {
    const generic = await ownKeyPublished({ selector: 'default', signing: false, publicKey: mine });
    assert.deepEqual(generic.filter((x) => x.fix).map((x) => x.rule), []);
    assert.match(generic.find((x) => x.rule === 'dkim.signing-off')!.message, /^DKIM signing is turned off for d\.example, though its key is already published, and the panel cannot turn it on from here: turn DKIM signing on for d\.example in the panel's Email Deliverability \/ DKIM settings\.$/);
    const told = await ownKeyPublished({ selector: 'default', signing: false, publicKey: mine, cannotStartSigning: 'turn it on in the Mail Settings of main.example in Plesk' });
    assert.deepEqual(told.filter((x) => x.fix).map((x) => x.rule), []);
    assert.match(told.find((x) => x.rule === 'dkim.signing-off')!.message, /cannot turn it on from here: turn it on in the Mail Settings of main\.example in Plesk\.$/);
  });

  test('signing off and the key not published yet: dkim.missing offers the fix (it publishes the key); signing-off offers none and says what comes after', async () => {
    for (const [startSigning, after] of [
      ['switch', /Once the DKIM fix has published its key at default\._domainkey\.d\.example, run the fix again: it has the panel start signing\.$/],
      [undefined, /Once the DKIM fix has published its key at default\._domainkey\.d\.example, turn DKIM signing on for d\.example in the panel's Email Deliverability \/ DKIM settings\.$/],
    ] as const) {
      const fs = await dkimCheck(checkContext('d.example', {}, { dkim: { selector: 'default', signing: false, publicKey: mine, ...(startSigning ? { startSigning } : {}) } }));
      assert.equal(fs.find((x) => x.rule === 'dkim.missing')?.fix, 'dkim');
      const off = fs.find((x) => x.rule === 'dkim.signing-off')!;
      assert.equal(off.fix, undefined);
      assert.match(off.message, after);
    }
  });

  test('no key on the server, signing off, and the panel cannot generate one: no DKIM finding offers the fix; the findings say why and what to do', async () => {
    const cannotGenerate = 'alias.example is a domain alias of main.example and signs with main.example\'s DKIM key, which is not on this server: turn on "Use DKIM spam protection system to sign outgoing email messages" in the Mail Settings of main.example in Plesk (Plesk creates the key), then run the DKIM fix again to publish it under alias.example';
    const dkim = { selector: 'default', signing: false, cannotGenerate };
    const none = await dkimCheck(checkContext('d.example', {}, { dkim }));
    assert.deepEqual(none.map((x) => `${x.rule}${x.fix ? ':fix' : ''}`), ['dkim.missing']);
    assert.equal(none[0].message, `d.example has no DKIM key at default._domainkey.d.example, and this server has none to sign with; the panel cannot generate one for it: ${cannotGenerate}.`);
    // Another key published (mail routed here): nothing offers the fix either; signing-off says why.
    const other = await dkimCheck(checkContext('d.example', { 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; t=y; p=${theirs}`]] } }, { dkim }));
    assert.ok(other.some((x) => x.rule === 'dkim.signing-off') && other.some((x) => x.rule === 'dkim.testing'), other.map((x) => x.rule).join(', '));
    assert.deepEqual(other.filter((x) => x.fix).map((x) => x.rule), []);
    assert.match(other.find((x) => x.rule === 'dkim.signing-off')!.message, /turned off for d\.example on this server\. This server has no DKIM key for d\.example, and the panel cannot generate one for it: .*then run the DKIM fix again to publish it under alias\.example\./);
  });

  test('no key on the server, signing off, and the panel can generate one: dkim.missing and dkim.signing-off offer the fix (a key is generated and signing turned on)', async () => {
    const fs = await dkimCheck(checkContext('d.example', { 'default._domainkey.d.example': { TXT: [[`v=DKIM1; k=rsa; p=${theirs}`]] } }, { dkim: { selector: 'default', signing: false } }));
    const off = fs.find((x) => x.rule === 'dkim.signing-off')!;
    assert.equal(off.fix, 'dkim');
    assert.match(off.message, /the DKIM fix has the panel generate one and turn signing on/);
  });

  test('the panel signs but gave no readable key, none published: dkim.missing says so and offers no key generation', async () => {
    const ctx = checkContext('d.example', {}, { dkim: { selector: 'default', signing: true } });
    const f = (await dkimCheck(ctx)).find((x) => x.rule === 'dkim.missing');
    assert.ok(f);
    assert.equal(f.fix, undefined);
    assert.match(f.message, /key mailhealth cannot read here/);
  });
});

describe('dkim check: other selectors are classified by the CNAME target, then by the name', () => {
  const D = 'd.example';
  /** Selectors published in the panel's zone (so the check probes them), each a CNAME to `target` or a TXT key. */
  async function otherSelectors(sels: Record<string, string | null>, settings: Partial<MailSettings> = {}, extra: Record<string, unknown> = {}) {
    const map: Record<string, unknown> = { [D]: { TXT: [['v=spf1 ip4:203.0.113.10 -all']] }, ...extra };
    const records = [];
    for (const [sel, target] of Object.entries(sels)) {
      const name = `${sel}._domainkey.${D}`;
      map[name] = target ? { CNAME: [target], TXT: [[`v=DKIM1; k=rsa; p=${theirs}`]] } : { TXT: [[`v=DKIM1; k=rsa; p=${theirs}`]] };
      records.push(target ? { name, ttl: 300, type: 'CNAME', value: `${target}.` } : { name, ttl: 300, type: 'TXT', value: `v=DKIM1; k=rsa; p=${theirs}` });
    }
    const ctx = checkContext(D, map as never, { dkim: { selector: 'default', signing: true, publicKey: mine }, ...settings }, records);
    return (await dkimCheck(ctx)).filter((f) => f.rule === 'dkim.other-selector');
  }

  test('s1 CNAME → s1.dkim.ionos.com: IONOS (a previous host: stale), not "a selector of SendGrid"', async () => {
    const [f] = await otherSelectors({ s1: 's1.dkim.ionos.com' });
    assert.ok(f);
    assert.equal(f.classification?.class, 'stale');
    assert.equal(f.classification?.provider, 'ionos');
    assert.match(f.message, /s1\.dkim\.ionos\.com/);
    assert.doesNotMatch(f.message, /SendGrid/);
    assert.deepEqual(f.evidence.cname, ['s1.dkim.ionos.com']);
    assert.match(f.message, /previous host/);
  });

  test('hosting providers\' selectors are stale; HubSpot hs1-/hs2-<portal> CNAMEs are kept', async () => {
    const fs = await otherSelectors({
      dreamhost: null,
      's1-ionos': 's1-ionos.dkim.ionos.com',
      'hs1-4242424': 'd-example.hs01a.dkim.hubspotemail.net',
      'hs2-4242424': null,
    });
    const cls = Object.fromEntries(fs.map((f) => [f.subject, `${f.classification?.class} ${f.classification?.provider}`]));
    assert.deepEqual(cls, { dreamhost: 'stale dreamhost', 's1-ionos': 'stale ionos', 'hs1-4242424': 'keep hubspot', 'hs2-4242424': 'keep hubspot' });
  });

  test('mail routed elsewhere and delivered to IONOS: its selectors are the service in use (kept)', async () => {
    const fs = await otherSelectors({ 's1-ionos': 's1-ionos.dkim.ionos.com', s2: 's2.dkim.ionos.com' }, { routing: 'remote' }, {
      [D]: { TXT: [['v=spf1 ip4:203.0.113.10 include:_spf-eu.ionos.com -all']], MX: [{ priority: 10, exchange: 'mx00.ionos.com' }] },
    });
    assert.equal(fs.length, 2);
    for (const f of fs) {
      assert.equal(f.classification?.class, 'keep', f.message);
      assert.match(f.message, /mail is delivered/);
    }
  });
});
