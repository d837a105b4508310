// The nightly report compares domains in their canonical form (lower case, A-label): a domain recorded as
// "bücher.example" or "Shop.Example" by a version before the panels' names went through the validator is the same
// domain as tonight's "xn--bcher-kva.example" / "shop.example". Review: the problems' subjects were compared as
// recorded, and dns.drift's subject embeds the audited name ("_dmarc.bücher.example TXT", src/core/checks/dns.ts) — so
// each drift was reported both as new (under the A-label) and as resolved (under the old spelling). Now the names a
// check derives from the domain are compared in canonical form; record text the customer wrote (an SPF term naming a
// host under the domain, a DMARC address at it) and hosts DNS answers name (an MX) are compared as they are.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditDomain } from '../../../src/core/audit.js';
import { dnsCheck } from '../../../src/core/checks/dns.js';
import type { CheckName, DomainStatus, Finding, MailSettings, Severity, Zone, ZoneRecord } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { buildReport, type DomainSnapshot, type ReportDoc, type RunSnapshot, type SnapshotFinding } from '../../../src/core/report/diff.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

function f(rule: string, severity: Severity, subject?: string): SnapshotFinding {
  return { rule, check: rule.split('.')[0] as CheckName, severity, ...(subject ? { subject } : {}), message: `${rule} message` };
}

function dom(domain: string, findings: SnapshotFinding[], owner = 'bob'): DomainSnapshot {
  const sev = findings.map((x) => x.severity);
  const status: DomainStatus = sev.includes('fail') ? 'fail' : sev.includes('warn') ? 'warn' : sev.includes('unknown') ? 'unknown' : 'pass';
  return { domain, owner, reseller: null, status, findings };
}

function run(runId: number, domains: DomainSnapshot[]): RunSnapshot {
  return { runId, status: 'complete', startedAt: new Date(Date.UTC(2026, 0, runId, 3)).toISOString(), domains };
}

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;
const sections = (doc: ReportDoc) => ({
  newProblems: doc.newProblems.map(key),
  resolved: doc.resolved.map(key),
  stillFailing: doc.stillFailing.map((i) => `${key(i)} ×${i.nights}`),
});

const findingsOf = (fs: readonly Finding[]): SnapshotFinding[] =>
  fs.map((x) => ({ rule: x.rule, check: x.check, severity: x.severity, ...(x.subject ? { subject: x.subject } : {}), message: x.message }));

