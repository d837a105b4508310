// The report's sender when report.from is not set: root at the server's host name, not root@localhost. Receivers and
// relays refuse a sender domain that is not one (MailChannels answers 550 5.7.1 for a domain without its lockdown
// record, Gmail wants SPF or DKIM to pass for the From's domain — localhost never does), and nodemailer makes the
// Message-ID at the From's domain (<…@localhost>). A host name that is no domain with a dot keeps root@localhost.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultFrom, deliverySettings } from '../../../src/adapters/mail/deliver.js';
import { openStore } from '../../../src/adapters/store/store.js';

test('root at the host name, written as the domain validator writes it', () => {
  assert.equal(defaultFrom('server1.newhost.example'), 'mailhealth <root@server1.newhost.example>');
  assert.equal(defaultFrom('Server1.Bücher.Example.'), 'mailhealth <root@server1.xn--bcher-kva.example>');
  assert.equal(defaultFrom('vps123'), 'mailhealth <root@localhost>');
  assert.equal(defaultFrom(''), 'mailhealth <root@localhost>');
  assert.equal(defaultFrom('bad_name!.example'), 'mailhealth <root@localhost>');
});

test('the delivery settings use it when report.from is not set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-mail-from-'));
  const store = openStore(join(dir, 'mailhealth.sqlite'));
  try {
    assert.equal(deliverySettings(store).from, defaultFrom());
    store.setSetting('report.from', 'reports@server1.example');
    assert.equal(deliverySettings(store).from, 'reports@server1.example');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
