// A Plesk REST read answered 200 with a body that is not Plesk's JSON (a proxy's or PHP's error page, a cut answer, JSON
// of another shape) is PanelError('other', '… unexpected answer …'), as WHM and cPanel answers that are not their
// envelope — it used to be read as an empty list: no accounts (the CLI then said "several accounts and no admin: say
// which one with --as USER"), no domains, an empty zone. Loopback emulator behind a gateway that answers the picked
// GET itself; writes are judged as before (gateway.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../../src/adapters/panels/plesk/index.js';
import { startGateway, type GatewayRule } from '../../../helpers/emulators/gateway.js';
import { makePleskState, startPleskServer } from '../../../helpers/emulators/plesk.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

async function withGateway(rules: GatewayRule[], body: (panel: PleskPanel) => Promise<void>): Promise<void> {
  const state = makePleskState();
  const srv = await startPleskServer(state);
  const gw = await startGateway(srv.url, rules);
  try {
    const rest = new PanelHttpClient({ baseUrl: gw.url, label: 'Plesk', headers: { 'x-api-key': state.apiKey } });
    await body(new PleskPanel({ rest, apiKey: state.apiKey, cli: new PleskRestCli(rest), root: null }));
  } finally {
    await gw.close();
    await srv.close();
  }
}

/** The gateway answers the first GET of `path` (exact, query ignored) itself: 200 with `body`. */
const answer = (path: string, body: string, contentType = 'application/json'): GatewayRule => ({
  match: (r) => r.method === 'GET' && r.url.split('?')[0] === path,
  forward: 'never',
  status: 200,
  contentType,
  body,
});

describe('Plesk REST reads: an answer that is not JSON of the expected shape', () => {
  it('GET /clients not JSON: listAccounts is a panel error, not an empty list', async () => {
    await withGateway([answer('/api/v2/clients', '{not json\u001b[31m')], async (panel) => {
      const e = await rejectsWith(panel.listAccounts(), 'other', /^Plesk GET \/clients: unexpected answer \(HTTP 200, not JSON\)/);
      assert.doesNotMatch(e.message, /\u001b/, 'control characters of the body are not passed on');
    });
  });

  it('GET /clients JSON of another shape (an object, a list of strings): a panel error', async () => {
    await withGateway([answer('/api/v2/clients', '{"clients": []}')], async (panel) => {
      await rejectsWith(panel.listAccounts(), 'other', /unexpected answer \(HTTP 200, JSON that is not a list of objects\)/);
    });
    await withGateway([answer('/api/v2/clients', '["admin"]')], async (panel) => {
      await rejectsWith(panel.listAccounts(), 'other', /unexpected answer/);
    });
  });

  it('an empty 200 body or an HTML page: a panel error', async () => {
    await withGateway([answer('/api/v2/clients', '')], async (panel) => {
      await rejectsWith(panel.listAccounts(), 'other', /unexpected answer \(HTTP 200, not JSON\)/);
    });
    await withGateway([answer('/api/v2/domains', '<html><body>Please log in</body></html>', 'text/html')], async (panel) => {
      await rejectsWith(panel.listDomains({ user: 'admin', role: 'admin' }), 'other', /Plesk GET \/domains: unexpected answer \(HTTP 200, not JSON\): Please log in/);
    });
  });

  it('GET /dns/records not JSON: readZone is a panel error, not an empty zone', async () => {
    await withGateway([answer('/api/v2/dns/records', 'null')], async (panel) => {
      await rejectsWith(panel.readZone('alice.example'), 'other', /Plesk GET \/dns\/records: unexpected answer \(HTTP 200, JSON that is not a list of objects\)/);
    });
    await withGateway([answer('/api/v2/dns/records', '[{"id": 1, "type": "TXT"')], async (panel) => {
      await rejectsWith(panel.readZone('alice.example'), 'other', /unexpected answer \(HTTP 200, not JSON\)/);
    });
  });

  it('GET /server not a JSON object: a panel error (not a host name of "")', async () => {
    await withGateway([answer('/api/v2/server', '[]')], async (panel) => {
      await rejectsWith(panel.readMailSettings('alice.example'), 'other', /Plesk GET \/server: unexpected answer \(HTTP 200, JSON that is not an object\)/);
    });
  });

  it('the same reads answered by Plesk itself are read as before', async () => {
    await withGateway([], async (panel) => {
      assert.ok((await panel.listAccounts()).some((a) => a.role === 'admin'));
      assert.ok((await panel.listDomains({ user: 'admin', role: 'admin' })).length > 0);
      assert.ok((await panel.readZone('alice.example')).records.length > 0);
    });
  });
});
