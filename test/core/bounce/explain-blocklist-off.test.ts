// A blocklist bounce while the blocklist check is off (the default: setting audit.blocklists false): the audit never
// looked, so the explanation must not say "nothing in the audit explains this" — it says the check is off and where
// an admin turns it on (the Settings page's own label). With the check on, ptr.listed explains it as before.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { dnsHeadline, explainBounce } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';
import { corpusMissing, corpusPath, readCorpus, REPO_ROOT } from '../../helpers/corpora.js';

const finding = (rule: string, severity: Severity, subject?: string): Finding => ({ rule, check: rule.split('.')[0] as CheckName, severity, message: rule, evidence: {}, ...(subject ? { subject } : {}) });
const audit = (...findings: Finding[]): DomainAudit => ({ domain: 'bakery.example', status: 'fail', auditedAt: '2026-01-01T00:00:00Z', findings });
function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}

const BLOCKED = '554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using zen.spamhaus.org; from=<info@bakery.example>';
// The audit of a domain whose DNS has a problem that cannot cause a blocklist rejection.
const UNRELATED = audit(finding('spf.stale-term', 'warn'));

describe('explainBounce: blocklist bounce, blocklist check off', () => {
  const e = explainBounce(parsed(BLOCKED), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: false });
  it('never says nothing in the audit explains it', () => {
    assert.equal(e.entry, 'generic-blocklist');
    assert.equal(e.verdict, 'not-checked');
    assert.equal(e.explained, false);
    assert.equal(e.blocklistsUnchecked, true);
    assert.ok(!e.notes.some((n) => /Nothing in the audit explains/.test(n)), e.notes.join(' | '));
    assert.doesNotMatch(dnsHeadline(e, 'audited'), /Nothing in the domain/);
    assert.match(dnsHeadline(e, 'audited'), /blocklist check is off/);
  });
  it('says the check is off and where to turn it on, in the words of the settings page', () => {
    const note = e.notes.find((n) => /blocklist check is off/.test(n));
    assert.ok(note, e.notes.join(' | '));
    assert.match(note, /203\.0\.113\.10/);
    assert.match(note, /Settings, under DNS: "Check the sending IPs against blocklists"/);
    // The label quoted is the one views/settings.ejs shows, in its "DNS" fieldset.
    const label = /"([^"]+)"/.exec(note)?.[1] ?? '';
    const settings = readFileSync(join(REPO_ROOT, 'views/settings.ejs'), 'utf8');
    assert.ok(label && settings.includes(`<label for="s-bl">${label}`), `settings.ejs labels the checkbox "${label}"`);
    assert.match(settings, /<legend>DNS<\/legend>[\s\S]*id="s-bl"/);
  });
  it('a code with other causes too (BT 554): the checked ones are said to be clear, the blocklist one unchecked', { skip: corpusPath('bounces/bt-554-policy.txt') ? false : corpusMissing('bounces/bt-554-policy.txt') }, () => {
    const bt = explainBounce(parsed(readCorpus('bounces/bt-554-policy.txt')), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: false });
    assert.equal(bt.verdict, 'not-checked');
    assert.ok(bt.notes.some((n) => /blocklist check is off/.test(n) && /one cause of this rejection/.test(n)), bt.notes.join(' | '));
    assert.ok(!bt.notes.some((n) => /Nothing in the audit explains/.test(n)));
  });
  it('another finding explains it: explained, with the unchecked blocklist said in a note', () => {
    const x = explainBounce(parsed('550 5.7.1 Delivery not authorized, message refused'), audit(finding('spf.missing', 'fail')), BOUNCE_TABLE, { blocklistsChecked: false });
    assert.equal(x.entry, 'generic-5.7.1');
    assert.equal(x.verdict, 'explained');
    assert.ok(x.notes.some((n) => /blocklist check is off/.test(n)));
  });
  it('a code no blocklist causes: no note about blocklists', () => {
    const x = explainBounce(parsed('550 5.7.23 SPF validation failed'), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: false });
    assert.equal(x.blocklistsUnchecked, false);
    assert.ok(!x.notes.some((n) => /blocklist/.test(n)));
  });
});

