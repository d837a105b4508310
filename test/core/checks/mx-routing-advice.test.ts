// QA: mx.routing-mismatch (routing local, no MX at this server) said "Set the panel's mail routing to remote" whatever
// the MX was. For SiteGround's filtering front mx10.antispam.mailspamprotection.com — shared infrastructure, in front
// of the host the customer is leaving — that keeps the customer's mail at the old host. Now, when an MX is shared
// infrastructure or a host nothing identifies (not a known mail service the customer uses), the finding gives both
// ways out: point the MX at this server, or — only if the mail is really handled there — set the routing to remote.
// An MX at a mail service the customer uses (Google Workspace) keeps the plain advice.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mxCheck } from '../../../src/core/checks/mx.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'sg.example';
const panel: ZoneRecord[] = [{ name: D, ttl: 300, type: 'NS', value: 'ns1.newhost.example' }];
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
const ONLY_REMOTE = /Set the panel's mail routing to remote\.$/;
const POINT_HERE = /point the MX at this server/;
const IF_REMOTE = /only if the mail is really handled at .*, set the panel's mail routing to remote\./;

async function mismatch(hosts: Record<string, string>): Promise<Finding> {
  const map: ZoneMap = { [D]: { NS: ['ns1.newhost.example'], MX: Object.keys(hosts).map((exchange, i) => ({ priority: 10 * (i + 1), exchange })) } };
  for (const [h, ip] of Object.entries(hosts)) map[h] = { A: [ip] };
  const fs = await mxCheck(checkContext(D, map, {}, panel));
  const w = fs.find((f) => f.rule === 'mx.routing-mismatch');
  assert.ok(w, show(fs));
  assert.equal(w.severity, 'warn');
  return w;
}

describe('mx.routing-mismatch: both ways out unless the MX is a mail service the customer uses', () => {
  test('SiteGround’s filtering front (shared infrastructure): point the MX here, or set the routing to remote only if the mail is handled there', async () => {
    const w = await mismatch({ 'mx10.antispam.mailspamprotection.com': '34.70.1.10', 'mx20.antispam.mailspamprotection.com': '34.70.1.20' });
    assert.match(w.message, POINT_HERE);
    assert.match(w.message, IF_REMOTE);
    assert.doesNotMatch(w.message, ONLY_REMOTE);
    assert.match(w.message, /filtering infrastructure shared by many hosts/);
  });

  test('an MX nothing identifies: both ways out, saying why it is not taken for a mail service', async () => {
    const w = await mismatch({ 'mx.elsewhere.example': '198.51.100.9' });
    assert.match(w.message, POINT_HERE);
    assert.match(w.message, IF_REMOTE);
    assert.doesNotMatch(w.message, ONLY_REMOTE);
    assert.match(w.message, /matches nothing known/);
  });

  test('Google Workspace (a mail service the customer uses): the routing advice as before', async () => {
    const w = await mismatch({ 'aspmx.l.google.com': '142.250.1.26' });
    assert.match(w.message, ONLY_REMOTE);
    assert.doesNotMatch(w.message, POINT_HERE);
  });

  test('Google beside a host nothing identifies: both ways out, naming only the unidentified one', async () => {
    const w = await mismatch({ 'aspmx.l.google.com': '142.250.1.26', 'mx.elsewhere.example': '198.51.100.9' });
    assert.match(w.message, POINT_HERE);
    assert.match(w.message, /mx\.elsewhere\.example is not a mail service mailhealth knows/);
  });
});
