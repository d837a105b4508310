// Lockdown QA (mail-auth pass): the check's messages contradicted the plan.
//  1. `v=mc1 auth=dreamhost,newhostmc` — an auth= value with a comma. Each field carries exactly one value
//     (mail-auth.md §4), so MailChannels takes "dreamhost,newhostmc" as one id (the record is suspect); it plainly means
//     `auth=dreamhost auth=newhostmc`. The check called the whole value an id nothing identifies "kept unless you
//     select it", the plan dropped it whole ("Drops auth=dreamhost,newhostmc"). Now both read each value as an id of
//     its own (lockdownIds): a previous host's dropped, this host's kept, one nobody could place kept unless selected.
//  2. Mail routed to DreamHost with `auth=dreamhost`: lockdown.stale-auth said "auth=dreamhost, which mailhealth cannot
//     place" while lockdown.unknown-id placed it as DreamHost, where the mail is delivered. The stale-auth message now
//     gives each id's reason as its unknown-id finding does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lockdownCheck } from '../../../src/core/checks/lockdown.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import type { PlanOptions } from '../../../src/core/plans/plan.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'cust.example';
const NAME = `_mailchannels.${D}`;
const MC: Partial<MailSettings> = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } };

/** The check's findings and the plan for a domain whose _mailchannels holds `txt` (live and in the panel's zone). */
async function run(txt: string, opts: PlanOptions = {}, settings: Partial<MailSettings> = MC, extra: { map?: ZoneMap; zone?: ZoneRecord[] } = {}) {
  // The domain's mail delivered here (live MX at this server) unless `extra` says otherwise.
  const map: ZoneMap = { [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }] }, [NAME]: { TXT: [[txt]] }, 'server1.newhost.example': { A: ['203.0.113.10'] }, ...extra.map };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' }, ...(extra.zone ?? []), { name: NAME, ttl: 3600, type: 'TXT', value: txt, txt: [txt], ref: 'mc' }];
  const findings = await lockdownCheck(checkContext(D, map, settings, zone));
  const plan = await planLockdown(checkContext(D, map, settings, zone), zone, opts);
  const after = plan.changes.find((c) => c.after)?.after?.value ?? null;
  return { findings, plan, after, notes: plan.notes };
}
const show = (fs: Finding[], notes: string[] = [], after: string | null = null) =>
  `${fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''}: ${f.message}`).join('\n')}\n-- after: ${after}\n${notes.join('\n')}`;

describe('lockdown: a comma list in auth= is one id per value, in the check and in the fix alike', () => {
  test("QA l3.example: auth=dreamhost,newhostmc — DreamHost's id is a previous host's, dropped; this host's written as its own field", async () => {
    const { findings, after, notes } = await run('v=mc1 auth=dreamhost,newhostmc');
    const why = show(findings, notes, after);
    // No finding names the whole list as an id the fix keeps.
    assert.ok(!findings.some((f) => f.subject === 'auth=dreamhost,newhostmc' && f.rule !== 'lockdown.syntax'), why);
    assert.ok(!findings.some((f) => f.rule === 'lockdown.unknown-id'), why);
    const syntax = findings.find((f) => f.rule === 'lockdown.syntax');
    assert.ok(syntax && syntax.severity === 'fail', why);
    assert.match(syntax.message, /The fix writes each value of a comma list as a field of its own \(auth=dreamhost,newhostmc as auth=dreamhost auth=newhostmc\)/);
    const stale = findings.filter((f) => f.rule === 'lockdown.stale-auth');
    assert.deepEqual(
      stale.map((f) => `${f.severity} ${f.subject}`),
      ['warn auth=dreamhost'],
      why,
    );
    assert.equal(stale[0].classification?.provider, 'dreamhost');
    assert.match(stale[0].message, /written inside auth=dreamhost,newhostmc/);
    assert.match(stale[0].message, /the fix drops auth=dreamhost and writes this host's id as a field of its own/);
    // The plan does what the findings say, in the same words.
    assert.equal(after, 'v=mc1 auth=newhostmc', why);
    assert.ok(notes.some((n) => n.startsWith('Writes each value of auth=dreamhost,newhostmc as a field of its own (auth=dreamhost auth=newhostmc)')), why);
    assert.ok(notes.some((n) => n.startsWith('Drops auth=dreamhost: auth=dreamhost names DreamHost')), why);
    assert.ok(!notes.some((n) => n.startsWith('Drops auth=dreamhost,newhostmc')), why);
    assert.ok(!notes.some((n) => n.startsWith('Adds auth=newhostmc')), `this host's id was in the record: kept, not added\n${why}`);
  });

  test("an id nobody could place inside a list: unknown-id (kept unless selected) and the plan keeps it as its own field", async () => {
    const { findings, after, notes } = await run('v=mc1 auth=newhostmc,acme-emailapi');
    const why = show(findings, notes, after);
    const unknown = findings.filter((f) => f.rule === 'lockdown.unknown-id');
    assert.deepEqual(
      unknown.map((f) => f.subject),
      ['auth=acme-emailapi'],
      why,
    );
    assert.match(unknown[0].message, /written inside auth=newhostmc,acme-emailapi/);
    assert.match(unknown[0].message, /The lockdown fix writes it as a field of its own and keeps it unless you select it for removal/);
    assert.equal(after, 'v=mc1 auth=newhostmc auth=acme-emailapi', why);
    assert.ok(notes.some((n) => n.startsWith('Keeps auth=acme-emailapi: ')), why);

    // Selected (as the web offers it: the unknown-id's subject): removed; this host's id stays.
    const sel = await run('v=mc1 auth=newhostmc,acme-emailapi', { removeTerms: ['auth=acme-emailapi'] });
    assert.equal(sel.after, 'v=mc1 auth=newhostmc', show(sel.findings, sel.notes, sel.after));
    assert.ok(sel.notes.some((n) => n.startsWith('Removes auth=acme-emailapi (you selected it)')), sel.notes.join('\n'));
    // The whole list selected as written: each of its ids but this host's.
    const whole = await run('v=mc1 auth=newhostmc,acme-emailapi', { removeTerms: ['auth=newhostmc,acme-emailapi'] });
    assert.equal(whole.after, 'v=mc1 auth=newhostmc', whole.notes.join('\n'));
    assert.ok(!whole.notes.some((n) => n.startsWith('You selected')), whole.notes.join('\n'));
  });

  test("a list of only ids that are not this host's still fails, and the fix adds this host's id", async () => {
    const { findings, after, notes } = await run('v=mc1 auth=dreamhost,acme-emailapi');
    const why = show(findings, notes, after);
    const stale = findings.find((f) => f.rule === 'lockdown.stale-auth' && f.subject === 'auth=dreamhost');
    assert.ok(stale && stale.severity === 'fail', why);
    assert.ok(findings.some((f) => f.rule === 'lockdown.unknown-id' && f.subject === 'auth=acme-emailapi'), why);
    assert.equal(after, 'v=mc1 auth=newhostmc auth=acme-emailapi', why);
  });

  test('sender ids in a comma list are split the same way and each judged', async () => {
    const txt = 'v=mc1 auth=newhostmc senderid=acme|x-authsender|a@cust.example,acme|x-authsender|b@cust.example';
    const { findings, after, notes } = await run(txt);
    const why = show(findings, notes, after);
    assert.deepEqual(
      findings.filter((f) => f.rule === 'lockdown.unknown-id').map((f) => f.subject),
      ['senderid=acme|x-authsender|a@cust.example', 'senderid=acme|x-authsender|b@cust.example'],
      why,
    );
    assert.equal(after, 'v=mc1 auth=newhostmc senderid=acme|x-authsender|a@cust.example senderid=acme|x-authsender|b@cust.example', why);

    // A comma that separates no whole sender ids is no list: one value that cannot match, dropped (not split in two).
    const odd = await run('v=mc1 auth=newhostmc senderid=newhostmc|x,y|z');
    assert.equal(odd.after, 'v=mc1 auth=newhostmc', show(odd.findings, odd.notes, odd.after));
    assert.ok(odd.notes.some((n) => n.startsWith('Drops senderid=newhostmc|x,y|z: a value with a space, comma or semicolon')), odd.notes.join('\n'));
    assert.ok(!odd.notes.some((n) => n.startsWith('Writes each value')), odd.notes.join('\n'));
    assert.deepEqual(
      odd.findings.map((f) => `${f.severity} ${f.rule}`),
      ['fail lockdown.syntax'],
      show(odd.findings),
    );
  });
});

