// QA: mail at Google Workspace (routing remote, MX aspmx.l.google.com, Google's key at google._domainkey), the server
// signing with selector `default`, and HostGator's old key at default._domainkey. The audit gave a warning only
// ("the key is likely that provider's … Use another selector on this server") and no fix, so the server's own mail
// (web forms) failed DKIM for good — and cPanel's selector is fixed, so the advice could not be followed. Now, when
// the provider the mail is delivered to is known (the knowledge gives its selectors) and the selector is none of its,
// no alias, and the key none of its, the key is a previous host's leftover: dkim.key-mismatch fails and offers the
// fix, and the plan replaces the key, as with local routing. The warning (no fix) stays when the provider is unknown,
// uses this selector, or publishes this very key — worded for a panel whose selector is fixed.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'gw.example';
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const google = key();
const old = key();
const split = (s: string) => [s.slice(0, 200), s.slice(200)];
const dkimTxt = (k: string) => `v=DKIM1; k=rsa; p=${k}`;
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''}: ${f.message}`).join('\n');

interface World {
  selector?: string;
  mx?: string | 'TIMEOUT';
  /** What default._domainkey (or the server's selector) holds: a TXT key, or a CNAME target. */
  atSelector?: { key: string } | { cname: string };
  signing?: boolean;
  googleKey?: string | null;
  /** The server has no DKIM key of its own (the fix has the panel generate one). */
  noServerKey?: boolean;
}

/** The check and the plan over one world (live DNS and the panel's zone alike). */
async function run(w: World = {}) {
  const sel = w.selector ?? 'default';
  const name = `${sel}._domainkey.${D}`;
  const mx = w.mx ?? 'aspmx.l.google.com';
  const at = w.atSelector ?? { key: old };
  const map: ZoneMap = {
    [D]: { MX: mx === 'TIMEOUT' ? 'TIMEOUT' : [{ priority: 1, exchange: mx }], TXT: [['v=spf1 include:_spf.google.com ~all']] },
    '_spf.google.com': { TXT: [['v=spf1 ip4:35.190.247.0/24 ~all']] },
    'aspmx.l.google.com': { A: ['142.250.1.26'] },
    'mx.unknown-mail.example': { A: ['198.51.100.25'] },
    'sub-gw-example.mail.protection.outlook.com': { A: ['52.101.1.1'] },
  };
  if (w.googleKey !== null) map[`google._domainkey.${D}`] = { TXT: [split(dkimTxt(w.googleKey ?? google))] };
  const zone: ZoneRecord[] = [];
  if (mx !== 'TIMEOUT') zone.push({ name: D, ttl: 3600, type: 'MX', value: `1 ${mx}.` });
  if ('key' in at) {
    map[name] = { TXT: [split(dkimTxt(at.key))] };
    zone.push({ name, ttl: 3600, type: 'TXT', value: dkimTxt(at.key), txt: split(dkimTxt(at.key)), ref: 'dkim' });
  } else {
    // A resolver follows the alias: the TXT query at the name answers with the target's key (MapResolver does not
    // follow CNAMEs, so the answer is written at both).
    map[name] = { CNAME: [at.cname], TXT: [split(dkimTxt(google))] };
    map[at.cname] = { TXT: [split(dkimTxt(google))] };
    zone.push({ name, ttl: 3600, type: 'CNAME', value: `${at.cname}.`, ref: 'dkim' });
  }
  const settings: Partial<MailSettings> = { routing: 'remote', dkim: { selector: sel, signing: w.signing ?? true, ...(w.noServerKey ? {} : { publicKey: mine }) } };
  const ctx = checkContext(D, map, settings, zone);
  const plan = await planDkim(ctx, zone);
  const findings = await dkimCheck(ctx);
  const mismatch = findings.find((f) => f.rule === 'dkim.key-mismatch' && f.subject === sel);
  return { plan, findings, mismatch };
}

describe('DKIM, mail routed elsewhere to a known provider: a previous host’s key at the server’s selector', () => {
  test('Google Workspace, HostGator’s key at default._domainkey: fail with the fix, and the plan publishes this server’s key', async () => {
    const { plan, findings, mismatch } = await run();
    assert.ok(mismatch, rules(findings));
    assert.equal(mismatch.severity, 'fail', rules(findings));
    assert.equal(mismatch.fix, 'dkim', rules(findings));
    assert.match(mismatch.message, /previous host's/);
    assert.match(mismatch.message, /Google Workspace, which signs with selector google, not default/);
    assert.equal(plan.blocked, undefined, plan.blocked);
    const after = plan.changes.find((c) => c.after)?.after;
    assert.ok(after, JSON.stringify(plan));
    assert.equal(canonicalKey(parseDkimRecord(after.txt ?? [after.value]).publicKey!), canonicalKey(mine));
    assert.ok(plan.notes.some((n) => /delivered to Google Workspace/.test(n)), plan.notes.join('\n'));
    // Google's own key at its own selector is left as it is.
    assert.ok(!plan.changes.some((c) => c.name.startsWith('google.')), JSON.stringify(plan.changes));
  });

});

describe('DKIM, mail routed elsewhere: the warning stays (no fix) where mailhealth cannot tell', () => {
  const stays = async (w: World, why: RegExp) => {
    const { plan, findings, mismatch } = await run(w);
    assert.ok(mismatch, rules(findings));
    assert.equal(mismatch.severity, 'warn', rules(findings));
    assert.ok(!findings.some((f) => f.fix), rules(findings));
    assert.match(plan.blocked ?? '', /publishes a key this server does not sign with/);
    assert.match(mismatch.message, why, mismatch.message);
    // Advice a panel with a fixed selector (cPanel: "default") can follow.
    assert.doesNotMatch(mismatch.message, /Use another selector on this server/);
    assert.match(mismatch.message, /If that provider signs with selector \w+, leave the key/);
    assert.doesNotMatch(plan.blocked!, /To sign on this server too, use another selector\./);
  };

  test('an MX nothing identifies', () => stays({ mx: 'mx.unknown-mail.example' }, /mx\.unknown-mail\.example is not a provider whose DKIM selectors mailhealth knows/));
  test('the MX lookup gets no answer', () => stays({ mx: 'TIMEOUT' }, /could not be read/));
  test('the server’s selector is one the provider uses (Microsoft 365, selector1)', () =>
    stays({ mx: 'sub-gw-example.mail.protection.outlook.com', selector: 'selector1' }, /Microsoft 365, where its mail is delivered, signs with selector selector1 too/));
  // Review: the server's selector (configurable on the files panel) is one another sending service uses — Brevo signs
  // with "mail": the key may be Brevo's (it sends the domain's newsletters without receiving its mail).
  test('the server’s selector is one a sending service uses (Brevo, mail)', () => stays({ selector: 'mail' }, /mail is a selector Brevo \/ Sendinblue signs with/));
  // No key at Google's own selector: Google Workspace may sign with a custom selector prefix — this one, for all
  // mailhealth can tell — and replacing the key would fail every message Google sends for the domain.
  test('Google publishes no key at google._domainkey (it may sign with a custom selector)', () => stays({ googleKey: null }, /publishes no key at its own selectors \(google\).*so it may sign with selector default/));
  test('the key at default is the one Google publishes at google._domainkey (copied)', () => stays({ atSelector: { key: google } }, /same key is published at a selector of Google Workspace/));

  test('signing off: info, left as it is (as before)', async () => {
    const { findings, mismatch, plan } = await run({ signing: false });
    assert.equal(mismatch?.severity, 'info', rules(findings));
    assert.ok(!findings.some((f) => f.fix), rules(findings));
    assert.ok(plan.blocked);
  });

  test('a CNAME at the server’s selector to a key this server does not sign with: blocked as before, advice without "use another selector"', async () => {
    const { plan, findings } = await run({ atSelector: { cname: 'default.gw-example.dkim.mailhost.example' } });
    assert.ok(!findings.some((f) => f.fix), rules(findings));
    assert.match(plan.blocked ?? '', /alias of default\.gw-example\.dkim\.mailhost\.example/);
    assert.doesNotMatch(plan.blocked!, /To sign on this server too, use another selector\./);
  });
});

describe('DKIM, mail routed elsewhere: the check offers the fix exactly where the plan does something', () => {
  test('every world of MX × key at the selector × signing × server key', async () => {
    let offered = 0;
    for (const mx of ['aspmx.l.google.com', 'mx.unknown-mail.example'])
      for (const [what, atSelector] of [['an old key', { key: old }], ['Google’s key', { key: google }], ['this server’s key', { key: mine }]] as const)
        for (const signing of [true, false])
          for (const noServerKey of [false, true]) {
            const world = `${mx}; ${what}; signing ${signing ? 'on' : 'off'}; ${noServerKey ? 'no server key' : 'a server key'}`;
            const { plan, findings } = await run({ mx, atSelector, signing, noServerKey });
            const fixes = findings.filter((f) => f.fix === 'dkim');
            const does = !plan.blocked && plan.changes.length + (plan.actions?.length ?? 0) > 0;
            assert.equal(fixes.length > 0, does, `${world}: ${fixes.length ? 'offered' : 'not offered'}, plan ${plan.blocked ? `blocked (${plan.blocked})` : `${plan.changes.length} changes`}\n${rules(findings)}`);
            if (does) offered++;
          }
    assert.ok(offered >= 3, `only ${offered} worlds offer the fix`);
  });
});
