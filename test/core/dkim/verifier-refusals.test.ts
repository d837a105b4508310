// DKIM key records RFC 6376 lets verifiers use but widely deployed ones refuse (second-judge QA, test/e2e/
// dkim-second-judge.test.ts): p= as a bare RSAPublicKey (Mail::DKIM and OpenDKIM read SubjectPublicKeyInfo only) and a
// g= other than * (Mail::DKIM applies RFC 4871's granularity). What the parser says of them (verifierRefusals), and
// what the fix publishes for a key a panel hands as a bare RSAPublicKey (renderDkimRecord: SubjectPublicKeyInfo).
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { isBareRsaPublicKey, rsaSpkiFromPublicKey } from '../../../src/core/dkim/der.js';
import { parseDkimRecord, renderDkimRecord, sameKey, verifierRefusals } from '../../../src/core/dkim/record.js';

function rsa(bits: number) {
  const pub = createPublicKey(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey);
  return { spki: pub.export({ type: 'spki', format: 'der' }).toString('base64'), pkcs1: pub.export({ type: 'pkcs1', format: 'der' }).toString('base64') };
}
const k2048 = rsa(2048);
const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
const edRaw = ed.subarray(-32).toString('base64');

const kinds = (text: string) => verifierRefusals(parseDkimRecord(text)).map((p) => p.kind);

describe('der: a bare RSAPublicKey wrapped as SubjectPublicKeyInfo without OpenSSL', () => {
  test('rsaSpkiFromPublicKey builds the SPKI OpenSSL exports, for several key sizes; an SPKI comes back as given', () => {
    for (const bits of [1024, 2048, 4096]) {
      const k = bits === 2048 ? k2048 : rsa(bits);
      assert.equal(rsaSpkiFromPublicKey(k.pkcs1), k.spki, `${bits} bits`);
      assert.equal(rsaSpkiFromPublicKey(k.spki), k.spki, `${bits} bits`);
    }
    // Folding whitespace is stripped, nothing else changes.
    assert.equal(rsaSpkiFromPublicKey(k2048.spki.replace(/(.{64})/g, '$1 ')), k2048.spki);
    assert.equal(rsaSpkiFromPublicKey(k2048.pkcs1.replace(/(.{64})/g, '$1\t')), k2048.spki);
  });

  test('isBareRsaPublicKey tells the two encodings apart; null for what is no RSA key', () => {
    assert.equal(isBareRsaPublicKey(k2048.pkcs1), true);
    assert.equal(isBareRsaPublicKey(k2048.spki), false);
    for (const junk of [ed.toString('base64'), edRaw, 'bm90IGEga2V5', '']) {
      assert.equal(isBareRsaPublicKey(junk), null, junk);
      assert.equal(rsaSpkiFromPublicKey(junk), null, junk);
    }
  });
});

describe('renderDkimRecord: an RSA key is published as SubjectPublicKeyInfo', () => {
  test('a key handed as a bare RSAPublicKey is published as the SPKI of the same key (was: as given, which Mail::DKIM and OpenDKIM fail)', () => {
    const rec = renderDkimRecord(k2048.pkcs1);
    assert.equal(rec, `v=DKIM1; k=rsa; p=${k2048.spki}`);
    const parsed = parseDkimRecord(rec);
    assert.deepEqual(parsed.errors, []);
    assert.ok(sameKey(parsed.publicKey, k2048.pkcs1));
    assert.deepEqual(verifierRefusals(parsed), []);
    // Folded, and with the default key type.
    assert.equal(renderDkimRecord(k2048.pkcs1.replace(/(.{60})/g, '$1 '), 'rsa'), `v=DKIM1; k=rsa; p=${k2048.spki}`);
  });

  test('an SPKI key, an Ed25519 key and text that is no key are published as before', () => {
    assert.equal(renderDkimRecord(k2048.spki), `v=DKIM1; k=rsa; p=${k2048.spki}`);
    assert.equal(renderDkimRecord(ed.toString('base64'), 'ed25519'), `v=DKIM1; k=ed25519; p=${edRaw}`);
    assert.equal(renderDkimRecord(edRaw, 'ed25519'), `v=DKIM1; k=ed25519; p=${edRaw}`);
    for (const junk of ['not base64!', 'AAAA', '']) assert.equal(renderDkimRecord(junk), `v=DKIM1; k=rsa; p=${junk.replace(/\s+/g, '')}`);
  });
});

describe('verifierRefusals: what RFC 6376 allows and Mail::DKIM or OpenDKIM refuse', () => {
  test('p= as a bare RSAPublicKey: encoding, naming Mail::DKIM and OpenDKIM; the SPKI of the same key: nothing', () => {
    const [p] = verifierRefusals(parseDkimRecord(`v=DKIM1; k=rsa; p=${k2048.pkcs1}`));
    assert.equal(p?.kind, 'encoding');
    assert.match(p.text, /bare RSAPublicKey \(PKCS#1\).*Mail::DKIM \(SpamAssassin, Amavis\) and OpenDKIM read p= as SubjectPublicKeyInfo only/);
    assert.deepEqual(kinds(`v=DKIM1; k=rsa; p=${k2048.spki}`), []);
    assert.deepEqual(kinds(`p=${k2048.pkcs1}`), ['encoding']);
  });

  test('g=: only * (FWS around it ignored, as the tag-list allows) passes Mail::DKIM for a signature without i=', () => {
    for (const g of ['g=*', 'g= * ', 'g=*\t']) assert.deepEqual(kinds(`v=DKIM1; k=rsa; ${g}; p=${k2048.spki}`), [], g);
    for (const g of ['g=postmaster', 'g=', 'g= ', 'g=a*', 'g=**', 'g=*x']) assert.deepEqual(kinds(`v=DKIM1; k=rsa; ${g}; p=${k2048.spki}`), ['granularity'], g);
    const [named] = verifierRefusals(parseDkimRecord(`v=DKIM1; k=rsa; g=postmaster; p=${k2048.spki}`));
    assert.match(named.text, /^its g=postmaster is RFC 4871's granularity, which RFC 6376 dropped, yet Mail::DKIM \(SpamAssassin, Amavis\) still applies it/);
    const [empty] = verifierRefusals(parseDkimRecord(`v=DKIM1; k=rsa; g=; p=${k2048.spki}`));
    assert.match(empty.text, /^its g= is empty: .*an empty g= matches no signature/);
    // Tag names are case-sensitive: G= is an unknown tag, ignored by every verifier.
    assert.deepEqual(kinds(`v=DKIM1; k=rsa; G=postmaster; p=${k2048.spki}`), []);
    // g= is not about the key type.
    assert.deepEqual(kinds(`v=DKIM1; k=ed25519; g=postmaster; p=${edRaw}`), ['granularity']);
  });

  test('both at once, in that order', () => {
    assert.deepEqual(kinds(`v=DKIM1; k=rsa; g=; p=${k2048.pkcs1}`), ['encoding', 'granularity']);
  });

  test('a record that is unusable anyway (malformed, revoked) or holds no RSA key gets no such remark', () => {
    assert.deepEqual(kinds(`v=DKIM1; k=rsa; g=x; p=${k2048.pkcs1}; p=${k2048.pkcs1}`), []);
    assert.deepEqual(kinds('v=DKIM1; k=rsa; g=x; p='), []);
    assert.deepEqual(kinds(`v=DKIM1; k=ed25519; p=${edRaw}`), []);
    assert.deepEqual(kinds(`v=DKIM1; k=rsa; p=${k2048.spki.slice(0, 100)}`), []);
  });
});
