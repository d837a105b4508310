// DKIM check defects from the mail-authentication QA pass:
//  2. a domain that declares it sends no mail (null MX + "v=spf1 -all") failed dkim.missing, and the DKIM fix
//     published a key for it. Now dkim.no-mail (pass), and the fix is blocked, saying what to do first;
//  3. the panel's zone holding the DKIM record as one string over 255 bytes (BIND refuses such a zone; live DNS cannot
//     show it) was not flagged. Now dkim.string-too-long, with the fix where it rewrites the record (split strings);
//  4b. with two records at the server's selector, one of them the server's key, dkim.key-mismatch said "the key
//     published … is not the key this server signs with" — now that another key is published beside it.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import { splitTxt } from '../../../src/core/spf/parse.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'park.example';
const NAME = `default._domainkey.${D}`;
const key = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const own = `v=DKIM1; k=rsa; p=${mine}`;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const signsWith = (publicKey: string, signing = true): Partial<MailSettings> => ({ dkim: { selector: 'default', signing, publicKey } });
const NULL_MX = [{ priority: 0, exchange: '.' }];
/** This server's nameservers (checkContext's settings) answer for the domain: the panel's zone is the live one. */
const OURS = ['ns1.newhost.example', 'ns2.newhost.example'];

interface World {
  spf?: string;
  mx?: ZoneMap[string]['MX'];
  /** The records at the server's selector, each as its strings (live: as DNS carries them, at most 255 bytes each). */
  at?: string[][];
  /** The same in the panel's zone, when it differs (a string over 255 bytes). */
  panelAt?: string[][];
  ns?: string[];
  extra?: ZoneRecord[];
  /** Other names' live answers. */
  live?: ZoneMap;
}

async function run(w: World, settings: Partial<MailSettings>) {
  const map: ZoneMap = {
    [D]: { TXT: [[w.spf ?? 'v=spf1 a mx ~all']], MX: w.mx ?? [{ priority: 10, exchange: `mail.${D}` }], ...(w.ns ? { NS: w.ns } : {}) },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
    ...w.live,
  };
  if (w.at?.length) map[NAME] = { TXT: w.at.map((s) => s.flatMap((x) => splitTxt(x))) };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: w.spf ?? 'v=spf1 a mx ~all', txt: [w.spf ?? 'v=spf1 a mx ~all'] }, ...(w.extra ?? [])];
  for (const [i, s] of (w.panelAt ?? w.at ?? []).entries()) zone.push({ name: NAME, ttl: 3600, type: 'TXT', value: s.join(''), txt: s, ref: `k${i}` });
  const ctx = checkContext(D, map, settings, zone);
  return { findings: await dkimCheck(ctx), plan: await planDkim(ctx, zone) };
}

describe('dkim: a domain that declares it sends no mail', () => {
  const parked: World = { spf: 'v=spf1 -all', mx: NULL_MX };

  test('no key at the selector → dkim.no-mail (pass), no dkim.missing, no fix; the DKIM fix is blocked', async () => {
    const { findings, plan } = await run(parked, signsWith(mine));
    assert.ok(!findings.some((f) => f.rule === 'dkim.missing'), show(findings));
    const f = findings.find((x) => x.rule === 'dkim.no-mail');
    assert.ok(f, show(findings));
    assert.equal(f.severity, 'pass');
    assert.equal(f.subject, 'default');
    assert.ok(!findings.some((x) => x.fix), show(findings));
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions ?? [], []);
    assert.match(plan.blocked ?? '', /declares it sends and receives no mail.*publishes no key.*replace the null MX/s);
  });

  test('no key on the server either (signing off): no key is generated, no dkim.signing-off', async () => {
    const { findings, plan } = await run(parked, { dkim: { selector: 'default', signing: false } });
    assert.ok(findings.some((x) => x.rule === 'dkim.no-mail'), show(findings));
    assert.ok(!findings.some((x) => x.rule === 'dkim.signing-off' || x.rule === 'dkim.missing'), show(findings));
    assert.deepEqual(plan.actions ?? [], []);
    assert.ok(plan.blocked);
  });

  test("a previous host's key left at the selector: still reported, but the fix is not offered (said why)", async () => {
    const { findings, plan } = await run({ ...parked, at: [[`v=DKIM1; k=rsa; p=${theirs}`]] }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.key-mismatch');
    assert.ok(f, show(findings));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /The DKIM fix is not offered: park\.example declares it sends no mail/);
    assert.deepEqual(plan.changes, []);
    assert.ok(plan.blocked);
  });

  test('a null MX beside an SPF record that authorises a server is not the declaration: dkim.missing and the fix, as today', async () => {
    const { findings, plan } = await run({ spf: 'v=spf1 a -all', mx: NULL_MX }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.missing');
    assert.equal(f?.fix, 'dkim', show(findings));
    assert.ok(!findings.some((x) => x.rule === 'dkim.no-mail'), show(findings));
    assert.equal(plan.blocked, undefined);
    assert.equal(plan.changes.length, 1);
  });

  test('the MX lookup gets no answer: dkim.missing offers no fix, and the plan waits for DNS', async () => {
    const { findings, plan } = await run({ spf: 'v=spf1 -all', mx: 'TIMEOUT' as never }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.missing');
    assert.ok(f, show(findings));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /waits until DNS answers/);
    assert.match(plan.blocked ?? '', /waits until DNS answers/);
  });
});

