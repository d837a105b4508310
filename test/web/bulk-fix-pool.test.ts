// A bulk fix previews and applies a few domains at once (src/web/pool.ts), not one after another inside the request:
// on a real panel each domain is several API round trips, and a reseller's 200 domains end to end could outlast the
// panel's proxy. Each domain's own steps stay in order, and the page lists the domains in the order they were sent.
// The panel here holds each zone read until a second one is in flight (or 1 s passes), so a one-at-a-time loop shows
// as a peak of 1. Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Panel } from '../../src/core/panel.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
let inFlight = 0;
let peak = 0;
const waiting: (() => void)[] = [];

function holdingPanel(target: Panel): Panel {
  return new Proxy({} as Panel, {
    get(_t, prop) {
      if (prop === 'readZone') {
        return async (domain: string) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          if (inFlight >= 2) for (const release of waiting.splice(0)) release();
          else await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000);
            waiting.push(() => { clearTimeout(timer); resolve(); });
          });
          try {
            return await target.readZone(domain);
          } finally {
            inFlight--;
          }
        };
      }
      const v = (target as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

before(async () => {
  w = await demoWorld({ wrapPanel: holdingPanel });
});
after(async () => w.close());

test('bulk preview and apply run domains side by side and keep the order they were sent in', { timeout: 120_000 }, async () => {
  const admin = await login(w.app, 'root');
  const domains = ['florist.example', 'dentist.example', 'bakery.example', 'plumber.example', 'clean.example'];
  peak = 0;
  const preview = await admin.agent.post('/bulk/fix/preview').type('form').send({ _csrf: admin.csrf, check: 'dmarc', domains });
  assert.equal(preview.status, 200, preview.text);
  assert.ok(peak >= 2, `zone reads of several domains at once in the preview (peak ${peak})`);
  const shown = domains.map((d) => preview.text.indexOf(d));
  assert.ok(shown.every((i) => i >= 0), 'every domain on the preview');
  assert.deepEqual([...shown].sort((a, b) => a - b), shown, 'in the order sent');
  const plans = [...preview.text.matchAll(/name="plan" value="([^"]+)"/g)].map((m) => m[1].replace(/&#124;/g, '|'));
  assert.ok(plans.length >= 2, `at least two applicable DMARC plans (${plans.length})`);

  peak = 0;
  const applied = await admin.agent.post('/bulk/fix/apply').type('form').redirects(1).send({ _csrf: admin.csrf, check: 'dmarc', plan: plans });
  assert.equal(applied.status, 200, applied.text);
  assert.ok(peak >= 2, `zone reads of several domains at once in the apply (peak ${peak})`);
  const names = plans.map((p) => p.slice(0, p.lastIndexOf('|')));
  const at = names.map((d) => applied.text.indexOf(d));
  assert.ok(at.every((i) => i >= 0));
  assert.deepEqual([...at].sort((a, b) => a - b), at, 'results in the order sent');
  const changes = w.store.changesForDomains(names, 10);
  assert.equal(changes.length, names.length, 'one change per domain');
  assert.ok(changes.every((c) => c.status === 'applied'), JSON.stringify(changes.map((c) => [c.domain, c.status])));
});
