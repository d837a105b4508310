// CLI `undo N` of a change whose fix was interrupted and is not settled yet (its domain lock still held by the killed
// process, or its zone unreadable): it says the change is still being settled and to try again shortly — not
// "Change N is intent, not applied: nothing to undo" — and writes nothing; once settled, the undo goes through.
import assert from 'node:assert/strict';
import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';

const HASH = `sha256:${'0'.repeat(64)}`;

/** An empty config file: the test never reads the installed /etc/mailhealth/config.json (a --config path must exist). */
function emptyConfig(dir: string): string {
  const path = join(dir, 'empty-config.json');
  writeFileSync(path, '{}\n');
  return path;
}

test('undo of an interrupted fix whose lock is still held: "still being settled", nothing written; undone once the lock expired', async (t) => {
  const { dir, panel: panelDir, dns } = await demoPanelWithDns(t, 'mailhealth-undo-settling-');
  const db = join(dir, 'h.sqlite');
  const cli = (...args: string[]) =>
    runCli(['--panel', 'files', '--panel-root', panelDir, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db, '--config', emptyConfig(dir), ...args]);
  const zoneText = () => readFileSync(join(panelDir, 'zones', 'florist.example.db'), 'utf8');

  // A fix killed after its write: intent, zone written, its domain lock leased for 2 minutes from now.
  const panel = new FilesPanel(panelDir);
  const zone = await panel.readZone('florist.example');
  const before = zone.records.find((r) => r.name === '_mailchannels.florist.example' && r.type === 'TXT')!;
  const after = { name: before.name, ttl: before.ttl, type: 'TXT', value: 'v=mc1 auth=newhostmc', txt: ['v=mc1 auth=newhostmc'] };
  const changes: Change[] = [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after }];
  const store = openStore(db);
  assert.ok(store.tryLock('domain:florist.example', 'root:4242:deadbeefcafe', 120_000));
  const id = store.recordIntent({ domain: 'florist.example', check: 'lockdown', planHash: HASH, zoneVersion: zone.version, changes, byUser: 'root' });
  await panel.applyChanges('florist.example', changes, zone.version);
  store.close();
  const written = zoneText();

  const json = await cli('undo', String(id), '--json');
  assert.equal(json.code, 1, json.stderr);
  const j = JSON.parse(json.stdout) as { status: string; reason: string; undoOf: number };
  assert.equal(j.status, 'refused');
  assert.equal(j.undoOf, id, 'a refused undo names the change it was for (README: undo --json has undoOf), as the web API does');
  assert.match(j.reason, new RegExp(`^Change ${id} is still being settled: a fix on florist\\.example was interrupted \\(or is still running\\)`));
  assert.match(j.reason, /once its lock on the domain expires \(at most 2 minutes\)\. Nothing was changed; try again shortly\.$/);
  const text = await cli('undo', String(id));
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^refused: Change \d+ is still being settled/);
  assert.doesNotMatch(text.stdout, /intent, not applied/);
  assert.equal(zoneText(), written, 'nothing written');

  // The killed process's lease runs out: the next undo settles the change first, then undoes it.
  const s = openStore(db);
  assert.ok(s.releaseLock('domain:florist.example', 'root:4242:deadbeefcafe'));
  s.close();
  const done = await cli('undo', String(id), '--json');
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.equal((JSON.parse(done.stdout) as { status: string }).status, 'applied');
  assert.match(zoneText(), /auth=dreamhost/);
});

test('undo of an interrupted fix whose zone cannot be read: "still being settled", with the reason', async (t) => {
  const { dir, panel: panelDir, dns } = await demoPanelWithDns(t, 'mailhealth-undo-settling-');
  const db = join(dir, 'h.sqlite');
  const cli = (...args: string[]) =>
    runCli(['--panel', 'files', '--panel-root', panelDir, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db, '--config', emptyConfig(dir), ...args]);
  const store = openStore(db);
  const rec = { name: '_mh-never.plumber.example', ttl: 300, type: 'TXT', value: 'never written', txt: ['never written'] };
  const id = store.recordIntent({ domain: 'plumber.example', check: 'dmarc', planHash: HASH, zoneVersion: null, changes: [{ action: 'add', name: rec.name, type: 'TXT', ttl: 300, before: null, after: rec }], byUser: 'root' });
  store.close();
  const zoneFile = join(panelDir, 'zones', 'plumber.example.db');
  renameSync(zoneFile, `${zoneFile}.away`);
  const r = await cli('undo', String(id), '--json');
  assert.equal(r.code, 1, r.stderr);
  const reason = (JSON.parse(r.stdout) as { reason: string }).reason;
  assert.match(reason, new RegExp(`^Change ${id} is still being settled: a fix on plumber\\.example was interrupted and whether it was written could not be checked yet \\(.+\\); it is checked again on the next try\\.`));
  // Readable again: settled (never written), and undo answers as for any change that was not applied.
  renameSync(`${zoneFile}.away`, zoneFile);
  const again = await cli('undo', String(id), '--json');
  assert.equal(again.code, 1);
  assert.match((JSON.parse(again.stdout) as { reason: string }).reason, new RegExp(`^Change ${id} is failed, not applied`));
});
