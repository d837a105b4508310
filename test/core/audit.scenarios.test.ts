// Scenario tests of the audit through a files panel in a temp dir and the loopback DNS server: every public rule
// that can be triggered, DNS timeouts, IDN, split TXT, long records and hostile bytes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { normalizeDomain } from '../../src/core/domain.js';
import type { DomainAudit } from '../../src/core/model.js';
import { formatAudit } from '../../src/cli/format.js';
import { dkimRdata, findings, MAILCHANNELS, otherRsaKey, rsaKey, rules, scenario, zoneText, type Scenario } from '../helpers/scenario.js';

function has(a: DomainAudit, rule: string, severity?: string, subject?: string) {
  const fs = findings(a, rule, subject);
  assert.ok(fs.length > 0, `${a.domain}: expected ${rule}${subject ? ` [${subject}]` : ''}; got ${JSON.stringify(rules(a), null, 1)}`);
  if (severity) assert.ok(fs.some((f) => f.severity === severity), `${a.domain}: ${rule} should be ${severity}, got ${fs.map((f) => f.severity)}`);
  return fs[0];
}
function hasNot(a: DomainAudit, rule: string) {
  assert.equal(findings(a, rule).length, 0, `${a.domain}: unexpected ${rule}: ${JSON.stringify(rules(a), null, 1)}`);
}

describe('spf rules', () => {
  let s: Scenario;
  const L = Array.from({ length: 9 }, (_, i) => `include:l${i + 1}.lookups.test`).join(' ');
  before(async () => {
    s = await scenario({
      domains: {
        'clean.test': {},
        'missing.test': { zone: zoneText({ spf: null }) },
        'multiple.test': { zone: zoneText({ extra: ['@\tIN\tTXT\t"v=spf1 include:_spf.google.com ~all"'] }) },
        'syntax.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 foo:bar -all"' }) },
        'lookups.test': { zone: zoneText({ spf: `"v=spf1 ip4:203.0.113.10 include:big.lookups.test " "${L} -all"` }) },
        'voids.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 a:v1.voids.test a:v2.voids.test a:v3.voids.test -all"' }) },
        'plusall.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 +all"' }) },
        'neutral.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 ?all"' }) },
        'noall.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10"' }) },
        'ptr.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 ptr -all"' }) },
        'notauth.test': { zone: zoneText({ spf: '"v=spf1 ip4:198.51.100.1 -all"' }) },
        'split.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 inc" "lude:_spf.google.com -all"' }) },
      },
      world: [
        'big.lookups.test. TXT "v=spf1 include:n1.lookups.test include:n2.lookups.test include:n3.lookups.test include:n4.lookups.test include:n5.lookups.test -all"',
        ...Array.from({ length: 9 }, (_, i) => `l${i + 1}.lookups.test. TXT "v=spf1 -all"`),
        ...Array.from({ length: 5 }, (_, i) => `n${i + 1}.lookups.test. TXT "v=spf1 -all"`),
      ].join('\n') + '\n',
    });
  });
  after(() => s.cleanup());

  test('a clean domain passes every check', async () => {
    const a = await s.audit('clean.test');
    assert.equal(a.status, 'pass', JSON.stringify(rules(a)));
    for (const r of ['spf.ok', 'dkim.ok', 'dmarc.ok', 'mx.ok', 'dns.authoritative', 'ptr.ok', 'lockdown.none']) has(a, r, 'pass');
  });
  test('spf.missing', async () => {
    const a = await s.audit('missing.test');
    has(a, 'spf.missing', 'fail');
    assert.equal(a.status, 'fail');
  });
  test('spf.multiple', async () => void has(await s.audit('multiple.test'), 'spf.multiple', 'fail'));
  test('spf.syntax names the bad term', async () => {
    const f = has(await s.audit('syntax.test'), 'spf.syntax', 'fail');
    assert.match(f.message, /foo/);
  });
  test('spf.too-many-lookups keeps counting past 10 and reports each term’s cost', async () => {
    const f = has(await s.audit('lookups.test'), 'spf.too-many-lookups', 'fail');
    assert.equal(f.evidence.totalLookups, 15);
    const costs = f.evidence.lookups as string[];
    assert.ok(costs.includes('include:big.lookups.test: 6'), JSON.stringify(costs));
    assert.ok(costs.includes('include:l9.lookups.test: 1'), JSON.stringify(costs));
    assert.match(f.message, /include:big\.lookups\.test \(6\)/);
  });
  test('spf.void-lookups', async () => {
    const f = has(await s.audit('voids.test'), 'spf.void-lookups', 'fail');
    assert.equal(f.evidence.totalVoids, 3);
  });
  test('spf.permissive-all', async () => void has(await s.audit('plusall.test'), 'spf.permissive-all', 'fail', '+all'));
  test('spf.weak-all for ?all and for no all', async () => {
    has(await s.audit('neutral.test'), 'spf.weak-all', 'warn');
    has(await s.audit('noall.test'), 'spf.weak-all', 'warn');
    hasNot(await s.audit('clean.test'), 'spf.weak-all');
  });
  test('spf.ptr', async () => void has(await s.audit('ptr.test'), 'spf.ptr', 'warn', 'ptr'));
  test('spf.server-not-authorized (IP based, no relay): check_host for the outbound IP', async () => {
    const f = has(await s.audit('notauth.test'), 'spf.server-not-authorized', 'fail', '203.0.113.10');
    assert.match(String((f.evidence.checkHost as string[])[0]), /check_host\(203\.0\.113\.10, notauth\.test\) = fail/);
    hasNot(await s.audit('clean.test'), 'spf.server-not-authorized');
  });
  test('TXT split across strings is joined with no separator', async () => {
    const a = await s.audit('split.test');
    hasNot(a, 'spf.syntax');
    hasNot(a, 'dns.drift');
    const g = has(a, 'spf.term', 'info', 'include:_spf.google.com');
    assert.equal(g.classification?.class, 'keep');
    assert.deepEqual(g.evidence.live?.find((x) => x.includes('v=spf1')), '"v=spf1 ip4:203.0.113.10 inc" "lude:_spf.google.com -all"');
  });
});

