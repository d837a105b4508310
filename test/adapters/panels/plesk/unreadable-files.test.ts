// Plesk on the server: a server file that exists but cannot be read is not an absent one (as for cPanel/WHM,
// whm/serverfiles.ts readServerFile). Unreadable is simulated as root can: a directory in the file's place (EISDIR) or
// a symlink loop (ELOOP); EACCES cannot be made as root.
// - /etc/postfix/main.cf: the smarthost is not known (relayUnknown) — never "no relay", which the lockdown check took
//   as "this server does not relay through MailChannels".
// - /etc/domainkeys/<domain>/default: the server's DKIM key is not known — the settings are unreadable (the audit's
//   `unknown`, no DKIM fix) — never "no key, not signing", on which the DKIM fix planned a new key over Plesk's.
// - No such file (ENOENT), or a path through a file (ENOTDIR): absent, as before.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import type { RunningServer } from '../../../helpers/emulators/cpanel.js';
import { addPleskAlias, liveOf, makePleskState, startPleskServer, writePleskKeys, type PleskState } from '../../../helpers/emulators/plesk.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const D = 'alice.example';
const FIXED = () => new Date('2027-03-01T12:00:00.000Z');

interface Rig {
  state: PleskState;
  srv: RunningServer;
  root: string;
  panel: PleskPanel;
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.srv.close();
    rmSync(r.root, { recursive: true, force: true });
  }
});

/** The Plesk emulator on loopback (port 0) and a panel on the server: key files for every domain, a main.cf. */
async function rig(tweak: (s: PleskState) => void = () => {}): Promise<Rig> {
  const state = makePleskState();
  tweak(state);
  const srv = await startPleskServer(state);
  const root = mkdtempSync(join(tmpdir(), 'mh-plesk-unreadable-'));
  writePleskKeys(state, root);
  mkdirSync(join(root, 'etc/postfix'), { recursive: true });
  writeFileSync(join(root, 'etc/postfix/main.cf'), 'myhostname = server1.host.example\nrelayhost = [smtp.mailchannels.net]:587\n');
  const rest = new PanelHttpClient({ baseUrl: srv.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
  const r: Rig = { state, srv, root, panel: new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root }) };
  rigs.push(r);
  return r;
}

/** A file that exists but cannot be read: a directory in its place (readFileSync: EISDIR). */
function directoryAt(root: string, path: string): void {
  rmSync(join(root, path), { force: true });
  mkdirSync(join(root, path), { recursive: true });
}

/** A file that exists but cannot be read: a symlink to itself (readFileSync: ELOOP). */
function loopAt(root: string, path: string): void {
  rmSync(join(root, path), { force: true });
  symlinkSync(join(root, path), join(root, path));
}

const resolver = (r: Rig, d = D) => liveOf(r.state, d, { 'server1.host.example': { A: ['203.0.113.10'] } });

describe('Plesk on the server: /etc/postfix/main.cf that cannot be read', () => {
  for (const [how, make, code] of [
    ['a directory in its place', directoryAt, 'EISDIR'],
    ['a symlink loop', loopAt, 'ELOOP'],
  ] as const) {
    it(`${how} (${code}): the relay is not known (relayUnknown), never "no relay"; the lockdown check says unknown, not inert`, async () => {
      const r = await rig();
      make(r.root, 'etc/postfix/main.cf');
      const s = await r.panel.readMailSettings(D);
      assert.equal(s.relay, null);
      assert.equal(s.relayUnknown, `cannot read /etc/postfix/main.cf: ${code}`);
      // The fixture publishes a MailChannels lockdown record (_mailchannels TXT).
      const a = await auditDomain(D, { panel: r.panel, resolver: resolver(r), now: FIXED, checks: ['lockdown'] });
      assert.ok(a.findings.some((f) => f.rule === 'lockdown.relay-unknown' && f.severity === 'unknown'), JSON.stringify(a.findings.map((f) => f.rule)));
      assert.ok(!a.findings.some((f) => f.rule === 'lockdown.inert'), 'never "this server does not relay through MailChannels"');
    });
  }

  it('the same for a domain alias (it sends through its domain’s setup)', async () => {
    const r = await rig((s) => addPleskAlias(s, D, { name: 'alice-alias.example' }));
    directoryAt(r.root, 'etc/postfix/main.cf');
    const s = await r.panel.readMailSettings('alice-alias.example');
    assert.equal(s.relay, null);
    assert.equal(s.relayUnknown, 'cannot read /etc/postfix/main.cf: EISDIR');
  });

  it('no main.cf at all (or no /etc/postfix): no relayhost, as before — not unknown', async () => {
    const r = await rig();
    assert.deepEqual((await r.panel.readMailSettings(D)).relay, { provider: 'mailchannels', host: 'relay.mailchannels.net' });
    rmSync(join(r.root, 'etc/postfix/main.cf'));
    const gone = await r.panel.readMailSettings(D);
    assert.equal(gone.relay, null);
    assert.equal(gone.relayUnknown, undefined);
    rmSync(join(r.root, 'etc/postfix'), { recursive: true });
    writeFileSync(join(r.root, 'etc/postfix'), ''); // a file where the directory would be: ENOTDIR, as "no such file"
    assert.equal((await r.panel.readMailSettings(D)).relayUnknown, undefined);
  });
});