describe('lockdown: the stale-auth message places an id as its unknown-id finding does', () => {
  test('QA x8.example: mail delivered at DreamHost, auth=dreamhost — no "cannot place" beside a finding that places it', async () => {
    const { findings, after, notes } = await run('v=mc1 auth=dreamhost', {}, { ...MC, routing: 'remote' }, {
      map: { [D]: { MX: [{ priority: 0, exchange: 'mx1.dreamhost.com' }] }, 'mx1.dreamhost.com': { A: ['69.163.136.10'] } },
      zone: [{ name: D, ttl: 3600, type: 'MX', value: '0 mx1.dreamhost.com.', ref: 'mx' }],
    });
    const why = show(findings, notes, after);
    const unknown = findings.find((f) => f.rule === 'lockdown.unknown-id');
    assert.ok(unknown, why);
    assert.match(unknown.message, /names DreamHost, where cust\.example's mail is delivered/);
    const stale = findings.find((f) => f.rule === 'lockdown.stale-auth');
    assert.ok(stale && stale.severity === 'fail', why);
    assert.doesNotMatch(stale.message, /cannot place/);
    assert.ok(stale.message.includes(unknown.classification!.reason), why);
    assert.match(stale.message, /the fix adds auth=newhostmc and keeps it unless you select it for removal/);
    assert.equal(after, 'v=mc1 auth=newhostmc auth=dreamhost', why);
  });

  test("an id nothing identifies keeps its reason in the stale-auth message", async () => {
    const { findings } = await run('v=mc1 auth=acme-emailapi');
    const stale = findings.find((f) => f.rule === 'lockdown.stale-auth');
    assert.ok(stale, show(findings));
    assert.match(stale.message, /It names only auth=acme-emailapi; the fix adds auth=newhostmc and keeps it unless you select it for removal\. auth=acme-emailapi is not this host's MailChannels account \(newhostmc\), and nothing identifies it/);
  });
});
