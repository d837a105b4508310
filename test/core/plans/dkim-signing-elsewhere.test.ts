// A domain whose live DNS is served elsewhere (lawyer.example: nameservers still at the previous host), where the key
// this server signs with is already published at the live DNS host but the panel does not sign: the fix only turns
// signing on in the panel — no record to publish anywhere. It was offered and then refused at apply ("publish the
// records at the real DNS host") with no records to publish. Now it applies through the panel and is verified against
// the live DNS (the panel's zone is not what receivers see).
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { applyPlan, verify } from '../../../src/core/plans/apply.js';
import { servedData, startPlay, type Play } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const domain = 'lawyer.example';
const selector = `default._domainkey.${domain}`;

/** lawyer.example with signing off on this server and, at the live DNS host, `liveKey` at the server's selector. */
async function scene(liveKey: 'server' | 'other'): Promise<Play> {
  const p = (play = await startPlay());
  writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify({ dkim: false }));
  const pub = createPublicKey(readFileSync(join(p.dir, 'dkim', `${domain}.pem`), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
  const map = servedData(p.dir);
  if (liveKey === 'server') {
    const rec = `v=DKIM1; k=rsa; p=${pub}`;
    map[selector] = { TXT: [[rec.slice(0, 200), rec.slice(200)]] };
  }
  p.dns.setData(map);
  return p;
}

test('elsewhere, the server key published live, signing off: the plan turns signing on, applies through the panel, verified against live DNS', async () => {
  const p = await scene('server');
  const off = (await p.findings(domain, 'dkim')).find((f) => f.rule === 'dkim.signing-off');
  assert.equal(off?.fix, 'dkim', 'the audit offers the fix');
  const plan = await p.plan(domain, 'dkim');
  assert.equal(plan.blocked, undefined);
  assert.deepEqual(plan.changes, []);
  assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
  assert.equal(plan.mode, 'apply', 'a panel action only: applied through the panel');
  assert.ok(!plan.notes.some((n) => /publish these records/.test(n)), plan.notes.join(' | '));
  assert.ok(plan.notes.some((n) => /served by ns1\.hostgator\.com.*already published there/.test(n)), plan.notes.join(' | '));
  // The panel's own copy of the zone (which nobody is served) without the key: verification reads the live DNS.
  p.writeZone(domain, p.zoneText(domain).replace(/^default\._domainkey\s[^(]*\([^)]*\)\s*$/m, ''));
  assert.doesNotMatch(p.zoneText(domain), /_domainkey/);
  const zoneBefore = p.zoneText(domain);
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
  if (out.status !== 'applied') return;
  assert.equal(out.verified, 'yes');
  assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, true);
  assert.equal(p.zoneText(domain), zoneBefore, 'no record written');
  assert.deepEqual((await p.findings(domain, 'dkim')).map((f) => f.rule).filter((r) => r.startsWith('dkim.signing') || r === 'dkim.ok'), ['dkim.ok']);
  // "Verify again" (history's re-check, src/web/reverify.ts) judges it the same way: against live DNS, not the panel's
  // copy of the zone nobody is served (found by review: it said "no").
  const ch = p.store.getChange(out.changeId)!;
  assert.equal(await verify(domain, ch.changes, p.deps(), ch.zoneVersionBefore), 'yes');
});

test('elsewhere, a previous host\'s key live: still records to publish there, and apply refuses (nothing changed)', async () => {
  const p = await scene('other');
  const plan = await p.plan(domain, 'dkim');
  assert.equal(plan.mode, 'publish-elsewhere');
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'refused');
  assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, false);
});

test('elsewhere, the panel-only plan is not blocked by a panel zone it does not write (a line that cannot be read there)', async () => {
  const p = await scene('server');
  p.writeZone(domain, p.zoneText(domain) + 'odd\tIN\tTXT\t"bad\\999"\n');
  const off = (await p.findings(domain, 'dkim')).find((f) => f.rule === 'dkim.signing-off');
  assert.equal(off?.fix, 'dkim');
  const plan = await p.plan(domain, 'dkim');
  assert.equal(plan.blocked, undefined, plan.blocked);
  const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
});
