// Review R1: DKIM findings that said something untrue.
// 1. A key at the server's own selector while the server gives no key to compare with was dkim.other-selector ("this
//    server has no DKIM key") — also when the panel signs with a key mailhealth cannot read (Plesk without the key
//    file), and when the fix replaces that key with one the panel generates (no finding said so).
// 2. With a working copy of the server's key at its selector, a record beside it was said to fail "every message this
//    server signs" (verifiers read one record: only whenever they read that one), and the advice was to replace a
//    leftover with the server's key, which is already there.
// 4. dkim.missing said signed mail fails today while signing is off.
// 5. "signs with selector selector1, selector2".
// 6. A previous host's key with t=y: "worse than no key", and dkim.testing about a key nothing signs with and the fix
//    replaces.
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
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const other = key();
const ms = key();
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const rec = (p: string, extra = '') => `v=DKIM1; k=rsa;${extra} p=${p}`;
const txtRecord = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: split(value) });
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} (${f.subject}): ${f.message}`).join('\n');

/** The audit and the plan over one world: live DNS `map`, the panel's zone holding `values` at `name`. */
async function world(map: ZoneMap, settings: Partial<MailSettings>, values: string[], name = NAME) {
  const zone = values.map((v) => txtRecord(name, v));
  const fs = await dkimCheck(checkContext(D, map, settings, zone));
  const plan = await planDkim(checkContext(D, map, settings, zone), zone);
  return { fs, plan };
}
const at = (name: string, values: string[]): ZoneMap => ({ [name]: { TXT: values.map(split) } });

describe('item 1: a key at the server\'s own selector while the server gives no key to compare with', () => {
  test('the panel signs with a key mailhealth cannot read: dkim.key-mismatch unknown, saying so and what to do; not dkim.other-selector', async () => {
    const { fs, plan } = await world(at(NAME, [rec(theirs)]), { dkim: { selector: 'default', signing: true } }, [rec(theirs)]);
    assert.equal(fs.filter((f) => f.rule === 'dkim.other-selector').length, 0, show(fs));
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch' && x.subject === 'default');
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'unknown');
    assert.equal(f.fix, undefined);
    assert.match(f.message, /this server signs d\.example's mail with a key mailhealth cannot read here, so whether it is this one is not known: compare it with the DKIM record the panel shows/);
    assert.doesNotMatch(f.message, /has no DKIM key/);
    assert.match(f.classification?.reason ?? '', /cannot read here/);
    // The plan is blocked with the same advice.
    assert.match(plan.blocked ?? '', /a key mailhealth cannot read here: publish the DKIM record the panel shows/);
  });

  test('as Plesk hands it (signing, no key file, two keys at the selector): dkim.multiple and one dkim.key-mismatch unknown', async () => {
    const { fs } = await world(at(NAME, [rec(theirs), rec(other)]), { dkim: { selector: 'default', signing: true } }, [rec(theirs), rec(other)]);
    assert.deepEqual(
      fs.map((f) => `${f.rule} ${f.severity}`),
      ['dkim.multiple fail', 'dkim.key-mismatch unknown'],
      show(fs),
    );
  });

  test("a sending service's selector while the panel signs with a key mailhealth cannot read: not \"this server has no DKIM key\"", async () => {
    const M = `mail._domainkey.${D}`;
    const map: ZoneMap = { [D]: { TXT: [['v=spf1 include:spf.brevo.com ~all']] }, ...at(M, [rec(theirs)]) };
    const { fs } = await world(map, { dkim: { selector: 'mail', signing: true } }, [rec(theirs)], M);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.doesNotMatch(f.message, /has no DKIM key/);
    assert.match(f.message, /^The key published at mail\._domainkey\.d\.example may not be the one this server signs with \(it signs d\.example's mail with a key mailhealth cannot read here/);
  });

  test('no key and signing off: dkim.key-mismatch info says the fix replaces the key with the one the panel generates, as the plan does', async () => {
    const { fs, plan } = await world(at(NAME, [rec(theirs)]), { dkim: { selector: 'default', signing: false } }, [rec(theirs)]);
    assert.equal(fs.filter((f) => f.rule === 'dkim.other-selector').length, 0, show(fs));
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'info');
    assert.equal(f.fix, 'dkim');
    assert.match(f.message, /is not one this server signs with: it has no DKIM key for d\.example and does not sign its mail/);
    assert.match(f.message, /The DKIM fix has the panel generate a 2048-bit key for d\.example and turn signing on, and publishes that key in its place\./);
    assert.deepEqual(plan.actions?.map((a) => a.kind), ['generate-dkim']);
    assert.deepEqual(plan.changes.map((c) => c.action), ['edit']);
  });

  test('no key, signing off, a key in testing mode the fix replaces: no dkim.testing about it', async () => {
    const { fs } = await world(at(NAME, [rec(theirs, ' t=y;')]), { dkim: { selector: 'default', signing: false } }, [rec(theirs, ' t=y;')]);
    assert.equal(fs.filter((f) => f.rule === 'dkim.testing').length, 0, show(fs));
    assert.ok(fs.some((f) => f.rule === 'dkim.key-mismatch' && f.fix === 'dkim'), show(fs));
  });

  test('no key, signing off, mail routed elsewhere: the key is left alone, and the finding says so (no fix)', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] }, ...at(NAME, [rec(theirs)]) };
    const { fs, plan } = await world(map, { routing: 'remote', dkim: { selector: 'default', signing: false } }, [rec(theirs)]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /the DKIM fix leaves it alone/);
    assert.ok(plan.blocked, 'the plan is blocked');
  });
});

describe("item 2: another record beside a working copy of the server's key", () => {
  test("a sending service's key beside it (Brevo's selector): fails whenever verifiers read that record, not every message", async () => {
    const M = `mail._domainkey.${D}`;
    const map: ZoneMap = { [D]: { TXT: [['v=spf1 include:spf.brevo.com ~all']] }, ...at(M, [rec(mine), rec(theirs)]) };
    const { fs, plan } = await world(map, { dkim: { selector: 'mail', signing: true, publicKey: mine } }, [rec(mine), rec(theirs)], M);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    for (const text of [f.message, plan.blocked ?? '']) {
      assert.doesNotMatch(text, /every message this server signs/);
      assert.match(text, /a message this server signs with selector mail fails DKIM whenever verifiers read that record rather than this server's key beside it/);
    }
  });

  test('the same key with h=sha1 beside it: fails whenever verifiers read that record; the advice is to remove it, as the plan does', async () => {
    const { fs, plan } = await world(at(NAME, [rec(mine), rec(mine, ' h=sha1;')]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine), rec(mine, ' h=sha1;')]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'fail');
    assert.doesNotMatch(f.message, /every message/);
    assert.match(f.message, /fails DKIM whenever verifiers read this record rather than the key published beside it without h=\. Remove this record\./);
    assert.deepEqual(plan.changes.map((c) => c.action), ['remove']);
  });

  test('the h=sha1 record alone still fails every message, and the advice is still to publish the key without h=', async () => {
    const { fs } = await world(at(NAME, [rec(mine, ' h=sha1;')]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine, ' h=sha1;')]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.match(f.message, /every message this server signs fails DKIM\. Publish the key without h=\./);
  });

  test('a previous host\'s key beside only an h=sha1 copy (no record that verifies): every message fails', async () => {
    const { fs } = await world(at(NAME, [rec(mine, ' h=sha1;'), rec(theirs)]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine, ' h=sha1;'), rec(theirs)]);
    const stale = fs.find((x) => x.rule === 'dkim.key-mismatch' && /previous host's/.test(x.message))!;
    assert.ok(stale, show(fs));
    assert.match(stale.message, /Every message this server signs fails DKIM/);
    assert.doesNotMatch(stale.message, /whenever they read this one/);
  });

  test('the same key with t=y beside it: dkim.testing says "whenever they read this record"', async () => {
    const { fs } = await world(at(NAME, [rec(mine), rec(mine, ' t=y;')]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine), rec(mine, ' t=y;')]);
    const f = fs.find((x) => x.rule === 'dkim.testing')!;
    assert.ok(f, show(fs));
    assert.match(f.message, /receivers treat signed mail as unsigned whenever they read this record\.$/);
    // Alone, as before.
    const alone = (await world(at(NAME, [rec(mine, ' t=y;')]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine, ' t=y;')])).fs;
    assert.match(alone.find((x) => x.rule === 'dkim.testing')!.message, /receivers treat signed mail as unsigned\.$/);
  });

  test("mail routed elsewhere, another key beside the server's: whenever verifiers read it; a leftover is removed, not replaced", async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] }, ...at(NAME, [rec(mine), rec(theirs)]) };
    const { fs, plan } = await world(map, { routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(mine), rec(theirs)]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'warn');
    assert.match(f.message, /fails DKIM whenever verifiers read that record\./);
    for (const text of [f.message, plan.blocked ?? '']) {
      assert.doesNotMatch(text, /replace it with this server's key/);
      assert.match(text, /the key is a leftover: remove it by hand, since this server's key is already published there/);
    }
  });

  test("signing off, another key beside the server's: the info says so, and the advice is to remove a leftover", async () => {
    const { fs, plan } = await world(at(NAME, [rec(mine), rec(theirs)]), { dkim: { selector: 'default', signing: false, publicKey: mine } }, [rec(mine), rec(theirs)]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.ok(f, show(fs));
    assert.equal(f.severity, 'info');
    assert.match(f.message, /^Beside the key this server signs with, default\._domainkey\.d\.example publishes another key, but this server does not sign/);
    const off = fs.find((x) => x.rule === 'dkim.signing-off')!;
    for (const text of [off.message, plan.blocked ?? '']) {
      assert.doesNotMatch(text, /replace it with this server's key/);
      assert.match(text, /if the key is a leftover, remove it by hand, since this server's key is already published there, then turn DKIM signing on/);
    }
  });

  test('a revoked record beside the server\'s key: the finding says the fix leaves one record (the plan removes it), not that it replaces it', async () => {
    const { fs, plan } = await world(at(NAME, ['v=DKIM1; k=rsa; p=', rec(mine)]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, ['v=DKIM1; k=rsa; p=', rec(mine)]);
    const f = fs.find((x) => x.rule === 'dkim.revoked')!;
    assert.match(f.message, /The DKIM fix leaves one record there: the key this server signs with\.$/);
    assert.deepEqual(plan.changes.map((c) => c.action), ['remove']);
  });
});

describe('item 4: dkim.missing while signing is off', () => {
  test('nothing is signed today: warn, "once signing is on"; with signing on it stays fail', async () => {
    const off = await dkimCheck(checkContext(D, {}, { dkim: { selector: 'default', signing: false, publicKey: mine } }));
    const m = off.find((f) => f.rule === 'dkim.missing')!;
    assert.equal(m.severity, 'warn');
    assert.equal(m.message, `No DKIM key is published at ${NAME}: once signing is on, mail this server signs for ${D} fails DKIM.`);
    const on = await dkimCheck(checkContext(D, {}, { dkim: { selector: 'default', signing: true, publicKey: mine } }));
    const n = on.find((f) => f.rule === 'dkim.missing')!;
    assert.equal(n.severity, 'fail');
    assert.equal(n.message, `No DKIM key is published at ${NAME}: mail this server signs for ${D} fails DKIM.`);
  });
});

describe('item 5: a provider with several selectors is said in the plural', () => {
  test('Microsoft 365: "signs with selectors selector1, selector2"; the plan note says "most likely"', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 0, exchange: 'd-example.mail.protection.outlook.com' }] }, ...at(NAME, [rec(theirs)]), ...at(`selector1._domainkey.${D}`, [rec(ms)]) };
    const { fs, plan } = await world(map, { routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(theirs)]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.match(f.message, /Microsoft 365, which signs with selectors selector1, selector2, not default\)/);
    const note = plan.notes.find((n) => /delivered to Microsoft 365/.test(n))!;
    assert.match(note, /which signs with selectors selector1, selector2, not default, .*: it is most likely a previous host's leftover\.$/);
  });

  test('Google Workspace (one selector): "signs with selector google"', async () => {
    const map: ZoneMap = { [D]: { MX: [{ priority: 1, exchange: 'aspmx.l.google.com' }] }, ...at(NAME, [rec(theirs)]), ...at(`google._domainkey.${D}`, [rec(ms)]) };
    const { fs } = await world(map, { routing: 'remote', dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(theirs)]);
    assert.match(fs.find((x) => x.rule === 'dkim.key-mismatch')!.message, /which signs with selector google, not default\)/);
  });
});

describe("item 6: a previous host's key in testing mode at the server's selector", () => {
  test('no "worse than no key" (t=y: receivers treat the mail as unsigned), and no dkim.testing about a key the fix replaces', async () => {
    const { fs, plan } = await world(at(NAME, [rec(theirs, ' t=y;')]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(theirs, ' t=y;')]);
    const f = fs.find((x) => x.rule === 'dkim.key-mismatch')!;
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'dkim');
    assert.doesNotMatch(f.message, /worse than no key/);
    assert.match(f.message, /t=y, so receivers treat that mail as unsigned rather than failed/);
    assert.equal(fs.filter((x) => x.rule === 'dkim.testing').length, 0, show(fs));
    assert.deepEqual(plan.changes.map((c) => c.action), ['edit']);
  });

  test('without t=y the key is still worse than no key', async () => {
    const { fs } = await world(at(NAME, [rec(theirs)]), { dkim: { selector: 'default', signing: true, publicKey: mine } }, [rec(theirs)]);
    assert.match(fs.find((x) => x.rule === 'dkim.key-mismatch')!.message, /Every message this server signs fails DKIM \(worse than no key\)\./);
  });
});
