// report.recipients stored as one string of several addresses ("ops@example.com, noc@example.com", as set with sqlite3
// — the README invites it): the settings page showed two good addresses, the mailer read the string as one address,
// refused it and sent to nobody. Both read it now with the one reader (splitAddresses); so does report.resellers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../../src/adapters/store/store.js';
import { deliverNightly, DELIVERY_SETTINGS, deliverySettings, lenientDeliverySettings, type MailMessage } from '../../../src/adapters/mail/deliver.js';
import { splitAddresses } from '../../../src/core/recipients.js';
import { readSettings, saveSettings } from '../../../src/web/settings.js';

function freshStore(t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deliver-rcpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  return store;
}

test('splitAddresses: commas, semicolons and white space separate addresses, in a string or in each string of a list', () => {
  assert.deepEqual(splitAddresses('ops@example.com, noc@example.com'), ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(splitAddresses(' a@x.example;b@x.example\tc@x.example\n'), ['a@x.example', 'b@x.example', 'c@x.example']);
  assert.deepEqual(splitAddresses(['a@x.example, b@x.example', 'c@x.example']), ['a@x.example', 'b@x.example', 'c@x.example']);
  // Words that are not all addresses are one mistyped address, reported as written — not three bad ones.
  assert.deepEqual(splitAddresses('rita at example.com, ops@x.example'), ['rita at example.com', 'ops@x.example']);
  assert.deepEqual(splitAddresses('Ops  <ops@x.example>'), ['Ops <ops@x.example>']);
  assert.deepEqual(splitAddresses(''), []);
  assert.deepEqual(splitAddresses(undefined), []);
  assert.deepEqual(splitAddresses(null), []);
  // Not strings: kept for the caller to report as not addresses.
  assert.deepEqual(splitAddresses(['a@x.example', 42]), ['a@x.example', 42]);
  assert.deepEqual(splitAddresses({ to: 'a@x.example' }), [{ to: 'a@x.example' }]);
});

test('one string of two addresses: the mailer sends to the two addresses the settings page shows', async (t) => {
  const store = freshStore(t);
  store.setSetting(DELIVERY_SETTINGS.recipients, 'ops@example.com, noc@example.com');
  const shown = readSettings(store).reportRecipients;
  assert.equal(shown, 'ops@example.com, noc@example.com');
  const { settings, problems } = lenientDeliverySettings(store);
  assert.deepEqual(problems, []);
  assert.deepEqual(settings.recipients, ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(settings.recipients, shown.split(', '));
  assert.deepEqual(deliverySettings(store).recipients, ['ops@example.com', 'noc@example.com']);

  // And the nightly delivery sends one message to each.
  const runId = store.startRun('report', 'root', 0);
  const sent: string[] = [];
  const rendered = { subject: 's', text: 't', html: '<p>h</p>' };
  const results = await deliverNightly(
    { runId, rendered, resellers: [], partFor: () => ({ doc: {} as never, rendered }) },
    { store, mailer: { async sendMail(m: MailMessage) { sent.push(m.to); } } },
  );
  assert.deepEqual(sent, ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(results.map((r) => [r.recipient, r.ok]), [['ops@example.com', true], ['noc@example.com', true]]);
});

test('a string with one bad address among good ones: the bad one is the problem, the good ones are kept (page and mailer alike)', (t) => {
  const store = freshStore(t);
  store.setSetting(DELIVERY_SETTINGS.recipients, 'ops@example.com; -oQ/tmp/x@example.com noc@example.com');
  store.setSetting(DELIVERY_SETTINGS.resellers, { rita: 'rita@reseller.example, help@reseller.example' });
  const { settings, problems } = lenientDeliverySettings(store);
  assert.deepEqual(settings.recipients, ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(problems.map((p) => p.address), ['-oQ/tmp/x@example.com']);
  assert.deepEqual(settings.resellers, { rita: ['rita@reseller.example', 'help@reseller.example'] });
  assert.equal(readSettings(store).reportRecipients, 'ops@example.com, -oQ/tmp/x@example.com, noc@example.com');
});

test('the page refuses a mistyped address as the mailer reports it: as written, once', (t) => {
  const store = freshStore(t);
  const r = saveSettings(store, { ...readSettings(store), blocklists: '', reportRecipients: 'rita at example.com, ops@example.com' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.errors.reportRecipients ?? '', /^Not an e-mail address: rita at example\.com \([^)]*\)$/);
  store.setSetting(DELIVERY_SETTINGS.recipients, 'rita at example.com, ops@example.com');
  const { settings, problems } = lenientDeliverySettings(store);
  assert.deepEqual(settings.recipients, ['ops@example.com']);
  assert.deepEqual(problems.map((p) => p.message), ['report.recipients: not an email address: "rita at example.com"']);
});
