// `mailhealth explain --domain D`: the way to choose the domain a bounce does not name (or to audit another one than it
// names), through the one domain validator and scope check; the receiver of a receiver-specific wording; a blocklist
// bounce while the blocklist check is off (the default) says so instead of "nothing explains it".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusMissing, corpusPath } from '../helpers/corpora.js';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';

const GMAIL = 'bounces/gmail-5.7.26.txt';

test('explain --domain: a bounce without a domain is explained for the chosen one; the choice is validated and scoped', async (t) => {
  const { panel, dns } = await demoPanelWithDns(t, 'mh-explain-domain-');
  const base = ['--panel-root', panel, '--resolver', dns.address];

  const help = await runCli(['explain', '--help']);
  assert.match(help.stdout, /--domain <domain>/);

  const gmail = corpusPath(GMAIL);
  if (!gmail) t.diagnostic(corpusMissing(GMAIL));
  else {
    // Without --domain: nothing audited, and the note names the real way to choose.
    const plain = JSON.parse((await runCli([...base, 'explain', '--json', gmail])).stdout);
    assert.equal(plain.domain, null);
    assert.ok(plain.notes.some((n: string) => /does not name the sender's domain: .*--domain/.test(n)), plain.notes.join(' | '));
    // With --domain: bakery.example is audited; its SPF lacks the relay, which makes SPF fail (5.7.26).
    const r = await runCli([...base, 'explain', '--json', '--domain', 'BAKERY.example.', gmail]);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.domain, 'bakery.example');
    assert.ok(j.findings.some((f: { rule: string }) => f.rule === 'spf.server-not-authorized'), JSON.stringify(j.findings.map((f: { rule: string }) => f.rule)));
    assert.equal(j.verdict, 'explained', 'the JSON says the verdict');
    assert.ok(!j.notes.some((n: string) => /does not name/.test(n)));
    const text = await runCli([...base, 'explain', '--domain', 'bakery.example', gmail]);
    assert.match(text.stdout, /Domain: +bakery\.example/);
    assert.match(text.stdout, /What in the DNS causes it:/);
  }

  // The bounce names florist.example; the chosen bakery.example is used, and a note says so.
  const mc = '550 5.7.1 This sender is not authorized to send from florist.example.';
  const other = JSON.parse((await runCli([...base, 'explain', '--json', '--domain', 'bakery.example', '-'], mc)).stdout);
  assert.equal(other.domain, 'bakery.example');
  assert.ok(other.notes.some((n: string) => /names florist\.example, but you chose bakery\.example: the explanation uses bakery\.example/.test(n)), other.notes.join(' | '));

  // Out of scope (bob's domain for alice), not a domain name, another panel's domain: the CLI's usual refusal, exit 2.
  const out = await runCli([...base, '--as', 'alice', 'explain', '--json', '--domain', 'plumber.example', '-'], mc);
  assert.equal(out.code, 2);
  assert.match(JSON.parse(out.stdout).error.message, /plumber\.example is not a domain alice may see on this panel/);
  const bad = await runCli([...base, 'explain', '--domain', 'not a domain', '-'], mc);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid domain name/);
  const nowhere = await runCli([...base, 'explain', '--domain', 'nowhere.example', '-'], mc);
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /nowhere\.example is not a domain root may see/);
});

test('explain: receiver of Microsoft\'s 5.7.509 wording; a blocklist bounce with the blocklist check off', async (t) => {
  const { panel, dns } = await demoPanelWithDns(t, 'mh-explain-bl-');
  const base = ['--panel-root', panel, '--resolver', dns.address, 'explain', '--json', '-'];
  const ms = JSON.parse((await runCli(base, '550 5.7.509 Access denied, sending domain bakery.example does not pass DMARC verification and has a DMARC policy of reject.')).stdout);
  assert.equal(ms.receiver, 'microsoft');
  const text = await runCli(base.filter((a) => a !== '--json'), '550 5.7.509 Access denied, sending domain bakery.example does not pass DMARC verification and has a DMARC policy of reject.');
  assert.match(text.stdout, /^Receiver: Microsoft/m);

  const blocked = '554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using zen.spamhaus.org; from=<info@bakery.example>';
  // The demo's server relays through MailChannels: the blocked address is the relay's, never "turn the check on".
  const relayed = JSON.parse((await runCli(base, blocked)).stdout);
  assert.ok(relayed.notes.some((n: string) => /sends its mail through a relay \(ptr\.relay\)/.test(n)), relayed.notes.join(' | '));
  assert.ok(!relayed.notes.some((n: string) => /blocklist check is off/.test(n)), relayed.notes.join(' | '));
  // Without the relay, the audit could have looked the server's own address up: the check is off, and that is said.
  const cfgPath = join(panel, 'panel.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { server: Record<string, unknown> };
  cfg.server = { ...cfg.server, relay: null };
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const r = await runCli(base, blocked);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.domain, 'bakery.example');
  assert.deepEqual(j.findings, []);
  assert.ok(!j.notes.some((n: string) => /Nothing in the audit explains/.test(n)), j.notes.join(' | '));
  assert.ok(j.notes.some((n: string) => /blocklist check is off/.test(n) && /Settings/.test(n) && /"Check the sending IPs against blocklists"/.test(n)), j.notes.join(' | '));
  const human = await runCli(base.filter((a) => a !== '--json'), blocked);
  assert.doesNotMatch(human.stdout, /Nothing in the domain's DNS explains/);
  assert.match(human.stdout, /did not check blocklists/);
});