describe('classification', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'mixed.test': { zone: zoneText({ spf: '"v=spf1 +a +mx include:websitewelcome.com include:_spf.google.com ip4:198.51.100.77 ~all"' }) },
        'traces.test': {
          zone: zoneText({
            ns: ['ns1.newhost.example.', 'ns2.newhost.example.', 'ns1.oldprovider.test.'],
            soaMname: 'ns1.soaprovider.test.',
            mailA: '192.0.2.200',
            spf: '"v=spf1 ip4:203.0.113.10 include:spf.oldprovider.test include:spf.soaprovider.test ip4:192.0.2.200 ip4:192.185.1.10 -all"',
          }),
        },
        'ptrtimeout.test': { zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 ip4:198.51.100.88 -all"' }) },
      },
      extra: { '88.100.51.198.in-addr.arpa': { TIMEOUT: true } },
      resolver: { timeoutMs: 200, tries: 1 },
    });
  });
  after(() => s.cleanup());

  test('a mail-service include is kept, a stale host include is stale — each with its reason', async () => {
    const a = await s.audit('mixed.test');
    const stale = has(a, 'spf.stale-term', 'warn', 'include:websitewelcome.com');
    assert.equal(stale.classification?.class, 'stale');
    assert.equal(stale.classification?.provider, 'hostgator');
    assert.match(stale.classification!.reason, /HostGator/i);
    assert.ok(stale.classification?.source, 'knowledge-base entries carry a source');
    const keep = has(a, 'spf.term', 'info', 'include:_spf.google.com');
    assert.equal(keep.classification?.class, 'keep');
    assert.equal(keep.classification?.provider, 'google');
    assert.equal(findings(a, 'spf.stale-term', 'include:_spf.google.com').length, 0, 'a mail service is never stale');
    assert.equal(findings(a, 'spf.stale-term').length, 1, JSON.stringify(rules(a)));
  });
  test('an unknown IP (no PTR) is unknown and kept', async () => {
    const a = await s.audit('mixed.test');
    const u = has(a, 'spf.unknown-term', 'info', 'ip4:198.51.100.77');
    assert.equal(u.classification?.class, 'unknown');
    assert.match(u.classification!.reason, /no PTR/);
    assert.match(u.message, /Kept unless you choose/);
    assert.equal(u.fix, undefined, 'unknown terms are not offered for removal');
  });
  test('traces in the zone: old NS, old SOA, old mail. A record; PTR of a foreign IP at a known host', async () => {
    const a = await s.audit('traces.test');
    const ns = has(a, 'spf.stale-term', 'warn', 'include:spf.oldprovider.test');
    assert.match(ns.classification!.reason, /old nameserver ns1\.oldprovider\.test/);
    const soa = has(a, 'spf.stale-term', 'warn', 'include:spf.soaprovider.test');
    assert.match(soa.classification!.reason, /SOA names ns1\.soaprovider\.test/);
    const mail = has(a, 'spf.stale-term', 'warn', 'ip4:192.0.2.200');
    assert.match(mail.classification!.reason, /mail\.traces\.test still points at 192\.0\.2\.200/);
    const ptr = has(a, 'spf.stale-term', 'warn', 'ip4:192.185.1.10');
    assert.match(ptr.classification!.reason, /PTR gator4000\.hostgator\.com/);
    assert.equal(ptr.classification?.provider, 'hostgator');
    const me = has(a, 'spf.term', 'info', 'ip4:203.0.113.10');
    assert.equal(me.classification?.class, 'this-server');
  });
  test('a PTR lookup that times out leaves the IP unknown', async () => {
    const a = await s.audit('ptrtimeout.test');
    const u = has(a, 'spf.unknown-term', 'info', 'ip4:198.51.100.88');
    assert.match(u.classification!.reason, /timeout/);
  });
});

