// Review R1 item 3: the DKIM plan's notes must say what its changes do — "Rewrites …" / "Replaces …" said over a record
// the plan removes, "Removes …" over the record the plan edits into the server's key (and no note said the key is
// published). The note is now decided from the change made to the record (replaceWithOne).
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'd.example';
const NAME = `default._domainkey.${D}`;
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const pkcs1 = createPublicKey({ key: Buffer.from(mine, 'base64'), format: 'der', type: 'spki' }).export({ type: 'pkcs1', format: 'der' }).toString('base64');
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const rec = (p: string, extra = '') => `v=DKIM1; k=rsa;${extra} p=${p}`;

/** The plan over a zone holding `values` at the server's selector (served live as they are). */
async function plan(values: string[], dkim: Partial<MailSettings['dkim']> = { publicKey: mine }) {
  const zone: ZoneRecord[] = values.map((v, i) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v, txt: split(v), ref: `r${i}` }));
  const map: ZoneMap = values.length ? { [NAME]: { TXT: values.map(split) } } : {};
  const p = await planDkim(checkContext(D, map, { dkim: { selector: 'default', signing: true, ...dkim } }, zone), zone);
  assert.equal(p.blocked, undefined, p.blocked);
  return { ...p, zone };
}
/** What the plan does to the i-th record of the zone: edit, remove, or nothing. */
const did = (p: Awaited<ReturnType<typeof plan>>, i: number) => p.changes.find((c) => c.before === p.zone[i])?.action ?? 'kept';

describe("the DKIM plan's notes say what its changes do", () => {
  test("this server's key beside a copy with h=sha1: the copy is removed, and the note says \"Removes\", not \"Rewrites\"", async () => {
    const p = await plan([rec(mine), rec(mine, ' h=sha1;')]);
    assert.deepEqual([did(p, 0), did(p, 1)], ['kept', 'remove']);
    assert.ok(!p.notes.some((n) => /^Rewrites/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes a record at default\._domainkey\.d\.example that publishes the key this server signs with in a form receivers cannot use \(h=sha1 /.test(n)), p.notes.join('\n'));
  });

  test("this server's key as PKCS#1 beside it as SubjectPublicKeyInfo: the PKCS#1 record is removed, and the note says so", async () => {
    const p = await plan([rec(pkcs1), rec(mine)]);
    assert.deepEqual([did(p, 0), did(p, 1)], ['remove', 'kept']);
    assert.ok(!p.notes.some((n) => /^Rewrites/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes a record at default\._domainkey\.d\.example that publishes the key this server signs with, but its p= is a bare RSAPublicKey/.test(n)), p.notes.join('\n'));
  });

  test('the PKCS#1 record alone is rewritten in place, and the note says "Rewrites"', async () => {
    const p = await plan([rec(pkcs1)]);
    assert.deepEqual([did(p, 0)], ['edit']);
    assert.ok(p.notes.some((n) => /^Rewrites the key at default\._domainkey\.d\.example as SubjectPublicKeyInfo/.test(n)), p.notes.join('\n'));
  });

  test("a revoked record beside this server's key: removed, and the note says \"Removes\", not \"Replaces … with\"", async () => {
    const p = await plan(['v=DKIM1; k=rsa; p=', rec(mine)]);
    assert.deepEqual([did(p, 0), did(p, 1)], ['remove', 'kept']);
    assert.ok(!p.notes.some((n) => /^Replaces the revoked/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes the revoked key record at default\._domainkey\.d\.example \(empty p=\)/.test(n)), p.notes.join('\n'));
  });

  test('a revoked record alone is replaced in place, and the note says "Replaces … with the key this server signs with"', async () => {
    const p = await plan(['v=DKIM1; k=rsa; p=']);
    assert.deepEqual([did(p, 0)], ['edit']);
    assert.ok(p.notes.includes(`Replaces the revoked key record at ${NAME} (empty p=) with the key this server signs with.`), p.notes.join('\n'));
  });

  test("only a verification token at the selector: edited into this server's key, and the note says it publishes the key", async () => {
    const p = await plan(['google-site-verification=abcdef']);
    assert.deepEqual([did(p, 0)], ['edit']);
    assert.ok(!p.notes.some((n) => /^Removes/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Replaces the TXT record "google-site-verification=abcdef" at default\._domainkey\.d\.example, which is not a DKIM key, with this server's public key/.test(n)), p.notes.join('\n'));
  });

  test('a verification token beside a previous host\'s key: the key is replaced in place, the token removed, each note says which', async () => {
    const p = await plan([rec(theirs), 'google-site-verification=abcdef']);
    assert.deepEqual([did(p, 0), did(p, 1)], ['edit', 'remove']);
    assert.ok(p.notes.some((n) => /^Replaces the key at default\._domainkey\.d\.example, which is not the key this server signs with/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes the TXT record "google-site-verification=abcdef"/.test(n)), p.notes.join('\n'));
  });

  test("a previous host's key beside this server's: removed, and the note says \"Removes\"", async () => {
    const p = await plan([rec(mine), rec(theirs)]);
    assert.deepEqual([did(p, 0), did(p, 1)], ['kept', 'remove']);
    assert.ok(!p.notes.some((n) => /^Replaces the key/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes the key at default\._domainkey\.d\.example, which is not the key this server signs with/.test(n)), p.notes.join('\n'));
  });

  test("two spellings of a previous host's key: one subject, one note — \"Replaces\", as one of them is rewritten in place", async () => {
    const p = await plan([rec(theirs), `v=DKIM1; p=${theirs}`]);
    assert.deepEqual([did(p, 0), did(p, 1)], ['edit', 'remove']);
    assert.equal(p.notes.filter((n) => /previous host's/.test(n)).length, 1, p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Replaces the key at /.test(n)), p.notes.join('\n'));
  });

  test('no server key (the panel generates one): the first record is replaced, the others removed, each note saying which', async () => {
    const p = await plan(['v=DKIM1; k=rsa; p=', 'google-site-verification=abc', rec(theirs)], { signing: false });
    assert.deepEqual([did(p, 0), did(p, 1), did(p, 2)], ['edit', 'remove', 'remove']);
    assert.ok(p.notes.includes(`Replaces the revoked key record at ${NAME} (empty p=) with the key the panel generates.`), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes the TXT record "google-site-verification=abc"/.test(n)), p.notes.join('\n'));
    assert.ok(p.notes.some((n) => /^Removes the key at default\._domainkey\.d\.example \(most likely the previous host's: this server has no key for the domain yet\): the key the panel generates is published there/.test(n)), p.notes.join('\n'));
    assert.ok(!p.notes.some((n) => /^Replaces the key at/.test(n)), p.notes.join('\n'));
  });
});
