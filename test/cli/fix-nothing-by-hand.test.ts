// `fix --apply` of a DMARC plan that changes nothing but whose note asks for a hand edit (a stranger's TXT at
// _dmarc.<domain>, which OpenDMARC may read instead of the DMARC record): the refusal is all the CLI prints, so it
// quotes the note — it said "the note above says what to change by hand" with no note above it (review, 2026-11-29).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CLI_ARGV } from '../helpers/cli-argv.js';
import { scenario, zoneText } from '../helpers/scenario.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('fix --apply with nothing for the fix to change quotes the hand-edit note', async () => {
  const s = await scenario({ domains: { 'token.test': { zone: zoneText({ extra: ['_dmarc\tIN\tTXT\t"google-site-verification=yyy"'] }) } } });
  try {
    const argv = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address, '--authoritative-port', String(s.dns.port), '--db', join(s.root, 'db.sqlite'), 'fix', 'token.test', '--check', 'dmarc', '--apply'];
    const r = await new Promise<{ out: string; err: string }>((res) =>
      execFile(process.execPath, [...CLI_ARGV, ...argv], { cwd: ROOT, env: { ...process.env, MAILHEALTH_DB: '' } }, (_e, out, err) => res({ out, err })),
    );
    const said = r.out + r.err;
    assert.doesNotMatch(said, /note above/);
    assert.doesNotMatch(said, /already right/);
    assert.match(said, /Nothing for the fix to change\. By hand: .*remove it by hand/);
  } finally {
    await s.cleanup();
  }
});