describe('dkim rules', () => {
  let s: Scenario;
  const k1024 = rsaKey(1024);
  const k512 = rsaKey(512);
  before(async () => {
    s = await scenario({
      domains: {
        'dkmissing.test': { zone: zoneText({ dkim: null }) },
        'dkmismatch.test': { zone: zoneText({ dkim: dkimRdata(otherRsaKey().publicB64) }) },
        'dk1024.test': { zone: zoneText({ dkim: dkimRdata(k1024.publicB64) }), pem: k1024.privatePem },
        'dk512.test': { zone: zoneText({ dkim: dkimRdata(k512.publicB64) }), pem: k512.privatePem },
        'dktesting.test': { zone: zoneText({ dkim: dkimRdata(rsaKey().publicB64, 't=y') }) },
        'dkrevoked.test': { zone: zoneText({ dkim: '"v=DKIM1; k=rsa; p="' }) },
        'dkmalformed.test': { zone: zoneText({ dkim: '"v=DKIM1; k=rsa; p=notbase64!!!"' }) },
        'dkoff.test': { overrides: { dkim: false } },
        'dkcname.test': { zone: zoneText({ dkim: null, extra: ['default._domainkey\tIN\tCNAME\tdefault._domainkey.dkimhost.test.'] }) },
        'dkgoogle.test': {
          zone: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 include:_spf.google.com -all"', extra: [`google._domainkey\tIN\tTXT\t${dkimRdata(otherRsaKey().publicB64)}`] }),
        },
      },
      world: `default._domainkey.dkimhost.test. TXT ${dkimRdata(rsaKey().publicB64)}\n`,
    });
  });
  after(() => s.cleanup());

  test('dkim.missing', async () => void has(await s.audit('dkmissing.test'), 'dkim.missing', 'fail', 'default'));
  test('dkim.key-mismatch: the previous host’s key is worse than none', async () => {
    const f = has(await s.audit('dkmismatch.test'), 'dkim.key-mismatch', 'fail', 'default');
    assert.equal(f.classification?.class, 'stale');
    assert.equal(f.fix, 'dkim');
  });
  test('dkim.weak-key: 1024 warns, 512 fails', async () => {
    const a = await s.audit('dk1024.test');
    has(a, 'dkim.weak-key', 'warn');
    has(a, 'dkim.ok', 'pass');
    has(await s.audit('dk512.test'), 'dkim.weak-key', 'fail');
  });
  test('dkim.testing', async () => void has(await s.audit('dktesting.test'), 'dkim.testing', 'warn'));
  test('dkim.revoked (server signs: fail)', async () => void has(await s.audit('dkrevoked.test'), 'dkim.revoked', 'fail'));
  test('dkim.malformed', async () => void has(await s.audit('dkmalformed.test'), 'dkim.malformed', 'fail'));
  test('dkim.signing-off', async () => void has(await s.audit('dkoff.test'), 'dkim.signing-off', 'warn'));
  test('a CNAME to the key is followed', async () => {
    const a = await s.audit('dkcname.test');
    const f = has(a, 'dkim.ok', 'pass', 'default');
    assert.deepEqual(f.evidence.cname, ['default._domainkey.dkimhost.test']);
    hasNot(a, 'dkim.missing');
  });
  test('another selector of a mail service the SPF includes is recognised (info, keep)', async () => {
    const a = await s.audit('dkgoogle.test');
    const f = has(a, 'dkim.other-selector', 'info', 'google');
    assert.equal(f.classification?.class, 'keep');
    hasNot(a, 'dkim.key-mismatch');
  });
});

