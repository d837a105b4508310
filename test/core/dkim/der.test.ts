import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { rsaPublicKeyDer, rsaSpkiFromPrivatePem } from '../../../src/core/dkim/der.js';

test('rsaSpkiFromPrivatePem equals OpenSSL for PKCS#8 and PKCS#1 keys of several sizes', () => {
  for (const bits of [1024, 2048]) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    const want = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(rsaSpkiFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), want);
    assert.equal(rsaSpkiFromPrivatePem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), want);
  }
});

test('rsaPublicKeyDer reads SPKI and bare PKCS#1 to the same bytes; rejects other keys and junk', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');
  assert.deepEqual(rsaPublicKeyDer(spki), rsaPublicKeyDer(pkcs1));
  assert.equal(rsaPublicKeyDer(pkcs1)!.toString('base64'), pkcs1);
  const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  assert.equal(rsaPublicKeyDer(ed), null);
  assert.equal(rsaPublicKeyDer('bm90IGEga2V5'), null);
  assert.equal(rsaPublicKeyDer(''), null);
  assert.equal(rsaSpkiFromPrivatePem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'), null);
});
