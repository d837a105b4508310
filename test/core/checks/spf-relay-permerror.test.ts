// A relayed server (MailChannels) whose SPF record includes the relay, but after an include that is a permanent error
// (its name publishes no SPF record): receivers answer permerror for the relay's mail before they reach the relay's
// include. The audit said the relay was authorised (only spf.syntax for the broken include), while pyspf answered
// permerror for every address of the relay (differential QA: test/e2e/audit-verdicts-oracles.test.ts). A server that
// sends itself got spf.server-not-authorized (check_host = permerror) for the same record.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'relayed.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

function audit(spf: string): Promise<Finding[]> {
  const map: ZoneMap = {
    [D]: { TXT: [[spf]], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    'nospf.example': { TXT: [['some-verification=abc']] },
    'broken-inside.example': { TXT: [['v=spf1 include:nospf.example ~all']] },
  };
  return spfCheck(checkContext(D, map, MC));
}

describe('spf: a relay reached only past a permanent error is not authorised', () => {
  test('an include of a name without SPF before the relay\'s include: spf.server-not-authorized naming it, with the fix', async () => {
    const fs = await audit('v=spf1 include:nospf.example include:relay.mailchannels.net ~all');
    const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
    assert.equal(na.length, 1, show(fs));
    assert.equal(na[0].subject, 'include:nospf.example');
    assert.equal(na[0].fix, 'spf');
    assert.match(na[0].message, /^This server relays through MailChannels, and the SPF record includes it \(include:relay\.mailchannels\.net\), but include:nospf\.example comes first: .*Receivers return permerror for the relay's mail before they reach include:relay\.mailchannels\.net/);
  });

  test('the broken record one include down counts too; after the relay\'s include it does not (receivers never reach it)', async () => {
    const down = await audit('v=spf1 include:broken-inside.example include:relay.mailchannels.net ~all');
    assert.deepEqual(down.filter((f) => f.rule === 'spf.server-not-authorized').map((f) => f.subject), ['include:broken-inside.example'], show(down));
    const after = await audit('v=spf1 include:relay.mailchannels.net include:nospf.example ~all');
    assert.deepEqual(after.filter((f) => f.rule === 'spf.server-not-authorized'), [], show(after));
  });

  test('"+" ip4 terms covering every range of the relay before the broken include match first: not reported', async () => {
    const fs = await audit('v=spf1 ip4:23.83.208.0/20 include:nospf.example include:relay.mailchannels.net ~all');
    assert.deepEqual(fs.filter((f) => f.rule === 'spf.server-not-authorized'), [], show(fs));
    const part = await audit('v=spf1 ip4:23.83.208.0/21 include:nospf.example include:relay.mailchannels.net ~all');
    assert.deepEqual(part.filter((f) => f.rule === 'spf.server-not-authorized').map((f) => f.subject), ['include:nospf.example'], 'half the range: the other half reaches the broken include');
  });
});

