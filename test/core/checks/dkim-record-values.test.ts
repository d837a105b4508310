// The DKIM check on the server's own key published in records dkimpy and Mail::DKIM both refuse (found by
// test/e2e/dkim-second-judge.test.ts; hand-made domains dkim-k-upper, dkim-s-upper, dkim-k-ed-upper, dkim-p-nbsp there):
// k=RSA, k=ED25519, s=EMAIL (values are case-sensitive, RFC 6376 §3.2) and a no-break space inside p= (only FWS folds
// a value) said dkim.ok. Now dkim.malformed (fail) with the fix, whose plan republishes the key; and t=Y, an unknown
// flag verifiers ignore, is no longer read as testing mode (dkim.ok, no dkim.testing).
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
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const edSpki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
const ed = edSpki.subarray(12).toString('base64');
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const txtRecord = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: split(value), ref: `r:${name}` });
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}${f.fix ? ':fix' : ''}`);
const signsWith = (publicKey: string): Partial<MailSettings> => ({ dkim: { selector: 'default', signing: true, publicKey } });

/** The check and the DKIM plan with `value` published at the server's selector (live and in the panel's zone). */
async function run(value: string, settings: Partial<MailSettings>) {
  const map: ZoneMap = { [NAME]: { TXT: [split(value)] } };
  const zone = [txtRecord(NAME, value)];
  const ctx = checkContext(D, map, settings, zone);
  return { findings: await dkimCheck(ctx), plan: await planDkim(ctx, zone) };
}

describe("dkim check: the server's key in a record verifiers refuse is not dkim.ok", () => {
  const cases: [label: string, value: string, key: string, why: RegExp][] = [
    ['k=RSA', `v=DKIM1; k=RSA; p=${rsa}`, rsa, /unknown key type k=RSA.*case-sensitive/],
    ['k=ED25519', `v=DKIM1; k=ED25519; p=${ed}`, edSpki.toString('base64'), /unknown key type k=ED25519.*case-sensitive/],
    ['s=EMAIL', `v=DKIM1; k=rsa; s=EMAIL; p=${rsa}`, rsa, /service type s=EMAIL.*case-sensitive/],
    ['a no-break space inside p=', `v=DKIM1; k=rsa; p=${rsa.slice(0, 60)}\u00a0${rsa.slice(60)}`, rsa, /not valid base64/],
  ];
  for (const [label, value, key, why] of cases) {
    test(`${label}: dkim.malformed (fail, with the fix), and the plan republishes the key`, async () => {
      const { findings, plan } = await run(value, signsWith(key));
      assert.ok(!findings.some((f) => f.rule === 'dkim.ok'), rules(findings).join(', '));
      const f = findings.find((x) => x.rule === 'dkim.malformed' && x.subject === 'default');
      assert.ok(f, rules(findings).join(', '));
      assert.equal(f.severity, 'fail');
      assert.equal(f.fix, 'dkim');
      assert.match(f.message, why);
      assert.ok(plan.changes.length > 0, `the plan changes nothing (blocked: ${plan.blocked ?? 'no'})`);
    });
  }

  test('t=Y is an unknown flag, ignored by verifiers: dkim.ok and no dkim.testing (t=y still gets it)', async () => {
    const upper = await run(`v=DKIM1; k=rsa; t=Y; p=${rsa}`, signsWith(rsa));
    assert.deepEqual(rules(upper.findings), ['dkim.ok:pass']);
    const lower = await run(`v=DKIM1; k=rsa; t=y; p=${rsa}`, signsWith(rsa));
    assert.ok(lower.findings.some((f) => f.rule === 'dkim.testing'), rules(lower.findings).join(', '));
  });

  test('the same records in lower case are the key as it should be: dkim.ok, nothing to change', async () => {
    for (const [value, key] of [
      [`v=DKIM1; k=rsa; s=email; p=${rsa}`, rsa],
      [`v=DKIM1; k=ed25519; p=${ed}`, edSpki.toString('base64')],
    ]) {
      const { findings, plan } = await run(value, signsWith(key));
      assert.deepEqual(rules(findings), ['dkim.ok:pass'], value.slice(0, 30));
      assert.equal(plan.changes.length, 0, value.slice(0, 30));
    }
  });
});
