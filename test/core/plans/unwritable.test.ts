// A change the panel cannot write is known before anything is written — above all before the panel generates a DKIM
// key (and turns signing on) for a write it would refuse; and a write that fails after a key was generated says so.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PanelError } from '../../../src/core/panel.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();

/** The panel declares that it writes TXT records only (capabilities.writableTypes, as the Plesk adapter declares its own). */
function txtOnly(p: Play): void {
  (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, writableTypes: ['TXT'] };
}

describe('a record type the panel does not write', () => {
  test('blocks the DKIM plan at preview; apply refuses it (why: blocked) without generating a key or recording anything', async () => {
    const p = await start();
    const domain = 'newkey.example';
    // No key on the server, and the selector is still a CNAME to the previous host: the fix would generate a key,
    // then add its TXT record and remove the CNAME.
    p.writeZone(domain, `${p.zoneText(domain)}default._domainkey\tIN\tCNAME\tdefault._domainkey.gator4123.websitewelcome.com.\n`);
    p.refresh();
    const before = p.zoneText(domain);
    txtOnly(p);
    let generated = 0;
    const generate = p.panel.generateDkim.bind(p.panel);
    p.panel.generateDkim = async (d) => {
      generated++;
      return generate(d);
    };
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.type}`), ['add TXT', 'remove CNAME']);
    assert.match(plan.blocked ?? '', /writes only TXT records .*CNAME at default\._domainkey\.newkey\.example/);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'refused');
    if (out.status !== 'refused') return;
    assert.equal(out.why, 'blocked');
    assert.equal(generated, 0, 'no key generated for a write the panel would refuse');
    assert.ok(!existsSync(join(p.dir, 'dkim', `${domain}.pem`)));
    assert.equal(p.zoneText(domain), before);
    assert.deepEqual(p.store.changesForDomain(domain), []);
  });

  test('a panel that writes every type the plan holds is not blocked (no writableTypes: every type)', async () => {
    const p = await start();
    const plan = await p.plan('dkimcname.example', 'dkim');
    assert.equal(plan.blocked, undefined);
    (p.panel as { capabilities: object }).capabilities = { ...p.panel.capabilities, writableTypes: ['TXT', 'CNAME'] };
    assert.equal((await p.plan('dkimcname.example', 'dkim')).blocked, undefined);
  });
});

describe('a write that fails after the panel generated a key', () => {
  test('the reason and the history say the panel generated a key and turned signing on, its record not published', async () => {
    const p = await start();
    const domain = 'newkey.example';
    const plan = await p.plan(domain, 'dkim');
    p.panel.applyChanges = async () => {
      throw new PanelError('unsupported', 'injected: the panel refuses this record');
    };
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps());
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.reason, /injected: the panel refuses this record\. The panel has generated a new DKIM key and turned signing on; its record is not published/);
    const [row] = p.store.changesForDomain(domain);
    assert.equal(row.status, 'failed');
    assert.match(row.error ?? '', /generated a new DKIM key for this fix and turned signing on/);
  });
});
