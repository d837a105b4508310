// One address listed more than once (report.recipients "ops@example.com, noc@example.com; OPS@example.com
// ops@example.com", typed on the settings page or set by hand) got the report once per listing: 4 messages, 3 of them
// to ops. Each address gets one message of each report, whatever its case; the first spelling is the one used.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, type Store } from '../../../src/adapters/store/store.js';
import { deliverNightly, DELIVERY_SETTINGS, deliverySettings, lenientDeliverySettings, plannedMessages, type MailMessage } from '../../../src/adapters/mail/deliver.js';
import { splitAddresses } from '../../../src/core/recipients.js';
import { readSettings } from '../../../src/web/settings.js';

function freshStore(t: TestContext): Store {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deliver-dup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  return store;
}

const rendered = { subject: 's', text: 't', html: '<p>h</p>' };
const part = (who: string) => ({ subject: `part ${who}`, text: who, html: who });

test('splitAddresses: an address given again (in any case) is dropped; the first spelling stays', () => {
  assert.deepEqual(splitAddresses('ops@example.com, noc@example.com; OPS@example.com ops@example.com'), ['ops@example.com', 'noc@example.com']);
  assert.deepEqual(splitAddresses(['Ops@Example.COM', 'ops@example.com, noc@example.com', 'NOC@example.com']), ['Ops@Example.COM', 'noc@example.com']);
  // A mistyped address given twice is reported once; what is not a string is left for the caller, as before.
  assert.deepEqual(splitAddresses('rita at example.com, Rita at example.com; a@x.example'), ['rita at example.com', 'a@x.example']);
  assert.deepEqual(splitAddresses(['a@x.example', 42, 42, 'A@x.example']), ['a@x.example', 42, 42]);
});

test('the nightly delivery sends one message per address, however often and in whatever case it is listed', async (t) => {
  const store = freshStore(t);
  store.setSetting(DELIVERY_SETTINGS.recipients, 'ops@example.com, noc@example.com; OPS@example.com ops@example.com');
  store.setSetting(DELIVERY_SETTINGS.resellers, { rita: ['rita@reseller.example', 'RITA@reseller.example, rita@reseller.example'], sam: 'sam@x.example sam@X.example' });
  const runId = store.startRun('report', 'root', 0);
  const sent: string[] = [];
  const results = await deliverNightly(
    { runId, rendered, resellers: ['rita', 'sam'], partFor: (_s, who) => ({ rendered: part(who ?? '?') }) },
    { store, mailer: { async sendMail(m: MailMessage) { sent.push(`${m.to} ${m.subject}`); } } },
  );
  assert.deepEqual(sent, ['ops@example.com s', 'noc@example.com s', 'rita@reseller.example part rita', 'sam@x.example part sam']);
  assert.equal(results.length, 4);
  assert.ok(results.every((r) => r.ok));
  // The page shows the list as the mailer reads it.
  assert.equal(readSettings(store).reportRecipients, 'ops@example.com, noc@example.com');
});

test('a bad address listed twice stops one message and is reported once', async (t) => {
  const store = freshStore(t);
  store.setSetting(DELIVERY_SETTINGS.recipients, '-oQ/tmp/x@example.com, ops@example.com, -OQ/tmp/x@example.com');
  const { settings, problems } = lenientDeliverySettings(store);
  assert.deepEqual(settings.recipients, ['ops@example.com']);
  assert.deepEqual(problems.map((p) => p.address), ['-oQ/tmp/x@example.com']);
});

test('plannedMessages: settings given with repeats (overrides) still give one message per address of each list', (t) => {
  const store = freshStore(t);
  const settings = deliverySettings(store, {
    recipients: ['ops@example.com', 'OPS@EXAMPLE.COM', 'noc@example.com'],
    resellers: { rita: ['rita@reseller.example', 'Rita@Reseller.Example'] },
  });
  const planned = plannedMessages({ rendered, resellers: ['rita'], partFor: (_s, who) => ({ rendered: part(who ?? '?') }) }, settings);
  assert.deepEqual(
    planned.map((m) => [m.to, m.audience]),
    [
      ['ops@example.com', 'admin'],
      ['noc@example.com', 'admin'],
      ['rita@reseller.example', 'reseller'],
    ],
  );
});

test('an address that is both the admin\'s and a reseller\'s gets both reports (they differ)', (t) => {
  const store = freshStore(t);
  store.setSetting(DELIVERY_SETTINGS.recipients, 'ops@example.com');
  store.setSetting(DELIVERY_SETTINGS.resellers, { rita: 'OPS@example.com' });
  const planned = plannedMessages({ rendered, resellers: ['rita'], partFor: (_s, who) => ({ rendered: part(who ?? '?') }) }, deliverySettings(store));
  assert.deepEqual(planned.map((m) => [m.to, m.rendered.subject]), [['ops@example.com', 's'], ['OPS@example.com', 'part rita']]);
});