describe('dns.drift subjects recorded under another spelling of the domain', () => {
  // /tmp/r-web/report-idn-subject.ts (review): night 1 recorded by a version before the validator.
  const drift = (d: string) => f('dns.drift', 'warn', `_dmarc.${d} TXT`);
  const SPF = f('spf.missing', 'fail');
  const r1 = run(1, [dom('bücher.example', [SPF, drift('bücher.example')]), dom('Shop.Example', [drift('Shop.Example')])]);
  const r2 = run(2, [dom('xn--bcher-kva.example', [SPF, drift('xn--bcher-kva.example')]), dom('shop.example', [drift('shop.example')])]);
  const r3 = run(3, [dom('xn--bcher-kva.example', [SPF, drift('xn--bcher-kva.example')]), dom('shop.example', [drift('shop.example')])]);

  test('the same drift is still failing: not new under the A-label and resolved under the Unicode/upper-case name', () => {
    const doc = buildReport({ current: r2, runs: [r1] });
    assert.deepEqual(sections(doc), {
      newProblems: [],
      resolved: [],
      stillFailing: [
        'xn--bcher-kva.example spf.missing ×2',
        'shop.example dns.drift _dmarc.shop.example TXT ×2',
        'xn--bcher-kva.example dns.drift _dmarc.xn--bcher-kva.example TXT ×2',
      ],
    });
    assert.equal(doc.summary.newProblems, 0);
    assert.equal(doc.summary.resolved, 0);
  });

  test('shown with the latest run\'s subject; the streak counts the night recorded under the old spelling', () => {
    const doc = buildReport({ current: r3, runs: [r1, r2] });
    assert.deepEqual(sections(doc).stillFailing, [
      'xn--bcher-kva.example spf.missing ×3',
      'shop.example dns.drift _dmarc.shop.example TXT ×3',
      'xn--bcher-kva.example dns.drift _dmarc.xn--bcher-kva.example TXT ×3',
    ]);
    assert.deepEqual(sections(doc).newProblems, []);
  });

  test('a drift fixed since is resolved once, with the subject it was last recorded with', () => {
    const doc = buildReport({ current: run(2, [dom('xn--bcher-kva.example', [SPF]), dom('shop.example', [])]), runs: [r1] });
    assert.deepEqual(sections(doc), {
      newProblems: [],
      resolved: ['shop.example dns.drift _dmarc.Shop.Example TXT', 'xn--bcher-kva.example dns.drift _dmarc.bücher.example TXT'],
      stillFailing: ['xn--bcher-kva.example spf.missing ×2'],
    });
    assert.ok(doc.resolved.every((r) => r.reason === 'fixed'));
  });

  test('every name dns.ts derives (apex TXT and MX, _dmarc, _mailchannels, <selector>._domainkey): one problem each', async () => {
    // The subjects as the check itself writes them, for the domain under each spelling.
    const audit = async (d: string, live: string) => {
      const map: ZoneMap = {
        [live]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'], TXT: [['v=spf1 mx -all']], MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] },
        [`_dmarc.${live}`]: { TXT: [['v=DMARC1; p=none']] },
        [`_mailchannels.${live}`]: { TXT: [['v=mc1 cfid=x.example']] },
        [`default._domainkey.${live}`]: { TXT: [['v=DKIM1; p=abc']] },
      };
      const zone: ZoneRecord[] = [{ name: d, ttl: 300, type: 'NS', value: 'ns1.newhost.example' }];
      const fs = (await dnsCheck(checkContext(d, map, {}, zone))).filter((x) => x.rule === 'dns.drift');
      assert.equal(fs.length, 5, fs.map((x) => x.subject).join(', '));
      return findingsOf(fs);
    };
    const before = run(1, [dom('Shop.Example', await audit('Shop.Example', 'shop.example')), dom('bücher.example', await audit('bücher.example', 'bücher.example'))]);
    const after = run(2, [dom('shop.example', await audit('shop.example', 'shop.example')), dom('xn--bcher-kva.example', await audit('xn--bcher-kva.example', 'xn--bcher-kva.example'))]);
    const doc = buildReport({ current: after, runs: [before] });
    assert.deepEqual(sections(doc).newProblems, []);
    assert.deepEqual(sections(doc).resolved, []);
    assert.equal(doc.stillFailing.length, 10);
    assert.ok(doc.stillFailing.every((i) => i.nights === 2 && i.subject!.includes(i.domain)), JSON.stringify(sections(doc)));
  });

  test('hidden by a panel failure tonight: listed once, as was failing — not again as seen tonight', () => {
    const unreadable = f('dns.panel-zone-unreadable', 'unknown');
    const doc = buildReport({ current: run(2, [dom('shop.example', [unreadable, drift('shop.example')])]), runs: [run(1, [dom('Shop.Example', [drift('Shop.Example')])])] });
    assert.deepEqual(sections(doc), { newProblems: [], resolved: [], stillFailing: [] });
    assert.equal(doc.unknown.length, 1);
    assert.deepEqual(doc.unknown[0].wasFailing, [{ rule: 'dns.drift', severity: 'warn', subject: '_dmarc.Shop.Example TXT' }]);
    assert.equal(doc.unknown[0].seenTonight, undefined);
  });
});

