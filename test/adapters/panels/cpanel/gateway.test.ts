// cPanel behind a proxy: `DNS::mass_edit_zone` answered by the proxy is no-answer, settled from the zone; a refusal stays
// a refusal; a local `uapi` killed before it exited is no-answer. The suite and what it checks: test/helpers/gateway-suite.ts.
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiCli, UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { startCpanelServer } from '../../../helpers/emulators/cpanel.js';
import { gatewaySuite } from '../../../helpers/gateway-suite.js';

gatewaySuite({
  label: 'cPanel',
  api: { path: '/execute/DNS/', write: 'mass_edit_zone', read: 'parse_zone', envelope: 'UAPI' },
  ownError: { named: 'its errors named', body: JSON.stringify({ status: 0, data: null, errors: ['Internal server error'], messages: null, metadata: {}, warnings: null }) },
  byUser: 'alice',
  start: startCpanelServer,
  http: (url) => new CpanelPanel({ transport: new UapiHttp(new PanelHttpClient({ baseUrl: url, label: 'cPanel', headers: { authorization: 'cpanel alice:tok-alice' } })), user: 'alice' }),
  cli: { bin: 'uapi', panel: (path) => new CpanelPanel({ transport: new UapiCli(path), user: 'alice' }) },
});
