// The DKIM check offers the DKIM fix only where the DKIM plan would do something: the two judge a key at the server's
// selector that is not this server's by one rule (leavesKeyAlone in src/core/plans/dkim.ts).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import { gradeKey, keyBits, parseDkimRecord, renderDkimRecord } from '../../../src/core/dkim/record.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'd.example';
const NAME = `default._domainkey.${D}`;
const key = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const mine1024 = key(1024);
const theirs = key();
const theirs1024 = key(1024);
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const txtRecord = (value: string, i: number): ZoneRecord => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: split(value), ref: `r:${i}` });
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);

/** The check and the plan over one world: `values` published at the server's selector, live and in the panel's zone. */
async function run(values: string[], settings: Partial<MailSettings>) {
  const map: ZoneMap = values.length ? { [NAME]: { TXT: values.map(split) } } : {};
  const zone = values.map(txtRecord);
  const ctx = checkContext(D, map, settings, zone);
  return { findings: await dkimCheck(ctx), plan: await planDkim(ctx, zone) };
}

describe('dkim check: the fix is offered only where the plan does something', () => {
  test("mail routed elsewhere, no server key, signing off, a 1024-bit t=y key at the server's selector: the plan is blocked, no finding offers the fix", async () => {
    const { findings, plan } = await run([`v=DKIM1; k=rsa; t=y; p=${theirs1024}`], { routing: 'remote', dkim: { selector: 'default', signing: false } });
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /publishes a key this server does not sign with/);
    for (const rule of ['dkim.weak-key', 'dkim.testing', 'dkim.signing-off']) assert.ok(findings.some((f) => f.rule === rule), `${rule} in ${rules(findings).join(', ')}`);
    assert.deepEqual(rules(findings.filter((f) => f.fix)), []);
    assert.match(findings.find((f) => f.rule === 'dkim.signing-off')!.message, /another sender's key/);
  });

  test('mail routed elsewhere: a malformed record that still publishes another key blocks the plan, so no finding offers the fix', async () => {
    const { findings, plan } = await run([`v=DKIM1; k=rsa; s=web; p=${theirs}`], { routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } });
    assert.ok(plan.blocked);
    assert.ok(findings.some((f) => f.rule === 'dkim.malformed'), rules(findings).join(', '));
    assert.deepEqual(rules(findings.filter((f) => f.fix)), []);
  });

  test("mail routed elsewhere: the server's own t=y key beside another sender's key → the plan is blocked, so neither dkim.multiple nor dkim.testing offers the fix", async () => {
    const { findings, plan } = await run([`v=DKIM1; k=rsa; t=y; p=${mine}`, `v=DKIM1; k=rsa; p=${theirs}`], { routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } });
    assert.ok(plan.blocked);
    assert.ok(findings.some((f) => f.rule === 'dkim.multiple') && findings.some((f) => f.rule === 'dkim.testing'), rules(findings).join(', '));
    assert.deepEqual(rules(findings.filter((f) => f.fix)), []);
  });

  // Every world of: what is published at the server's selector × routing × signing × the server's key.
  const published: [string, string[]][] = [
    ['nothing', []],
    ["the server's key", [`v=DKIM1; k=rsa; p=${mine}`]],
    ["the server's key, t=y", [`v=DKIM1; k=rsa; t=y; p=${mine}`]],
    ["the server's key, h=sha1", [`v=DKIM1; k=rsa; h=sha1; p=${mine}`]],
    ["the server's 1024-bit key", [`v=DKIM1; k=rsa; p=${mine1024}`]],
    ['another key', [`v=DKIM1; k=rsa; p=${theirs}`]],
    ['another 1024-bit key, t=y', [`v=DKIM1; k=rsa; t=y; p=${theirs1024}`]],
    ['a revoked key', ['v=DKIM1; k=rsa; p=']],
    ['a malformed record with another key', [`v=DKIM1; k=rsa; s=web; p=${theirs}`]],
    ["the server's key and another", [`v=DKIM1; k=rsa; p=${mine}`, `v=DKIM1; k=rsa; p=${theirs}`]],
  ];
  const serverKeys: [string, string | undefined][] = [
    ['a 2048-bit server key', mine],
    ['a 1024-bit server key', mine1024],
    ['no server key', undefined],
  ];
  test('every finding that offers the fix gets a plan that is not blocked and changes records (all worlds)', async () => {
    let offered = 0;
    for (const [what, values] of published)
      for (const routing of ['local', 'remote'] as const)
        for (const signing of [true, false])
          for (const [keyName, publicKey] of serverKeys) {
            const world = `${what}; routing ${routing}; signing ${signing ? 'on' : 'off'}; ${keyName}`;
            const { findings, plan } = await run(values, { routing, dkim: { selector: 'default', signing, ...(publicKey ? { publicKey } : {}) } });
            // Known and intended: with the server's key already published and signing off, dkim.signing-off offers the
            // fix, whose plan is blocked with how to turn signing on (test/core/checks/dkim.test.ts).
            const fixes = findings.filter((f) => f.fix === 'dkim' && !(f.rule === 'dkim.signing-off' && /signing is turned off/.test(plan.blocked ?? '')));
            if (!fixes.length) continue;
            offered++;
            const why = `${world}: ${rules(fixes).join(', ')} offer the fix, but the plan is ${plan.blocked ? `blocked (${plan.blocked})` : 'empty'}`;
            assert.equal(plan.blocked, undefined, why);
            assert.ok(plan.changes.length > 0, why);
          }
    assert.ok(offered > 20, `only ${offered} worlds offer the fix`);
  });
});

