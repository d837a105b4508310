// CLI: mailhealth fix / undo / history, run as a child process (node --import tsx src/cli/bin.ts) against a files panel and a loopback DNS server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlay, type Play } from '../helpers/fixplay.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

let play: Play;
before(async () => {
  play = await startPlay();
});
after(async () => {
  await play.close();
});

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the CLI as a child process (node --import tsx src/cli/bin.ts); the DNS server stays in this process. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const argv = ['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', play.dbPath + '.cli', ...args];
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [...CLI_ARGV, ...argv], { cwd: ROOT, env: { ...process.env, MAILHEALTH_DB: '' } }, (e, stdout, stderr) => {
      const code = e ? (typeof (e as { code?: unknown }).code === 'number' ? ((e as { code: number }).code) : -1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
  // The CLI's files panel wrote the zone; the test's DNS server picks it up like a live authoritative server.
  play.refresh();
  return r;
}

describe('mailhealth fix / undo / history', () => {
  let changeId = 0;

  test('fix --check spf --json previews the plan and changes nothing', async () => {
    const before = play.zoneText('bakery.example');
    const r = await run('fix', 'bakery.example', '--check', 'spf', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.domain, 'bakery.example');
    assert.equal(j.check, 'spf');
    assert.match(j.planHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(j.changes.length, 1);
    assert.equal(j.changes[0].action, 'edit');
    assert.equal(j.changes[0].after.value, 'v=spf1 +a +mx include:_spf.google.com include:relay.mailchannels.net ~all');
    assert.equal(j.changeId, undefined);
    assert.equal(play.zoneText('bakery.example'), before);
  });

  test('fix --apply --json applies, adding changeId and verified', async () => {
    const preview = JSON.parse((await run('fix', 'bakery.example', '--check', 'spf', '--json')).out);
    const r = await run('fix', 'bakery.example', '--check', 'spf', '--apply', '--plan-hash', preview.planHash, '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const j = JSON.parse(r.out);
    assert.equal(j.domain, 'bakery.example');
    assert.equal(j.check, 'spf');
    assert.equal(j.planHash, preview.planHash);
    assert.ok(Number.isInteger(j.changeId) && j.changeId > 0);
    // The test's DNS server reloads the zone only after the CLI exits, so the CLI's own verification (asking the
    // authoritative server right after the write) deterministically sees the old records.
    assert.equal(j.verified, 'propagating');
    changeId = j.changeId;
    assert.match(play.zoneText('bakery.example'), /"v=spf1 \+a \+mx include:_spf\.google\.com include:relay\.mailchannels\.net ~all"/);
    // Fixed: the next preview is empty.
    const again = JSON.parse((await run('fix', 'bakery.example', '--check', 'spf', '--json')).out);
    assert.deepEqual(again.changes, []);
    // The same command again (a retried script): not applied twice; it names the change, exit 0.
    const zoneNow = play.zoneText('bakery.example');
    const twice = await run('fix', 'bakery.example', '--check', 'spf', '--apply', '--plan-hash', preview.planHash, '--json');
    assert.equal(twice.code, 0, twice.err + twice.out);
    const t = JSON.parse(twice.out);
    assert.equal(t.status, 'already');
    assert.equal(t.changeId, j.changeId);
    assert.equal(t.changeStatus, 'applied');
    assert.match(t.reason, new RegExp(`already applied as change #${j.changeId}`));
    assert.equal(t.planHash, preview.planHash, 'the preview\'s hash');
    assert.deepEqual(t.changes, j.changes, 'the records that change wrote');
    assert.equal(play.zoneText('bakery.example'), zoneNow, 'nothing written');
  });

  test('--apply with nothing to change exits 0 (as the preview does), says so, and writes nothing', async () => {
    const before = play.zoneText('clean.example');
    const preview = await run('fix', 'clean.example', '--check', 'spf', '--json');
    assert.equal(preview.code, 0, preview.err);
    assert.equal(JSON.parse(preview.out).changes.length, 0);
    const r = await run('fix', 'clean.example', '--check', 'spf', '--apply', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const j = JSON.parse(r.out);
    assert.equal(j.status, 'refused');
    assert.equal(j.why, 'nothing');
    assert.match(j.reason, /Nothing to change/);
    const text = await run('fix', 'clean.example', '--check', 'spf', '--apply');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^Nothing to change: the records are already right\.$/m);
    assert.equal(play.zoneText('clean.example'), before);
  });

  test('--apply with a stale --plan-hash is refused (exit 1) and writes nothing', async () => {
    const before = play.zoneText('florist.example');
    const r = await run('fix', 'florist.example', '--check', 'dmarc', '--apply', '--plan-hash', 'sha256:' + '1'.repeat(64), '--json');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out);
    assert.equal(j.status, 'refused');
    assert.equal(play.zoneText('florist.example'), before);
  });

  test('undo ID --json reverts the change', async () => {
    const r = await run('undo', String(changeId), '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const j = JSON.parse(r.out);
    assert.equal(j.status, 'applied');
    assert.equal(j.undoOf, changeId);
    assert.ok(j.changeId > changeId);
    assert.match(play.zoneText('bakery.example'), /include:websitewelcome\.com/);
    // Sent again: answered with the undo that was made ("already", exit 0), nothing written twice.
    const twice = await run('undo', String(changeId), '--json');
    assert.equal(twice.code, 0);
    assert.deepEqual([JSON.parse(twice.out).status, JSON.parse(twice.out).changeId], ['already', j.changeId]);
  });

  test('history DOMAIN --json lists the changes newest first', async () => {
    const r = await run('history', 'bakery.example', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.ok(Array.isArray(j.audits));
    const ids = j.changes.map((c: { id: number }) => c.id);
    assert.deepEqual(ids, [...ids].sort((a: number, b: number) => b - a));
    assert.equal(j.changes.length, 2);
    assert.equal(j.changes[0].undoOf, changeId);
    assert.equal(j.changes[1].id, changeId);
    assert.equal(j.changes[1].status, 'reverted');
    assert.ok(j.changes.every((c: { domain: string }) => c.domain === 'bakery.example'));
  });

  test('--check bogus → exit 2', async () => {
    const r = await run('fix', 'bakery.example', '--check', 'bogus', '--json');
    assert.equal(r.code, 2);
    assert.match(r.err, /--check must be one of/);
  });

  test("a domain outside --as bob's scope → exit 2, nothing written", async () => {
    const before = play.zoneText('florist.example');
    const r = await run('fix', 'florist.example', '--check', 'dmarc', '--as', 'bob', '--apply', '--json');
    assert.equal(r.code, 2);
    assert.match(r.err, /not a domain bob may see/);
    assert.equal(play.zoneText('florist.example'), before);
    // bob's own domain works.
    const ok = await run('fix', 'dentist.example', '--check', 'dmarc', '--as', 'bob', '--json');
    assert.equal(ok.code, 0, ok.err);
    // And bob cannot undo or see someone else's change.
    assert.equal((await run('undo', String(changeId), '--as', 'bob', '--json')).code, 2);
    const h = JSON.parse((await run('history', '--as', 'bob', '--json')).out);
    assert.ok(h.changes.every((c: { domain: string }) => c.domain !== 'bakery.example'));
  });

  test('publish-elsewhere: fix --apply on lawyer.example is refused and the records to publish are shown', async () => {
    const before = play.zoneText('lawyer.example');
    const r = await run('fix', 'lawyer.example', '--check', 'spf', '--apply', '--json');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out);
    assert.equal(j.mode, 'publish-elsewhere');
    assert.equal(j.status, 'refused');
    assert.equal(j.changes[0].after.value, 'v=spf1 +a +mx include:relay.mailchannels.net ~all');
    assert.equal(play.zoneText('lawyer.example'), before);
  });
});
