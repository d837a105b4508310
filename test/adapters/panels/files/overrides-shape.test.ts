// The files panel's domains/<domain>.json overrides (README "Files panel": {"mailRouting": "local"|"remote", "dkim":
// bool, "ips": [...]}) are checked against that shape (R6 item 3): a value of another shape, a key the file may not
// hold, or a file that exists but cannot be read leaves the settings unreadable (PanelError; the audit's `unknown`, no
// fix planned) — never a setting: `"dkim": "false"` was read as signing (a truthy string), `"ips": "203.0.113.10"` made
// the audit throw "serverIps.some is not a function", `"mailRouting": "Remote"` was read as a routing of its own, and a
// file in a symlink loop read as no overrides at all (the defaults).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { MapResolver, zoneToMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { writePanel } from '../../../helpers/scenario.js';

const D = 'shop.example';
const FIXED = () => new Date('2027-03-01T12:00:00.000Z');

let root: string;
let panel: FilesPanel;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mh-files-overrides-'));
  writePanel(root, { domains: { [D]: {} } });
  panel = new FilesPanel(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const overrides = (text: string) => writeFileSync(join(root, 'domains', `${D}.json`), text);

/** Live DNS as the panel's zone says (the audit's other side). */
async function live(): Promise<MapResolver> {
  return new MapResolver(zoneToMap(await panel.readZone(D)));
}

describe('files panel: domains/<domain>.json values of another shape are refused, never read as settings', () => {
  const cases: [string, unknown, RegExp][] = [
    ['"dkim" a string', { dkim: 'false' }, /^files panel: domains\/shop\.example\.json: "dkim" must be true or false \(it is "false"\)$/],
    ['"dkim" a number', { dkim: 0 }, /"dkim" must be true or false \(it is 0\)/],
    ['"dkim" null', { dkim: null }, /"dkim" must be true or false \(it is null\)/],
    ['"ips" a string', { ips: '203.0.113.10' }, /^files panel: domains\/shop\.example\.json: "ips" must be a list of IP addresses \(it is "203\.0\.113\.10"\)$/],
    ['"ips" holding a host name', { ips: ['203.0.113.10', 'mail.shop.example'] }, /"ips" must be a list of IP addresses \("mail\.shop\.example" is none\)/],
    ['"ips" holding a number', { ips: [3405803786] }, /"ips" must be a list of IP addresses \(3405803786 is none\)/],
    ['"ips" holding a CIDR range', { ips: ['203.0.113.0/24'] }, /"ips" must be a list of IP addresses \("203\.0\.113\.0\/24" is none\)/],
    ['"mailRouting" in another case', { mailRouting: 'Remote' }, /^files panel: domains\/shop\.example\.json: "mailRouting" must be "local" or "remote" \(it is "Remote"\)$/],
    ['"mailRouting" a boolean', { mailRouting: true }, /"mailRouting" must be "local" or "remote" \(it is true\)/],
    ['a misspelled key', { mailrouting: 'remote' }, /^files panel: domains\/shop\.example\.json: "mailrouting" is no key it may hold \(only "mailRouting", "dkim" and "ips"\)$/],
    ['two unknown keys', { IPs: ['203.0.113.10'], DKIM: true }, /"IPs", "DKIM" are no keys it may hold/],
    ['a list, not an object', [{ dkim: true }], /must be an object, \{"mailRouting", "dkim", "ips"\} \(it is \[\{"dkim":true\}\]\)/],
    ['null', null, /must be an object.*\(it is null\)/],
    ['a string', 'remote', /must be an object.*\(it is "remote"\)/],
  ];
  for (const [what, value, re] of cases) {
    it(`${what}: readMailSettings is PanelError('other') saying what`, async () => {
      overrides(JSON.stringify(value));
      await rejectsWith(panel.readMailSettings(D), 'other', re);
    });
  }

  it('a hostile key or value is shown JSON-escaped, cut short', async () => {
    overrides(JSON.stringify({ dkim: `\x1b[2J${'x'.repeat(200)}` }));
    const e = await rejectsWith(panel.readMailSettings(D), 'other', /"dkim" must be true or false \(it is "\\u001b\[2Jx+…\)/);
    assert.ok(!e.message.includes('\x1b'), 'no raw escape character in the message');
    assert.ok(e.message.length < 200, e.message);
  });

  it('"ips" a string: the audit reports the settings unreadable (unknown), not the raw TypeError, and no SPF fix is planned', async () => {
    overrides(JSON.stringify({ ips: '203.0.113.10' }));
    const resolver = await live();
    const a = await auditDomain(D, { panel, resolver, now: FIXED, checks: ['spf'] });
    const unreadable = a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable');
    assert.equal(unreadable?.severity, 'unknown', JSON.stringify(a.findings.map((f) => f.rule)));
    assert.doesNotMatch(JSON.stringify(a.findings), /is not a function/);
    assert.ok(!a.findings.some((f) => f.severity === 'fail' || f.severity === 'warn'), JSON.stringify(a.findings.map((f) => `${f.severity} ${f.rule}`)));
    await assert.rejects(makePlan({ domain: D, check: 'spf' }, { panel, resolver, now: FIXED }), /"ips" must be a list of IP addresses/);
  });

  it('"dkim": "false" with a key: never read as signing — the audit is unknown, no DKIM fix', async () => {
    overrides(JSON.stringify({ dkim: 'false' }));
    const resolver = await live();
    const a = await auditDomain(D, { panel, resolver, now: FIXED, checks: ['dkim'] });
    assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown', JSON.stringify(a.findings.map((f) => f.rule)));
    assert.ok(!a.findings.some((f) => f.severity === 'pass' && f.check === 'dkim'), 'no DKIM verdict on a setting that was not read');
    await assert.rejects(makePlan({ domain: D, check: 'dkim' }, { panel, resolver, now: FIXED }), /"dkim" must be true or false/);
  });

  it('startDkimSigning on a file of another shape refuses, the file left as it was', async () => {
    const text = JSON.stringify({ dkim: false, mailRouting: 'Remote' });
    overrides(text);
    await rejectsWith(panel.startDkimSigning(D), 'other', /"mailRouting" must be "local" or "remote"/);
    assert.equal(readFileSync(join(root, 'domains', `${D}.json`), 'utf8'), text);
  });
});

describe('files panel: domains/<domain>.json of the documented shape reads as before', () => {
  it('every key, each value the README allows; an empty object and an empty list are no error', async () => {
    overrides(JSON.stringify({ mailRouting: 'remote', dkim: false, ips: ['203.0.113.11', '2001:db8::11'] }));
    const s = await panel.readMailSettings(D);
    assert.equal(s.routing, 'remote');
    assert.equal(s.dkim.signing, false);
    assert.deepEqual(s.ips, ['203.0.113.11', '2001:db8::11']);
    overrides(JSON.stringify({ mailRouting: 'local', dkim: true }));
    const t = await panel.readMailSettings(D);
    assert.equal(t.routing, 'local');
    assert.equal(t.dkim.signing, true);
    overrides('{}');
    assert.equal((await panel.readMailSettings(D)).routing, 'local');
    overrides(JSON.stringify({ ips: [] }));
    assert.deepEqual((await panel.readMailSettings(D)).ips, []);
  });
});

describe('files panel: an overrides file that exists but cannot be read is not an absent one', () => {
  it('a symlink loop (ELOOP): the settings are unreadable — never the defaults (routing local, the server IPs)', async () => {
    const p = join(root, 'domains', `${D}.json`);
    symlinkSync(p, p);
    await rejectsWith(panel.readMailSettings(D), 'other', /^files panel: domains\/shop\.example\.json cannot be read \(ELOOP\)$/);
  });

  it('a directory in its place (EISDIR): unreadable, not "not valid JSON"', async () => {
    mkdirSync(join(root, 'domains', `${D}.json`));
    await rejectsWith(panel.readMailSettings(D), 'other', /domains\/shop\.example\.json cannot be read \(EISDIR\)/);
  });

  it('no file, or no domains/ directory at all: no overrides', async () => {
    const s = await panel.readMailSettings(D);
    assert.equal(s.routing, 'local');
    rmSync(join(root, 'domains'), { recursive: true });
    assert.equal((await panel.readMailSettings(D)).routing, 'local');
    // domains/ a file: ENOTDIR, as "no such file".
    writeFileSync(join(root, 'domains'), '');
    assert.equal((await panel.readMailSettings(D)).routing, 'local');
  });
});
