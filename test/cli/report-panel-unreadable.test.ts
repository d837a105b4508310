// `mailhealth report` when the panel cannot be read: still exit 2 with the panel's error (kind "panel"), as before —
// and, as the background service does, the night is recorded as a failed report run (in a history database that
// exists: none is created for it) and, with --email, the admin's recipients get the same short notice.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/adapters/store/store.js';
import { PanelError } from '../../src/core/panel.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import type { MailMessage } from '../../src/adapters/mail/deliver.js';
import { cli, errorOf, sandbox } from './fixtures/run-cli.js';

const BROKEN = /^files panel: panel\.json is not valid JSON/;

test('report --email, panel.json broken: the PanelError goes on (exit 2), the failed run is recorded and the admin gets the notice', { timeout: 60_000 }, async (t) => {
  const s = sandbox(t, 'mh-report-panel-');
  const store = openStore(s.db);
  store.setSetting('report.recipients', ['admin@newhost.example']);
  store.setSetting('report.resellers', { rita: 'rita@reseller.example' });
  store.close();
  writeFileSync(join(s.panel, 'panel.json'), '{broken');
  const sent: MailMessage[] = [];
  let stderr = '';
  await assert.rejects(
    reportCommand(
      { panel: 'files', panelRoot: s.panel, resolver: '127.0.0.1:9', db: s.db, email: true },
      { mailer: { async sendMail(m) { sent.push(m); } }, stdout: () => {}, stderr: (x) => void (stderr += x) },
    ),
    (e: unknown) => e instanceof PanelError && BROKEN.test(e.message),
  );
  const after = openStore(s.db);
  try {
    const runs = after.listRuns({ kind: 'report' });
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'interrupted');
    assert.match(String((runs[0].meta as { failed: string; reason: string }).reason), BROKEN);
    assert.deepEqual(sent.map((m) => m.to), ['admin@newhost.example'], 'the admin only: resellers get no notice');
    assert.match(sent[0].text, /^mailhealth could not read the panel: files panel: panel\.json is not valid JSON.*; no audit ran tonight\./);
    assert.deepEqual(after.deliveries(runs[0].id).map((d) => [d.recipient, d.ok]), [['admin@newhost.example', true]]);
  } finally {
    after.close();
  }
  assert.match(stderr, /report run 1: mailhealth could not read the panel: files panel: panel\.json is not valid JSON/);
});

test('through the command line: exit 2 and the panel error as before; no database created for it, one that exists records the run', { timeout: 90_000 }, async (t) => {
  const s = sandbox(t, 'mh-report-panel-cli-');
  writeFileSync(join(s.panel, 'panel.json'), '{broken');
  const base = ['--panel-root', s.panel, '--resolver', '127.0.0.1:9', '--db', s.db, 'report'];

  const fresh = await cli([...base, '--json']);
  assert.equal(fresh.code, 2, fresh.stderr);
  const e = errorOf(fresh.stdout);
  assert.equal(e.kind, 'panel');
  assert.match(e.message, BROKEN);
  assert.ok(!existsSync(s.db), 'no database created for a failed run');

  openStore(s.db).close();
  const text = await cli(base);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, /^mailhealth: report run 1: mailhealth could not read the panel: files panel: panel\.json is not valid JSON/m);
  assert.match(text.stderr, /^mailhealth: panel error \(other\): files panel: panel\.json is not valid JSON/m);
  const store = openStore(s.db);
  try {
    assert.deepEqual(store.listRuns({ kind: 'report' }).map((r) => [r.status, (r.meta as { failed?: string }).failed]), [['interrupted', 'panel']]);
  } finally {
    store.close();
  }
});
