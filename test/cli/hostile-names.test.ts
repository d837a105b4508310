// Names the panel hands over are outside text too: a domain in panel.json (kept, lower-cased, so that it can be
// reported unreadable) and an account name that holds terminal escapes must not reach the terminal raw from `history`
// (CLI QA: it printed an OSC 8 link and "erase line" from the change list). Options that name something, given empty,
// are usage errors (an empty --as acted as the admin over every domain), and a missing front-door key says what it is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { scenario, zoneText, type Scenario } from '../helpers/scenario.js';

const ESC = '\x1b';
const EVIL_DOMAIN = `evil${ESC}[31m.example${ESC}[2j`;
const EVIL_USER = `m${ESC}]8;;http://evil.test/${ESC}\\al${ESC}]8;;${ESC}\\${ESC}[1A${ESC}[2K`;
// No raw control or bidi character (our own layout's line breaks aside).
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('hostile names from the panel in `history`, and empty naming options', () => {
  let s: Scenario;
  let base: string[];
  before(async () => {
    s = await scenario({ domains: { 'florist.test': { zone: zoneText({ dmarc: null }) } } });
    const cfg = JSON.parse(readFileSync(join(s.root, 'panel.json'), 'utf8')) as { accounts: { user: string; role: string; domains?: string[] }[] };
    cfg.accounts.push({ user: EVIL_USER, role: 'customer', domains: ['florist.test', EVIL_DOMAIN] });
    cfg.accounts = cfg.accounts.filter((a) => a.user !== 'alice');
    writeFileSync(join(s.root, 'panel.json'), JSON.stringify(cfg));
    base = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address, '--authoritative-port', String(s.dns.port), '--db', join(s.root, 'h.sqlite')];
  });
  after(() => s.cleanup());

  test('history (text) escapes the domain and the user name; JSON keeps them', async () => {
    const audit = await runCli([...base, '--as', EVIL_USER, 'audit', '--all']);
    assert.ok(audit.code !== null && audit.code <= 1, audit.stderr);
    const fix = await runCli([...base, '--as', EVIL_USER, 'fix', 'florist.test', '--check', 'dmarc', '--apply']);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    const h = await runCli([...base, 'history']);
    assert.equal(h.code, 0, h.stderr);
    assert.ok(h.stdout.includes('florist.test'), h.stdout);
    assert.ok(!RAW.test(h.stdout), `raw control characters in:\n${JSON.stringify(h.stdout)}`);
    // The panel's listed name with an escape sequence is no domain name: left out of the listing (adapters/panels/listed.ts),
    // so it was never audited; the user name still is shown, escaped.
    assert.ok(!h.stdout.includes('[31m.example'), h.stdout);
    assert.ok(h.stdout.includes('by m\\x1b]8;;http://evil.test/'), h.stdout);
    const j = await runCli([...base, 'history', '--json']);
    const parsed = JSON.parse(j.stdout) as { changes: { byUser: string }[] };
    assert.equal(parsed.changes[0].byUser, EVIL_USER);
  });

  test('an empty --as (or --panel-root, --panel-url, --panel-user) is a usage error, never the admin', async () => {
    for (const [flag, what] of [['--as', /--as needs an account name/], ['--panel-root', /--panel-root needs a directory/], ['--panel-url', /--panel-url needs/], ['--panel-user', /--panel-user needs/]] as const) {
      const r = await runCli([...base, flag, '', 'audit', '--all', '--json']);
      assert.equal(r.code, 2, `${flag}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, what);
      assert.equal((JSON.parse(r.stdout) as { error: { kind: string } }).error.kind, 'usage');
    }
  });

  test('a usage error naming hostile text is escaped on stderr', async () => {
    const r = await runCli([...base, '--as', `x${ESC}[2J`, 'audit', '--all']);
    assert.equal(r.code, 2);
    assert.ok(!RAW.test(r.stderr.replace(/\n$/, '')), JSON.stringify(r.stderr));
    assert.match(r.stderr, /x\\x1b\[2J/);
  });

  test('service --key naming a missing file says it is the front-door key', async () => {
    const r = await runCli([...base, 'service', '--key', join(s.root, 'nope.key'), '--host', '127.0.0.1', '--port', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the front-door key .*nope\.key: no such file/);
  });
});
