// 10,000 domains: the lists paginate (and filter) from the store's latest results; zones need not exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { DomainAudit, DomainStatus } from '../../src/core/model.js';
import { createApp, type MailhealthApp } from '../../src/web/app.js';
import { MapResolver } from '../helpers/map-resolver.js';
import { login, NO_LIMITS, setPasswords } from './helpers.js';

const STATUSES: DomainStatus[] = ['pass', 'warn', 'fail', 'unknown'];
const name = (i: number) => `d${String(i).padStart(5, '0')}.example`;

describe('10,000 domains', () => {
  let dir: string;
  let store: Store;
  let app: MailhealthApp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-big-'));
    const accounts: object[] = [
      { user: 'root', role: 'admin' },
      { user: 'rita', role: 'reseller' },
      { user: 'rex', role: 'reseller' },
    ];
    for (let c = 0; c < 100; c++) {
      accounts.push({ user: `cust${c}`, role: 'customer', owner: c < 50 ? 'rita' : 'rex', domains: Array.from({ length: 100 }, (_, j) => name(c * 100 + j)) });
    }
    writeFileSync(join(dir, 'panel.json'), JSON.stringify({ server: { hostname: 'h.example', ips: ['192.0.2.1'], nameservers: ['ns1.h.example'] }, accounts }));
    store = openStore(join(dir, 'db.sqlite'));
    await setPasswords(store, ['root', 'rita', 'cust7']);
    const run = store.startRun('bulk', 'root', 10_000);
    const items: { audit: DomainAudit; owner: string }[] = [];
    for (let i = 0; i < 9_990; i++) {
      const status = STATUSES[i % 4];
      items.push({
        owner: `cust${Math.floor(i / 100)}`,
        audit: {
          domain: name(i),
          status,
          auditedAt: '2026-11-01T00:00:00.000Z',
          findings: [{ rule: 'spf.x', check: 'spf', severity: status === 'pass' ? 'pass' : status, message: 'm', evidence: {} }],
        },
      });
    }
    store.recordAudits(run, items);
    store.finishRun(run, 'complete');
    app = createApp({ panel: new FilesPanel(dir), store, makeResolver: () => new MapResolver({}), identityFrom: 'session', rateLimits: NO_LIMITS });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = (html: string) => [...html.matchAll(/<tr data-domain="([^"]+)"/g)].map((m) => m[1]);

  test('admin: /bulk pages of 50, worst first, with filters', async () => {
    const { agent } = await login(app, 'root');
    const p1 = await agent.get('/bulk').expect(200);
    assert.match(p1.text, /10000 domains/);
    assert.match(p1.text, /Page 1 of 200/);
    const r1 = rows(p1.text);
    assert.equal(r1.length, 50);
    assert.equal(r1[0], name(2), 'fail first (d00002 is the first failing)');
    const last = await agent.get('/bulk?page=200').expect(200);
    assert.match(last.text, /Page 200 of 200/);
    assert.equal(rows(last.text).length, 50);
    assert.ok(rows(last.text).includes(name(9999)) || rows(last.text).every((d) => d >= name(0)));
    const beyond = await agent.get('/bulk?page=99999').expect(200);
    assert.match(beyond.text, /Page 200 of 200/);
    const fails = await agent.get('/bulk?status=fail&page=2').expect(200);
    assert.match(fails.text, /2498 domains|2497 domains|2500 domains/);
    assert.match(fails.text, /rel="prev"/);
    const never = await agent.get('/bulk?status=none').expect(200);
    assert.match(never.text, /10 domains/);
    const cust = await agent.get('/bulk?customer=cust7').expect(200);
    assert.match(cust.text, /100 domains/);
    assert.ok(rows(cust.text).every((d) => d >= name(700) && d < name(800)));
    const api = await agent.get('/api/domains').expect(200);
    assert.equal((api.body as unknown[]).length, 10_000);
    const csv = await agent.get('/api/export.csv?status=warn').expect(200);
    assert.equal(csv.text.trim().split('\r\n').length, 1 + 2498);
  });

  test('reseller: only their customers; customer: only their own', async () => {
    const rita = await login(app, 'rita');
    const p = await rita.agent.get('/bulk?page=100').expect(200);
    assert.match(p.text, /5000 domains/);
    assert.match(p.text, /Page 100 of 100/);
    assert.match((await rita.agent.get('/bulk?customer=cust70')).text, /<p class="count">0 domains<\/p>/);
    const c = await login(app, 'cust7');
    const d = await c.agent.get('/domains?page=2').expect(200);
    assert.match(d.text, /100 domains/);
    assert.match(d.text, /Page 2 of 2/);
    assert.ok(rows(d.text).every((x) => x >= name(700) && x < name(800)));
    assert.equal((await c.agent.get(`/domains/${name(9000)}`)).status, 404);
  });
});