describe('lockdown rules and relay-based SPF', () => {
  let s: Scenario;
  const spf = '"v=spf1 include:relay.mailchannels.net -all"';
  before(async () => {
    s = await scenario({
      server: { relay: MAILCHANNELS },
      domains: {
        'ldok.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"'] }) },
        'ldmissing.test': { zone: zoneText({ spf }) },
        'ldstale.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost"'] }) },
        'ldsyntax.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1; auth=newhostmc"'] }) },
        'ldcfid.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1 cfid=foo.workers.dev"'] }) },
        'ldmultiple.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"', '_mailchannels\tIN\tTXT\t"v=mc1 auth=oldhostmc"'] }) },
        'ldtwice.test': { zone: zoneText({ spf, extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"', '_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc auth=dreamhost"'] }) },
        'norelayspf.test': { zone: zoneText({ extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc"'] }) },
      },
    });
  });
  after(() => s.cleanup());

  test('lockdown.ok', async () => void has(await s.audit('ldok.test'), 'lockdown.ok', 'pass'));
  test('lockdown.missing', async () => void has(await s.audit('ldmissing.test'), 'lockdown.missing', 'warn'));
  test('lockdown.stale-auth (550 5.7.1 explained)', async () => {
    const f = has(await s.audit('ldstale.test'), 'lockdown.stale-auth', 'fail', 'auth=dreamhost');
    assert.match(f.message, /550 5\.7\.1 This sender is not authorized to send from ldstale\.test/);
    assert.equal(f.classification?.class, 'stale');
  });
  test('lockdown.syntax (";" separators)', async () => void has(await s.audit('ldsyntax.test'), 'lockdown.syntax', 'fail'));
  test('lockdown.deprecated-cfid', async () => void has(await s.audit('ldcfid.test'), 'lockdown.deprecated-cfid', 'fail'));
  test('lockdown.multiple: a warning (what MailChannels does with several records is not documented); a stale id among them fails', async () => {
    const mixed = await s.audit('ldmultiple.test');
    has(mixed, 'lockdown.multiple', 'warn');
    has(mixed, 'lockdown.stale-auth', 'fail');
    // Each record names this server; the old id sits beside it: warnings only.
    const twice = await s.audit('ldtwice.test');
    has(twice, 'lockdown.multiple', 'warn');
    has(twice, 'lockdown.stale-auth', 'warn');
    assert.ok(!twice.findings.some((f) => f.check === 'lockdown' && f.severity === 'fail'), JSON.stringify(twice.findings.filter((f) => f.check === 'lockdown')));
  });
  test('spf.server-not-authorized (relay based) when the SPF lacks the relay', async () => {
    const a = await s.audit('norelayspf.test');
    const f = has(a, 'spf.server-not-authorized', 'fail');
    assert.match(f.message, /relay\.mailchannels\.net/);
    hasNot(await s.audit('ldok.test'), 'spf.server-not-authorized');
    has(a, 'ptr.relay', 'info');
    // The JSON contract: every finding's evidence carries the panel's and the live records (arrays, maybe empty).
    for (const d of ['norelayspf.test', 'ldok.test', 'ldmultiple.test']) {
      for (const f of (await s.audit(d)).findings) {
        const ev = f.evidence as { panel?: unknown; live?: unknown };
        assert.ok(Array.isArray(ev.panel) && Array.isArray(ev.live), `${d} ${f.rule}: ${JSON.stringify(f.evidence)}`);
      }
    }
  });
});

