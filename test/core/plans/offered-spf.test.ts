// The SPF fix changes a record only where a finding offers it, and where a finding offers it the plan changes something
// (offered-invariant.test.ts found both broken):
//  - a record the audit passes, spelt with more spaces between its terms, a trailing space, its version tag in
//    capitals (`V=SPF1`) or its redirect= before other terms, was rewritten: RFC 7208 allows each (§4.5: the version is
//    matched without case; §4.6.1: terms are separated by one or more spaces — the openspf suite's `two-spaces` and
//    `trailing-space`; §6.1: redirect= applies wherever it stands) — it is left as written;
//  - a "-" term covering only this server written after a term that passes it (it decides nothing for anyone) was
//    dropped while the audit passed the record — left as written (dropped, with its note, when the record is rewritten
//    for another reason, and still when it comes first and fails this server's mail);
//  - what the fix drops on its own — a repeated term ("+a" after "a" too), a term or a second all term after the all
//    term, an unknown modifier written twice, a/mx: of a name that does not exist — was said as info with no fix
//    offered (or, the second all term, not at all): the term's finding now offers the fix and says the fix drops it;
//  - a previous host's "-include:" before only a repeat of an earlier term, or a name that does not exist, was
//    spf.stale-term offering a move the plan never makes ("Nothing to change"): the term after it matches no server the
//    "-" term could share, so the finding is the info that the fix keeps it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'shop.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const WORLD: ZoneMap = {
  [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
  [`mail.${D}`]: { A: [SERVER_IP] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
  '_spf.google.com': { TXT: [['v=spf1 ip4:35.190.247.0/24 ~all']] },
};
const show = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}${f.fix ? ' (fix)' : ''}: ${f.message}`).join('\n');

/** The check and the plan over one SPF record, published live and in the panel's zone. */
async function run(spf: string, settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = { ...WORLD, [D]: { ...WORLD[D], TXT: [[spf]] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  const ctx = checkContext(D, map, settings, zone);
  const findings = await spfCheck(ctx);
  const plan = await planSpf(ctx, zone, {});
  const after = plan.changes.find((c) => c.after)?.after;
  return { findings, plan, after: after ? (after.txt ?? [after.value]).join('') : null, text: `${show(findings)}\n--\n${plan.blocked ?? ''}\n${plan.notes.join('\n')}` };
}

const offered = (fs: readonly Finding[]) => fs.filter((f) => f.fix === 'spf');

describe('a record the audit passes, spelt otherwise than the fix writes it, is left as written', () => {
  for (const [spf, settings] of [
    [`v=spf1  a  mx  ip4:${SERVER_IP}  -all`, {}],
    [`v=spf1 a mx -all `, {}],
    [`V=SPF1 ip4:${SERVER_IP} -all`, {}],
    ['v=SPF1  include:relay.mailchannels.net  ~all', RELAY],
    [`v=spf1 ip4:203.0.113.0/24 -ip4:${SERVER_IP} ~all`, {}],
    // redirect= before a term: receivers apply it wherever it stands (RFC 7208 §6.1); the fix writes it last.
    [`v=spf1 redirect=_spf.google.com ip4:${SERVER_IP}`, {}],
  ] as const) {
    test(JSON.stringify(spf), async () => {
      const r = await run(spf, settings);
      assert.ok(r.findings.some((f) => f.rule === 'spf.ok'), r.text);
      assert.deepEqual(offered(r.findings), [], r.text);
      assert.deepEqual(r.plan.changes, [], r.text);
      assert.equal(r.plan.blocked, undefined, r.text);
      assert.ok(!r.plan.notes.some((n) => n.startsWith('Drops')), r.text);
    });
  }

  test('rewritten for a reason a finding gives (?all): the spacing and the version tag ride along', async () => {
    const r = await run(`V=SPF1  a  mx  ip4:${SERVER_IP}  ?all`);
    assert.ok(offered(r.findings).some((f) => f.rule === 'spf.weak-all'), r.text);
    assert.equal(r.after, `v=spf1 a mx ip4:${SERVER_IP} ~all`, r.text);
  });

  test('spelt otherwise, with a lookup DNS does not answer: the plan waits for DNS, it does not call the record right', async () => {
    const map: ZoneMap = { ...WORLD, 'slow.example': { TXT: 'SERVFAIL' } };
    const spf = `v=spf1  ip4:${SERVER_IP}  include:slow.example  -all`;
    map[D] = { ...WORLD[D], TXT: [[spf]] };
    const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
    const ctx = checkContext(D, map, {}, zone);
    const findings = await spfCheck(ctx);
    assert.ok(findings.some((f) => f.severity === 'unknown'), show(findings));
    assert.deepEqual(offered(findings), [], show(findings));
    const plan = await planSpf(ctx, zone, {});
    assert.match(plan.blocked ?? '', /^DNS did not answer while planning/, JSON.stringify(plan));
  });

  test('the "-" term covering only this server, first: it fails this server\'s mail, and goes', async () => {
    const r = await run(`v=spf1 -ip4:${SERVER_IP} ip4:203.0.113.0/24 ~all`);
    assert.ok(offered(r.findings).length > 0, r.text);
    assert.equal(r.after, `v=spf1 ip4:203.0.113.0/24 ~all`, r.text);
  });
});

describe('what the fix drops on its own is said, and the finding offers the fix', () => {
  const CASES: { spf: string; subject: string; says: RegExp; after: string; settings?: Partial<MailSettings> }[] = [
    { spf: 'v=spf1 include:relay.mailchannels.net include:relay.mailchannels.net ~all', subject: 'include:relay.mailchannels.net', says: /listed twice: .*The SPF fix keeps one\./, after: 'v=spf1 include:relay.mailchannels.net ~all', settings: RELAY },
    { spf: `v=spf1 +a a ip4:${SERVER_IP} -all`, subject: '+a', says: /listed twice: .*The SPF fix keeps one\./, after: `v=spf1 +a ip4:${SERVER_IP} -all` },
    { spf: `v=spf1 ip4:${SERVER_IP} ~all -all`, subject: '-all', says: /^-all stands after ~all, where receivers never evaluate it: it decides nothing\. The SPF fix drops it\.$/, after: `v=spf1 ip4:${SERVER_IP} ~all` },
    { spf: `v=spf1 ip4:${SERVER_IP} -all a`, subject: 'a', says: /ignored by receivers \(after "all".*The SPF fix drops it\./, after: `v=spf1 ip4:${SERVER_IP} -all` },
    { spf: `v=spf1 moo=bar moo=bar ip4:${SERVER_IP} -all`, subject: 'moo=bar', says: /^moo=bar is written twice: receivers ignore a modifier they do not know \(RFC 7208 §6\)\. The SPF fix keeps one\.$/, after: `v=spf1 moo=bar ip4:${SERVER_IP} -all` },
    { spf: `v=spf1 a:gone.nowhere.example ip4:${SERVER_IP} -all`, subject: 'a:gone.nowhere.example', says: /^a:gone\.nowhere\.example: gone\.nowhere\.example does not exist, so it authorises nobody .*The SPF fix drops it\.$/, after: `v=spf1 ip4:${SERVER_IP} -all` },
  ];
  for (const c of CASES) {
    test(JSON.stringify(c.spf), async () => {
      const r = await run(c.spf, c.settings);
      const f = r.findings.find((x) => x.subject === c.subject);
      assert.ok(f, r.text);
      assert.equal(f.fix, 'spf', r.text);
      assert.match(f.message, c.says);
      // The record still works: the audit passes it (the finding is info).
      assert.equal(f.severity, 'info', r.text);
      assert.ok(r.findings.some((x) => x.rule === 'spf.ok'), r.text);
      assert.equal(r.plan.blocked, undefined, r.text);
      assert.equal(r.after, c.after, r.text);
    });
  }
});

describe('a previous host\'s "-include:" before nothing the fix keeps', () => {
  for (const spf of [`v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com ip4:${SERVER_IP} -all`, `v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com a:gone.nowhere.example -all`]) {
    test(`${JSON.stringify(spf)}: kept where it is (info), not a move the plan never makes`, async () => {
      const r = await run(spf);
      const f = r.findings.find((x) => x.subject === '-include:websitewelcome.com');
      assert.ok(f, r.text);
      assert.equal(f.rule, 'spf.term', r.text);
      assert.equal(f.fix, undefined, r.text);
      assert.match(f.message, /so the SPF fix keeps it/);
      // The plan drops the term after it (offered on that term's finding) and moves nothing.
      assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} -include:websitewelcome.com -all`, r.text);
      assert.ok(!r.plan.notes.some((n) => n.startsWith('Moves')), r.text);
    });
  }
});
