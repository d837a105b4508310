// Every numeric option is a whole decimal number within its documented range (README "CLI"): anything else — "abc",
// "0x10", "1e3", "-1", a fraction, a number too large to use — is a usage error (exit 2, {"error": {"kind": "usage"}}
// under --json) before anything runs: no database is created, no zone is written. Among them --authoritative-port,
// which used to be ignored ("abc", "0") or to crash the process after the zone was written (70000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';
import { resolverOptionsFrom, UsageError, wholeNumber } from '../../src/cli/context.js';
import { retentionDays } from '../../src/cli/commands/fix.js';

const refused: [string[], RegExp][] = [
  [['--authoritative-port', 'abc', 'audit', 'clean.example'], /--authoritative-port takes a whole number from 1 to 65535/],
  [['--authoritative-port', '-1', 'audit', 'clean.example'], /--authoritative-port takes a whole number/],
  [['--authoritative-port', '0', 'audit', 'clean.example'], /--authoritative-port takes a whole number/],
  [['--authoritative-port', '70000', 'audit', 'clean.example'], /--authoritative-port takes a whole number/],
  [['--authoritative-port', '0x35', 'prune'], /--authoritative-port takes a whole number/],
  [['--concurrency', '0x10', 'audit', 'clean.example'], /--concurrency takes a whole number from 1 to 1024/],
  [['audit', 'clean.example', '--threads', '1e1'], /--threads takes a whole number from 0 to 64/],
  [['prune', '--days', '99999999999'], /--days takes a whole number from 1 to 3650/],
  [['prune', '--days', '0x10'], /--days takes a whole number/],
  [['prune', '--days', '1.5'], /--days takes a whole number/],
  [['prune', '--days', ' 7'], /--days takes a whole number/],
  [['history', '--limit', '99999999999999999999'], /--limit takes a whole number from 1 to 10000/],
  [['history', '--limit', '0'], /--limit takes a whole number/],
  [['report', '--qps', '1e3'], /--qps takes a whole number from 1 to 100000/],
  [['serve', '--port', '65536'], /--port takes a whole number from 0 to 65535/],
  [['demo', '--port', '99999'], /--port takes a whole number from 0 to 65535/],
];

test('bad numeric options: exit 2, a usage error under --json, nothing created', { timeout: 180_000 }, async (t) => {
  const { dir, panel } = await demoPanelWithDns(t, 'mh-numeric-');
  // 127.0.0.1:9 (discard): nothing may get as far as asking DNS anyway.
  const results = await Promise.all(
    refused.map(async ([args, msg], i) => {
      const db = join(dir, `n${i}.sqlite`);
      // `serve` has no --json: there the message on stderr is all.
      const json = !args.includes('serve');
      const r = await runCli(['--panel-root', panel, '--resolver', '127.0.0.1:9', '--db', db, ...args, ...(json ? ['--json'] : [])]);
      return { args, msg, db, json, r };
    }),
  );
  for (const { args, msg, db, json, r } of results) {
    const what = args.join(' ');
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    if (json) {
      const j = JSON.parse(r.stdout) as { error?: { kind: string; message: string } };
      assert.equal(j.error?.kind, 'usage', `${what}: ${r.stdout}`);
      assert.match(j.error.message, msg, what);
    } else assert.equal(r.stdout, '', what);
    assert.match(r.stderr, msg, what);
    assert.doesNotMatch(r.stderr, /RangeError|ERR_SOCKET_BAD_PORT|Invalid time value|datatype mismatch|\n\s+at /, what);
    assert.ok(!existsSync(db), `${what}: no database file created`);
  }
});

test('fix --apply --authoritative-port 70000: refused up front — the zone is not written, no history', { timeout: 120_000 }, async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mh-authport-');
  const zone = join(panel, 'zones', 'florist.example.db');
  const before = readFileSync(zone, 'utf8');
  const db = join(dir, 'h.sqlite');
  const r = await runCli(['--panel-root', panel, '--resolver', dns.address, '--authoritative-port', '70000', '--db', db, 'fix', 'florist.example', '--check', 'dmarc', '--apply', '--json']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { error: { kind: string } }).error.kind, 'usage');
  assert.doesNotMatch(r.stderr, /RangeError|ERR_SOCKET_BAD_PORT/);
  assert.equal(readFileSync(zone, 'utf8'), before, 'the zone is unchanged');
  assert.ok(!existsSync(db), 'no history database');
  // The same fix with the port the DNS server listens on goes through (the option works when valid).
  const ok = await runCli(['--panel-root', panel, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db, 'fix', 'florist.example', '--check', 'dmarc', '--apply', '--json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.equal((JSON.parse(ok.stdout) as { status: string }).status, 'applied');
});

test('wholeNumber / resolverOptionsFrom: decimal digits within range only, for strings and numbers alike', () => {
  assert.equal(wholeNumber('--x', '016', 1, 20), 16);
  assert.equal(wholeNumber('--x', 7, 1, 20), 7);
  for (const bad of ['', ' 1', '1 ', '+1', '-1', '0x10', '1e1', '1.0', '١', '21', '0', '9'.repeat(30)]) {
    assert.throws(() => wholeNumber('--x', bad, 1, 20), UsageError, JSON.stringify(bad));
  }
  for (const bad of [0, 21, 1.5, Number.NaN, Infinity]) assert.throws(() => wholeNumber('--x', bad, 1, 20), UsageError, String(bad));
  // Programmatic callers (serve's resolver factory, tests) are checked the same way as the flag.
  assert.throws(() => resolverOptionsFrom({ authoritativePort: 70000 }), /--authoritative-port takes a whole number from 1 to 65535/);
  assert.throws(() => resolverOptionsFrom({ authoritativePort: 'abc' }), UsageError);
  assert.equal(resolverOptionsFrom({ authoritativePort: 5353 }).authoritativePort, 5353);
  assert.equal(resolverOptionsFrom({ authoritativePort: '5353' }).authoritativePort, 5353);
  assert.equal(resolverOptionsFrom({}).authoritativePort, undefined);
});

test('a stored retention outside 1-3650 days falls back to 90 (never an invalid date in prune)', () => {
  const store = (v: unknown) => ({ getSetting: <T>() => v as T });
  assert.equal(retentionDays(store(30)), 30);
  assert.equal(retentionDays(store(99_999_999_999)), 90);
  assert.equal(retentionDays(store(0.5)), 90);
  assert.equal(retentionDays(store(undefined)), 90);
});