describe('dmarc, mx, dns and ptr rules', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario({
      domains: {
        'dmmissing.test': { zone: zoneText({ dmarc: null }) },
        'dmmultiple.test': { zone: zoneText({ extra: ['_dmarc\tIN\tTXT\t"v=DMARC1; p=reject"'] }) },
        'dmsyntax.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=bogus"' }) },
        'dmnone.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"' }) },
        'dmunauth.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=reject; rua=mailto:reports@elsewhere.test"' }) },
        'dmauth.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=reject; rua=mailto:reports@authorized.test"' }) },
        'dmstale.test': { zone: zoneText({ dmarc: '"v=DMARC1; p=reject; rua=mailto:dmarc@websitewelcome.com"' }) },
        'inert.test': { zone: zoneText({ extra: ['_mailchannels\tIN\tTXT\t"v=mc1 auth=oldhostmc"'] }) },
        'mxstale.test': { zone: zoneText({ mx: ['10 gator4000.hostgator.com.'] }) },
        'mxstaleremote.test': { zone: zoneText({ mx: ['10 gator4000.hostgator.com.'] }), overrides: { mailRouting: 'remote' } },
        'mxgoogle.test': { zone: zoneText({ mx: ['1 aspmx.l.google.com.'] }) },
        'mxremote.test': { overrides: { mailRouting: 'remote' } },
        'mxunres.test': { zone: zoneText({ mx: ['10 nohost'] }) },
        'mxcname.test': { zone: zoneText({ mx: ['10 alias'], extra: ['alias\tIN\tCNAME\tmail'] }) },
        'nsold.test': { live: zoneText({ ns: ['ns1.hostgator.com.', 'ns2.hostgator.com.'] }) },
        'drift.test': { live: zoneText({ spf: '"v=spf1 ip4:203.0.113.10 include:_spf.google.com -all"' }) },
        'undelegated.test': { live: false },
        'ptrmissing.test': { overrides: { ips: ['203.0.113.99'] } },
        'ptrnofcrdns.test': { overrides: { ips: ['203.0.113.20'] } },
        'ptrhelo.test': { overrides: { ips: ['203.0.113.21'] } },
      },
      world: [
        'dmauth.test._report._dmarc.authorized.test. TXT "v=DMARC1"',
        '20.113.0.203.in-addr.arpa. PTR host20.newhost.example.',
        '21.113.0.203.in-addr.arpa. PTR mx21.newhost.example.',
        'mx21.newhost.example. A 203.0.113.21',
        '10.113.0.203.bl.test. A 127.0.0.2',
      ].join('\n') + '\n',
    });
  });
  after(() => s.cleanup());

  test('dmarc.missing', async () => void has(await s.audit('dmmissing.test'), 'dmarc.missing', 'warn'));
  test('dmarc.multiple', async () => void has(await s.audit('dmmultiple.test'), 'dmarc.multiple', 'fail'));
  test('dmarc.syntax', async () => void has(await s.audit('dmsyntax.test'), 'dmarc.syntax', 'fail'));
  test('dmarc.policy-none', async () => void has(await s.audit('dmnone.test'), 'dmarc.policy-none', 'info'));
  test('dmarc.unauthorized-destination, and none when the destination authorises', async () => {
    const f = has(await s.audit('dmunauth.test'), 'dmarc.unauthorized-destination', 'warn', 'rua=mailto:reports@elsewhere.test');
    assert.deepEqual(f.evidence.authorization, ['dmunauth.test._report._dmarc.elsewhere.test: none']);
    hasNot(await s.audit('dmauth.test'), 'dmarc.unauthorized-destination');
  });
  test('dmarc.stale-destination', async () => {
    const f = has(await s.audit('dmstale.test'), 'dmarc.stale-destination', 'warn');
    assert.equal(f.classification?.provider, 'hostgator');
  });
  test('lockdown.inert: a _mailchannels record on a server that does not use MailChannels', async () =>
    void has(await s.audit('inert.test'), 'lockdown.inert', 'warn'));
  test('mx.stale: fail when mail is local; with mail routed elsewhere an MX at a hosting provider is where mail is delivered', async () => {
    const f = has(await s.audit('mxstale.test'), 'mx.stale', 'fail', 'gator4000.hostgator.com');
    assert.equal(f.classification?.class, 'stale');
    // Routing remote: the MX names the customer's mail host (mail-auth.md §8 compares with the current host), kept.
    // (The remote mx.stale warning itself is covered in test/core/checks/mx.test.ts.)
    const r = await s.audit('mxstaleremote.test');
    hasNot(r, 'mx.stale');
    assert.equal(has(r, 'mx.host', 'info', 'gator4000.hostgator.com').classification?.class, 'keep');
  });
  test('mx.routing-mismatch both ways', async () => {
    const g = await s.audit('mxgoogle.test');
    has(g, 'mx.routing-mismatch', 'warn');
    hasNot(g, 'mx.stale');
    has(await s.audit('mxremote.test'), 'mx.routing-mismatch', 'warn');
  });
  test('mx.unresolvable', async () => void has(await s.audit('mxunres.test'), 'mx.unresolvable', 'fail', 'nohost.mxunres.test'));
  test('mx.cname', async () => void has(await s.audit('mxcname.test'), 'mx.cname', 'warn', 'alias.mxcname.test'));
  test('dns.not-authoritative: live NS at the previous host', async () => {
    const f = has(await s.audit('nsold.test'), 'dns.not-authoritative', 'warn');
    assert.equal(f.classification?.class, 'stale');
    assert.match(f.message, /ns1\.hostgator\.com/);
  });
  test('dns.not-authoritative: not delegated at all', async () => void has(await s.audit('undelegated.test'), 'dns.not-authoritative', 'fail'));
  test('dns.drift: the live answer differs from the panel copy', async () => {
    const f = has(await s.audit('drift.test'), 'dns.drift', 'warn', 'drift.test TXT');
    assert.ok(f.evidence.live?.some((x) => x.includes('_spf.google.com')));
    assert.ok(f.evidence.panel?.some((x) => x === 'v=spf1 a mx ip4:203.0.113.10 -all'));
  });
  test('ptr.missing', async () => void has(await s.audit('ptrmissing.test'), 'ptr.missing', 'fail', '203.0.113.99'));
  test('ptr.mismatch: no forward confirmation fails; a confirmed name other than HELO warns', async () => {
    has(await s.audit('ptrnofcrdns.test'), 'ptr.mismatch', 'fail', '203.0.113.20');
    has(await s.audit('ptrhelo.test'), 'ptr.mismatch', 'warn', '203.0.113.21');
  });
  test('ptr.listed only with options.blocklists', async () => {
    hasNot(await s.audit('dmnone.test'), 'ptr.listed');
    const a = await s.audit('dmnone.test', { blocklists: ['bl.test', 'clean-bl.test'] });
    has(a, 'ptr.listed', 'fail', '203.0.113.10 @ bl.test');
    assert.equal(findings(a, 'ptr.listed').length, 1);
  });
});

