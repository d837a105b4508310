// QA, checked against two independent verifiers (mailauth, dkimpy): what the DKIM check says of the records at a
// selector must match what verifiers do with them.
// - A non-DKIM TXT ("some-verification=abc123") before the server's key at its selector: verifiers read the first
//   record and fail; the check said dkim.ok (it dropped the stray record before counting). Now dkim.multiple (fail,
//   with the fix, which publishes the key as the one record).
// - The server's key published twice (split differently): both verifiers pass; the check said dkim.multiple fail
//   ("a stale second key breaks real mail"). Now a warning that says so (the fix keeps one).
// - "v=DKIM1; k=rsa; P=<key>": tag names are case-sensitive (RFC 6376 §3.2), so there is no p= — verifiers find no
//   key; the check said dkim.ok. Now dkim.malformed with the fix (republished); "K=rsa" is an unknown tag, ignored, and
//   k defaults to rsa — still ok.
// - A malformed record at a previous host's selector (dreamhost): fail, while a valid one there is info. Now info too.
// - Plan notes say what a replaced record is (a verification token, a revoked key), not "the previous host's key".
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'rec.example';
const NAME = `default._domainkey.${D}`;
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const other = key();
const own = `v=DKIM1; k=rsa; p=${mine}`;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject}]: ${f.message}`).join('\n');

/** The check and the plan with `values` at the server's selector (each a TXT, as strings), plus other names. */
async function run(values: string[][], extra: Record<string, string[]> = {}) {
  const map: ZoneMap = { [D]: { TXT: [['v=spf1 a mx ~all']] }, [NAME]: { TXT: values } };
  const zone: ZoneRecord[] = values.map((v) => ({ name: NAME, ttl: 3600, type: 'TXT', value: v.join(''), txt: v }));
  for (const [name, v] of Object.entries(extra)) {
    map[name] = { TXT: [v] };
    zone.push({ name, ttl: 3600, type: 'TXT', value: v.join(''), txt: v });
  }
  const ctx = checkContext(D, map, { dkim: { selector: 'default', signing: true, publicKey: mine } }, zone);
  return { findings: await dkimCheck(ctx), plan: await planDkim(ctx, zone) };
}

describe('DKIM records at the server’s selector, as verifiers read them', () => {
  test('a verification token before the server’s key: dkim.multiple fails and offers the fix; no dkim.ok', async () => {
    const { findings, plan } = await run([['some-verification=abc123'], [own.slice(0, 200), own.slice(200)]]);
    const m = findings.find((f) => f.rule === 'dkim.multiple');
    assert.equal(m?.severity, 'fail', show(findings));
    assert.equal(m.fix, 'dkim', show(findings));
    assert.match(m.message, /some-verification=abc123/);
    assert.match(m.message, /not a DKIM key/);
    // The plan publishes the key as the one record, and says what the token is.
    assert.equal(plan.blocked, undefined);
    assert.ok(plan.changes.some((c) => c.before?.value === 'some-verification=abc123' && !c.after), JSON.stringify(plan.changes));
    const note = plan.notes.find((n) => n.includes('some-verification'));
    assert.ok(note, plan.notes.join('\n'));
    assert.match(note, /not a DKIM key/);
    assert.doesNotMatch(note, /previous host's/);
  });

  test('the server’s key twice, split differently: a warning (verifiers pass either way), the fix keeps one', async () => {
    // (Each string at most 255 bytes, as DNS carries them: a longer one in the panel's zone is dkim.string-too-long.)
    const { findings, plan } = await run([[own.slice(0, 200), own.slice(200)], [own.slice(0, 100), own.slice(100, 300), own.slice(300)]]);
    const m = findings.find((f) => f.rule === 'dkim.multiple');
    assert.equal(m?.severity, 'warn', show(findings));
    assert.doesNotMatch(m.message, /stale/);
    assert.match(m.message, /same key/);
    assert.match(m.message, /the DKIM fix keeps one/);
    assert.equal(m.fix, 'dkim');
    assert.ok(!findings.some((f) => f.severity === 'fail'), show(findings));
    // One record left: 2 − removed + added.
    const left = 2 - plan.changes.filter((c) => c.action === 'remove').length + plan.changes.filter((c) => c.action === 'add').length;
    assert.equal(left, 1, JSON.stringify(plan.changes));
  });

  test('the server’s key and another key: still a failure', async () => {
    const { findings } = await run([[own.slice(0, 200), own.slice(200)], [`v=DKIM1; k=rsa; p=${other}`]]);
    assert.equal(findings.find((f) => f.rule === 'dkim.multiple')?.severity, 'fail', show(findings));
  });

  test('the server’s key twice, one copy in testing mode (t=y): a failure (a verifier may read that one)', async () => {
    const { findings } = await run([[own.slice(0, 200), own.slice(200)], [`v=DKIM1; k=rsa; t=y; p=${mine}`]]);
    assert.equal(findings.find((f) => f.rule === 'dkim.multiple')?.severity, 'fail', show(findings));
  });

  test('a revoked record replaced: the note says so, not "the previous host\'s"', async () => {
    const { plan } = await run([['v=DKIM1; k=rsa; p=']]);
    assert.ok(plan.notes.some((n) => /revoked/.test(n)), plan.notes.join('\n'));
    assert.ok(!plan.notes.some((n) => /previous host's/.test(n)), plan.notes.join('\n'));
  });
});

describe('DKIM tag names are case-sensitive (RFC 6376 §3.2)', () => {
  test('"P=" is no p=: the record has no key (malformed)', () => {
    const rec = parseDkimRecord(`v=DKIM1; k=rsa; P=${mine}`);
    assert.equal(rec.publicKey, null);
    assert.ok(rec.errors.some((e) => /missing p=/.test(e) && /case-sensitive/.test(e)), rec.errors.join('; '));
    assert.equal(rec.tags.P, mine);
  });

  test('"K=rsa" is an unknown tag, ignored: k defaults to rsa and the record is valid', () => {
    const rec = parseDkimRecord(`v=DKIM1; K=rsa; p=${mine}`);
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.keyType, 'rsa');
    assert.equal(rec.publicKey, mine);
  });

  test('"p=" beside "P=" is not a duplicate tag', () => {
    const rec = parseDkimRecord(`v=DKIM1; P=abc; p=${mine}`);
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.publicKey, mine);
  });

  test('the server’s key under "P=": dkim.malformed with the fix (no dkim.ok), and the plan republishes it', async () => {
    const bad = `v=DKIM1; k=rsa; P=${mine}`;
    const { findings, plan } = await run([[bad.slice(0, 200), bad.slice(200)]]);
    assert.ok(!findings.some((f) => f.rule === 'dkim.ok'), show(findings));
    const m = findings.find((f) => f.rule === 'dkim.malformed');
    assert.equal(m?.severity, 'fail', show(findings));
    assert.equal(m.fix, 'dkim');
    const after = plan.changes.find((c) => c.after)?.after;
    assert.ok(after, JSON.stringify(plan));
    assert.equal(parseDkimRecord(after.txt ?? [after.value]).publicKey, mine);
    assert.ok(plan.notes.some((n) => /malformed/.test(n)), plan.notes.join('\n'));
  });

  test('the server’s key with "K=rsa": dkim.ok, nothing to change', async () => {
    const k = `v=DKIM1; K=rsa; p=${mine}`;
    const { findings } = await run([[k.slice(0, 200), k.slice(200)]]);
    assert.ok(findings.some((f) => f.rule === 'dkim.ok'), show(findings));
  });
});

describe('DKIM records at other selectors', () => {
  test("a malformed record at a previous host's selector (dreamhost): info, as a valid one there is — the domain does not fail", async () => {
    const { findings } = await run([[own.slice(0, 200), own.slice(200)]], { [`dreamhost._domainkey.${D}`]: ['v=DKIM1; k=rsa; p=MIGf!!'] });
    const f = findings.find((x) => x.subject === 'dreamhost');
    assert.equal(f?.rule, 'dkim.malformed', show(findings));
    assert.equal(f.severity, 'info', show(findings));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /DreamHost/);
    assert.match(f.message, /nothing signs with it here/);
    assert.ok(!findings.some((x) => x.severity === 'fail' || x.severity === 'warn'), show(findings));
  });

  test('a malformed record at an unknown selector (a sender that may be the customer’s): still a failure', async () => {
    const { findings } = await run([[own.slice(0, 200), own.slice(200)]], { [`mystery._domainkey.${D}`]: ['v=DKIM1; k=rsa; p=MIGf!!'] });
    assert.equal(findings.find((x) => x.subject === 'mystery')?.severity, 'fail', show(findings));
  });

  test("the server's own key at Brevo's selector (mail): labelled this server's key at the wrong selector, not Brevo's", async () => {
    const map: ZoneMap = { [`mail._domainkey.${D}`]: { TXT: [[own.slice(0, 200), own.slice(200)]] } };
    const zone: ZoneRecord[] = [{ name: `mail._domainkey.${D}`, ttl: 3600, type: 'TXT', value: own, txt: [own.slice(0, 200), own.slice(200)] }];
    const findings = await dkimCheck(checkContext(D, map, { dkim: { selector: 'default', signing: true, publicKey: mine } }, zone));
    const f = findings.find((x) => x.subject === 'mail');
    assert.equal(f?.rule, 'dkim.other-selector', show(findings));
    assert.doesNotMatch(f.message, /Brevo/);
    assert.match(f.message, /the key this server signs with, but this server signs with selector default/);
    assert.equal(f.classification?.class, 'this-server');
  });
});

describe('review: copies of a key that is not this server’s', () => {
  test('a previous host’s key twice: dkim.multiple fail (not "verify either way"), the fix replaces them', async () => {
    const theirs = `v=DKIM1; k=rsa; p=${other}`;
    const { findings, plan } = await run([[theirs], [theirs.slice(0, 200), theirs.slice(200)]]);
    const m = findings.find((f) => f.rule === 'dkim.multiple');
    assert.equal(m?.severity, 'fail', show(findings));
    assert.doesNotMatch(m.message, /verify either way/);
    assert.match(m.message, /copies of one key that is not the one this server signs with/);
    assert.ok(plan.changes.some((c) => c.after?.value.includes(mine)), JSON.stringify(plan.changes));
  });
  test('spfProviders: a ~include: or -include: of a service is not the domain using it', async () => {
    const { spfProviders } = await import('../../../src/core/plans/dkim.js');
    const { defaultKnowledge } = await import('../../../src/knowledge/index.js');
    const k = defaultKnowledge;
    assert.deepEqual(spfProviders(k, 'v=spf1 ~include:spf.brevo.com -include:sendgrid.net -all').map((x) => x.include), []);
    assert.deepEqual(spfProviders(k, 'v=spf1 +include:spf.brevo.com include:sendgrid.net -all').map((x) => x.include), ['spf.brevo.com', 'sendgrid.net']);
  });
});
