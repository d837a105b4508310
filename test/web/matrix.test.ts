// Every route × {alice (customer), bob (another customer), rita (reseller), root (admin)}: what each may reach, and
// that an out-of-scope domain/change/job answers exactly like a nonexistent one.
import { jobAccount } from '../../src/web/jobs.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_DEMO, DEMO_SCOPE, demoWorld, login, USERS, type Session, type TestWorld, type User } from './helpers.js';

const NOPE = 'nonexistent.example';
const FAKE_HASH = 'sha256:' + '0'.repeat(64);

describe('route × identity matrix', () => {
  let w: TestWorld;
  const s = {} as Record<User, Session>;
  let changeOnBakery: number;
  let ritaJob: number;

  before(async () => {
    w = await demoWorld({ seedAudits: true });
    for (const u of USERS) s[u] = await login(w.app, u);
    // A change on alice's domain and a job of rita's, to probe their ids from elsewhere.
    changeOnBakery = w.store.recordIntent({ domain: 'bakery.example', check: 'dmarc', planHash: FAKE_HASH, zoneVersion: 'x', changes: [], byUser: 'alice' });
    w.store.recordOutcome(changeOnBakery, { status: 'applied' });
    ritaJob = w.store.createJob({ kind: 'bulk-audit', byUser: 'rita', byAccount: jobAccount(w.store, 'rita'), total: 0 });
    w.store.updateJob(ritaJob, { status: 'complete' });
  });
  after(async () => w.close());

  for (const user of USERS) {
    describe(user, () => {
      const scope = () => DEMO_SCOPE[user];

      test('GET /api/domains lists exactly the scope', async () => {
        const r = await s[user].agent.get('/api/domains').expect(200);
        assert.deepEqual((r.body as { domain: string }[]).map((d) => d.domain).sort(), scope());
        for (const d of r.body as { status: string; owner: string; checks: object; auditedAt: string }[]) {
          assert.ok(d.status && d.owner && d.checks && d.auditedAt);
        }
      });

      test('GET /domains shows only in-scope domains', async () => {
        const r = await s[user].agent.get('/domains').expect(200);
        for (const d of ALL_DEMO) assert.equal(r.text.includes(`>${d}<`), scope().includes(d), `${user} /domains ${d}`);
      });

      test('per-domain pages and API: in scope 2xx, out of scope 404 identical to nonexistent', async () => {
        const a = s[user].agent;
        const csrf = s[user].csrf;
        const probes: [string, (d: string) => Promise<{ status: number; text: string }>][] = [
          ['GET /domains/d', (d) => a.get(`/domains/${d}`)],
          ['GET /api/domains/d', (d) => a.get(`/api/domains/${d}`)],
          ['GET /domains/d/fix', (d) => a.get(`/domains/${d}/fix?check=dmarc`)],
          ['GET /api/domains/d/fix', (d) => a.get(`/api/domains/${d}/fix?check=dmarc`)],
          ['POST /domains/d/fix (stale hash)', (d) => a.post(`/domains/${d}/fix`).type('form').send({ _csrf: csrf, check: 'dmarc', planHash: FAKE_HASH })],
          ['POST /api/domains/d/fix (stale hash)', (d) => a.post(`/api/domains/${d}/fix`).set('x-csrf-token', csrf).send({ check: 'dmarc', planHash: FAKE_HASH })],
          ['POST /domains/d/audit', (d) => a.post(`/domains/${d}/audit`).type('form').send({ _csrf: csrf })],
          ['POST /api/domains/d/audit', (d) => a.post(`/api/domains/${d}/audit`).set('x-csrf-token', csrf)],
        ];
        for (const [name, probe] of probes) {
          const missing = await probe(NOPE);
          assert.equal(missing.status, 404, `${user} ${name} nonexistent`);
          for (const d of ALL_DEMO) {
            const r = await probe(d);
            if (scope().includes(d)) {
              assert.notEqual(r.status, 404, `${user} ${name} ${d} in scope`);
              assert.ok(r.status < 500, `${user} ${name} ${d}: ${r.status} ${r.text.slice(0, 200)}`);
            } else {
              assert.equal(r.status, 404, `${user} ${name} ${d} out of scope`);
              assert.equal(r.text, missing.text, `${user} ${name} ${d}: 404 body differs from a nonexistent domain`);
            }
          }
        }
      });

      test('stale plan hashes change nothing', async () => {
        const changes = w.store.changesForDomains(ALL_DEMO, 100).filter((c) => c.id !== changeOnBakery && c.undoOf === null);
        assert.equal(changes.length, 0);
      });

      test('undo of a change: only when its domain is in scope; otherwise 404 like a missing change', async () => {
        const a = s[user].agent;
        const missing = await a.post('/api/changes/999999/undo').set('x-csrf-token', s[user].csrf);
        assert.equal(missing.status, 404);
        const r = await a.post(`/api/changes/${changeOnBakery}/undo`).set('x-csrf-token', s[user].csrf);
        if (scope().includes('bakery.example')) assert.notEqual(r.status, 404);
        else {
          assert.equal(r.status, 404);
          assert.equal(r.text, missing.text);
        }
        const html = await a.post(`/changes/${changeOnBakery}/undo`).type('form').send({ _csrf: s[user].csrf });
        assert.equal(html.status === 404, !scope().includes('bakery.example'));
      });

      test('jobs: only the owner (or an admin) sees a job', async () => {
        const a = s[user].agent;
        const r = await a.get(`/api/jobs/${ritaJob}`);
        assert.equal(r.status, user === 'rita' || user === 'root' ? 200 : 404);
        const c = await a.post(`/api/jobs/${ritaJob}/cancel`).set('x-csrf-token', s[user].csrf);
        assert.equal(c.status, user === 'rita' || user === 'root' ? 200 : 404);
        assert.equal((await a.get('/api/jobs/999999')).status, 404);
      });

      test('history lists only in-scope domains', async () => {
        const r = await s[user].agent.get('/history').expect(200);
        for (const d of ALL_DEMO) if (!scope().includes(d)) assert.ok(!r.text.includes(`>${d}<`), `${user} /history leaks ${d}`);
        // Another customer's domain as the filter: the same 404 as its domain page, nothing of it shown.
        const other = await s[user].agent.get('/history?domain=bakery.example').expect(scope().includes('bakery.example') ? 200 : 404);
        if (!scope().includes('bakery.example')) assert.ok(!other.text.includes('>bakery.example<'));
      });

      test('bulk pages: resellers and admins only, scoped', async () => {
        const a = s[user].agent;
        const r = await a.get('/bulk');
        if (user === 'alice' || user === 'bob') {
          assert.equal(r.status, 403);
          assert.equal((await a.post('/bulk/audit').type('form').send({ _csrf: s[user].csrf })).status, 403);
          assert.equal((await a.post('/api/bulk').set('x-csrf-token', s[user].csrf).send({})).status, 403);
        } else {
          assert.equal(r.status, 200);
          for (const d of ALL_DEMO) assert.equal(r.text.includes(`>${d}<`), scope().includes(d), `${user} /bulk ${d}`);
          // Bulk fix preview of a domain outside scope: "Not found", like a nonexistent one.
          const p = await a.post('/bulk/fix/preview').type('form').send({ _csrf: s[user].csrf, check: 'dmarc', domains: ['bakery.example', NOPE] });
          assert.equal(p.status, 200);
          if (user === 'rita') assert.ok(!p.text.includes('record change') || !/bakery\.example\|/.test(p.text));
        }
      });

      test('exports: only the scope', async () => {
        const csv = await s[user].agent.get('/api/export.csv').expect(200);
        assert.match(csv.headers['content-type'] as string, /text\/csv/);
        const lines = csv.text.trim().split(/\r\n/).slice(1);
        assert.deepEqual(lines.map((l) => JSON.parse(l.split(',')[0])).sort(), scope());
        const json = await s[user].agent.get('/api/export.json').expect(200);
        assert.deepEqual((json.body as { domains: { domain: string }[] }).domains.map((d) => d.domain).sort(), scope());
      });

      test('settings: admin only', async () => {
        const r = await s[user].agent.get('/settings');
        assert.equal(r.status, user === 'root' ? 200 : 403);
        const p = await s[user].agent.post('/settings').type('form').send({ _csrf: s[user].csrf, retentionDays: '30', reportTimezone: 'UTC' });
        assert.equal(p.status, user === 'root' ? 303 : 403);
      });
    });
  }

  test('anonymous: pages redirect to login, API answers 401', async () => {
    const { default: request } = await import('supertest');
    for (const p of ['/domains', '/domains/bakery.example', '/history', '/bulk', '/settings']) {
      const r = await request(w.app).get(p);
      assert.equal(r.status, 303, p);
      assert.match(r.headers.location as string, /^\/login\?next=/);
    }
    for (const p of ['/api/domains', '/api/domains/bakery.example', '/api/export.csv', `/api/jobs/${ritaJob}`]) assert.equal((await request(w.app).get(p)).status, 401, p);
  });
});
