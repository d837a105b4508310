// `_mailchannels` as an alias (CNAME: a MailChannels service or an agency publishes the Domain Lockdown record) where the
// domain's DNS is served elsewhere (lawyer.example: the registrar still delegates to HostGator), over the wire (files
// panel + loopback DNS server + the wire resolver, which follows CNAMEs). The plan is then made from live answers
// (publish-elsewhere): before, the lockdown fix asked only the live TXT, which came through the alias, so it saw the
// target's record as if it stood at `_mailchannels.lawyer.example` and told the customer to publish a TXT there — beside
// the alias (an invalid zone) or in place of it (dropping the service). As for `_dmarc` (README "Aliases"), the fix is
// blocked with the alias as its reason, and the check shows the alias in its evidence.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderPlan } from '../../../src/cli/commands/fix.js';
import { playPerTest, servedData, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();
const D = 'lawyer.example';
const NAME = `_mailchannels.${D}`;
const TARGET = 'lawyer-example.lockdown.agency.example';

/** Live DNS (HostGator's copy of lawyer.example) with `_mailchannels` an alias of TARGET, which serves `txt` (or nothing). */
function aliased(p: Play, txt: string | null): void {
  const map = servedData(p.dir);
  map[NAME] = { CNAME: [TARGET] };
  map[TARGET] = txt === null ? { A: ['192.0.2.200'] } : { TXT: [[txt]] };
  p.dns.setData(map);
}

describe('lockdown fix where DNS is served elsewhere and _mailchannels is an alias', () => {
  test("the alias serves a previous host's id: blocked by the alias, no TXT to publish at the name", async () => {
    const p = await start();
    aliased(p, 'v=mc1 auth=dreamhost');
    const plan = await p.plan(D, 'lockdown');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.deepEqual(plan.changes, [], renderPlan(plan));
    assert.match(plan.blocked ?? '', /_mailchannels\.lawyer\.example is an alias \(CNAME to lawyer-example\.lockdown\.agency\.example\.?\)/);
    // The check judges what MailChannels reads (the target's record) and shows the alias it came through.
    const fs = await p.findings(D, 'lockdown');
    const stale = fs.find((f) => f.rule === 'lockdown.stale-auth');
    assert.ok(stale, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    assert.deepEqual(stale.evidence.cname, [TARGET]);
    assert.match(stale.message, /_mailchannels\.lawyer\.example is an alias of lawyer-example\.lockdown\.agency\.example/);
  });

  test("an id nobody can place, under the alias: the finding does not offer the fix's tick box (the fix is blocked)", async () => {
    const p = await start();
    aliased(p, 'v=mc1 auth=newhostmc auth=acme-emailapi');
    const fs = await p.findings(D, 'lockdown');
    const unknown = fs.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(unknown, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    assert.doesNotMatch(unknown.message, /keeps it unless you select it for removal/);
    assert.match(unknown.message, /is an alias: the record is published at its target/);
  });

  test('the alias serves no record: blocked by the alias, no TXT added beside it', async () => {
    const p = await start();
    aliased(p, null);
    const plan = await p.plan(D, 'lockdown');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.deepEqual(plan.changes, [], renderPlan(plan));
    assert.match(plan.blocked ?? '', /_mailchannels\.lawyer\.example is an alias/);
    const fs = await p.findings(D, 'lockdown');
    const missing = fs.find((f) => f.rule === 'lockdown.missing');
    assert.ok(missing, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
    assert.deepEqual(missing.evidence.cname, [TARGET]);
  });

  test('no alias (a plain TXT at the name, live): edited in place as before', async () => {
    const p = await start();
    const map = servedData(p.dir);
    map[NAME] = { TXT: [['v=mc1 auth=dreamhost']] };
    p.dns.setData(map);
    const plan = await p.plan(D, 'lockdown');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(
      plan.changes.map((c) => `${c.action} ${c.type} ${c.before?.value ?? ''} -> ${c.after?.value ?? ''}`),
      ['edit TXT v=mc1 auth=dreamhost -> v=mc1 auth=newhostmc'],
    );
    const fs = await p.findings(D, 'lockdown');
    assert.ok(fs.every((f) => f.evidence.cname === undefined));
  });
});
