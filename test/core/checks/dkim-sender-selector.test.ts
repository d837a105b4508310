// QA: the server's DKIM selector is one a sending service of the domain's uses — Brevo's `mail` while the SPF includes
// spf.brevo.com, or `default._domainkey` a CNAME into SendGrid (s1.domainkey.u1.wl.sendgrid.net) — and that service's
// key is published there. With mail routing `local` the audit called it "most likely the previous host's" (fail, with
// the fix) and the fix replaced it, so Brevo's / SendGrid's mail failed DKIM; with routing `remote` it was already
// left alone. Now the same evidence leaves the key alone whatever the routing: dkim.key-mismatch says the selectors
// collide (this server's signatures fail while that key is there; sign with another selector, or move the service to
// its own) and offers no fix, and the plan is blocked with that reason. Without that evidence (no include of the
// service, an alias into no mail service) a foreign key at the selector is still a previous host's and replaced.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'shop.example';
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const split = (s: string) => [s.slice(0, 200), s.slice(200)];
const dkimTxt = (k: string) => `v=DKIM1; k=rsa; p=${k}`;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject}]: ${f.message}`).join('\n');

interface World {
  selector: string;
  spf: string;
  /** The server's selector holds this key as TXT, or is a CNAME to this target (which publishes `theirs`). */
  at: { key: string } | { cname: string };
  routing?: 'local' | 'remote';
  signing?: boolean;
  /** The apex TXT lookup times out (and the panel's zone holds no SPF). */
  spfTimeout?: boolean;
}

async function run(w: World) {
  const name = `${w.selector}._domainkey.${D}`;
  const map: ZoneMap = {
    [D]: { TXT: w.spfTimeout ? 'TIMEOUT' : [[w.spf]], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
  };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'MX', value: `10 mail.${D}.` }];
  if (!w.spfTimeout) zone.push({ name: D, ttl: 3600, type: 'TXT', value: w.spf, txt: [w.spf] });
  if ('key' in w.at) {
    map[name] = { TXT: [split(dkimTxt(w.at.key))] };
    zone.push({ name, ttl: 3600, type: 'TXT', value: dkimTxt(w.at.key), txt: split(dkimTxt(w.at.key)) });
  } else {
    // MapResolver does not follow CNAMEs: the answer at the alias carries the target's key, as a resolver's would.
    map[name] = { CNAME: [w.at.cname], TXT: [split(dkimTxt(theirs))] };
    map[w.at.cname] = { TXT: [split(dkimTxt(theirs))] };
    zone.push({ name, ttl: 3600, type: 'CNAME', value: `${w.at.cname}.` });
  }
  const settings: Partial<MailSettings> = { routing: w.routing ?? 'local', dkim: { selector: w.selector, signing: w.signing ?? true, publicKey: mine } };
  const ctx = checkContext(D, map, settings, w.spfTimeout ? zone : zone);
  const plan = await planDkim(ctx, zone);
  const findings = await dkimCheck(ctx);
  const mismatch = findings.find((f) => f.rule === 'dkim.key-mismatch' && f.subject === w.selector);
  return { plan, findings, mismatch };
}

const brevo: World = { selector: 'mail', spf: 'v=spf1 a mx include:spf.brevo.com ~all', at: { key: theirs } };
const sendgrid: World = { selector: 'default', spf: 'v=spf1 a mx include:sendgrid.net ~all', at: { cname: 's1.domainkey.u1.wl.sendgrid.net' } };

describe("DKIM: a sending service's key at the server's selector is that service's, whatever the routing", () => {
  for (const [what, world, provider] of [
    ["Brevo's selector mail, SPF include:spf.brevo.com", brevo, /Brevo/],
    ['default._domainkey CNAME s1.domainkey.u1.wl.sendgrid.net, SPF include:sendgrid.net', sendgrid, /SendGrid/],
  ] as const) {
    test(`${what}, routing local: the selectors collide — fail without the fix, and the plan is blocked`, async () => {
      const { plan, findings, mismatch } = await run(world);
      assert.ok(mismatch, show(findings));
      assert.equal(mismatch.severity, 'fail', show(findings));
      assert.ok(!findings.some((f) => f.fix), show(findings));
      assert.doesNotMatch(mismatch.message, /previous host's/, mismatch.message);
      assert.match(mismatch.message, provider);
      assert.match(mismatch.message, /selectors collide/);
      assert.match(mismatch.message, /every message this server signs with selector \w+ fails DKIM/);
      assert.match(mismatch.message, /sign with another selector/);
      assert.match(mismatch.message, /move .* to a selector of its own/);
      assert.equal(mismatch.classification?.class, 'keep', JSON.stringify(mismatch.classification));
      assert.deepEqual(plan.changes, []);
      assert.ok(plan.blocked, JSON.stringify(plan));
      assert.match(plan.blocked, provider);
      assert.match(plan.blocked, /selectors collide/);
      assert.doesNotMatch(plan.blocked, /previous host's/);
    });

    test(`${what}, routing remote: left alone as before, worded the same (warn)`, async () => {
      const { plan, findings, mismatch } = await run({ ...world, routing: 'remote' });
      assert.equal(mismatch?.severity, 'warn', show(findings));
      assert.ok(!findings.some((f) => f.fix), show(findings));
      assert.match(mismatch.message, /selectors collide/);
      assert.ok(plan.blocked);
      assert.deepEqual(plan.changes, []);
    });

    test(`${what}, signing off: info, left alone`, async () => {
      const { plan, findings, mismatch } = await run({ ...world, signing: false });
      assert.equal(mismatch?.severity, 'info', show(findings));
      assert.ok(!findings.some((f) => f.fix), show(findings));
      assert.ok(plan.blocked);
    });
  }

  test("the server's own key at Brevo's selector: dkim.ok, nothing to change", async () => {
    const { plan, findings } = await run({ ...brevo, at: { key: mine } });
    assert.ok(findings.some((f) => f.rule === 'dkim.ok'), show(findings));
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.blocked, undefined);
  });

  test('the SPF lookup gets no answer (and the panel has no SPF): not known whose the key is — no fix, blocked until DNS answers', async () => {
    const { plan, findings, mismatch } = await run({ ...brevo, spfTimeout: true });
    assert.ok(mismatch, show(findings));
    assert.ok(!findings.some((f) => f.fix), show(findings));
    assert.match(plan.blocked ?? '', /could not be read/);
    assert.deepEqual(plan.changes, []);
  });
});

describe('DKIM: without that evidence a foreign key at the server’s selector is still a previous host’s (replaced)', () => {
  test("selector mail, but the SPF includes no Brevo: fail with the fix, and the plan publishes this server's key", async () => {
    const { plan, findings, mismatch } = await run({ ...brevo, spf: 'v=spf1 a mx ~all' });
    assert.equal(mismatch?.severity, 'fail', show(findings));
    assert.equal(mismatch.fix, 'dkim', show(findings));
    assert.match(mismatch.message, /previous host's/);
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.ok(plan.changes.length > 0);
  });

  test("the SPF includes Brevo, but the server's selector is not Brevo's (default): replaced", async () => {
    const { plan, mismatch, findings } = await run({ ...brevo, selector: 'default' });
    assert.equal(mismatch?.fix, 'dkim', show(findings));
    assert.equal(plan.blocked, undefined, plan.blocked);
  });

  test('an alias into a previous hosting provider (DreamHost): replaced', async () => {
    const { plan, findings } = await run({ ...sendgrid, spf: 'v=spf1 a mx ~all', at: { cname: 'default._domainkey.dreamhost.com' } });
    assert.ok(findings.some((f) => f.rule === 'dkim.key-mismatch' && f.fix === 'dkim'), show(findings));
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.ok(plan.changes.length > 0);
  });
});

describe('DKIM, sending services: the check offers the fix exactly where the plan does something', () => {
  test('every world of evidence × routing × signing × key', async () => {
    for (const base of [brevo, sendgrid, { ...brevo, spf: 'v=spf1 a mx ~all' }])
      for (const routing of ['local', 'remote'] as const)
        for (const signing of [true, false])
          for (const at of base === sendgrid ? [base.at] : [{ key: theirs }, { key: mine }]) {
            const world = `${base.selector} ${base.spf} ${JSON.stringify(at).slice(0, 30)} ${routing} signing ${signing}`;
            const { plan, findings } = await run({ ...base, at, routing, signing });
            const offered = findings.some((f) => f.fix === 'dkim');
            const does = !plan.blocked && plan.changes.length + (plan.actions?.length ?? 0) > 0;
            assert.equal(offered, does, `${world}: plan ${plan.blocked ?? plan.changes.length}\n${show(findings)}`);
          }
  });
});
