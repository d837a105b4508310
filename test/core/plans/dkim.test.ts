// DKIM fix through the files panel and a loopback DNS server.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import { auditDomain } from '../../../src/core/audit.js';
import { withSettings } from '../../../src/adapters/panels/with-settings.js';
import { openStore } from '../../../src/adapters/store/store.js';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan, LOCK_TTL_MS, reconcile, undoChange } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { PLACEHOLDER_KEY } from '../../../src/core/plans/plan.js';
import { applyAndCheck, playPerTest, TODAY, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();

function pemPublicKey(p: Play, domain: string): string {
  return createPublicKey(readFileSync(join(p.dir, 'dkim', `${domain}.pem`), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** The live answer at the server's selector, joined. */
async function liveKey(p: Play, domain: string): Promise<string[]> {
  const a = await p.resolver().resolve(`default._domainkey.${domain}`, 'TXT');
  return a.status === 'ok' ? a.records.map((r) => r.join('')) : [];
}

/**
 * clean.example as cPanel with a missing validity-cache entry: the right key is published, but the panel does not
 * sign until startDkimSigning (cPanel's re-check, startSigning 'recheck') — which starts signing once `sees` is set
 * (its check of public DNS finds the key).
 */
function unseenKey(p: Play, domain: string): { sees: boolean } {
  const state = { sees: false };
  const overrides = join(p.dir, 'domains', `${domain}.json`);
  writeFileSync(overrides, JSON.stringify({ dkim: false }));
  const read = p.panel.readMailSettings.bind(p.panel);
  p.panel.readMailSettings = async (d) => {
    const s = await read(d);
    return s.dkim.signing ? s : { ...s, dkim: { ...s.dkim, startSigning: 'recheck' } };
  };
  p.panel.startDkimSigning = async (d: string) => {
    if (state.sees) writeFileSync(overrides, JSON.stringify({ dkim: true }));
    return p.panel.readMailSettings(d);
  };
  return state;
}

describe('DKIM fix', () => {
  test("plumber.example: the previous host's key is replaced by the key the server signs with", async () => {
    const p = await start();
    const { plan } = await applyAndCheck(p, 'plumber.example', 'dkim');
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0].action, 'edit');
    const live = await liveKey(p, 'plumber.example');
    assert.equal(live.length, 1);
    assert.equal(canonicalKey(parseDkimRecord(live[0]).publicKey ?? ''), canonicalKey(pemPublicKey(p, 'plumber.example')));
  });

  test("a selector CNAME to the old host is replaced by a TXT with this server's key; other selectors untouched", async () => {
    const p = await start();
    const before = p.zoneText('dkimcname.example');
    const { plan, after } = await applyAndCheck(p, 'dkimcname.example', 'dkim');
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.type}`).sort(), ['add TXT', 'remove CNAME']);
    assert.doesNotMatch(after, /CNAME\tdefault\._domainkey\.gator4123/);
    const googleLine = before.split('\n').find((l) => l.startsWith('google._domainkey'))!;
    assert.ok(after.split('\n').includes(googleLine));
    const cname = await p.resolver().resolve('default._domainkey.dkimcname.example', 'CNAME');
    assert.notEqual(cname.status, 'ok');
    const live = await liveKey(p, 'dkimcname.example');
    assert.equal(canonicalKey(parseDkimRecord(live[0]).publicKey ?? ''), canonicalKey(pemPublicKey(p, 'dkimcname.example')));
  });

  for (const [domain, action] of [
    ['nokey.example', 'edit'],
    ['newkey.example', 'add'],
  ] as const) {
    test(`${domain}: no server key → the plan asks the panel to generate one, then publishes it (2048-bit, signing on)`, async () => {
      const p = await start();
      assert.ok(!existsSync(join(p.dir, 'dkim', `${domain}.pem`)));
      const plan = await p.plan(domain, 'dkim');
      assert.deepEqual(
        plan.actions.map((a) => a.kind),
        ['generate-dkim'],
      );
      assert.equal(plan.changes.length, 1);
      assert.equal(plan.changes[0].action, action);
      assert.ok(plan.changes[0].after!.value.includes(PLACEHOLDER_KEY));

      const { outcome } = await applyAndCheck(p, domain, 'dkim');
      const pem = readFileSync(join(p.dir, 'dkim', `${domain}.pem`), 'utf8');
      const key = createPublicKey(pem);
      assert.equal(key.asymmetricKeyType, 'rsa');
      assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
      assert.equal(JSON.parse(readFileSync(join(p.dir, 'domains', `${domain}.json`), 'utf8')).dkim, true);
      const applied = outcome.plan.changes[0].after!;
      assert.ok(!applied.value.includes(PLACEHOLDER_KEY));
      for (const s of applied.txt!) assert.ok(Buffer.byteLength(s) <= 255);
      // History holds the real key, not the placeholder.
      assert.ok(!JSON.stringify(p.store.getChange(outcome.changeId)!.changes).includes(PLACEHOLDER_KEY));
      const live = await liveKey(p, domain);
      assert.equal(live.length, 1);
      assert.equal(canonicalKey(parseDkimRecord(live[0]).publicKey ?? ''), canonicalKey(pemPublicKey(p, domain)));
      const settings = await p.panel.readMailSettings(domain);
      assert.equal(settings.dkim.signing, true);
    });
  }

  test('no server key and the old key published twice (identical records) → one record with the generated key', async () => {
    // QA: after the key was generated, both changes (edit one copy, remove the other) were mapped onto the first copy
    // and the write failed — with a new key generated and signing on, its record unpublished.
    const p = await start();
    const domain = 'nokey.example';
    const line = p.zoneText(domain).split('\n').find((l) => l.startsWith('default._domainkey'))!;
    p.writeZone(domain, p.zoneText(domain) + line + '\n');
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.changes.map((c) => c.action).sort(), ['edit', 'remove']);
    const { outcome } = await applyAndCheck(p, domain, 'dkim');
    assert.equal(outcome.status, 'applied');
    const live = await liveKey(p, domain);
    assert.equal(live.length, 1);
    assert.equal(canonicalKey(parseDkimRecord(live[0]).publicKey ?? ''), canonicalKey(pemPublicKey(p, domain)));
  });

  test('undo of a fix that generated the key: refused while the server signs with it (undo would break every signature); allowed once signing is off', async () => {
    const p = await start();
    const domain = 'nokey.example';
    const { outcome } = await applyAndCheck(p, domain, 'dkim');
    assert.ok(p.store.getChange(outcome.changeId)!.changes.some((c) => c.keyGenerated));
    const published = p.zoneText(domain);
    const refused = await undoChange(outcome.changeId, p.deps());
    assert.equal(refused.status, 'refused');
    if (refused.status !== 'refused') return;
    assert.match(refused.reason, /take the key this server signs nokey\.example's mail with out of DNS.*Turn DKIM signing off/);
    assert.equal(p.zoneText(domain), published);
    // Signing turned off in the panel: the undo restores the record as it was.
    writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify({ dkim: false }));
    const undone = await undoChange(outcome.changeId, p.deps());
    assert.equal(undone.status, 'applied');
    const keys = (await p.panel.readZone(domain)).records.filter((r) => r.name === `default._domainkey.${domain}` && r.type === 'TXT').map((r) => canonicalKey(parseDkimRecord(r.txt ?? [r.value]).publicKey ?? ''));
    assert.ok(!keys.includes(canonicalKey(pemPublicKey(p, domain))), 'the generated key is out of the zone again');
  });

  test("undo of a fix that published the server's existing key is not held back (the state before it comes back)", async () => {
    const p = await start();
    const { outcome } = await applyAndCheck(p, 'plumber.example', 'dkim');
    assert.ok(!p.store.getChange(outcome.changeId)!.changes.some((c) => c.keyGenerated));
    assert.equal((await undoChange(outcome.changeId, p.deps())).status, 'applied');
  });

  // cPanel signs only once its own check has seen the published key (the validity cache): the record is right, the
  // fix is that check — no record changes. The files panel plays it here: signing off until startDkimSigning.
  test('the key is published but the panel has not seen it (cPanel validity cache) → the fix asks the panel to check again; no record changes', async () => {
    const p = await start();
    const domain = 'clean.example';
    const panel = unseenKey(p, domain);
    const before = p.zoneText(domain);
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
    assert.equal(plan.blocked, undefined);
    // The panel still does not see it: failed, said so, nothing changed.
    const failed = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(failed.status, 'failed');
    if (failed.status === 'failed') assert.match(failed.reason, /still does not sign/);
    panel.sees = true;
    const done = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(done.status, 'applied');
    if (done.status !== 'applied') return;
    assert.equal(done.verified, 'yes');
    assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, true);
    assert.equal(p.zoneText(domain), before, 'no record changed');
    assert.deepEqual(p.store.getChange(done.changeId)!.changes, []);
    const undo = await undoChange(done.changeId, p.deps());
    assert.equal(undo.status, 'refused');
    if (undo.status === 'refused') assert.match(undo.reason, /changed no record .*nothing to undo/);
  });

  test('a crash during the "check the key again" fix is reconciled from whether the panel signs, not from the zone', async () => {
    const p = await start();
    const domain = 'clean.example';
    const panel = unseenKey(p, domain);
    const crashAt = (where: string) => (w: string) => {
      if (w === where) throw new Error(`injected crash ${w}`);
    };
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
    // Crash before the panel was asked: the panel does not sign → failed, not "applied".
    await assert.rejects(applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-intent') })), /injected crash/);
    const [first] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: first.id, outcome: 'not-written' }]);
    assert.equal(p.store.getChange(first.id)!.status, 'failed');
    // Crash after the panel was asked and signs: applied and verified.
    panel.sees = true;
    await assert.rejects(applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ crashPoint: crashAt('after-write') })), /injected crash/);
    const [second] = p.store.pendingIntents();
    assert.deepEqual(await reconcile(p.deps()), [{ id: second.id, outcome: 'applied' }]);
    const ch = p.store.getChange(second.id)!;
    assert.equal(ch.status, 'applied');
    assert.equal(ch.verified, 'yes');
    assert.deepEqual(p.store.pendingIntents(), []);
  });

  test('the zone is edited while the panel generates the key → refused; only that edit is in the zone', async () => {
    const p = await start();
    const domain = 'newkey.example';
    const plan = await p.plan(domain, 'dkim');
    const generate = p.panel.generateDkim.bind(p.panel);
    p.panel.generateDkim = async (d) => {
      const s = await generate(d);
      p.writeZone(d, p.zoneText(d) + '@\tIN\tTXT\t"edited-meanwhile=1"\n');
      return s;
    };
    const edited = () => p.zoneText(domain);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status !== 'refused') return;
    assert.match(out.reason, /zone changed while the key was generated/);
    // It says what the panel did: a new key, signing on, its record not published (not "nothing else was changed").
    assert.match(out.reason, /generated a new DKIM key for newkey\.example and turned signing on, but its record is not published/);
    assert.doesNotMatch(out.reason, /nothing else was changed/);
    assert.match(edited(), /edited-meanwhile=1/);
    assert.doesNotMatch(edited(), /^default\._domainkey/m);
    // The history has the fix, as written ahead of the key generation, closed with what happened.
    const [row] = p.store.changesForDomain(domain);
    assert.equal(row.status, 'failed');
    assert.match(row.error ?? '', /refused: .*turned signing on, but its record is not published/);
    assert.deepEqual(p.store.pendingIntents(), []);
  });

  test('a crash while the panel generates the key: the intent written ahead is reconciled as not written, saying so', async () => {
    const p = await start();
    const domain = 'newkey.example';
    const plan = await p.plan(domain, 'dkim');
    const generate = p.panel.generateDkim.bind(p.panel);
    const read = p.panel.readZone.bind(p.panel);
    let crash = false;
    p.panel.generateDkim = async (d) => {
      const s = await generate(d);
      crash = true;
      return s;
    };
    p.panel.readZone = async (d) => {
      if (crash) throw new Error('injected crash while generating');
      return read(d);
    };
    await assert.rejects(applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps()), /injected crash/);
    p.panel.readZone = read;
    const [pending] = p.store.pendingIntents();
    assert.ok(pending, 'the intent was written before the key was generated');
    assert.deepEqual(await reconcile(p.deps()), [{ id: pending.id, outcome: 'not-written' }]);
    assert.match(p.store.getChange(pending.id)!.error ?? '', /interrupted while the panel generated the DKIM key: the panel has a key and signs with it, but its record may not be published/);
    // The fix can be run again and publishes the key.
    const again = await p.plan(domain, 'dkim');
    const out = await applyPlan({ domain, check: 'dkim', planHash: again.planHash }, p.deps());
    assert.equal(out.status, 'applied', (out as { reason?: string }).reason);
  });

  test('the panel fails to generate the key → failed with the reason, the zone untouched, history says so', async () => {
    const p = await start();
    const domain = 'newkey.example';
    const before = p.zoneText(domain);
    const plan = await p.plan(domain, 'dkim');
    p.panel.generateDkim = async () => {
      throw new Error('injected: key generation failed');
    };
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /could not generate a DKIM key \(injected: key generation failed\); the zone was not changed/);
    assert.equal(p.zoneText(domain), before);
    assert.equal(p.store.getChange(out.changeId!)!.status, 'failed');
  });

  test('the panel adapter finds the zone changed under the key step (stale) → refused, saying the zone changed, not that the panel failed', async () => {
    const p = await start();
    const domain = 'newkey.example';
    const before = p.zoneText(domain);
    const plan = await p.plan(domain, 'dkim');
    p.panel.generateDkim = async () => {
      throw new PanelError('stale', 'two new keys at default._domainkey: which one the panel published cannot be told');
    };
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused', JSON.stringify(out));
    if (out.status !== 'refused') return;
    assert.match(out.reason, /^The zone changed while the panel generated the DKIM key \(two new keys at default\._domainkey.*took nothing back — check the DKIM records of newkey\.example/);
    assert.doesNotMatch(out.reason, /could not generate/);
    assert.equal(p.zoneText(domain), before);
  });

  for (const domain of ['bakery.example', 'clean.example']) {
    test(`${domain}: the published key is the server's → empty plan`, async () => {
      const p = await start();
      const plan = await p.plan(domain, 'dkim');
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(plan.actions, []);
      assert.equal(plan.blocked, undefined);
    });
  }

  // plumber.example publishes a key that is not this server's. When this server does not sign for the domain, or its
  // mail is routed elsewhere, that key is most likely the sending service's: never replaced.
  for (const [why, overrides] of [
    ['signing is off', { dkim: false }],
    ['mail is routed elsewhere', { mailRouting: 'remote' }],
  ] as const) {
    test(`a key that is not this server's, and ${why} → blocked, the key kept, apply refused, the audit offers no DKIM fix`, async () => {
      const p = await start();
      const domain = 'plumber.example';
      writeFileSync(join(p.dir, 'domains', `${domain}.json`), JSON.stringify(overrides));
      const before = p.zoneText(domain);
      const plan = await p.plan(domain, 'dkim');
      assert.deepEqual(plan.changes, []);
      assert.match(plan.blocked ?? '', /publishes a key this server does not sign with.*most likely the key of the service that sends its mail/);
      const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
      assert.equal(out.status, 'refused');
      assert.equal(p.zoneText(domain), before);
      const audit = await auditDomain(domain, p.deps());
      const dkim = audit.findings.filter((f) => f.check === 'dkim');
      assert.ok(dkim.length > 0);
      assert.ok(dkim.every((f) => !f.fix), JSON.stringify(dkim.map((f) => [f.rule, f.fix])));
    });
  }

  test('a zone file with a line the panel cannot read → blocked before any key is generated; apply refuses, nothing changes', async () => {
    const p = await start();
    const domain = 'newkey.example';
    p.writeZone(domain, p.zoneText(domain) + 'broken\tIN\tTXT\t( "unclosed"\n');
    const before = p.zoneText(domain);
    const plan = await p.plan(domain, 'dkim');
    assert.match(plan.blocked ?? '', /has lines mailhealth cannot read .*repair it in the panel first/);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.ok(!existsSync(join(p.dir, 'dkim', `${domain}.pem`)), 'no key generated');
    assert.ok(!existsSync(join(p.dir, 'domains', `${domain}.json`)) || JSON.parse(readFileSync(join(p.dir, 'domains', `${domain}.json`), 'utf8')).dkim !== true);
    assert.equal(p.zoneText(domain), before);
    // A plan with nothing to change is not blocked by it.
    p.writeZone('clean.example', p.zoneText('clean.example') + 'broken\tIN\tTXT\t( "unclosed"\n');
    assert.equal((await p.plan('clean.example', 'dkim')).blocked, undefined);
  });

  test('the panel says it signs but gives no key mailhealth can read → blocked: no new key replaces the one in use', async () => {
    const p = await start();
    writeFileSync(join(p.dir, 'domains', 'newkey.example.json'), JSON.stringify({ dkim: true }));
    const plan = await p.plan('newkey.example', 'dkim');
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions, []);
    assert.match(plan.blocked ?? '', /signs newkey\.example's mail with a key mailhealth cannot read here/);
    assert.ok(!existsSync(join(p.dir, 'dkim', 'newkey.example.pem')));
  });

  test('a panel that cannot turn signing on: key published, signing off → blocked with where to turn it on; the audit offers no fix and says so', async () => {
    const p = await start();
    writeFileSync(join(p.dir, 'domains', 'clean.example.json'), JSON.stringify({ dkim: false }));
    // The panel's settings say it cannot turn signing on here (as a Plesk domain alias's do), and it has no way to.
    const read = p.panel.readMailSettings.bind(p.panel);
    p.panel.readMailSettings = async (d) => {
      const s = await read(d);
      const { startSigning: _s, ...dkim } = s.dkim;
      return { ...s, dkim: { ...dkim, cannotStartSigning: 'turn signing on in the Mail Settings of its main domain' } };
    };
    const before = p.zoneText('clean.example');
    const plan = await p.plan('clean.example', 'dkim');
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions, []);
    assert.match(plan.blocked ?? '', /DKIM signing is turned off for clean\.example, though its key is already published.*turn signing on in the Mail Settings of its main domain/);
    const out = await applyPlan({ domain: 'clean.example', check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    assert.equal(p.zoneText('clean.example'), before);
    const dkim = (await auditDomain('clean.example', p.deps())).findings.filter((f) => f.check === 'dkim');
    assert.ok(dkim.every((f) => !f.fix), JSON.stringify(dkim.map((f) => [f.rule, f.fix])));
    assert.match(dkim.find((f) => f.rule === 'dkim.signing-off')!.message, /turn signing on in the Mail Settings of its main domain/);
  });
});

describe('DKIM fix: the key is published but signing is off — the panel turns signing on', () => {
  /** clean.example with signing off in the files panel (its override), other overrides kept. */
  function signingOff(p: Play): string {
    const path = join(p.dir, 'domains', 'clean.example.json');
    writeFileSync(path, JSON.stringify({ mailRouting: 'local', dkim: false }));
    return path;
  }

  test('the audit offers the fix on dkim.signing-off; the plan turns signing on (no record changes); apply, history, audit again, undo', async () => {
    const p = await start();
    const domain = 'clean.example';
    const overrides = signingOff(p);
    const before = p.zoneText(domain);
    const off = (await p.findings(domain, 'dkim')).find((f) => f.rule === 'dkim.signing-off');
    assert.equal(off?.fix, 'dkim');
    assert.match(off!.message, /turned off for clean\.example on this server, though its key is published at default\._domainkey\.clean\.example\. The DKIM fix has the panel turn signing on/);
    const plan = await p.plan(domain, 'dkim');
    assert.equal(plan.blocked, undefined);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions, [{ kind: 'refresh-dkim', description: 'turn DKIM signing on for clean.example in the panel (it signs with the key already published)' }]);
    assert.ok(plan.notes.some((n) => /DKIM signing is turned off for clean\.example on the server\. The fix has the panel turn signing on \(no record changes\)/.test(n)), plan.notes.join(' | '));
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.equal(out.verified, 'yes');
    assert.match(out.message, /signing turned on/);
    // The panel's own setting, read back: on, the other overrides kept; no record changed.
    assert.deepEqual(JSON.parse(readFileSync(overrides, 'utf8')), { mailRouting: 'local', dkim: true });
    assert.equal((await p.panel.readMailSettings(domain)).dkim.signing, true);
    assert.equal(p.zoneText(domain), before);
    // The history: one applied change, no record changes, verified, saying what was done.
    const ch = p.store.getChange(out.changeId)!;
    assert.equal(ch.status, 'applied');
    assert.equal(ch.verified, 'yes');
    assert.deepEqual(ch.changes, []);
    assert.match(p.store.changesForDomain(domain)[0].error ?? '', /the panel signs clean\.example's mail now, with the DKIM key published at default\._domainkey\.clean\.example; no DNS record was changed/);
    assert.deepEqual((await p.findings(domain, 'dkim')).map((f) => f.rule), ['dkim.ok']);
    // Nothing left to do; the undo says what the change did and how to stop signing.
    const again = await p.plan(domain, 'dkim');
    assert.deepEqual([again.changes, again.actions, again.blocked], [[], [], undefined]);
    const undo = await undoChange(out.changeId, p.deps());
    assert.equal(undo.status, 'refused');
    if (undo.status === 'refused') assert.match(undo.reason, /changed no record \(it had the panel start signing clean\.example's mail with the DKIM key already published\): nothing to undo here\. To stop signing, turn DKIM signing off/);
  });

  test('through the admin-settings decorator (withSettings) the same fix works', async () => {
    const p = await start();
    signingOff(p);
    const panel = withSettings(p.panel, { getSetting: () => undefined });
    assert.equal(typeof panel.startDkimSigning, 'function');
    const deps = p.deps({ panel });
    const plan = await makePlan({ domain: 'clean.example', check: 'dkim' }, deps);
    assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
    const out = await applyPlan({ domain: 'clean.example', check: 'dkim', planHash: plan.planHash }, p.deps({ panel }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.equal((await p.panel.readMailSettings('clean.example')).dkim.signing, true);
  });

  test('a panel whose settings offer it but that cannot be asked (no startDkimSigning) → refused with where to turn it on, nothing recorded', async () => {
    const p = await start();
    signingOff(p);
    const plan = await p.plan('clean.example', 'dkim');
    (p.panel as { startDkimSigning?: unknown }).startDkimSigning = undefined;
    const out = await applyPlan({ domain: 'clean.example', check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status === 'refused') assert.match(out.reason, /cannot be asked to start DKIM signing from here: turn DKIM signing on for clean\.example in the panel's DKIM settings/);
    assert.deepEqual(p.store.changesForDomain('clean.example'), []);
  });

  test('the panel fails → failed with its reason and whether it signs now; the history says so, nothing was written', async () => {
    const p = await start();
    signingOff(p);
    const before = p.zoneText('clean.example');
    const plan = await p.plan('clean.example', 'dkim');
    p.panel.startDkimSigning = async () => {
      throw new Error('injected: the panel refused');
    };
    const out = await applyPlan({ domain: 'clean.example', check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /could not start DKIM signing for clean\.example \(injected: the panel refused\); it still does not sign\. mailhealth changed no DNS record/);
    assert.equal(p.store.getChange(out.changeId!)!.status, 'failed');
    assert.equal(p.zoneText('clean.example'), before);
  });

  test('the panel turns signing on but with a new key (not the one published) → applied, verified "no", saying to publish it', async () => {
    const p = await start();
    signingOff(p);
    const plan = await p.plan('clean.example', 'dkim');
    const original = p.panel.startDkimSigning.bind(p.panel);
    p.panel.startDkimSigning = async (d) => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(p.dir, 'dkim', `${d}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      return original(d);
    };
    const out = await applyPlan({ domain: 'clean.example', check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    if (out.status !== 'applied') return;
    assert.equal(out.verified, 'no');
    assert.match(out.message, /not with the key published at default\._domainkey\.clean\.example .*apply the DKIM fix again to publish it/);
    assert.equal(p.store.getChange(out.changeId)!.verified, 'no');
    // The next plan publishes the new key.
    const next = await p.plan('clean.example', 'dkim');
    assert.equal(next.changes.length, 1);
    assert.equal(canonicalKey(parseDkimRecord(next.changes[0].after!.value).publicKey ?? ''), canonicalKey(pemPublicKey(p, 'clean.example')));
  });

  test('the panel never answers → the intent stays open and the domain locked; reconcile settles it from whether the panel signs', async () => {
    const p = await start();
    const domain = 'clean.example';
    signingOff(p);
    const plan = await p.plan(domain, 'dkim');
    const original = p.panel.startDkimSigning.bind(p.panel);
    p.panel.startDkimSigning = async (d) => {
      await original(d); // it went through; the answer was lost
      throw new PanelError('no-answer', 'the panel at 127.0.0.1 did not answer (ETIMEDOUT): injected');
    };
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /did not answer .*whether the panel started signing is not known yet/);
    assert.equal(p.store.getChange(out.changeId!)!.status, 'intent');
    assert.deepEqual(await reconcile(p.deps()), [{ id: out.changeId!, outcome: 'skipped: a fix on this domain is running' }]);
    const later = openStore(p.dbPath, { now: () => TODAY.getTime() + LOCK_TTL_MS + 1 });
    try {
      assert.deepEqual(await reconcile(p.deps({ history: later })), [{ id: out.changeId!, outcome: 'applied' }]);
      const ch = later.getChange(out.changeId!)!;
      assert.equal(ch.status, 'applied');
      assert.equal(ch.verified, 'yes');
    } finally {
      later.close();
    }
  });

  test("the key must be published first (t=y): the plan republishes it and says signing comes next; dkim.signing-off offers no fix until then", async () => {
    const p = await start();
    const domain = 'clean.example';
    signingOff(p);
    const key = pemPublicKey(p, domain);
    p.writeZone(domain, p.zoneText(domain).replace(/^default\._domainkey.*(\n\s+".*)*$/m, `default._domainkey\tIN\tTXT\t"v=DKIM1; k=rsa; t=y; p=${key.slice(0, 200)}" "${key.slice(200)}"`));
    p.refresh();
    const fs = await p.findings(domain, 'dkim');
    assert.equal(fs.find((f) => f.rule === 'dkim.testing')?.fix, 'dkim', JSON.stringify(fs.map((f) => [f.rule, f.fix])));
    const off = fs.find((f) => f.rule === 'dkim.signing-off')!;
    assert.equal(off.fix, undefined);
    assert.match(off.message, /Once the DKIM fix has published its key at default\._domainkey\.clean\.example, run the fix again: it has the panel start signing/);
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.changes.length, 1);
    assert.ok(plan.notes.some((n) => /once this record is published, run the DKIM fix again/.test(n)), plan.notes.join(' | '));
    assert.equal((await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps())).status, 'applied');
    // Then the second fix turns signing on.
    const second = await p.plan(domain, 'dkim');
    assert.deepEqual(second.actions.map((a) => a.kind), ['refresh-dkim']);
    assert.equal((await applyPlan({ domain, check: 'dkim', planHash: second.planHash }, p.deps())).status, 'applied');
    assert.deepEqual((await p.findings(domain, 'dkim')).map((f) => f.rule), ['dkim.ok']);
  });
});
