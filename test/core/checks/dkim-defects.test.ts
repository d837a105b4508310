// DKIM check defects found by QA: h= that leaves out sha256 on the server's own key, and findings that offered the
// DKIM fix although its plan changed nothing (t=y, a weak key of the server's own).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'd.example';
const NAME = `default._domainkey.${D}`;
const key = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const mine1024 = key(1024);
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const txtRecord = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: split(value), ref: `r:${name}` });

/** The check and the DKIM plan over one world: `value` published at the server's selector (live and in the zone). */
async function run(value: string, settings: Partial<MailSettings>, extra: ZoneMap = {}) {
  const map: ZoneMap = { [NAME]: { TXT: [split(value)] }, ...extra };
  const zone = [txtRecord(NAME, value)];
  const ctx = checkContext(D, map, settings, zone);
  const findings = await dkimCheck(ctx);
  const plan = await planDkim(ctx, zone);
  return { findings, plan };
}
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);
const signsWith = (publicKey: string): Partial<MailSettings> => ({ dkim: { selector: 'default', signing: true, publicKey } });

describe('dkim check: h= on the key this server signs with', () => {
  test("the server's own key with h=sha1 → a failing key-mismatch finding with the fix, not dkim.ok", async () => {
    const { findings } = await run(`v=DKIM1; k=rsa; h=sha1; p=${mine}`, signsWith(mine));
    assert.ok(!findings.some((f) => f.rule === 'dkim.ok'), rules(findings).join(', '));
    const f = findings.find((x) => x.rule === 'dkim.key-mismatch');
    assert.ok(f, rules(findings).join(', '));
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'dkim');
    assert.equal(f.subject, 'default');
    assert.match(f.message, /h=sha1/);
    assert.match(f.message, /sha256/);
  });

  test("h=sha512 (no sha256) on the server's own key fails too", async () => {
    const { findings } = await run(`v=DKIM1; k=rsa; h=sha512; p=${mine}`, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.key-mismatch');
    assert.equal(f?.severity, 'fail', rules(findings).join(', '));
    assert.equal(f?.fix, 'dkim');
  });

  test('h=SHA256 names no hash a verifier knows (values are case-sensitive, RFC 6376 §3.2): not dkim.ok', async () => {
    const { findings } = await run(`v=DKIM1; k=rsa; h=SHA256; p=${mine}`, signsWith(mine));
    assert.ok(!rules(findings).includes('dkim.ok:pass'), rules(findings).join(', '));
  });

  test('h=sha1:sha256 and h=sha256 are fine: dkim.ok', async () => {
    // (Not h=SHA256: hash names are case-sensitive — test/e2e/dkim-second-judge.test.ts, dkim/record.test.ts.)
    for (const h of ['sha1:sha256', 'sha256']) {
      const { findings } = await run(`v=DKIM1; k=rsa; h=${h}; p=${mine}`, signsWith(mine));
      assert.deepEqual(rules(findings), ['dkim.ok:pass'], h);
    }
  });

  test('signing off: the own key with h=sha1 is a warning (nothing signs yet), still with the fix', async () => {
    const { findings } = await run(`v=DKIM1; k=rsa; h=sha1; p=${mine}`, { dkim: { selector: 'default', signing: false, publicKey: mine } });
    const f = findings.find((x) => x.rule === 'dkim.key-mismatch');
    assert.equal(f?.severity, 'warn', rules(findings).join(', '));
    assert.equal(f?.fix, 'dkim');
  });

  test('another selector with h=sha1: its info finding says so (the parser warning is shown)', async () => {
    const other = `google._domainkey.${D}`;
    const map: ZoneMap = { [NAME]: { TXT: [split(`v=DKIM1; k=rsa; p=${mine}`)] }, [other]: { TXT: [split(`v=DKIM1; k=rsa; h=sha1; p=${theirs}`)] } };
    const zone = [txtRecord(NAME, `v=DKIM1; k=rsa; p=${mine}`), txtRecord(other, `v=DKIM1; k=rsa; h=sha1; p=${theirs}`)];
    const fs = await dkimCheck(checkContext(D, map, signsWith(mine), zone));
    const f = fs.find((x) => x.rule === 'dkim.other-selector' && x.subject === 'google');
    assert.ok(f, rules(fs).join(', '));
    assert.equal(f.severity, 'info');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /h=sha1/);
  });
});

describe('dkim check: a finding offers the DKIM fix only when its plan does something', () => {
  /** Every finding with fix 'dkim' gets a plan with changes or an action (not an empty, unblocked plan). */
  function assertFixesDoSomething(findings: Finding[], plan: Awaited<ReturnType<typeof planDkim>>) {
    const offered = findings.filter((f) => f.fix === 'dkim');
    if (!offered.length) return;
    assert.ok(plan.changes.length > 0 || (plan.actions?.length ?? 0) > 0, `${rules(offered).join(', ')} offer a fix, but the plan does nothing (blocked: ${plan.blocked ?? 'no'})`);
  }

  test("t=y on the server's own key: dkim.testing offers the fix and the plan republishes the key without t=y", async () => {
    const { findings, plan } = await run(`v=DKIM1; k=rsa; t=y; p=${mine}`, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.testing');
    assert.equal(f?.fix, 'dkim', rules(findings).join(', '));
    assertFixesDoSomething(findings, plan);
  });

  test("the server's own 1024-bit key: dkim.weak-key offers no fix and says how to get a 2048-bit key from the panel", async () => {
    const { findings, plan } = await run(`v=DKIM1; k=rsa; p=${mine1024}`, signsWith(mine1024));
    const f = findings.find((x) => x.rule === 'dkim.weak-key');
    assert.ok(f, rules(findings).join(', '));
    assert.equal(f.severity, 'warn');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /2048/);
    assert.match(f.message, /panel/);
    assertFixesDoSomething(findings, plan);
  });

  test("a previous host's 1024-bit key at the server's selector (signing, mail here): replaced by the fix, so weak-key offers it", async () => {
    const { findings, plan } = await run(`v=DKIM1; k=rsa; p=${key(1024)}`, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.weak-key');
    assert.equal(f?.fix, 'dkim', rules(findings).join(', '));
    assertFixesDoSomething(findings, plan);
  });

  test("a provider's t=y key kept at the server's selector (mail routed elsewhere): no finding offers a fix", async () => {
    const { findings } = await run(`v=DKIM1; k=rsa; t=y; p=${theirs}`, { routing: 'remote', ...signsWith(mine) });
    assert.ok(findings.some((f) => f.rule === 'dkim.testing'), rules(findings).join(', '));
    assert.deepEqual(findings.filter((f) => f.fix), [], rules(findings).join(', '));
  });
});
