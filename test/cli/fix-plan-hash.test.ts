// Found by QA walking the README: the text preview printed the plan hash cut (`sha256:8a1ff21fe4f4…`) while
// `--plan-hash` takes "what a preview printed" — the cut hash was refused as "zone changed"; a --remove-term the fix
// does not use (dkim, dmarc) was dropped without a word; `history` said "1 problems".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startPlay, type Play } from '../helpers/fixplay.js';
import { openStore } from '../../src/adapters/store/store.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

let play: Play;
before(async () => {
  play = await startPlay();
});
after(async () => {
  await play.close();
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const argv = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', play.dbPath + '.cli', ...args];
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [...CLI_ARGV, ...argv], { cwd: REPO_ROOT, env: { ...process.env, MAILHEALTH_DB: '' } }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : -1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
  play.refresh();
  return r;
}

describe('fix: the plan hash a preview prints, and arguments the fix would not use', () => {
  test('a --plan-hash that is not sha256: and 64 hex digits is a usage error (exit 2, kind usage); nothing written', async () => {
    const zone = play.zoneText('bakery.example');
    const full = (JSON.parse((await run('fix', 'bakery.example', '--check', 'spf', '--json')).out) as { planHash: string }).planHash;
    for (const bad of [`${full.slice(0, 19)}…`, full.slice(0, 19), full.slice(0, -1), full.toUpperCase(), full.slice('sha256:'.length), `${full} `, '']) {
      const r = await run('fix', 'bakery.example', '--check', 'spf', '--apply', '--plan-hash', bad, '--json');
      assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.out}${r.err}`);
      assert.equal((JSON.parse(r.out) as { error: { kind: string } }).error.kind, 'usage');
      assert.match(r.err, /--plan-hash takes the whole hash a preview printed/);
    }
    assert.equal(play.zoneText('bakery.example'), zone, 'the zone is untouched');
    assert.equal(existsSync(play.dbPath + '.cli'), false, 'no history database was created');
  });

  test('the text preview prints the whole hash, and --apply --plan-hash takes it', async () => {
    const text = await run('fix', 'bakery.example', '--check', 'spf');
    assert.equal(text.code, 0, text.err);
    const json = JSON.parse((await run('fix', 'bakery.example', '--check', 'spf', '--json')).out) as { planHash: string };
    const m = /\((sha256:[^)\s]*)\)/.exec(text.out.split('\n')[0]);
    assert.ok(m, text.out);
    assert.equal(m[1], json.planHash, 'the hash printed is the whole one');
    const applied = await run('fix', 'bakery.example', '--check', 'spf', '--apply', '--plan-hash', m[1]);
    assert.equal(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /change \d+; undo with/);
  });

  test('--remove-term with --check dkim or dmarc is a usage error (their fixes have no terms); with spf/lockdown it is taken', async () => {
    for (const check of ['dkim', 'dmarc']) {
      const r = await run('fix', 'florist.example', '--check', check, '--remove-term', 'include:x.example', '--json');
      assert.equal(r.code, 2, `${check}: ${r.out}${r.err}`);
      assert.equal((JSON.parse(r.out) as { error: { kind: string } }).error.kind, 'usage');
      assert.match(r.err, new RegExp(`--remove-term is for --check spf .* the ${check} fix has no terms to remove`));
    }
    const spf = await run('fix', 'florist.example', '--check', 'spf', '--remove-term', 'include:x.example', '--json');
    assert.notEqual(spf.code, 2, spf.err);
    assert.ok(JSON.parse(spf.out).planHash);
  });
});

test('history (text): "1 problem", "2 problems"', () => {
  const db = join(play.dir, '..', 'history-plural.sqlite');
  const store = openStore(db);
  const finding = (rule: string, severity: 'warn' | 'pass') => ({ rule, check: 'spf' as const, severity, message: rule, evidence: {} });
  const run1 = store.startRun('audit', 'root', 2);
  store.recordAudits(run1, [
    { audit: { domain: 'bakery.example', status: 'warn', auditedAt: '2027-03-01T12:00:00.000Z', findings: [finding('spf.a', 'warn'), finding('spf.ok', 'pass')] }, owner: 'alice' },
    { audit: { domain: 'florist.example', status: 'warn', auditedAt: '2027-03-01T12:00:01.000Z', findings: [finding('spf.a', 'warn'), finding('spf.b', 'warn')] }, owner: 'alice' },
  ]);
  store.finishRun(run1, 'complete');
  store.close();
  const r = spawnSync(process.execPath, [...CLI_ARGV, '--panel-root', play.dir, '--db', db, 'history'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MAILHEALTH_DB: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /bakery\.example .* 1 problem\n/);
  assert.match(r.stdout, /florist\.example .* 2 problems\n/);
});
