// QA: the error page's heading said "Something went wrong" for ordinary refusals and bad input (409 "Change 1 is
// reverted … nothing to verify", 400 missing `check`, 409 no zone). The heading now follows the status: 400 "Check the
// request", 409 "Not done", 404/403/429 as before, 5xx keeps the server-side wording. Demo panel, loopback DNS, SQLite.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../../src/web/app.js';
import type { Panel } from '../../src/core/panel.js';
import { demoWorld, login, NO_LIMITS, type TestWorld } from './helpers.js';

const heading = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];

describe('the error page\'s heading', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(async () => w.close());

  test('409 — a refusal (verify a reverted change): "Not done", with the reason', async () => {
    const alice = await login(w.app, 'alice');
    const preview = await alice.agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)![1];
    await alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: alice.csrf, check: 'spf', planHash }).expect(200);
    const [ch] = w.store.changesForDomain('bakery.example');
    await alice.agent.post(`/changes/${ch.id}/undo`).type('form').send({ _csrf: alice.csrf }).expect(200);
    const page = await alice.agent.post(`/changes/${ch.id}/verify`).type('form').send({ _csrf: alice.csrf });
    assert.equal(page.status, 409);
    assert.equal(heading(page.text), 'Not done');
    assert.match(page.text, new RegExp(`Change ${ch.id} is reverted, not applied: there is nothing to verify\\.`));
    assert.doesNotMatch(page.text, /Something went wrong/);
  });

  test('400 — bad input (no check in the fix form): "Check the request"', async () => {
    const alice = await login(w.app, 'alice');
    const page = await alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: alice.csrf, planHash: 'sha256:' + '0'.repeat(64) });
    assert.equal(page.status, 400);
    assert.equal(heading(page.text), 'Check the request');
    assert.match(page.text, /check must be one of/);
    const preview = await alice.agent.get('/domains/bakery.example/fix');
    assert.equal(preview.status, 400);
    assert.equal(heading(preview.text), 'Check the request');
  });

  test('409 — no zone to plan from: "Not done"', async () => {
    const root = await login(w.app, 'root');
    rmSync(join(w.demo!.panelDir, 'zones', 'clean.example.db'));
    const page = await root.agent.get('/domains/clean.example/fix?check=dmarc');
    assert.equal(page.status, 409, page.text.slice(0, 500));
    assert.equal(heading(page.text), 'Not done');
    assert.doesNotMatch(page.text, /Something went wrong/);
  });

  test('404, 403 and 429 keep their headings', async () => {
    const alice = await login(w.app, 'alice');
    const missing = await alice.agent.get('/domains/dentist.example');
    assert.equal(missing.status, 404);
    assert.equal(heading(missing.text), 'Not found');
    const csrf = await alice.agent.post('/domains/bakery.example/audit').type('form').send({});
    assert.equal(csrf.status, 403);
    assert.equal(heading(csrf.text), 'Not allowed');
    const limited = createApp({
      panel: w.panel,
      store: w.store,
      makeResolver: w.makeResolver,
      identityFrom: 'session',
      rateLimits: { ...NO_LIMITS, audit: { capacity: 0, perMinute: 0 } },
    });
    const a = await login(limited, 'alice');
    const slow = await a.agent.get('/domains/bakery.example/fix?check=spf');
    assert.equal(slow.status, 429);
    assert.equal(heading(slow.text), 'Slow down');
  });

  test('5xx keeps the server-side wording', async () => {
    // A panel whose domain list breaks: an unexpected error, 500.
    const broken = new Proxy(w.panel, {
      get(target, prop) {
        if (prop === 'listDomains') return async () => { throw new Error('boom'); };
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Panel;
    const app = createApp({ panel: broken, store: w.store, makeResolver: w.makeResolver, identityFrom: 'session', rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    const origWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write; // the 500 is logged; keep the test output clean
    try {
      const page = await alice.agent.get('/domains');
      assert.equal(page.status, 500);
      assert.equal(heading(page.text), 'Something went wrong');
    } finally {
      process.stderr.write = origWrite;
    }
  });
});