describe('explainBounce: blocklist bounce, blocklist check on (as before)', () => {
  it('the listing explains it', () => {
    const e = explainBounce(parsed(BLOCKED), audit(finding('ptr.listed', 'fail', '203.0.113.10 @ zen.spamhaus.org')), BOUNCE_TABLE, { blocklistsChecked: true });
    assert.equal(e.verdict, 'explained');
    assert.deepEqual(e.findings.map((f) => f.rule), ['ptr.listed']);
    assert.ok(!e.notes.some((n) => /blocklist check is off/.test(n)));
  });
  it('not listed: nothing in the audit explains it', () => {
    const e = explainBounce(parsed(BLOCKED), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: true });
    assert.equal(e.verdict, 'not-explained');
    assert.ok(e.notes.some((n) => /Nothing in the audit explains/.test(n)));
  });
  it('a ptr.listed finding proves the check ran, whatever the caller says', () => {
    const e = explainBounce(parsed(BLOCKED), audit(finding('ptr.listed', 'fail', '203.0.113.10 @ zen.spamhaus.org')), BOUNCE_TABLE, { blocklistsChecked: false });
    assert.equal(e.verdict, 'explained');
    assert.equal(e.blocklistsUnchecked, false);
  });
});

// QA: with the check on but the bounce naming a blocklist the audit does not query, and on a server that relays (the
// blocked address is the relay's, never looked up), the verdict said "nothing explains it" / "turn the check on".
describe('explainBounce: a blocklist the audit did not query', () => {
  it('the check on, the bounce names zen.spamhaus.org, the audit queried bl.example.org: not-checked, naming the zone', () => {
    const e = explainBounce(parsed(BLOCKED), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: true, blocklistZones: ['bl.example.org'] });
    assert.equal(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /names the blocklist zen\.spamhaus\.org, which is not among those the audit queries \(bl\.example\.org\)/.test(n)), e.notes.join(' | '));
    const queried = explainBounce(parsed(BLOCKED), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: true, blocklistZones: ['zen.spamhaus.org'] });
    assert.equal(queried.verdict, 'not-explained');
  });
  it('a server that relays (ptr.relay): the relay’s address — said, and never "turn the check on"', () => {
    const e = explainBounce(parsed(BLOCKED), audit(finding('ptr.relay', 'info')), BOUNCE_TABLE, { blocklistsChecked: false });
    assert.notEqual(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /sends its mail through a relay \(ptr\.relay\)/.test(n)), e.notes.join(' | '));
    assert.ok(!e.notes.some((n) => /blocklist check is off/.test(n)));
  });
});

// Review: an IPv6 sending address is never looked up (the check queries IPv4 only), and a listing of another of the
// server's addresses does not explain a bounce of this one.
describe('explainBounce: blocklists, per address', () => {
  it('an IPv6 address with the check on: not looked up, said so (not "nothing explains it")', () => {
    const e = explainBounce(parsed('554 5.7.1 Service unavailable; Client host [2001:db8::10] blocked using zen.spamhaus.org'), UNRELATED, BOUNCE_TABLE, { blocklistsChecked: true, blocklistZones: ['zen.spamhaus.org'] });
    assert.equal(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /2001:db8::10 is an IPv6 address, and the audit looks up only IPv4 addresses/.test(n)), e.notes.join(' | '));
  });
  it('a listing of another of the server’s addresses does not hide that this one was not looked up on the named zone', () => {
    const other = audit(finding('ptr.listed', 'fail', '203.0.113.10 @ zen.spamhaus.org'));
    const e = explainBounce(parsed('554 5.7.1 Service unavailable; Client host [203.0.113.11] blocked using b.barracudacentral.org'), other, BOUNCE_TABLE, { blocklistsChecked: true, blocklistZones: ['zen.spamhaus.org'] });
    assert.equal(e.verdict, 'not-checked');
    assert.ok(e.notes.some((n) => /names the blocklist b\.barracudacentral\.org/.test(n)), e.notes.join(' | '));
  });
});