describe('Plesk on the server: a DKIM key file that cannot be read', () => {
  for (const sign of [false, true]) {
    it(`signing ${sign ? 'on' : 'off'}: the settings are unreadable (the key is not known), never "no key"`, async () => {
      const r = await rig((s) => (s.mailPrefs[D].sign = sign));
      directoryAt(r.root, `etc/domainkeys/${D}/default`);
      await rejectsWith(r.panel.readMailSettings(D), 'other', /^cannot read \/etc\/domainkeys\/alice\.example\/default: EISDIR, so the server's DKIM key for alice\.example is not known$/);
    });
  }

  it('signing off: the audit reports the settings unreadable (unknown), and no DKIM fix (a new key) is planned', async () => {
    const r = await rig((s) => (s.mailPrefs[D].sign = false));
    loopAt(r.root, `etc/domainkeys/${D}/default`);
    const a = await auditDomain(D, { panel: r.panel, resolver: resolver(r), now: FIXED, checks: ['dkim'] });
    assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown', JSON.stringify(a.findings.map((f) => f.rule)));
    assert.ok(!a.findings.some((f) => f.check === 'dkim' && (f.severity === 'fail' || f.severity === 'warn')), JSON.stringify(a.findings.map((f) => `${f.severity} ${f.rule}`)));
    await assert.rejects(makePlan({ domain: D, check: 'dkim' }, { panel: r.panel, resolver: resolver(r), now: FIXED }), /cannot read \/etc\/domainkeys\/alice\.example\/default: ELOOP/);
  });

  it('a domain alias: its own key file, or (without one) its domain’s, unreadable → not known', async () => {
    const r = await rig((s) => addPleskAlias(s, D, { name: 'alice-alias.example' }));
    writePleskKeys(r.state, r.root, ['alice-alias.example']);
    directoryAt(r.root, 'etc/domainkeys/alice-alias.example/default');
    await rejectsWith(r.panel.readMailSettings('alice-alias.example'), 'other', /cannot read \/etc\/domainkeys\/alice-alias\.example\/default: EISDIR, so the server's DKIM key for alice-alias\.example is not known/);
    // No key file of its own: its domain's is asked, and that one cannot be read.
    rmSync(join(r.root, 'etc/domainkeys/alice-alias.example'), { recursive: true });
    directoryAt(r.root, `etc/domainkeys/${D}/default`);
    await rejectsWith(r.panel.readMailSettings('alice-alias.example'), 'other', /cannot read \/etc\/domainkeys\/alice\.example\/default: EISDIR, so the server's DKIM key for alice\.example is not known/);
  });

  it('no key file (ENOENT), or /etc/domainkeys/<domain> a file (ENOTDIR): no key on the server, read as before', async () => {
    const r = await rig((s) => (s.mailPrefs[D].sign = false));
    const withKey = await r.panel.readMailSettings(D);
    assert.equal(withKey.dkim.privateKeyPem, r.state.dkim.privateKeyPem);
    assert.equal(withKey.dkim.startSigning, 'switch');
    rmSync(join(r.root, `etc/domainkeys/${D}`), { recursive: true });
    const none = await r.panel.readMailSettings(D);
    assert.equal(none.dkim.privateKeyPem, undefined);
    assert.equal(none.dkim.publicKey, undefined);
    assert.equal(none.dkim.signing, false);
    writeFileSync(join(r.root, `etc/domainkeys/${D}`), '');
    assert.equal((await r.panel.readMailSettings(D)).dkim.privateKeyPem, undefined);
  });
});
