// Record text is attacker-controlled: a newline or tab in a TXT record must not reach the terminal as one, or a zone
// could print lines that pass for mailhealth's own ("FAIL …", "fix: …"). JSON keeps the bytes as they are.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { scenario, zoneText, type Scenario } from '../helpers/scenario.js';
import { formatFinding, safe } from '../../src/cli/format.js';
import { renderPlan } from '../../src/cli/commands/fix.js';
import type { Plan } from '../../src/core/plans/plan.js';

const FORGED = 'FAIL  forged.rule                    all good here';
// In the panel's zone file as BIND escapes (\010 newline, \009 tab); served live as the same bytes.
const ZONE_DMARC = `"v=DMARC1; p=none\\010${FORGED}\\009tab"`;
const LIVE_DMARC = `v=DMARC1; p=none\n${FORGED}\ttab`;

describe('newlines and tabs in record text', () => {
  let s: Scenario;
  let base: string[];
  before(async () => {
    s = await scenario({ domains: { 'nl.test': { zone: zoneText({ dmarc: ZONE_DMARC }) } } });
    base = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address, '--authoritative-port', String(s.dns.port)];
  });
  after(() => s.cleanup());

  test('audit (text): escaped, so no line of the output comes from the zone; JSON has the bytes', async () => {
    const j = await runCli([...base, 'audit', '--no-history', 'nl.test', '--json', '--evidence']);
    assert.ok(j.stdout.includes(JSON.stringify(LIVE_DMARC).slice(1, -1)), 'JSON keeps the record as it is');
    const r = await runCli([...base, 'audit', '--no-history', 'nl.test', '--evidence', '--verbose']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /dmarc\.syntax/);
    const lines = r.stdout.split('\n');
    assert.ok(!lines.some((l) => l.trimStart().startsWith('FAIL  forged.rule')), `a forged line:\n${r.stdout}`);
    assert.ok(!r.stdout.includes('\t'), 'no raw tab');
    assert.ok(r.stdout.includes('\\x0aFAIL  forged.rule'), 'the newline is shown escaped');
    assert.ok(r.stdout.includes('\\x09tab'), 'the tab is shown escaped');
    // Our own layout still has its line breaks: one line per finding (and its detail lines).
    assert.ok(lines.length > 5);
  });

  test('fix preview (text): notes built from the record, and the record itself, stay on their own lines', async () => {
    const r = await runCli([...base, 'fix', 'nl.test', '--check', 'dmarc']);
    const lines = r.stdout.split('\n');
    const minus = lines.filter((l) => l.trimStart().startsWith('- '));
    assert.equal(minus.length, 1, r.stdout);
    assert.ok(minus[0].includes('FAIL  forged.rule'), r.stdout);
    assert.ok(!lines.some((l) => l.trimStart().startsWith('FAIL  forged.rule')), r.stdout);
    assert.ok(!r.stdout.includes('\t'));
  });
});

describe('bidi overrides and zero-width characters in record text', () => {
  let s: Scenario;
  let base: string[];
  // U+202E (right-to-left override) and U+200B (zero width space) in the DMARC record, as UTF-8 \DDD escapes.
  const utf8 = (cp: number) => [...Buffer.from(String.fromCodePoint(cp), 'utf8')].map((b) => `\\${String(b).padStart(3, '0')}`).join('');
  before(async () => {
    s = await scenario({ domains: { 'bidi.test': { zone: zoneText({ dmarc: `"v=DMARC1; p=none; rua=mailto:${utf8(0x202e)}moc.evil@x${utf8(0x200b)}.example"` }) } } });
    base = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address, '--authoritative-port', String(s.dns.port)];
  });
  after(() => s.cleanup());

  test('audit --json writes them as \\uXXXX escapes (the same JSON value); the text output shows them escaped', async () => {
    const j = await runCli([...base, 'audit', '--no-history', 'bidi.test', '--json', '--evidence']);
    assert.ok(!/[\u202e\u200b]/.test(j.stdout), 'no raw character in the JSON');
    assert.ok(j.stdout.includes('\\u202e') && j.stdout.includes('\\u200b'), j.stdout);
    assert.ok(JSON.stringify(JSON.parse(j.stdout)).includes('\u202Emoc.evil@x\u200B.example'), 'parsed: the record as it is');
    const r = await runCli([...base, 'audit', '--no-history', 'bidi.test', '--evidence', '--verbose']);
    assert.ok(!/[\u202e\u200b]/.test(r.stdout), 'no raw character in the text output');
    assert.ok(r.stdout.includes('\\u202Emoc.evil@x\\u200B.example'), r.stdout);
  });
});

test('safe / formatFinding / renderPlan escape LF, TAB and other controls in outside text, keep their own layout', () => {
  assert.equal(safe('a\nb\tc\rd\x1be\x7ff\x85'), 'a\\x0ab\\x09c\\x0dd\\x1be\\x7ff\\x85');
  const text = formatFinding(
    { rule: 'dmarc.syntax', check: 'dmarc', severity: 'fail', message: `bad\n${FORGED}`, classification: { class: 'stale', reason: 'r\nFAIL x' }, evidence: { live: [`x\ny`] }, fix: 'dmarc' },
    { color: false, evidence: true, domain: 'nl.test' },
  );
  assert.equal(text.split('\n').length, 4, text); // the finding, its classification, its fix hint, one evidence line
  const plan = {
    domain: 'nl.test',
    check: 'dmarc',
    mode: 'apply',
    planHash: 'sha256:' + '0'.repeat(64),
    zoneVersion: 'v',
    notes: ['note\nFAIL forged'],
    actions: [],
    changes: [{ action: 'edit', name: '_dmarc.nl.test', type: 'TXT', before: { name: '_dmarc.nl.test', type: 'TXT', ttl: 3600, value: LIVE_DMARC, txt: [LIVE_DMARC] }, after: { name: '_dmarc.nl.test', type: 'TXT', ttl: 3600, value: 'v=DMARC1; p=none', txt: ['v=DMARC1; p=none'] } }],
    blocked: 'blocked\nFAIL forged',
  } as unknown as Plan;
  const out = renderPlan(plan);
  assert.equal(out.split('\n').length, 6, out); // head, note, EDIT, -, +, BLOCKED
  assert.ok(!out.includes('\t'));
});
