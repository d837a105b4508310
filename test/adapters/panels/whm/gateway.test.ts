// WHM behind a proxy: `mass_edit_dns_zone` answered by the proxy is no-answer, settled from the zone; a refusal stays a
// refusal; a local `whmapi1` killed before it exited is no-answer. The suite and what it checks: test/helpers/gateway-suite.ts.
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { WhmCli, WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { startWhmServer } from '../../../helpers/emulators/whm.js';
import { gatewaySuite } from '../../../helpers/gateway-suite.js';

gatewaySuite({
  label: 'WHM',
  api: { path: '/json-api/', write: 'mass_edit_dns_zone', read: 'parse_dns_zone', envelope: 'WHM' },
  ownError: { named: 'its reason named', body: JSON.stringify({ metadata: { command: 'mass_edit_dns_zone', result: 0, reason: 'Internal server error', version: 1 } }) },
  byUser: 'root',
  start: startWhmServer,
  http: (url) => new WhmPanel({ transport: new WhmHttp(new PanelHttpClient({ baseUrl: url, label: 'WHM', headers: { authorization: 'whm root:tok-root' } })), user: 'root', root: null }),
  cli: { bin: 'whmapi1', panel: (path) => new WhmPanel({ transport: new WhmCli(path), user: 'root', root: null }) },
});
