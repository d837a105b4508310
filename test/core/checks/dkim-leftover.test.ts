// A previous host's DKIM key at another selector (DreamHost's `dreamhost` after a move away from DreamHost): nothing
// signs with it here, so it is one info finding (dkim.other-selector) — not also a warning that it is weak or in
// testing mode, which concerns no mail of the domain. A weak key of a sender that may be the customer's (unknown, or a
// mail service kept) still gets its warning.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'd.example';
const key = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key(2048);
const weak = key(1024);
const own = `v=DKIM1; k=rsa; p=${mine}`;
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const rules = (fs: Finding[], sel: string) => fs.filter((f) => f.subject === sel).map((f) => `${f.rule}:${f.severity}`).sort();

async function findings(sel: string, value: string): Promise<Finding[]> {
  const other = `${sel}._domainkey.${D}`;
  const map: ZoneMap = { [`default._domainkey.${D}`]: { TXT: [split(own)] }, [other]: { TXT: [split(value)] } };
  const zone: ZoneRecord[] = [
    { name: `default._domainkey.${D}`, ttl: 3600, type: 'TXT', value: own, txt: split(own) },
    { name: other, ttl: 3600, type: 'TXT', value, txt: split(value) },
  ];
  return dkimCheck(checkContext(D, map, { dkim: { selector: 'default', signing: true, publicKey: mine } }, zone));
}

test("a previous host's 1024-bit key at its own selector (dreamhost, t=y too): only dkim.other-selector, info", async () => {
  const fs = await findings('dreamhost', `v=DKIM1; k=rsa; t=y; p=${weak}`);
  const f = fs.find((x) => x.subject === 'dreamhost');
  assert.equal(f?.classification?.class, 'stale', JSON.stringify(f));
  assert.deepEqual(rules(fs, 'dreamhost'), ['dkim.other-selector:info']);
  assert.ok(fs.some((x) => x.rule === 'dkim.ok'), 'the server key is fine');
});

test('a 1024-bit key of a sender that may be the customer\'s (unknown selector; Google, kept): the weak-key warning stays', async () => {
  for (const sel of ['mystery', 'google']) {
    const fs = await findings(sel, `v=DKIM1; k=rsa; p=${weak}`);
    assert.ok(rules(fs, sel).includes('dkim.weak-key:warn'), `${sel}: ${rules(fs, sel).join(', ')}`);
  }
});

test("the server's key and a stray non-DKIM TXT at its selector, signing off: the finding promises what the plan does (publish one record first), not 'turn signing on, no record changes'", async () => {
  const { planDkim } = await import('../../../src/core/plans/dkim.js');
  const name = `default._domainkey.${D}`;
  const stray = 'google-site-verification=abc';
  const map: ZoneMap = { [name]: { TXT: [split(own), [stray]] } };
  const zone: ZoneRecord[] = [
    { name, ttl: 3600, type: 'TXT', value: own, txt: split(own), ref: 'r:0' },
    { name, ttl: 3600, type: 'TXT', value: stray, txt: [stray], ref: 'r:1' },
  ];
  const ctx = checkContext(D, map, { dkim: { selector: 'default', signing: false, publicKey: mine, startSigning: 'switch' } }, zone);
  const plan = await planDkim(ctx, zone);
  assert.ok(plan.changes.length > 0, 'the plan publishes a single record');
  const f = (await dkimCheck(ctx)).find((x) => x.rule === 'dkim.signing-off');
  assert.ok(f, 'signing-off is reported');
  assert.doesNotMatch(f.message, /no record changes/, f.message);
});
