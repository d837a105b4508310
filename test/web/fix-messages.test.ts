// Messages the QA review found wrong on the web:
// - a blocked plan's preview showed "Nothing to change: the records are already right." beside the block: a blocked
//   plan shows the block only (README "Web UI": the block and "nothing to change" are different outcomes);
// - POST …/fix with a malformed planHash said the hash was missing: missing and malformed are different messages
//   (the page and the JSON API);
// - /history showed a change's note only when the change failed: an applied change with no record changes (DKIM
//   "start signing") said just "0 record changes"; its note (escaped like all record text) is shown now;
// - a DMARC preview that changes nothing but whose note asks to remove a stranger's TXT at _dmarc by hand said "the
//   records are already right" under that note (core/plans/plan.ts nothingToChange: one wording, CLI and web).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { makePlan } from '../../src/core/plans/index.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { scenario, zoneText, type Scenario } from '../helpers/scenario.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

describe('fix and history messages', () => {
  let s: Scenario;
  let dir: string;
  let store: Store;
  let app: MailhealthApp;
  before(async () => {
    s = await scenario({
      domains: {
        // _dmarc is an alias of a DMARC service: the DMARC plan is blocked and has no record changes.
        'alias.test': { zone: zoneText({ dmarc: null, extra: ['_dmarc\tIN\tCNAME\tdmarc.service.test.'] }) },
        'plain.test': {},
        // A stranger's TXT beside a right DMARC record: the DMARC plan changes nothing and asks for a hand edit.
        'token.test': { zone: zoneText({ extra: ['_dmarc\tIN\tTXT\t"google-site-verification=yyy"'] }) },
      },
      world: 'dmarc.service.test. TXT "v=DMARC1; p=reject"\n',
    });
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-fixmsg-'));
    store = openStore(join(dir, 'db.sqlite'));
    await setPasswords(store, ['root', 'alice']);
    const makeResolver = () => createResolver({ servers: [s.dns.address], authoritativePort: s.dns.port, timeoutMs: 1000, tries: 2 });
    app = createApp({ panel: s.panel, store, makeResolver, identityFrom: 'session', adminToken: 'test-admin-token', rateLimits: NO_LIMITS });
  });
  after(async () => {
    store.close();
    await s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a blocked preview shows the block, not "Nothing to change"', async () => {
    const { agent } = await login(app, 'root');
    const page = await agent.get('/domains/alias.test/fix?check=dmarc').expect(200);
    assert.match(page.text, /Cannot apply as is:<\/strong>[^<]*alias/);
    assert.doesNotMatch(page.text, /Nothing to change/);
    assert.doesNotMatch(page.text, /already right/);
    // The bulk fix preview: "blocked" with the reason, not "Nothing to change."
    const { agent: admin, csrf } = await login(app, 'root');
    const bulk = await admin.post('/bulk/fix/preview').type('form').send({ _csrf: csrf, check: 'dmarc', domains: 'alias.test' }).expect(200);
    assert.match(bulk.text, /state-failed">blocked<\/span>[^<]*alias/);
    assert.doesNotMatch(bulk.text, /Nothing to change/);
    // The JSON preview carries the block (unchanged contract).
    const api = await agent.get('/api/domains/alias.test/fix?check=dmarc').expect(200);
    assert.match((api.body as { blocked?: string }).blocked ?? '', /alias/);
  });

  test('a preview whose note asks for a hand edit does not say the records are already right', async () => {
    const { agent } = await login(app, 'root');
    const page = await agent.get('/domains/token.test/fix?check=dmarc').expect(200);
    assert.match(page.text, /remove it by hand/);
    assert.doesNotMatch(page.text, /already right/);
    assert.match(page.text, /Nothing for the fix to change: the note above says what to change by hand\./);
    // Applied anyway, the refusal shows only its reason: it quotes the note rather than point at one not on the page.
    const plan = await makePlan({ domain: 'token.test', check: 'dmarc' }, { panel: s.panel, resolver: s.resolver });
    const { agent: poster, csrf } = await login(app, 'root');
    const r = await poster.post('/domains/token.test/fix').type('form').send({ _csrf: csrf, check: 'dmarc', planHash: plan.planHash });
    assert.doesNotMatch(r.text, /note above/);
    assert.match(r.text, /Nothing for the fix to change\. By hand: [^<]*remove it by hand/);
  });

  test('POST …/fix: a missing planHash and a malformed one get different messages (page and JSON API)', async () => {
    const { agent, csrf } = await login(app, 'root');
    const missing = await agent.post('/domains/plain.test/fix').type('form').send({ _csrf: csrf, check: 'spf' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /planHash is missing: preview the fix first/);
    for (const bad of ['sha256:0000', `sha256:${'G'.repeat(64)}`, 'nonsense']) {
      const r = await agent.post('/domains/plain.test/fix').type('form').send({ _csrf: csrf, check: 'spf', planHash: bad });
      assert.equal(r.status, 400, bad);
      assert.match(r.text, /planHash is not a valid plan hash/, bad);
      assert.doesNotMatch(r.text, /is missing/, bad);
    }
    const apiMissing = await agent.post('/api/domains/plain.test/fix').set('x-csrf-token', csrf).send({ check: 'spf' });
    assert.equal(apiMissing.status, 400);
    assert.match((apiMissing.body as { error: string }).error, /planHash is required/);
    const apiBad = await agent.post('/api/domains/plain.test/fix').set('x-csrf-token', csrf).send({ check: 'spf', planHash: 'sha256:0000' });
    assert.equal(apiBad.status, 400);
    assert.match((apiBad.body as { error: string }).error, /planHash is not a valid plan hash/);
    assert.doesNotMatch((apiBad.body as { error: string }).error, /required/);
  });

  test('/history shows the note of every change that has one (no record changes, written late, an undo\'s conflict), escaped', async () => {
    const note = 'the panel signs plain.test\'s mail now, with the DKIM key published at default._domainkey.plain.test; no DNS record was changed <b>x</b>\u202E';
    const hash = `sha256:${'0'.repeat(64)}`;
    const applied = store.recordIntent({ domain: 'plain.test', check: 'dkim', planHash: hash, zoneVersion: null, changes: [], byUser: 'root' });
    store.recordOutcome(applied, { status: 'applied', verified: 'yes', error: note });
    // A change with record changes that was applied, with a note (found by QA: "written late: …" and an undo's
    // "already undone by …" were hidden — the page showed only "applied" and an Undo button).
    const withRecords = store.recordIntent({
      domain: 'plain.test',
      check: 'spf',
      planHash: hash,
      zoneVersion: null,
      changes: [{ action: 'add', name: 'plain.test', type: 'TXT', ttl: 3600, before: null, after: { name: 'plain.test', type: 'TXT', ttl: 3600, txt: ['v=spf1 -all'] } as never }],
      byUser: 'root',
    });
    store.recordOutcome(withRecords, { status: 'applied', verified: 'yes', error: 'written late: the zone holds this change' });
    const { agent } = await login(app, 'root');
    const page = await agent.get('/history').expect(200);
    const row = (id: number) => new RegExp(`<tr id="change-${id}">([\\s\\S]*?)</tr>`).exec(page.text)?.[1] ?? '';
    const r = row(applied);
    assert.match(r, /0 record changes/);
    assert.match(r, /the panel signs plain\.test&#39;s mail now, with the DKIM key published at default\._domainkey\.plain\.test; no DNS record was changed/);
    assert.match(r, /&lt;b&gt;x&lt;\/b&gt;\\u202E/, 'escaped like record text');
    assert.doesNotMatch(r, /<b>x<\/b>/);
    assert.match(row(withRecords), /written late: the zone holds this change/);
  });
});
