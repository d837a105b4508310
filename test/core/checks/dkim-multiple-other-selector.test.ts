// dkim.multiple for copies of one key where one is in a form Mail::DKIM or OpenDKIM refuses (PKCS#1 p=): at a selector
// that is not this server's, the key is another sender's — the failing signatures are that sender's, not "this
// server's" (review: the wording named this server's signatures at every selector).
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'd.example';
const key = () => {
  const pub = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  return { spki: pub.export({ type: 'spki', format: 'der' }).toString('base64'), pkcs1: pub.export({ type: 'pkcs1', format: 'der' }).toString('base64') };
};
const split = (s: string) => s.match(/[^]{1,250}/g) ?? [s];

test("copies of another selector's key, one as PKCS#1: dkim.multiple does not call its signatures this server's", async () => {
  const mine = key();
  const theirs = key();
  const signs: Partial<MailSettings> = { dkim: { selector: 'default', signing: true, publicKey: mine.spki } };
  const map: ZoneMap = {
    [D]: { TXT: [['v=spf1 ip4:203.0.113.10 -all']] },
    [`default._domainkey.${D}`]: { TXT: [split(`v=DKIM1; k=rsa; p=${mine.spki}`)] },
    [`google._domainkey.${D}`]: { TXT: [split(`v=DKIM1; k=rsa; p=${theirs.spki}`), split(`v=DKIM1; k=rsa; p=${theirs.pkcs1}`)] },
  };
  // The panel's zone holds the other selector (so the check reads it), as published.
  const name = `google._domainkey.${D}`;
  const zone: ZoneRecord[] = [theirs.spki, theirs.pkcs1].map((p, i) => ({ name, ttl: 3600, type: 'TXT', value: `v=DKIM1; k=rsa; p=${p}`, txt: split(`v=DKIM1; k=rsa; p=${p}`), ref: `r:${i}` }));
  const fs = await dkimCheck(checkContext(D, map, signs, zone));
  const m = fs.filter((f) => f.rule === 'dkim.multiple');
  assert.equal(m.length, 1, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
  assert.match(m[0].message, /^2 TXT records at google\._domainkey\.d\.example publish the same key, but one of them is in a form Mail::DKIM or OpenDKIM refuses/);
  assert.doesNotMatch(m[0].message, /this server's signatures/);
  assert.match(m[0].message, /fail the signatures made with that key whenever they read that one/);
});
