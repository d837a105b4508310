// DKIM fix, QA of what it writes against RFC 6376 / 8301 / 8463 and what verifiers do (task dkdm). One defect: where
// the server has no key yet (the panel generates one), each record at the selector was said as "a key this server does
// not sign with" — a revoked record or a verification token too; it is now said as what it is, as on the publish path.
// The rest of the case matrix was fine and is kept here as regression guards.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import { checkContext } from '../checks/context.js';

const D = 'shop.example';
const NAME = `default._domainkey.${D}`;
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');
const rsa = (bits: number) => spki(generateKeyPairSync('rsa', { modulusLength: bits }).publicKey);
const K2048 = rsa(2048);
const K4096 = rsa(4096);
const K1024 = rsa(1024);
const OLD = rsa(2048);
const ED = spki(generateKeyPairSync('ed25519').publicKey);

const txt = (value: string, name = NAME): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: value.match(/.{1,255}/g)! });

/** The plan over the panel's zone `records` (served live as they are), the server's DKIM settings as given. */
async function plan(records: ZoneRecord[], dkim: Partial<MailSettings['dkim']>) {
  const map: Record<string, Record<string, unknown>> = { [D]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'], MX: [{ priority: 10, exchange: `mail.${D}` }], TXT: [['v=spf1 a mx -all']] } };
  for (const r of records) {
    const at = (map[r.name] ??= {});
    at.TXT = [...((at.TXT as unknown[] | undefined) ?? []), r.txt];
  }
  const ctx = checkContext(D, map as never, { dkim: { selector: 'default', signing: true, ...dkim } }, records);
  return planDkim(ctx, records);
}

/** The one record the plan writes at the server's selector. */
function written(p: Awaited<ReturnType<typeof plan>>): string[] {
  const after = p.changes.flatMap((c) => (c.after ? [c.after] : []));
  assert.equal(after.length, 1, JSON.stringify(p.changes));
  return after[0].txt ?? [after[0].value];
}

describe('defect: the records a generated key replaces are said as what they are', () => {
  test('QA repro: a revoked record, a verification token and another key at the selector, no server key', async () => {
    for (const [value, want] of [
      ['v=DKIM1; p=', /^Replaces the revoked key record at default\._domainkey\.shop\.example \(empty p=\) with the key the panel generates\.$/],
      ['google-site-verification=abc', /^Replaces the TXT record "google-site-verification=abc" at default\._domainkey\.shop\.example, which is not a DKIM key, with the key the panel generates/],
      [`v=DKIM1; k=rsa; p=${OLD}`, /^Replaces the key at default\._domainkey\.shop\.example \(most likely the previous host's: this server has no key for the domain yet\) with the key the panel generates\.$/],
    ] as const) {
      const p = await plan([txt(value)], { signing: false });
      assert.equal(p.blocked, undefined, p.blocked);
      assert.deepEqual(p.actions?.map((a) => a.kind), ['generate-dkim']);
      assert.ok(p.notes.some((n) => want.test(n)), `${value}\n${p.notes.join('\n')}`);
      assert.ok(!p.notes.some((n) => /a key this server does not sign with/.test(n)), p.notes.join('\n'));
    }
  });
});

describe('the case matrix that was fine (regression guards)', () => {
  test('2048- and 4096-bit keys: strings of at most 255 bytes that join (with nothing, or a space: folding) to the key', async () => {
    for (const key of [K2048, K4096]) {
      const strings = written(await plan([], { publicKey: key }));
      assert.ok(strings.length > 1 && strings.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(strings.map((s) => s.length)));
      for (const joined of [strings.join(''), strings.join(' ')]) {
        const rec = parseDkimRecord(joined);
        assert.deepEqual(rec.errors, []);
        assert.equal(canonicalKey(rec.publicKey!), canonicalKey(key));
      }
    }
  });

  test("the server's key with h=sha256, k=rsa, s=email, t=s and n= notes: left as it is", async () => {
    const p = await plan([txt(`v=DKIM1; k=rsa; h=sha256; s=email; t=s; n=moved here; p=${K2048}`)], { publicKey: K2048 });
    assert.deepEqual(p.changes, []);
    assert.equal(p.blocked, undefined);
  });

  test("the server's key in testing mode (t=y): republished without it, the same key", async () => {
    const p = await plan([txt(`v=DKIM1; k=rsa; t=y; p=${K2048}`)], { publicKey: K2048 });
    const rec = parseDkimRecord(written(p));
    assert.equal(rec.testing, false);
    assert.equal(canonicalKey(rec.publicKey!), canonicalKey(K2048));
  });

  test("the previous host's key at another selector is left alone; the server's selector gets the server's key", async () => {
    const p = await plan([txt(`v=DKIM1; k=rsa; p=${OLD}`, `oldhost._domainkey.${D}`)], { publicKey: K2048 });
    assert.deepEqual(p.changes.map((c) => [c.action, c.name]), [['add', NAME]]);
  });

  test('a revoked record at the selector is replaced by the server key; a 1024-bit server key is published as it is (no new key)', async () => {
    const revoked = await plan([txt('v=DKIM1; p=')], { publicKey: K2048 });
    assert.equal(canonicalKey(parseDkimRecord(written(revoked)).publicKey!), canonicalKey(K2048));
    const weak = await plan([], { publicKey: K1024 });
    assert.equal(parseDkimRecord(written(weak)).bits, 1024);
    assert.equal(weak.actions?.length ?? 0, 0);
  });

  test('an Ed25519 server key: k=ed25519 with the raw 32-byte key (RFC 8463), one string', async () => {
    const strings = written(await plan([txt(`v=DKIM1; k=rsa; p=${OLD}`)], { publicKey: ED }));
    assert.equal(strings.length, 1);
    const rec = parseDkimRecord(strings);
    assert.equal(rec.keyType, 'ed25519');
    assert.equal(rec.bits, 256);
  });
});
