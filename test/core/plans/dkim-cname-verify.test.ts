// Follow-ups of QA case "dk-cnameown" (the server's selector an alias of a name that serves its key), over the wire
// (files panel + loopback DNS server, a resolver that follows CNAMEs):
// 1. The verification after the fix has the panel start signing reads the key through the alias, as receivers do: a
//    panel that made a new key while turning signing on is caught ("no", naming the selector), the key the alias serves
//    is "yes", and a DNS failure there is "propagating" — never a false "yes" (the zone holds only the alias) nor "no".
// 2. Where the domain's DNS is served elsewhere (a plan of records to publish there, made from live answers), a selector
//    that is an alias holds the alias alone: the target's key is not shown as a TXT at the selector to edit.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import { openStore } from '../../../src/adapters/store/store.js';
import { renderPlan } from '../../../src/cli/commands/fix.js';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, LOCK_TTL_MS, reconcile } from '../../../src/core/plans/apply.js';
import { playPerTest, servedData, TODAY, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const domain = 'dkimcname.example';
const selector = `default._domainkey.${domain}`;
// Where the hosting server publishes its own keys (a name outside the customer's zone).
const OWN = 'dkimcname-example._domainkey.server1.newhost.example';
const OLD_ALIAS = 'default._domainkey\tIN\tCNAME\tdefault._domainkey.gator4123.websitewelcome.com.';

function serverKey(p: Play, d = domain): string {
  return createPublicKey(readFileSync(join(p.dir, 'dkim', `${d}.pem`), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
}
const strings = (v: string) => [v.slice(0, 200), v.slice(200)];
const keyRecord = (k: string): ServedZoneMap[string] => ({ TXT: [strings(`v=DKIM1; k=rsa; p=${k}`)] });
const otherKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

/** dkimcname.example: its selector an alias of OWN (in the panel's zone, served live), OWN serving the server's key; signing off. */
function aliasedSigningOff(p: Play): void {
  const zone = p.zoneText(domain);
  assert.ok(zone.includes(OLD_ALIAS));
  p.writeZone(domain, zone.replace(OLD_ALIAS, `default._domainkey\tIN\tCNAME\t${OWN}.`));
  p.dns.setData({ ...servedData(p.dir), [OWN]: keyRecord(serverKey(p)) });
  writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify({ dkim: false }));
}

/** The panel makes a new key while turning signing on (cPanel or Plesk may), then does what `then` says. */
function newKeyOnStart(p: Play, then: () => void = () => {}): void {
  const original = p.panel.startDkimSigning.bind(p.panel);
  p.panel.startDkimSigning = async (d) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(p.dir, 'dkim', `${d}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const out = await original(d);
    then();
    return out;
  };
}

describe('DKIM fix: verifying the start of signing when the selector is an alias', () => {
  test('the panel signs with a NEW key the alias does not serve → applied, verified "no", saying to publish it; the next plan replaces the alias with it', async () => {
    const p = await start();
    aliasedSigningOff(p);
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual([plan.blocked, plan.changes, plan.actions.map((a) => a.kind)], [undefined, [], ['refresh-dkim']]);
    newKeyOnStart(p);
    const before = p.zoneText(domain);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.equal(out.verified, 'no', out.message);
    assert.match(out.message, /signing turned on, but not with the published key: .*not with the key published at default\._domainkey\.dkimcname\.example .*apply the DKIM fix again to publish it/);
    assert.equal(p.store.getChange(out.changeId)!.verified, 'no');
    assert.equal(p.zoneText(domain), before, 'no record written');
    // What the message promises: the next plan publishes the key the panel signs with, in place of the alias.
    const next = await p.plan(domain, 'dkim');
    assert.equal(next.blocked, undefined, next.blocked);
    assert.deepEqual(next.changes.map((c) => `${c.action} ${c.type}`).sort(), ['add TXT', 'remove CNAME']);
    const added = next.changes.find((c) => c.after)!.after!;
    assert.equal(canonicalKey(parseDkimRecord(added.txt ?? [added.value]).publicKey ?? ''), canonicalKey(serverKey(p)));
  });

  test('the panel signs with the key the alias serves → verified "yes"', async () => {
    const p = await start();
    aliasedSigningOff(p);
    const plan = await p.plan(domain, 'dkim');
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status === 'applied') assert.equal(out.verified, 'yes', out.message);
  });

  for (const newKey of [false, true]) {
    test(`DNS does not answer for the selector when verifying (${newKey ? 'a new key' : 'the same key'}) → applied, "propagating" (not a "yes" it did not see, not a failure)`, async () => {
      const p = await start();
      aliasedSigningOff(p);
      const plan = await p.plan(domain, 'dkim');
      // The alias's target stops answering once the panel has been asked (the plan itself was made with DNS answering).
      const silence = () => p.dns.setData({ ...servedData(p.dir), [OWN]: { TIMEOUT: true } });
      if (newKey) newKeyOnStart(p, silence);
      else {
        const original = p.panel.startDkimSigning.bind(p.panel);
        p.panel.startDkimSigning = async (d) => {
          const r = await original(d);
          silence();
          return r;
        };
      }
      const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'applied', JSON.stringify(out));
      if (out.status !== 'applied') return;
      assert.equal(out.verified, 'propagating', out.message);
      assert.equal(p.store.getChange(out.changeId)!.status, 'applied');
    });
  }

  test('reconciled after the panel never answered: the same reading through the alias ("no" for a new key)', async () => {
    const p = await start();
    aliasedSigningOff(p);
    const plan = await p.plan(domain, 'dkim');
    newKeyOnStart(p, () => {
      throw new PanelError('no-answer', 'the panel at 127.0.0.1 did not answer (ETIMEDOUT): injected');
    });
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed', JSON.stringify(out));
    if (out.status !== 'failed') return;
    const later = openStore(p.dbPath, { now: () => TODAY.getTime() + LOCK_TTL_MS + 1 });
    try {
      assert.deepEqual(await reconcile(p.deps({ history: later })), [{ id: out.changeId!, outcome: 'applied' }]);
      const ch = later.getChange(out.changeId!)!;
      assert.deepEqual([ch.status, ch.verified], ['applied', 'no']);
    } finally {
      later.close();
    }
  });
});

describe('DKIM fix served elsewhere: a selector that is an alias is shown as the alias', () => {
  const lawyer = 'lawyer.example';
  const name = `default._domainkey.${lawyer}`;

  test("the alias's target serves another key: the records to publish remove the alias and add the key — no TXT at the selector to edit", async () => {
    const p = await start();
    const map = servedData(p.dir);
    const old = otherKey();
    map[name] = { CNAME: [OWN] };
    map[OWN] = keyRecord(old);
    p.dns.setData(map);
    const plan = await p.plan(lawyer, 'dkim');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.type}`).sort(), ['add TXT', 'remove CNAME'], renderPlan(plan));
    assert.equal(plan.changes.find((c) => c.type === 'CNAME')!.before!.value.replace(/\.$/, ''), OWN);
    const added = plan.changes.find((c) => c.after)!.after!;
    assert.equal(canonicalKey(parseDkimRecord(added.txt ?? [added.value]).publicKey ?? ''), canonicalKey(serverKey(p, lawyer)));
    const text = renderPlan(plan);
    assert.doesNotMatch(text, /EDIT .* TXT/, text);
    assert.ok(!text.includes(old.slice(0, 100)), `the preview shows the target's key as a record at the selector:\n${text}`);
  });

  test('a plain TXT at the selector (no alias): edited in place, as before', async () => {
    const p = await start();
    const map = servedData(p.dir);
    const old = otherKey();
    map[name] = keyRecord(old);
    p.dns.setData(map);
    const plan = await p.plan(lawyer, 'dkim');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.type}`), ['edit TXT'], renderPlan(plan));
    assert.ok(plan.changes[0].before!.value.includes(old));
  });

  test('_dmarc an alias: the DMARC fix is still blocked by the alias', async () => {
    const p = await start();
    const map = servedData(p.dir);
    map[`_dmarc.${lawyer}`] = { CNAME: ['lawyer.dmarc.example-service.example'] };
    map['lawyer.dmarc.example-service.example'] = { TXT: [['v=DMARC1; p=none; rua=mailto:r@example-service.example']] };
    p.dns.setData(map);
    const plan = await p.plan(lawyer, 'dmarc');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /_dmarc\.lawyer\.example is an alias \(CNAME to lawyer\.dmarc\.example-service\.example\.?\)/);
  });
});
