// DKIM fix: the server's key is published as SubjectPublicKeyInfo and without g= — a bare RSAPublicKey (which a panel may
// hand, and which RFC 6376 allows) fails at receivers whose filters use Mail::DKIM (SpamAssassin, Amavis) or OpenDKIM,
// and Mail::DKIM refuses the key for the server's signatures under a g= other than * (second-judge QA,
// test/e2e/dkim-second-judge.test.ts). A record of the right key in such a form is rewritten, with before and after.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { CheckContext } from '../../../src/core/checks/context.js';
import { parseDkimRecord, verifierRefusals } from '../../../src/core/dkim/record.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { dkimFixPath, planDkim } from '../../../src/core/plans/dkim.js';
import { defaultKnowledge } from '../../../src/knowledge/index.js';
import { applyAndCheck, playPerTest } from '../../helpers/fixplay.js';
import { MapResolver } from '../../helpers/map-resolver.js';

const D = 'example.com';
const NAME = `default._domainkey.${D}`;
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');
const pkcs1 = (k: KeyObject) => k.export({ type: 'pkcs1', format: 'der' }).toString('base64');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

function ctx(publicKey: string, dkim: Partial<MailSettings['dkim']> = {}): CheckContext {
  return { domain: D, settings: { dkim: { selector: 'default', signing: true, publicKey, ...dkim } }, resolver: new MapResolver({}), knowledge: defaultKnowledge } as unknown as CheckContext;
}
function txt(value: string): ZoneRecord {
  return { name: NAME, ttl: 3600, type: 'TXT', value, txt: value.match(/.{1,255}/g)!, ref: 'r:0' };
}
/** The one record the plan writes, parsed. */
function written(plan: Awaited<ReturnType<typeof planDkim>>) {
  assert.equal(plan.changes.length, 1, JSON.stringify(plan.changes));
  const after = plan.changes[0].after!;
  return parseDkimRecord(after.txt ?? [after.value]);
}

describe('DKIM fix: the key as SubjectPublicKeyInfo, without g=', () => {
  test('the server key handed as a bare RSAPublicKey, nothing published: the record carries its SubjectPublicKeyInfo', async () => {
    const rec = written(await planDkim(ctx(pkcs1(rsa)), []));
    assert.equal(rec.publicKey, spki(rsa));
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(verifierRefusals(rec), []);
  });

  for (const [what, server] of [
    ['SPKI', spki(rsa)],
    ['a bare RSAPublicKey', pkcs1(rsa)],
  ] as const) {
    test(`the key published as a bare RSAPublicKey (the panel hands it as ${what}): rewritten as SPKI, before and after, with a note`, async () => {
      const before = txt(`v=DKIM1; k=rsa; p=${pkcs1(rsa)}`);
      const plan = await planDkim(ctx(server), [before]);
      const rec = written(plan);
      assert.equal(plan.changes[0].action, 'edit');
      assert.deepEqual(plan.changes[0].before, before);
      assert.equal(plan.changes[0].after!.value, `v=DKIM1; k=rsa; p=${spki(rsa)}`);
      assert.deepEqual(verifierRefusals(rec), []);
      assert.ok(
        plan.notes.some((n) => /^Rewrites the key at default\._domainkey\.example\.com as SubjectPublicKeyInfo \(the usual encoding\): it is the key this server signs with, but its p= is a bare RSAPublicKey/.test(n)),
        plan.notes.join(' | '),
      );
      assert.equal(plan.blocked, undefined);
    });
  }

  test('g= other than *: rewritten without g=; g=* and the key alone: nothing to change', async () => {
    for (const g of ['g=postmaster; ', 'g=; ']) {
      const plan = await planDkim(ctx(spki(rsa)), [txt(`v=DKIM1; k=rsa; ${g}p=${spki(rsa)}`)]);
      const rec = written(plan);
      assert.equal(rec.tags.g, undefined, g);
      assert.equal(rec.publicKey, spki(rsa));
      assert.ok(plan.notes.some((n) => /^Rewrites the key at \S+ without g=: it is the key this server signs with, but its g=/.test(n)), plan.notes.join(' | '));
    }
    for (const v of [`v=DKIM1; k=rsa; g=*; p=${spki(rsa)}`, `v=DKIM1; k=rsa; p=${spki(rsa)}`]) {
      const plan = await planDkim(ctx(pkcs1(rsa)), [txt(v)]);
      assert.deepEqual(plan.changes, [], v.slice(0, 30));
      assert.deepEqual(plan.actions ?? [], []);
    }
  });

  test('dkimFixPath: such a record is no record published as it should be (publish), while signing or not', () => {
    const at = (value: string) => [txt(value)];
    const off = ctx(spki(rsa), { signing: false, startSigning: 'switch' }).settings;
    assert.equal(dkimFixPath(ctx(spki(rsa)).settings, D, at(`v=DKIM1; k=rsa; p=${pkcs1(rsa)}`)).kind, 'publish');
    assert.equal(dkimFixPath(off, D, at(`v=DKIM1; k=rsa; p=${pkcs1(rsa)}`)).kind, 'publish');
    assert.equal(dkimFixPath(ctx(spki(rsa)).settings, D, at(`v=DKIM1; k=rsa; g=x; p=${spki(rsa)}`)).kind, 'publish');
    assert.equal(dkimFixPath(ctx(spki(rsa)).settings, D, at(`v=DKIM1; k=rsa; g=*; p=${spki(rsa)}`)).kind, 'nothing');
    assert.equal(dkimFixPath(off, D, at(`v=DKIM1; k=rsa; g=*; p=${spki(rsa)}`)).kind, 'start-signing');
  });
});

describe('DKIM fix through the files panel: a bare RSAPublicKey published', () => {
  const start = playPerTest();

  test('clean.example with its key published as a bare RSAPublicKey: dkim.compat offers the fix; applied, verified, republished as SPKI; nothing left', async () => {
    const p = await start();
    const key = createPublicKey(readFileSync(join(p.dir, 'dkim', 'clean.example.pem'), 'utf8'));
    const lines = p.zoneText('clean.example').split('\n');
    const at = lines.findIndex((l) => l.startsWith('default._domainkey\t'));
    assert.ok(at >= 0);
    const bare = `v=DKIM1; k=rsa; p=${pkcs1(key)}`;
    lines[at] = `default._domainkey\tIN\tTXT\t( "${bare.slice(0, 200)}" "${bare.slice(200)}" )`;
    p.writeZone('clean.example', lines.join('\n'));
    p.refresh();

    const before = await p.findings('clean.example', 'dkim');
    assert.deepEqual(
      before.filter((f) => f.severity !== 'pass').map((f) => `${f.rule}:${f.severity}:${f.fix ?? ''}`),
      ['dkim.compat:warn:dkim'],
    );
    const { plan } = await applyAndCheck(p, 'clean.example', 'dkim');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0].action, 'edit');
    const live = await p.resolver().resolve('default._domainkey.clean.example', 'TXT');
    assert.equal(live.status, 'ok');
    const records = live.status === 'ok' ? live.records.map((r) => r.join('')) : [];
    assert.deepEqual(records, [`v=DKIM1; k=rsa; p=${spki(key)}`]);
    assert.ok((await p.findings('clean.example', 'dkim')).some((f) => f.rule === 'dkim.ok'));
  });
});