describe('dkim.string-too-long: the panel stores a DKIM record as one string over 255 bytes', () => {
  test("the server's key in one 410-byte string, the panel's DNS live → fail with the fix; the fix writes strings of ≤255 bytes", async () => {
    const { findings, plan } = await run({ at: [[own]], panelAt: [[own]], ns: OURS }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.severity, 'fail');
    assert.equal(f.subject, 'default');
    assert.equal(f.fix, 'dkim');
    assert.match(f.message, /one string of \d+ bytes/);
    assert.equal(plan.blocked, undefined);
    const after = plan.changes.map((c) => c.after).filter((a) => a !== null && a !== undefined);
    assert.equal(after.length, 1, JSON.stringify(plan.changes));
    assert.equal(after[0]!.txt!.join(''), own);
    assert.ok(after[0]!.txt!.length > 1 && after[0]!.txt!.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(after[0]!.txt));
  });

  test('split as DNS carries it: no finding', async () => {
    const { findings } = await run({ at: [[own]], panelAt: [splitTxt(own)], ns: OURS }, signsWith(mine));
    assert.ok(!findings.some((x) => x.rule === 'dkim.string-too-long'), show(findings));
  });

  test("the panel's DNS is not the live one: flagged, but a hand edit (the fix publishes elsewhere)", async () => {
    const { findings } = await run({ at: [[own]], panelAt: [[own]], ns: ['ns1.otherhost.example'] }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.string-too-long');
    assert.ok(f, show(findings));
    assert.equal(f.fix, undefined);
    assert.match(f.message, /panel's DNS editor/);
  });

  test('at another selector: flagged there, a hand edit', async () => {
    const other = `google._domainkey.${D}`;
    const long = `v=DKIM1; k=rsa; p=${theirs}`;
    const { findings } = await run(
      { at: [splitTxt(own)], ns: OURS, extra: [{ name: other, ttl: 3600, type: 'TXT', value: long, txt: [long] }], live: { [other]: { TXT: [splitTxt(long)] } } },
      signsWith(mine),
    );
    const f = findings.filter((x) => x.rule === 'dkim.string-too-long');
    assert.deepEqual(f.map((x) => x.subject), ['google'], show(findings));
    assert.equal(f[0].fix, undefined);
  });
});

describe('dkim.key-mismatch wording with the server’s key beside another', () => {
  test('says another key is published beside it, not that the published key is not the server’s', async () => {
    const { findings } = await run({ at: [[own], [`v=DKIM1; k=rsa; p=${theirs}`]] }, signsWith(mine));
    const f = findings.find((x) => x.rule === 'dkim.key-mismatch');
    assert.ok(f, show(findings));
    assert.doesNotMatch(f.message, /is not the key this server signs with/);
    assert.match(f.message, /Beside the key this server signs with, default\._domainkey\.park\.example publishes another key/);
    assert.match(f.message, /whenever they read this one/);
    assert.ok(findings.some((x) => x.rule === 'dkim.ok'), show(findings));
  });

  test('alone, the other key is still "not the key this server signs with"', async () => {
    const { findings } = await run({ at: [[`v=DKIM1; k=rsa; p=${theirs}`]] }, signsWith(mine));
    assert.match(findings.find((x) => x.rule === 'dkim.key-mismatch')?.message ?? '', /The key published at .* is not the key this server signs with/);
  });
});
