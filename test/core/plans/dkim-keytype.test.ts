// DKIM fix: the published record carries the server key's own type (RSA or Ed25519), and keys compare in one form.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalKey } from '../../../src/core/classify.js';
import type { CheckContext } from '../../../src/core/checks/context.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import { MapResolver } from '../../helpers/map-resolver.js';

const D = 'example.com';
const NAME = `default._domainkey.${D}`;
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');
const pkcs1 = (k: KeyObject) => k.export({ type: 'pkcs1', format: 'der' }).toString('base64');
const raw = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
const ed = generateKeyPairSync('ed25519').publicKey;
const edOther = generateKeyPairSync('ed25519').publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

function ctx(publicKey: string): CheckContext {
  // A resolver and the knowledge: the plan asks whether a key that is not the server's is a sending service's.
  return { domain: D, settings: { dkim: { selector: 'default', signing: true, publicKey } }, resolver: new MapResolver({}), knowledge: defaultKnowledge } as unknown as CheckContext;
}
function txt(value: string): ZoneRecord {
  const chunks = value.match(/.{1,255}/g)!;
  return { name: NAME, ttl: 3600, type: 'TXT', value, txt: chunks };
}
function published(plan: Awaited<ReturnType<typeof planDkim>>) {
  assert.equal(plan.changes.length, 1);
  const after = plan.changes[0].after!;
  return parseDkimRecord(after.txt ?? [after.value]);
}

describe('DKIM fix: key type', () => {
  test('Ed25519 server key, nothing published → k=ed25519 with the raw 32-byte key (RFC 8463)', async () => {
    const plan = await planDkim(ctx(spki(ed)), []);
    const rec = published(plan);
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.keyType, 'ed25519');
    assert.equal(rec.bits, 256);
    assert.equal(rec.publicKey, raw(ed));
    assert.equal(canonicalKey(rec.publicKey!), canonicalKey(spki(ed)));
  });

  test('Ed25519: a correct k=ed25519 record with the raw key → empty plan', async () => {
    const plan = await planDkim(ctx(spki(ed)), [txt(`v=DKIM1; k=ed25519; p=${raw(ed)}`)]);
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
  });

  test("Ed25519: another key, the key as SPKI, or the key under k=rsa → replaced by the server's raw key", async () => {
    for (const [value, note] of [
      [`v=DKIM1; k=ed25519; p=${raw(edOther)}`, /not the key this server signs with/],
      [`v=DKIM1; k=ed25519; p=${spki(ed)}`, /Rewrites the key .*SubjectPublicKeyInfo/],
      [`v=DKIM1; p=${raw(ed)}`, /Rewrites the key .*k=rsa but the key is ed25519/],
    ] as const) {
      const plan = await planDkim(ctx(spki(ed)), [txt(value)]);
      const rec = published(plan);
      assert.equal(plan.changes[0].action, 'edit');
      assert.equal(rec.keyType, 'ed25519');
      assert.equal(rec.publicKey, raw(ed));
      assert.ok(plan.notes.some((n) => note.test(n)), plan.notes.join(' | '));
    }
  });

  test('canonicalKey: Ed25519 raw and SPKI are one form; RSA SPKI and PKCS#1 are one form; different keys differ', () => {
    assert.equal(canonicalKey(raw(ed)), canonicalKey(spki(ed)));
    assert.notEqual(canonicalKey(raw(ed)), canonicalKey(raw(edOther)));
    assert.equal(canonicalKey(pkcs1(rsa)), canonicalKey(spki(rsa)));
  });

  test('RSA: published as k=rsa with the SPKI key; the same key published as PKCS#1 → rewritten as SPKI (Mail::DKIM and OpenDKIM read SPKI only)', async () => {
    const rec = published(await planDkim(ctx(spki(rsa)), []));
    assert.equal(rec.keyType, 'rsa');
    assert.equal(rec.bits, 2048);
    assert.equal(rec.publicKey, spki(rsa));
    assert.equal(rec.tags.k, 'rsa');
    assert.equal(published(await planDkim(ctx(spki(rsa)), [txt(`v=DKIM1; k=rsa; p=${pkcs1(rsa)}`)])).publicKey, spki(rsa));
    assert.deepEqual((await planDkim(ctx(spki(rsa)), [txt(`v=DKIM1; k=rsa; p=${spki(rsa)}`)])).changes, []);
  });

  test('a server key DKIM cannot publish (ECDSA) → blocked, nothing written', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const plan = await planDkim(ctx(spki(ec)), []);
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /uses the key type ec, which DKIM cannot publish/);
  });
});