describe('DNS trouble, IDN, long and hostile records', () => {
  let s: Scenario;
  const ips = Array.from({ length: 34 }, (_, i) => `ip4:198.51.100.${i + 100}`).join(' ');
  const long = `v=spf1 ip4:203.0.113.10 ${ips} -all`;
  const chunks = [long.slice(0, 250), long.slice(250, 500), long.slice(500)];
  const hostile = Buffer.concat([Buffer.from('v=DMARC1; p=<script>alert(1)</script>\x1b[2J\x1b]0;pwned\x07'), Buffer.from([0x00, 0xff, 0xfe, 0xc3])]);
  before(async () => {
    s = await scenario({
      domains: {
        'timeout.test': {},
        'xn--bcher-kva.example': {},
        'long.test': { zone: zoneText({ spf: chunks.map((c) => `"${c}"`).join(' ') }) },
        'onestring.test': { zone: zoneText({ spf: `"${long}"` }), live: zoneText({ spf: chunks.map((c) => `"${c}"`).join(' ') }) },
        'hostile.test': { zone: zoneText({ dmarc: null }) },
        'utf8.test': { zone: zoneText({ extra: ['@\tIN\tTXT\t"owner=café"'] }) },
      },
      extra: {
        'timeout.test': { TIMEOUT: true },
        '_dmarc.timeout.test': { TIMEOUT: true },
        '_dmarc.hostile.test': { TXT: [[hostile]] },
      },
      resolver: { timeoutMs: 200, tries: 1 },
    });
  });
  after(() => s.cleanup());

  test('DNS timeouts give unknown findings, never fail', async () => {
    const a = await s.audit('timeout.test');
    assert.equal(a.findings.filter((f) => f.severity === 'fail').length, 0, JSON.stringify(rules(a)));
    assert.equal(a.status, 'unknown');
    for (const r of ['spf.dns-error', 'mx.dns-error', 'dns.dns-error', 'dmarc.dns-error']) {
      const f = has(a, r, 'unknown');
      assert.ok(f.evidence.live?.some((x) => /timeout/.test(x)), JSON.stringify(f.evidence));
    }
  });
  test('an IDN domain is audited by its A-label', async () => {
    const d = normalizeDomain('bücher.example');
    assert.equal(d, 'xn--bcher-kva.example');
    const a = await s.audit(d);
    assert.equal(a.domain, 'xn--bcher-kva.example');
    assert.equal(a.status, 'pass', JSON.stringify(rules(a)));
  });
  test('an SPF record of ~600 bytes in 3 strings: record-too-long, not string-too-long; arrives whole', async () => {
    assert.ok(Buffer.byteLength(long) > 512 && Buffer.byteLength(long) < 700);
    const a = await s.audit('long.test');
    has(a, 'spf.record-too-long', 'warn');
    hasNot(a, 'spf.string-too-long');
    hasNot(a, 'spf.syntax');
    hasNot(a, 'spf.server-not-authorized');
    hasNot(a, 'dns.drift');
    const ev = findings(a, 'spf.record-too-long')[0].evidence.live!;
    assert.ok(ev.includes(chunks.map((c) => JSON.stringify(c)).join(' ')), JSON.stringify(ev));
  });
  test('the panel storing the SPF as one string over 255 bytes: spf.string-too-long', async () => {
    const a = await s.audit('onestring.test');
    has(a, 'spf.string-too-long', 'fail');
    hasNot(a, 'dns.drift');
  });
  test('hostile bytes in TXT survive into evidence unchanged and are escaped in human output', async () => {
    const a = await s.audit('hostile.test');
    const f = has(a, 'dmarc.syntax', 'fail');
    // Live TXT that is not valid UTF-8 arrives byte for byte: ASCII as itself, every other byte that is not part of a
    // UTF-8 character as the lone surrogate U+DC00+byte (wire.ts decodeTxtStrings), so different bytes never read alike.
    const escaped = hostile.toString('latin1').replace(/[\x80-\xff]/g, (c) => String.fromCharCode(0xdc00 + c.charCodeAt(0)));
    assert.equal(f.subject, escaped);
    assert.equal(f.evidence.live![0], JSON.stringify(escaped));
    const round = JSON.parse(JSON.stringify({ domains: [a] })) as { domains: DomainAudit[] };
    assert.deepEqual(round.domains[0], a, 'JSON carries every byte');
    const human = formatAudit(a, { color: false, evidence: true, verbose: true });
    assert.ok(human.includes('<script>'), 'text is not HTML-escaped in a terminal');
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(human, /[\x00\x07\x1b\x9b]/, 'no raw control characters reach the terminal');
    assert.ok(human.includes('\\x1b'));
  });
  test('a non-ASCII TXT (UTF-8) in the panel zone and in live DNS is not reported as drift', async () => {
    const a = await s.audit('utf8.test');
    hasNot(a, 'dns.drift');
    assert.equal(a.status, 'pass', JSON.stringify(rules(a)));
  });
});
