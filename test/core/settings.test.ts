// The settings schema every surface reads (src/core/settings.ts): one key per setting, whoever reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SETTING_MAILCHANNELS_ACCOUNT } from '../../src/adapters/panels/with-settings.js';
import { DELIVERY_SETTINGS } from '../../src/adapters/mail/deliver.js';
import { REPORT_SETTINGS } from '../../src/cron/report.js';
import { auditOptionsFrom, baseUrlProblem, DEFAULT_BLOCKLISTS, SETTING_KEYS, storedBlocklistZones } from '../../src/core/settings.js';

test('the keys other modules read are the schema\'s: the panel decorator, the mailer, the report', () => {
  assert.equal(SETTING_KEYS.mailchannelsAccountId, SETTING_MAILCHANNELS_ACCOUNT);
  assert.equal(DELIVERY_SETTINGS.recipients, SETTING_KEYS.reportRecipients);
  assert.equal(REPORT_SETTINGS.baseUrl, SETTING_KEYS.reportBaseUrl);
  assert.equal(REPORT_SETTINGS.timezone, SETTING_KEYS.reportTimezone);
});

test('stored values: blocklist zones as the page stores them, else the defaults; base URLs the links can be built on', () => {
  const reader = (v: Record<string, unknown>) => ({ getSetting: <T>(k: string) => v[k] as T | undefined });
  assert.deepEqual(auditOptionsFrom(reader({})), {});
  assert.deepEqual(auditOptionsFrom(reader({ [SETTING_KEYS.blocklists]: true })), { blocklists: DEFAULT_BLOCKLISTS });
  assert.deepEqual(auditOptionsFrom(reader({ [SETTING_KEYS.blocklists]: true, [SETTING_KEYS.blocklistZones]: ['BL.Example.ORG.'] })), { blocklists: ['bl.example.org'] });
  assert.equal(storedBlocklistZones(['x y']), null);
  assert.equal(storedBlocklistZones([]), null);
  assert.equal(baseUrlProblem('https://server.example:2087/cgi/mailhealth'), null);
  assert.match(baseUrlProblem('https://user:pw@server.example/') ?? '', /no user name or password/);
  assert.match(baseUrlProblem('https://server.example/?a=1') ?? '', /no "\?" part/);
});
