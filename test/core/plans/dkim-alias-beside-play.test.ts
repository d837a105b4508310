// Review "dkim-beside" over the wire (files panel + loopback DNS server, a resolver that follows CNAMEs): the panel's
// zone holds, at the server's selector, an alias of the name where the hosting server publishes its key AND, beside it,
// a TXT of that same key (an invalid zone). Live, the selector answers through the alias: the key, so the live answer
// alone looks right. Signing off, the fix only had the panel start signing; the verification then read two records
// at the selector ("verified: no", "apply the DKIM fix again"), and the next plan again changed nothing — a loop. Now
// the fix first leaves the one record of the key (the audit offers it: dkim.multiple), then starts signing (verified),
// then has nothing to do.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { playPerTest, servedData, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const domain = 'dkimcname.example';
const OWN = 'dkimcname-example._domainkey.server1.newhost.example';
const OLD_ALIAS = 'default._domainkey\tIN\tCNAME\tdefault._domainkey.gator4123.websitewelcome.com.';

function serverKey(p: Play): string {
  return createPublicKey(readFileSync(join(p.dir, 'dkim', `${domain}.pem`), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
}
const strings = (v: string) => [v.slice(0, 200), v.slice(200)];

/** The selector an alias of OWN (which serves the server's key) with a TXT of the same key beside it; signing off. */
function scene(p: Play): void {
  const value = `v=DKIM1; k=rsa; p=${serverKey(p)}`;
  const zone = p.zoneText(domain);
  assert.ok(zone.includes(OLD_ALIAS));
  p.writeZone(domain, zone.replace(OLD_ALIAS, `default._domainkey\tIN\tCNAME\t${OWN}.\ndefault._domainkey\tIN\tTXT\t${strings(value).map((s) => JSON.stringify(s)).join(' ')}`));
  p.dns.setData({ ...servedData(p.dir), [OWN]: { TXT: [strings(value)] } });
  writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify({ dkim: false }));
}

const selectorRecords = (p: Play) => p.zoneText(domain).split('\n').filter((l) => l.startsWith('default._domainkey'));

describe("DKIM fix: a TXT of the key beside the selector's alias in the panel's zone, over the wire", () => {
  test('signing off: the fix leaves the one record (verified), then starts signing (verified), then has nothing to do — no loop', async () => {
    const p = await start();
    scene(p);
    assert.equal(selectorRecords(p).length, 2);
    const findings = await p.findings(domain, 'dkim');
    const offered = findings.filter((f) => f.fix === 'dkim').map((f) => f.rule);
    assert.deepEqual(offered, ['dkim.multiple'], findings.map((f) => `${f.rule}${f.fix ? ':fix' : ''}`).join(', '));

    const first = await p.plan(domain, 'dkim');
    assert.equal(first.mode, 'apply');
    assert.equal(first.blocked, undefined, first.blocked);
    assert.deepEqual(first.actions, []);
    assert.ok(first.changes.some((c) => c.action === 'remove' && c.type === 'CNAME'), JSON.stringify(first.changes));
    const out1 = await applyPlan({ domain, check: 'dkim', planHash: first.planHash }, p.deps());
    assert.equal(out1.status, 'applied', JSON.stringify(out1));
    if (out1.status === 'applied') assert.equal(out1.verified, 'yes', out1.message);
    assert.deepEqual(selectorRecords(p).map((l) => l.split(/\s+/)[2]), ['TXT']);

    const second = await p.plan(domain, 'dkim');
    assert.deepEqual([second.blocked, second.changes, second.actions.map((a) => a.kind)], [undefined, [], ['refresh-dkim']]);
    const out2 = await applyPlan({ domain, check: 'dkim', planHash: second.planHash }, p.deps());
    assert.equal(out2.status, 'applied', JSON.stringify(out2));
    if (out2.status === 'applied') assert.equal(out2.verified, 'yes', out2.message);
    assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, true);

    const third = await p.plan(domain, 'dkim');
    assert.deepEqual([third.blocked, third.changes, third.actions], [undefined, [], []]);
    assert.deepEqual((await p.findings(domain, 'dkim')).filter((f) => f.subject === 'default').map((f) => `${f.rule}${f.fix ? ':fix' : ''}`), ['dkim.ok']);
  });
});