describe('dkim check: wording follows the structured reasons', () => {
  test("h=sha1 on the server's own key: the finding says \"but its h=sha1 …\", the plan's note \"(h=sha1 …)\"; t=y is \"in testing mode\"", async () => {
    const own = { dkim: { selector: 'default', signing: true, publicKey: mine } };
    const h = await run([`v=DKIM1; k=rsa; h=sha1; p=${mine}`], own);
    assert.match(h.findings.find((f) => f.rule === 'dkim.key-mismatch')!.message, /, but its h=sha1 lets verifiers use it only for rsa-sha1 signatures/);
    assert.ok(h.plan.notes.some((n) => /published in a form receivers cannot use \(h=sha1 lets verifiers/.test(n)), h.plan.notes.join(' | '));
    const t = await run([`v=DKIM1; k=rsa; t=y; p=${mine}`], own);
    assert.ok(t.plan.notes.some((n) => /published in testing mode \(t=y: /.test(n)), t.plan.notes.join(' | '));
  });

  test("another selector's h= remark is shown, its t=y is not repeated (dkim.testing says it)", async () => {
    const other = `google._domainkey.${D}`;
    const map: ZoneMap = { [NAME]: { TXT: [split(`v=DKIM1; k=rsa; p=${mine}`)] }, [other]: { TXT: [split(`v=DKIM1; k=rsa; t=y; h=sha512; p=${theirs}`)] } };
    const zone: ZoneRecord[] = [txtRecord(`v=DKIM1; k=rsa; p=${mine}`, 0), { name: other, ttl: 3600, type: 'TXT', value: `v=DKIM1; k=rsa; t=y; h=sha512; p=${theirs}` }];
    const fs = await dkimCheck(checkContext(D, map, { dkim: { selector: 'default', signing: true, publicKey: mine } }, zone));
    const f = fs.find((x) => x.rule === 'dkim.other-selector' && x.subject === 'google');
    assert.ok(f, rules(fs).join(', '));
    assert.match(f.message, /The record also says h=sha512 does not allow sha256\.$/);
    assert.ok(fs.some((x) => x.rule === 'dkim.testing' && x.subject === 'google'));
  });

  test("keyBits grades a server key as publishing and re-parsing it would (RSA SPKI/PKCS#1, Ed25519 SPKI/raw, junk)", () => {
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    const cases: [string, 'rsa' | 'ed25519'][] = [
      [mine, 'rsa'],
      [rsa1024.export({ type: 'spki', format: 'der' }).toString('base64'), 'rsa'],
      [rsa1024.export({ type: 'pkcs1', format: 'der' }).toString('base64'), 'rsa'],
      [ed.toString('base64'), 'ed25519'],
      [ed.subarray(-32).toString('base64'), 'ed25519'],
      [Buffer.alloc(40).toString('base64'), 'ed25519'],
      ['not base64!', 'rsa'],
      ['AAAA', 'rsa'],
      ['', 'rsa'],
    ];
    for (const [k, type] of cases) {
      const rec = parseDkimRecord(renderDkimRecord(k, type));
      assert.equal(gradeKey(keyBits(k, type), type), rec.errors.length ? 'fail' : gradeKey(rec.bits, rec.keyType), `${type} ${k.slice(0, 20)}`);
      if (!rec.errors.length) assert.equal(keyBits(k, type), rec.bits, `${type} ${k.slice(0, 20)}`);
    }
  });
});
