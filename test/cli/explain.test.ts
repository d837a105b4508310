// `mailhealth explain`: a bounce in, the receiver/code/meaning and the sender domain's explaining findings out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusPath, corpusMissing } from '../helpers/corpora.js';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';

test('explain: MailChannels 5.7.1 for a demo domain → lockdown.stale-auth; JSON contract; bad input exits 2', async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mh-explain-');
  const base = ['--panel-root', panel, '--resolver', dns.address, 'explain', '--json'];
  const bounce =
    '2026-11-20 10:00:01 1abc-000 ** bob@gmail.com R=dnslookup T=remote_smtp H=relay.mailchannels.net [23.83.209.1]: ' +
    'SMTP error from remote mail server after end of data: 550 5.7.1 This sender is not authorized to send from florist.example.';
  const r = await runCli([...base, '-'], bounce);
  assert.equal(r.code, 1, r.stderr); // explained by a failing finding
  const j = JSON.parse(r.stdout);
  for (const k of ['receiver', 'code', 'meaning', 'domain', 'ip', 'findings', 'outsideDns']) assert.ok(k in j, `has ${k}`);
  assert.equal(j.receiver, 'mailchannels');
  assert.equal(j.code, '5.7.1');
  assert.equal(j.domain, 'florist.example');
  assert.equal(j.findings[0].rule, 'lockdown.stale-auth');
  assert.equal(j.findings[0].fix, 'lockdown');

  // From a file: the corpus's Gmail 5.7.26 DSN (its sender domain is not on this panel: only the code is explained).
  const gmail = corpusPath('bounces/gmail-5.7.26.txt');
  if (!gmail) t.diagnostic(corpusMissing('bounces/gmail-5.7.26.txt'));
  else {
    const g = await runCli([...base, gmail]);
    assert.equal(g.code, 0, g.stderr);
    const gj = JSON.parse(g.stdout);
    assert.equal(gj.receiver, 'gmail');
    assert.equal(gj.code, '5.7.26');
    assert.deepEqual(gj.findings, []);
  }

  const junk = await runCli([...base, '-'], 'hello there, nothing to see');
  assert.equal(junk.code, 2);
  assert.match(junk.stderr, /mailhealth: /);
  const huge = join(dir, 'huge.txt');
  writeFileSync(huge, '550 5.7.1 ' + 'x'.repeat(400 * 1024));
  const h = await runCli([...base, huge]);
  assert.equal(h.code, 2);
  assert.match(h.stderr, /too (large|big|long)|KiB|bytes/i);
});
