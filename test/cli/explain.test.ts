// `mailhealth explain`: a bounce in, the receiver/code/meaning and the sender domain's explaining findings out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServer } from '../../src/adapters/dns/server.js';
import { buildWorld } from '../../src/demo/world.js';
import { corpusPath, corpusMissing, REPO_ROOT } from '../helpers/corpora.js';

function run(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/bin.ts'), ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

test('explain: MailChannels 5.7.1 for a demo domain → lockdown.stale-auth; JSON contract; bad input exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-explain-'));
  const panel = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panel, { recursive: true });
  const dns = await startDnsServer({ data: buildWorld(panel) });
  t.after(async () => {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = ['--panel-root', panel, '--resolver', dns.address, 'explain', '--json'];
  const bounce =
    '2026-11-20 10:00:01 1abc-000 ** bob@gmail.com R=dnslookup T=remote_smtp H=relay.mailchannels.net [23.83.209.1]: ' +
    'SMTP error from remote mail server after end of data: 550 5.7.1 This sender is not authorized to send from florist.example.';
  const r = await run([...base, '-'], bounce);
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
    const g = await run([...base, gmail]);
    assert.equal(g.code, 0, g.stderr);
    const gj = JSON.parse(g.stdout);
    assert.equal(gj.receiver, 'gmail');
    assert.equal(gj.code, '5.7.26');
    assert.deepEqual(gj.findings, []);
  }

  const junk = await run([...base, '-'], 'hello there, nothing to see');
  assert.equal(junk.code, 2);
  assert.match(junk.stderr, /mailhealth: /);
  const huge = join(dir, 'huge.txt');
  writeFileSync(huge, '550 5.7.1 ' + 'x'.repeat(400 * 1024));
  const h = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...base, huge], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(h.status, 2);
  assert.match(h.stderr, /too (large|big|long)|KiB|bytes/i);
});
