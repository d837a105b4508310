// The mailer takes report recipients through the same address check as the settings page (core mailAddressProblem):
// an address stored before the page checked it, that sendmail would refuse every night (a leading "-" is an option to
// sendmail), is left out as a bad setting before any attempt — not retried for a minute and a half while the rest wait.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../src/adapters/store/store.js';
import { DELIVERY_SETTINGS, lenientDeliverySettings } from '../../../src/adapters/mail/deliver.js';

test('recipients sendmail would refuse are problems of the settings, the others are kept', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deliver-addr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  store.setSetting(DELIVERY_SETTINGS.recipients, ['-oQ/tmp/x@example.com', 'a@b..c', 'ops@example.com', 'root@localhost']);
  const { settings, problems } = lenientDeliverySettings(store);
  assert.deepEqual(settings.recipients, ['ops@example.com', 'root@localhost']);
  assert.deepEqual(problems.map((p) => p.address), ['-oQ/tmp/x@example.com', 'a@b..c']);
});
