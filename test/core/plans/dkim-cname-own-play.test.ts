// QA case "dk-cnameown" over the wire (files panel + loopback DNS server, a resolver that follows CNAMEs): the
// server's selector is an alias — directly, or through a chain — of a name where the hosting server publishes its own
// key. The audit says dkim.ok; the fix (preview and apply) has nothing to change, and says so. Signing off: the fix
// only has the panel start signing, and the verification does not take the alias for an unpublished key. Served
// elsewhere (publish-elsewhere plan from the live records): nothing to publish either.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import { renderPlan } from '../../../src/cli/commands/fix.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { playPerTest, servedData, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const domain = 'dkimcname.example';
const selector = `default._domainkey.${domain}`;
const OWN = 'dkimcname-example._domainkey.server1.newhost.example';
const HOP = 'keys.newhost.example';
const OLD_ALIAS = 'default._domainkey\tIN\tCNAME\tdefault._domainkey.gator4123.websitewelcome.com.';

function serverKey(p: Play, d = domain): string {
  return createPublicKey(readFileSync(join(p.dir, 'dkim', `${d}.pem`), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
}
const strings = (v: string) => [v.slice(0, 200), v.slice(200)];

/**
 * dkimcname.example with its selector an alias of `target` (in the panel's zone, served live), and the world serving
 * `extra` besides the panel's zones (the hosting server's own key names).
 */
function scene(p: Play, target: string, extra: ServedZoneMap): void {
  const zone = p.zoneText(domain);
  assert.ok(zone.includes(OLD_ALIAS));
  p.writeZone(domain, zone.replace(OLD_ALIAS, `default._domainkey\tIN\tCNAME\t${target}.`));
  p.dns.setData({ ...servedData(p.dir), ...extra });
}

describe("DKIM fix: the selector an alias of the server's own key, over the wire", () => {
  for (const [how, target, extra] of [
    ['directly', OWN, (k: string): ServedZoneMap => ({ [OWN]: { TXT: [strings(`v=DKIM1; k=rsa; p=${k}`)] } })],
    ['through a chain of two aliases', HOP, (k: string): ServedZoneMap => ({ [HOP]: { CNAME: [OWN] }, [OWN]: { TXT: [strings(`v=DKIM1; k=rsa; p=${k}`)] } })],
  ] as const) {
    test(`${how}: the audit says dkim.ok, the preview says nothing to change, apply refuses with "nothing"`, async () => {
      const p = await start();
      scene(p, target, extra(serverKey(p)));
      const findings = await p.findings(domain, 'dkim');
      const ok = findings.find((f) => f.rule === 'dkim.ok' && f.subject === 'default');
      assert.ok(ok, findings.map((f) => f.rule).join(', '));
      assert.deepEqual(findings.filter((f) => f.fix), []);
      const plan = await p.plan(domain, 'dkim');
      assert.equal(plan.mode, 'apply');
      assert.equal(plan.blocked, undefined, plan.blocked);
      assert.deepEqual([plan.changes, plan.actions], [[], []]);
      const text = renderPlan(plan);
      assert.match(text, /Nothing to change: the records are already right\./);
      assert.match(text, new RegExp(`alias \\(CNAME\\) of ${target.replace(/\./g, '\\.')}, which already publishes the key this server signs with`));
      const before = p.zoneText(domain);
      const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'refused', JSON.stringify(out));
      if (out.status === 'refused') assert.equal(out.why, 'nothing');
      assert.equal(p.zoneText(domain), before, 'the zone is untouched');
    });
  }

  test('signing off: the fix has the panel start signing (no record changes), applied and verified', async () => {
    const p = await start();
    scene(p, OWN, { [OWN]: { TXT: [strings(`v=DKIM1; k=rsa; p=${serverKey(p)}`)] } });
    writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify({ dkim: false }));
    const off = (await p.findings(domain, 'dkim')).find((f) => f.rule === 'dkim.signing-off');
    assert.equal(off?.fix, 'dkim', off?.message);
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual([plan.blocked, plan.changes, plan.actions.map((a) => a.kind)], [undefined, [], ['refresh-dkim']]);
    const before = p.zoneText(domain);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status === 'applied') assert.equal(out.verified, 'yes', out.message);
    assert.equal(p.zoneText(domain), before, 'no record written');
    assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, true);
    assert.deepEqual((await p.findings(domain, 'dkim')).filter((f) => f.subject === 'default').map((f) => f.rule), ['dkim.ok']);
  });

  test("the alias's target does not answer (timeout): no plan, nothing changed; the audit says dkim.dns-error", async () => {
    const p = await start();
    scene(p, OWN, { [OWN]: { TIMEOUT: true } });
    const findings = await p.findings(domain, 'dkim');
    assert.ok(findings.some((f) => f.rule === 'dkim.dns-error' && f.message.includes(selector)), findings.map((f) => f.rule).join(', '));
    assert.deepEqual(findings.filter((f) => f.fix), []);
    await assert.rejects(p.plan(domain, 'dkim'), /no plan until DNS answers/);
  });

  test('served elsewhere (lawyer.example at its previous host), the live selector an alias of the server\'s key: nothing to publish', async () => {
    const p = await start();
    const lawyer = 'lawyer.example';
    const map = servedData(p.dir);
    map[`default._domainkey.${lawyer}`] = { CNAME: [OWN] };
    map[OWN] = { TXT: [strings(`v=DKIM1; k=rsa; p=${serverKey(p, lawyer)}`)] };
    p.dns.setData(map);
    const findings = await p.findings(lawyer, 'dkim');
    assert.ok(findings.some((f) => f.rule === 'dkim.ok' && f.subject === 'default'), findings.map((f) => f.rule).join(', '));
    const plan = await p.plan(lawyer, 'dkim');
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual([plan.changes, plan.actions], [[], []]);
    assert.match(renderPlan(plan), /Nothing to change/);
  });
});