describe('subjects that are record text or names DNS answered are compared as recorded', () => {
  test('an SPF term, an MX host, a DMARC address naming the domain: the same text is the same problem', () => {
    // The customer wrote "a:mail.Shop.Example": it is the record's text whatever the domain's recorded spelling — a
    // rewrite would make it a problem resolved under one spelling and new under the other.
    const same = [f('spf.syntax', 'fail', 'a:mail.Shop.Example'), f('mx.unresolvable', 'fail', 'mail.shop.example'), f('dmarc.syntax', 'fail', 'rua=mailto:d@Shop.Example')];
    const doc = buildReport({ current: run(2, [dom('shop.example', same)]), runs: [run(1, [dom('Shop.Example', same)])] });
    assert.deepEqual(sections(doc), {
      newProblems: [],
      resolved: [],
      stillFailing: ['shop.example dmarc.syntax rua=mailto:d@Shop.Example ×2', 'shop.example mx.unresolvable mail.shop.example ×2', 'shop.example spf.syntax a:mail.Shop.Example ×2'],
    });
  });

  test('record text the customer changed is another problem (not taken for the same one by its spelling)', () => {
    const doc = buildReport({
      current: run(2, [dom('shop.example', [f('spf.syntax', 'fail', 'a:mail.shop.example')])]),
      runs: [run(1, [dom('Shop.Example', [f('spf.syntax', 'fail', 'a:mail.Shop.Example')])])],
    });
    assert.deepEqual(sections(doc), { newProblems: ['shop.example spf.syntax a:mail.shop.example'], resolved: ['shop.example spf.syntax a:mail.Shop.Example'], stillFailing: [] });
  });

  test('a whole audit of the same live DNS under both spellings: every problem is still failing, none new or resolved', async () => {
    // Every check, with record text naming hosts at the domain (SPF a:/include:, an MX at it, a DMARC address): only
    // the names the checks derive from the domain differ between the two spellings.
    const live: ZoneMap = {
      'shop.example': {
        NS: ['ns1.newhost.example', 'ns2.newhost.example'],
        TXT: [['v=spf1 a:mail.shop.example ptr include:nowhere.shop.example ?all']],
        MX: [{ priority: 10, exchange: 'mail.shop.example' }, { priority: 20, exchange: 'mx.shop.example' }],
      },
      '_dmarc.shop.example': { TXT: [['v=DMARC1; p=none; rua=mailto:d@shop.example; pct=x']] },
      '_mailchannels.shop.example': { TXT: [['v=mc1 cfid=old.example auth=oldhost']] },
      'mx.shop.example': { A: ['198.51.100.77'] },
    };
    const audit = async (d: string): Promise<DomainSnapshot> => {
      const settings: MailSettings = {
        domain: d,
        hostname: 'server1.newhost.example',
        ips: ['203.0.113.10'],
        helo: 'server1.newhost.example',
        nameservers: ['ns1.newhost.example', 'ns2.newhost.example'],
        dkim: { selector: 'default', signing: true },
        routing: 'local',
        relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' },
      };
      const zone: Zone = {
        domain: d,
        serial: 1,
        version: 'v1',
        records: [
          { name: d, ttl: 300, type: 'NS', value: 'ns1.newhost.example' },
          { name: `_dmarc.${d}`, ttl: 300, type: 'TXT', value: 'v=DMARC1; p=reject', txt: ['v=DMARC1; p=reject'] },
        ],
      };
      const panel = { readZone: async () => zone, readMailSettings: async () => settings } as unknown as Panel;
      const a = await auditDomain(d, { panel, resolver: new MapResolver(live), now: () => new Date(0) });
      return dom(d, findingsOf(a.findings));
    };
    const before = await audit('Shop.Example');
    const after = await audit('shop.example');
    assert.ok(before.findings.some((x) => x.subject === '_dmarc.Shop.Example TXT'), 'the old spelling is in a drift subject');
    const doc = buildReport({ current: run(2, [after]), runs: [run(1, [before])] });
    assert.deepEqual(sections(doc).newProblems, []);
    assert.deepEqual(sections(doc).resolved, []);
    assert.ok(doc.stillFailing.length >= 8, JSON.stringify(sections(doc)));
    assert.ok(doc.stillFailing.every((i) => i.nights === 2));
  });
});
