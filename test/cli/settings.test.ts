// The CLI audits and fixes with the admin's stored settings (the same MailChannels account id as the web UI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SETTING_MAILCHANNELS_ACCOUNT } from '../../src/adapters/panels/with-settings.js';
import { openStore } from '../../src/adapters/store/store.js';
import { demoPanelWithDns, runCli } from '../helpers/cli.js';

test('audit and fix use the MailChannels account id stored on the settings page', async (t) => {
  const { dir, panel, dns } = await demoPanelWithDns(t, 'mh-settings-');
  const db = join(dir, 'h.sqlite');
  const base = ['--panel-root', panel, '--resolver', dns.address, '--db', db];
  const rules = async () => {
    const r = await runCli([...base, 'audit', 'florist.example', '--json', '--no-history']);
    return (JSON.parse(r.stdout).domains[0].findings as { rule: string }[]).map((f) => f.rule);
  };
  // No database yet: the panel's own account id (newhostmc), and none is created just to read settings.
  assert.ok((await rules()).includes('lockdown.stale-auth'));
  assert.ok(!existsSync(db));
  // The admin says the account is "dreamhost": florist.example's auth=dreamhost is now this host's.
  const store = openStore(db);
  store.setSetting(SETTING_MAILCHANNELS_ACCOUNT, 'dreamhost');
  store.close();
  assert.ok(!(await rules()).includes('lockdown.stale-auth'));
  const plan = await runCli([...base, 'fix', 'bakery.example', '--check', 'lockdown', '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  const after = JSON.parse(plan.stdout).changes.map((c: { after: { value: string } | null }) => c.after?.value);
  // bakery.example's auth=newhostmc is no longer this host's account, and nothing says it is a previous host's (it
  // could be the customer's own MailChannels account): kept unless selected for removal.
  assert.deepEqual(after, ['v=mc1 auth=dreamhost auth=newhostmc'], 'the fix writes the configured account id');
  const removed = await runCli([...base, 'fix', 'bakery.example', '--check', 'lockdown', '--remove-term', 'auth=newhostmc', '--json']);
  assert.equal(removed.code, 0, removed.stderr);
  const json = JSON.parse(removed.stdout) as { changes: { after: { value: string } | null }[]; notes: string[] };
  assert.deepEqual(
    json.changes.map((c) => c.after?.value),
    ['v=mc1 auth=dreamhost'],
    '--remove-term selects a lockdown id for removal',
  );
  assert.ok(json.notes.some((n) => n.startsWith('Removes auth=newhostmc (you selected it)')), json.notes.join('\n'));
});
