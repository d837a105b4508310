// The list filter's "Status" of a check is what the check's chip shows: a check whose worst finding is `info` shows
// "OK" and is matched by Status "OK" (pass) — on /domains, /bulk, /api/domains, the exports, "Audit all N matching"
// (/bulk/audit) and POST /api/bulk alike. Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHECKS, type CheckName, type Severity } from '../../src/core/model.js';
import { applyFilter, STATUS_FILTERS, type DomainRow } from '../../src/web/domain-list.js';
import { SEVERITY_LABELS } from '../../src/web/view-model.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

type ApiRow = { domain: string; checks: Partial<Record<CheckName, Severity>> };
const chipOf = (sev: Severity | undefined) => SEVERITY_LABELS[sev ?? 'none'];

describe('filtering by a check and a status matches the chips', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());

  test('the demo has checks whose chip says OK for an info finding (the case the filter missed)', async () => {
    const { agent } = await login(w.app, 'rita');
    const rows = (await agent.get('/api/domains').expect(200)).body as ApiRow[];
    const infoSpf = rows.filter((r) => r.checks.spf === 'info').map((r) => r.domain);
    assert.ok(infoSpf.length > 0, 'some SPF check is info');
    const page = await agent.get('/bulk').expect(200);
    for (const d of infoSpf) assert.match(page.text, new RegExp(`<tr data-domain="${d}">[\\s\\S]*?data-check="spf"[^>]*><span class="chip chip-info">OK<`));
  });

  test('every check × status: /api/domains returns exactly the rows whose chip shows that status', async () => {
    const { agent } = await login(w.app, 'root');
    const all = (await agent.get('/api/domains').expect(200)).body as ApiRow[];
    for (const check of CHECKS) {
      for (const status of STATUS_FILTERS) {
        const want = all.filter((r) => chipOf(r.checks[check]) === SEVERITY_LABELS[status]).map((r) => r.domain).sort();
        const got = ((await agent.get(`/api/domains?check=${check}&status=${status}`).expect(200)).body as ApiRow[]).map((r) => r.domain).sort();
        assert.deepEqual(got, want, `check=${check} status=${status}`);
      }
    }
  });

  test('Check SPF + Status OK on /bulk, /domains, the exports, "Audit all N matching" and POST /api/bulk', async () => {
    const { agent, csrf } = await login(w.app, 'rita');
    const rows = (await agent.get('/api/domains').expect(200)).body as ApiRow[];
    const ok = rows.filter((r) => r.checks.spf === 'pass' || r.checks.spf === 'info').map((r) => r.domain).sort();
    assert.ok(ok.length > 0);

    const bulk = await agent.get('/bulk?check=spf&status=pass').expect(200);
    assert.match(bulk.text, new RegExp(`class="count">${ok.length} domain`));
    assert.match(bulk.text, new RegExp(`Audit all ${ok.length} matching`));
    for (const d of ok) assert.match(bulk.text, new RegExp(`<tr data-domain="${d}">`));
    const domains = await agent.get('/domains?check=spf&status=pass').expect(200);
    assert.match(domains.text, new RegExp(`class="count">${ok.length} domain`));

    const csv = await agent.get('/api/export.csv?check=spf&status=pass').expect(200);
    assert.deepEqual(csv.text.trim().split('\r\n').slice(1).map((l) => JSON.parse(l.split(',')[0]) as string).sort(), ok);
    const json = await agent.get('/api/export.json?check=spf&status=pass').expect(200);
    assert.deepEqual((json.body as { domains: { domain: string }[] }).domains.map((d) => d.domain).sort(), ok);

    await agent.post('/bulk/audit').type('form').send({ _csrf: csrf, check: 'spf', status: 'pass' }).expect(303);
    const job = w.store.listJobs('rita', 1)[0];
    assert.equal(job.total, ok.length, '/bulk/audit audits the matching domains');
    await w.app.runner.wait(job.id);

    const api = await agent.post('/api/bulk').set('x-csrf-token', csrf).send({ check: 'spf', status: 'pass' });
    assert.equal(api.status, 202, api.text);
    assert.equal((api.body as { total: number }).total, ok.length);
    await w.app.runner.wait((api.body as { jobId: number }).jobId);
  });

  test('applyFilter: info is OK, no finding is "not audited", "check" alone still means a problem', () => {
    const row = (domain: string, spf?: Severity): DomainRow => ({ domain, owner: 'o', reseller: null, status: 'pass', auditedAt: null, checks: spf ? { spf } : {} });
    const rows = [row('a.example', 'info'), row('b.example', 'pass'), row('c.example', 'warn'), row('d.example'), row('e.example', 'unknown'), row('f.example', 'fail')];
    const names = (f: Parameters<typeof applyFilter>[1]) => applyFilter(rows, f).map((r) => r.domain);
    assert.deepEqual(names({ check: 'spf', status: 'pass' }), ['a.example', 'b.example']);
    assert.deepEqual(names({ check: 'spf', status: 'none' }), ['d.example']);
    assert.deepEqual(names({ check: 'spf', status: 'warn' }), ['c.example']);
    assert.deepEqual(names({ check: 'spf' }), ['c.example', 'e.example', 'f.example']);
  });
});
