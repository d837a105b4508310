// The DKIM check offers the DKIM fix only where the DKIM plan would do something: the two judge a key at the server's
// selector that is not this server's by one rule (leavesKeyAlone in src/core/plans/dkim.ts), and decide what the fix
// does by one function (dkimFixPath: publish, generate, start signing, nothing, or blocked).
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
  const plan = await planDkim(ctx, zone);
  return { findings: await dkimCheck(ctx), plan: { ...plan, actions: plan.actions ?? [] } };
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
  const cannotGenerateWhy = 'a domain alias: set up its DKIM key in the panel, then run the DKIM fix again to publish it';
  /** Every world of the property tests below, with what the check and the plan say in it. */
  async function* worlds() {
    for (const [what, values] of published)
      for (const routing of ['local', 'remote'] as const)
        for (const signing of [true, false])
          for (const [keyName, publicKey] of serverKeys)
            for (const cannotGenerate of [undefined, cannotGenerateWhy])
              // How the panel turns signing on (its settings say so only while signing is off): not at all, by checking
              // the published key again (cPanel), by its switch (Plesk, the files panel).
              for (const startSigning of signing ? [undefined] : ([undefined, 'recheck', 'switch'] as const)) {
                const world = `${what}; routing ${routing}; signing ${signing ? 'on' : 'off'}; ${keyName}; ${cannotGenerate ? 'cannot generate' : 'can generate'}; start signing: ${startSigning ?? 'no'}`;
                const dkim: MailSettings['dkim'] = { selector: 'default', signing, ...(publicKey ? { publicKey } : {}), ...(cannotGenerate ? { cannotGenerate } : {}), ...(startSigning ? { startSigning } : {}) };
                yield { world, what, routing, signing, publicKey, cannotGenerate, startSigning, ...(await run(values, { routing, dkim })) };
              }
  }

  test('every finding that offers the fix gets a plan that is not blocked and does something (all worlds)', async () => {
    let offered = 0;
    let starts = 0;
    for await (const { world, findings, plan } of worlds()) {
      const fixes = findings.filter((f) => f.fix === 'dkim');
      if (!fixes.length) continue;
      offered++;
      if (plan.actions.some((a) => a.kind === 'refresh-dkim')) starts++;
      const why = `${world}: ${rules(fixes).join(', ')} offer the fix, but the plan is ${plan.blocked ? `blocked (${plan.blocked})` : 'empty'}`;
      assert.equal(plan.blocked, undefined, why);
      assert.ok(plan.changes.length + plan.actions.length > 0, why);
    }
    assert.ok(offered > 100, `only ${offered} worlds offer the fix`);
    assert.ok(starts > 5, `only ${starts} worlds offer a fix that starts signing`);
  });

  test('a plan that is not blocked and does something is offered by some finding (all worlds)', async () => {
    for await (const { world, findings, plan } of worlds()) {
      if (plan.blocked || plan.changes.length + plan.actions.length === 0) continue;
      assert.ok(findings.some((f) => f.fix === 'dkim'), `${world}: the plan ${plan.changes.length ? 'changes records' : `does ${plan.actions.map((a) => a.kind).join(', ')}`}, but no finding offers it (${rules(findings).join(', ')})`);
    }
  });

  test('dkim.signing-off offers the fix only where the plan turns signing on; otherwise it says what turns it on (all worlds)', async () => {
    for await (const { world, findings, plan, publicKey, startSigning } of worlds()) {
      const off = findings.find((f) => f.rule === 'dkim.signing-off');
      if (!off) continue;
      const turnsOn = plan.actions.some((a) => a.kind === 'refresh-dkim' || a.kind === 'generate-dkim');
      assert.equal(off.fix === 'dkim', turnsOn, `${world}: signing-off ${off.fix ? 'offers' : 'does not offer'} the fix; the plan ${turnsOn ? 'turns signing on' : 'does not'} (${plan.blocked ?? plan.actions.map((a) => a.kind).join(', ')})`);
      if (plan.actions.some((a) => a.kind === 'refresh-dkim')) assert.ok(publicKey && startSigning, world);
      if (!off.fix) {
        assert.match(off.message, /turn DKIM signing on|run the fix again|use another selector|cannot generate one|set up its DKIM key/, `${world}: ${off.message}`);
      }
    }
  });

  test("the server's own key published as it should be, signing off: the fix starts signing where the panel can, else it is not offered and the finding says where", async () => {
    for await (const { world, what, findings, plan, publicKey, startSigning } of worlds()) {
      if (what !== "the server's key" || publicKey !== mine || !findings.some((f) => f.rule === 'dkim.signing-off')) continue;
      const off = findings.find((f) => f.rule === 'dkim.signing-off')!;
      if (startSigning) {
        assert.deepEqual([off.fix, plan.blocked, plan.changes, plan.actions.map((a) => a.kind)], ['dkim', undefined, [], ['refresh-dkim']], world);
      } else {
        assert.deepEqual([off.fix, plan.actions], [undefined, []], world);
        assert.match(plan.blocked ?? '', /signing is turned off for d\.example, though its key is already published/, world);
        assert.match(off.message, /turn DKIM signing on for d\.example in the panel's Email Deliverability \/ DKIM settings/, world);
      }
    }
  });

  test('no key on the server, signing off, and the panel cannot generate one: no finding offers the fix, the plan is blocked with why (all published states)', async () => {
    let seen = 0;
    for await (const { world, findings, plan, publicKey, signing, cannotGenerate } of worlds()) {
      if (publicKey || signing || !cannotGenerate) continue;
      seen++;
      assert.deepEqual(rules(findings.filter((f) => f.fix)), [], world);
      assert.ok(plan.blocked, world);
      if (!/publishes a key this server does not sign with/.test(plan.blocked)) assert.match(plan.blocked, /cannot generate one for it: a domain alias/, world);
    }
    assert.equal(seen, published.length * 2 * 3); // × routing × how the panel turns signing on
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
