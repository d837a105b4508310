// A bounce that names no sender domain (5 of the 7 corpus files) is explained for the domain the user chooses; a chosen
// domain wins over the one the bounce names, and a note says which one is used. The no-domain note points at the way to
// choose that the caller's surface really offers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckName, DomainAudit, Finding, Severity } from '../../../src/core/model.js';
import { BOUNCE_TABLE } from '../../../src/core/bounce/codes.js';
import { explainBounce } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';

const finding = (rule: string, severity: Severity): Finding => ({ rule, check: rule.split('.')[0] as CheckName, severity, message: rule, evidence: {} });
const audit = (domain: string, ...findings: Finding[]): DomainAudit => ({ domain, status: 'fail', auditedAt: '2026-01-01T00:00:00Z', findings });
function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}

const NO_DOMAIN_FILES = ['gmail-5.7.26.txt', 'postfix-syslog-5.7.26.txt', 'postfix-dsn-gmail-5.7.1.txt', 'mailenable-5.7.1.txt', 'bt-554-policy.txt'];
const MAILCHANNELS = '550 5.7.1 This sender is not authorized to send from florist.example.';

describe('explainBounce: the domain the user chose', () => {
  for (const f of NO_DOMAIN_FILES) {
    const rel = `bounces/${f}`;
    it(`${f}: names no domain; the chosen one is the explanation's domain and its findings explain it`, { skip: corpusPath(rel) ? false : corpusMissing(rel) }, () => {
      const p = parsed(readCorpus(rel));
      assert.equal(p.domain, null, 'the corpus bounce names no sender domain');
      const a = audit('bakery.example', finding('spf.missing', 'fail'), finding('ptr.missing', 'fail'), finding('ptr.listed', 'fail'));
      const e = explainBounce(p, a, BOUNCE_TABLE, { chosenDomain: 'bakery.example', chooseDomainHint: 'HINT' });
      assert.equal(e.domain, 'bakery.example');
      assert.notEqual(e.verdict, 'not-audited');
      assert.ok(e.findings.length > 0, `${f}: a finding explains it`);
      assert.ok(!e.notes.some((n) => /does not name the sender/.test(n)), e.notes.join(' | '));
    });
  }

  it('a chosen domain wins over the one the bounce names, and a note says which one is used', () => {
    const p = parsed(MAILCHANNELS);
    assert.equal(p.domain, 'florist.example');
    const e = explainBounce(p, audit('bakery.example', finding('lockdown.stale-auth', 'fail')), BOUNCE_TABLE, { chosenDomain: 'bakery.example' });
    assert.equal(e.domain, 'bakery.example');
    assert.deepEqual(e.findings.map((f) => f.rule), ['lockdown.stale-auth']);
    const note = e.notes.find((n) => n.includes('florist.example'));
    assert.ok(note, e.notes.join(' | '));
    assert.match(note, /names florist\.example, but you chose bakery\.example: the explanation uses bakery\.example/);
  });

  it('the same domain chosen as the bounce names: no note about it', () => {
    const e = explainBounce(parsed(MAILCHANNELS), audit('florist.example'), BOUNCE_TABLE, { chosenDomain: 'florist.example' });
    assert.ok(!e.notes.some((n) => /you chose/.test(n)), e.notes.join(' | '));
  });

  it('no domain and no audit: the note points at the way to choose the caller names', () => {
    const p = parsed('550 5.7.26 This message does not have authentication information or fails to pass authentication checks. - gsmtp');
    const cli = explainBounce(p, null, BOUNCE_TABLE, { chooseDomainHint: 'run the command again with --domain DOMAIN' });
    assert.ok(cli.notes.includes('The bounce does not name the sender\'s domain: run the command again with --domain DOMAIN.'), cli.notes.join(' | '));
    // Without a hint: names every real way, never a bare "choose the domain".
    const plain = explainBounce(p, null);
    const n = plain.notes.find((x) => /does not name the sender/.test(x)) ?? '';
    assert.match(n, /--domain/);
    assert.doesNotMatch(n, /choose the domain to audit it/);
  });
});
