// An SPF record that includes a record of the domain's own (include:_spf.<domain>, a common way to keep the apex short)
// is judged through it: a previous host's include there lets the old host send as surely as one at the apex. Oracle QA
// (pyspf on loopback DNS, test/e2e/fixes-pass-oracles.test.ts): the include was classified as a host by its addresses
// ("_spf.… has no address", kept), the HostGator include inside it went unreported, and after the SPF fix the audit said
// spf.ok while pyspf still passed HostGator's servers. The SPF fix edits only the apex record, so these findings offer
// no fix and say where to edit by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'nest.example';
const HOSTGATOR = { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] };
const GOOGLE = { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] };
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

function world(records: Record<string, string>) {
  const map: ZoneMap = { 'websitewelcome.com': HOSTGATOR, '_spf.google.com': GOOGLE, [D]: { MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: [SERVER_IP] } };
  for (const [name, text] of Object.entries(records)) map[name] = { ...(map[name] ?? {}), TXT: [[text]] };
  const zone: ZoneRecord[] = Object.entries(records).map(([name, text]) => ({ name, ttl: 3600, type: 'TXT', value: text, txt: [text] }));
  return { ctx: checkContext(D, map, {}, zone), zone };
}

async function audit(records: Record<string, string>): Promise<Finding[]> {
  return spfCheck(world(records).ctx);
}

describe('spf: records of the domain\'s own, included, are judged through', () => {
  test('a previous host\'s include in _spf.<domain> is a stale term, said where it is, with no fix; the own include is not "a host without an address"', async () => {
    const fs = await audit({ [D]: `v=spf1 ip4:${SERVER_IP} include:_spf.${D} ~all`, [`_spf.${D}`]: 'v=spf1 include:websitewelcome.com include:_spf.google.com ~all' });
    const stale = fs.filter((f) => f.rule === 'spf.stale-term');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].subject, `include:websitewelcome.com (in _spf.${D})`);
    assert.equal(stale[0].severity, 'warn');
    assert.equal(stale[0].fix, undefined, 'the SPF fix does not edit _spf.<domain>');
    assert.equal(stale[0].classification?.class, 'stale');
    assert.match(stale[0].message, new RegExp(`^include:websitewelcome\\.com in the SPF record at _spf\\.nest\\.example is a previous host's: .*nest\\.example's SPF record includes that record, so it lets the old host send as nest\\.example\\. The SPF fix edits only nest\\.example's own SPF record: remove include:websitewelcome\\.com from the TXT record at _spf\\.nest\\.example by hand`));
    assert.deepEqual(stale[0].evidence.included, [`_spf.${D} TXT "v=spf1 include:websitewelcome.com include:_spf.google.com ~all"`]);
    const own = fs.find((f) => f.subject === `include:_spf.${D}`);
    assert.ok(own, show(fs));
    assert.equal(own.rule, 'spf.term');
    assert.doesNotMatch(own.message, /no address/);
    assert.match(own.message, /is an SPF record of nest\.example's own; its terms are judged below/);
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), `not "all good": ${show(fs)}`);
    // Google's include in the customer's own record is what the record is for: not reported as anybody's leftover.
    assert.ok(!fs.some((f) => f.subject?.includes('_spf.google.com')), show(fs));
  });

  test('two levels down (an own record including another), with the way there; a loop between own records ends', async () => {
    const fs = await audit({ [D]: `v=spf1 ip4:${SERVER_IP} include:_spf.${D} ~all`, [`_spf.${D}`]: `v=spf1 include:_spf2.${D} ~all`, [`_spf2.${D}`]: `v=spf1 +include:websitewelcome.com include:_spf.${D} ~all` });
    const stale = fs.filter((f) => f.rule === 'spf.stale-term');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].subject, `+include:websitewelcome.com (in _spf2.${D})`, 'the term as written');
    assert.match(stale[0].message, new RegExp(`at _spf2\\.nest\\.example \\(reached through _spf\\.nest\\.example\\) is a previous host's: .* so it lets the old host send as nest\\.example\\.`));
  });

  test('"-include:" of the previous host in an own record fails its mail: not a leftover', async () => {
    const fs = await audit({ [D]: `v=spf1 ip4:${SERVER_IP} include:_spf.${D} ~all`, [`_spf.${D}`]: 'v=spf1 -include:websitewelcome.com include:_spf.google.com ~all' });
    assert.ok(!fs.some((f) => f.rule === 'spf.stale-term'), show(fs));
  });

  test('an include of another domain\'s record is classified as before (not followed as the domain\'s own)', async () => {
    const fs = await audit({ [D]: `v=spf1 ip4:${SERVER_IP} include:websitewelcome.com ~all` });
    const stale = fs.filter((f) => f.rule === 'spf.stale-term');
    assert.equal(stale.length, 1, show(fs));
    assert.equal(stale[0].subject, 'include:websitewelcome.com');
    assert.equal(stale[0].fix, 'spf');
  });

  test('redirect= to a record of the domain\'s own is judged through as well', async () => {
    const fs = await audit({ [D]: `v=spf1 ip4:${SERVER_IP} redirect=_spf.${D}`, [`_spf.${D}`]: 'v=spf1 include:websitewelcome.com ~all' });
    const stale = fs.filter((f) => f.rule === 'spf.stale-term');
    assert.deepEqual(stale.map((f) => f.subject), [`include:websitewelcome.com (in _spf.${D})`], show(fs));
  });

  test('the SPF fix keeps the include of the own record and its plan says what is left there, to remove by hand', async () => {
    const { ctx, zone } = world({ [D]: `v=spf1 include:_spf.${D} ~all`, [`_spf.${D}`]: 'v=spf1 include:websitewelcome.com include:_spf.google.com ~all' });
    const plan = await planSpf(ctx, zone.filter((r) => r.name === D), {});
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.changes.map((c) => [c.action, c.name, c.after?.value]), [['edit', D, `v=spf1 include:_spf.${D} ip4:${SERVER_IP} ~all`]], 'the apex only: the own record is not edited');
    const note = plan.notes.find((n) => n.startsWith(`Keeps include:_spf.${D}`));
    assert.ok(note, plan.notes.join('\n'));
    assert.match(note, /which still lets a previous host send: include:websitewelcome\.com \(at _spf\.nest\.example: websitewelcome\.com belongs to HostGator.*\)\. This fix edits nest\.example's SPF record only — remove that term from the TXT record at _spf\.nest\.example by hand\.$/);
  });
});
