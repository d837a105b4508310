// cPanel (UAPI) adapter: DKIM signing follows the validity cache (cpanel.md §8.4), and the outbound IP is cPanel's own
// (EmailAuth's ip_address = mailips[domain] → ['*'] → main IP, NAT-mapped, §7.2/§8.2 — never an account's dedicated IP).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp, type UapiResult } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { makeCpState, startCpanelServer, type CpState, type RunningServer } from '../../../helpers/emulators/cpanel.js';
import { writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { otherRsaKey } from '../../../helpers/scenario.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import type { PanelError } from '../../../../src/core/panel.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function setup(user: string, change: (s: CpState) => void = () => {}, onServer = false): Promise<{ state: CpState; panel: CpanelPanel; root?: string; transport: UapiHttp }> {
  const state = makeCpState();
  change(state);
  const srv: RunningServer = await startCpanelServer(state);
  let root: string | undefined;
  if (onServer) {
    root = mkdtempSync(join(tmpdir(), 'mh-cpanel-mail-'));
    writeCpanelServerFiles(state, root);
  }
  cleanup.push(async () => {
    await srv.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  const client = new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: `cpanel ${user}:tok-${user}` } });
  const transport = new UapiHttp(client);
  return { state, panel: new CpanelPanel({ transport, user, ...(root ? { root } : {}) }), root, transport };
}

describe('cPanel (UAPI): DKIM signing needs the validity cache (§8.4)', () => {
  it('a published key cPanel could not mark valid → not signing', async () => {
    const { panel } = await setup('alice', (s) => {
      s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
      s.validityCacheFails = ['alice.example'];
    });
    const s = await panel.readMailSettings('alice.example');
    assert.ok(s.dkim.publicKey);
    assert.equal(s.dkim.signing, false);
    assert.equal(s.dkim.startSigning, 'recheck', 'the key is published: a check by cPanel turns signing on');
  });

  it('startDkimSigning: cPanel checks again and signs once it can mark the key valid; no record changes', async () => {
    const { state, panel } = await setup('alice', (s) => {
      s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
      s.validityCacheFails = ['alice.example'];
    });
    const zoneBefore = (await panel.readZone('alice.example')).records.map((r) => `${r.name} ${r.type} ${r.value}`).sort();
    assert.equal((await panel.startDkimSigning('alice.example')).dkim.signing, false, 'cPanel still cannot mark it valid');
    state.validityCacheFails = [];
    const after = await panel.startDkimSigning('alice.example');
    assert.equal(after.dkim.signing, true);
    assert.equal(after.dkim.startSigning, undefined);
    assert.deepEqual((await panel.readZone('alice.example')).records.map((r) => `${r.name} ${r.type} ${r.value}`).sort(), zoneBefore);
  });

  it('on the server the cache entry itself decides (its directory is world-searchable)', async () => {
    const { panel, root } = await setup(
      'alice',
      (s) => {
        s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
        s.validityCacheFails = ['alice.example'];
      },
      true,
    );
    assert.ok(!existsSync(join(root!, 'var/cpanel/domain_keys/validity_cache/alice.example')));
    assert.equal((await panel.readMailSettings('alice.example')).dkim.signing, false);
  });

  it('the read validates the published key, which sets the entry: signing', async () => {
    const { state, panel, root } = await setup('alice', (s) => (s.validityCache = s.validityCache.filter((d) => d !== 'alice.example')), true);
    const s = await panel.readMailSettings('alice.example');
    assert.equal(s.dkim.signing, true);
    assert.ok(state.validityCache.includes('alice.example'));
    assert.ok(existsSync(join(root!, 'var/cpanel/domain_keys/validity_cache/alice.example')));
  });

  it('startDkimSigning re-validates without touching DNS', async () => {
    const { state, panel } = await setup('alice', (s) => {
      s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
      s.validityCacheFails = ['alice.example'];
    });
    assert.equal((await panel.readMailSettings('alice.example')).dkim.signing, false);
    state.validityCacheFails = [];
    const serial = state.zones['alice.example'].serial;
    const after = await panel.startDkimSigning('alice.example');
    assert.equal(after.dkim.signing, true);
    assert.equal(state.zones['alice.example'].serial, serial);
  });

  it('the previous host’s key is published (no entry yet): cPanel signs once its own is — not "signing off"', async () => {
    const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`;
    const { panel } = await setup(
      'alice',
      (s) => {
        const z = s.zones['alice.example'];
        const i = z.lines.findIndex((l) => l?.kind === 'record' && l.dname === 'default._domainkey');
        z.lines[i] = { kind: 'record', dname: 'default._domainkey', ttl: 14400, type: 'TXT', data: [old.slice(0, 255), old.slice(255)] };
        s.validityCache = s.validityCache.filter((d) => d !== 'alice.example');
      },
      true,
    );
    assert.equal((await panel.readMailSettings('alice.example')).dkim.signing, true);
  });
});

describe('cPanel (UAPI): the outbound IP is the one cPanel reports', () => {
  it('per-domain mailips, else the main IP (not the dedicated account IP), NAT-mapped', async () => {
    const carol = await setup('carol', (s) => (s.mailips = {}));
    assert.deepEqual((await carol.panel.readMailSettings('carol.example')).ips, ['203.0.113.10']);
    const bob = await setup('bob', (s) => {
      s.mainIp = '10.0.0.5';
      s.mailips = { '*': '10.0.0.5', 'bob.example': '10.0.0.6' };
      s.nat = { '10.0.0.5': '203.0.113.10', '10.0.0.6': '203.0.113.11' };
    });
    assert.deepEqual((await bob.panel.readMailSettings('bob.example')).ips, ['203.0.113.11']);
  });
});

describe('cPanel (UAPI): mail routing from Email::list_mxs (§8.1)', () => {
  it('remote when cPanel says so; when the call gives no answer, neither — never assumed local, nor remote (QA h3 D2)', async () => {
    const { state, panel, transport: inner } = await setup('alice');
    assert.equal((await panel.readMailSettings('alice.example')).routing, 'local');
    state.mxDetected['alice.example'] = 'remote';
    assert.equal((await panel.readMailSettings('alice.example')).routing, 'remote');
    state.mxDetected['alice.example'] = 'local';
    const answers: [UapiResult, PanelError['code'], RegExp][] = [
      [{ ok: false, data: null, errors: ['You do not have the feature “changemx”.'], warnings: [] }, 'feature-missing', /ask your host to enable.*changemx/],
      [{ ok: true, data: [], errors: [], warnings: [] }, 'other', /Email::list_mxs for alice\.example had an unexpected shape \(no item for alice\.example\)/],
    ];
    for (const [answer, code, re] of answers) {
      const failing = new CpanelPanel({
        transport: { label: 'cPanel', call: (m, f, p) => (m === 'Email' && f === 'list_mxs' ? Promise.resolve(answer) : inner.call(m, f, p)) },
        user: 'alice',
      });
      await rejectsWith(failing.readMailSettings('alice.example'), code, re);
    }
  });
});
