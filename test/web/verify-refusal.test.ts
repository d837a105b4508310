// "Verify again" on a change a later fix replaced is refused (409) before an audit token is taken: with one token left,
// a refused verify used it up and the next answered 429 instead of 409. The API answers every refusal in one shape.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { createApp } from '../../src/web/app.js';
import { login, NO_LIMITS, setPasswords, USERS, type Session } from './helpers.js';

let dir: string, panelDir: string, dns: DnsServer, store: Store, panel: FilesPanel;
const app = (rateLimits: typeof NO_LIMITS) =>
  createApp({ panel, store, makeResolver: () => createResolver({ servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 }), identityFrom: 'session', rateLimits });
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mh-verify-token-'));
  panelDir = join(dir, 'panel');
  cpSync(DEMO_PANEL_DIR, panelDir, { recursive: true });
  dns = await startDnsServer({ data: buildWorld(panelDir) });
  store = openStore(join(dir, 'db.sqlite'));
  panel = new FilesPanel(panelDir);
  await setPasswords(store, USERS);
});
after(async () => {
  store.close();
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

async function applyFix(s: Session, domain: string, check: string, remove: string[] = []): Promise<number> {
  const q = remove.map((t) => `&remove=${encodeURIComponent(t)}`).join('');
  const plan = (await s.agent.get(`/api/domains/${domain}/fix?check=${check}${q}`).expect(200)).body as { planHash: string };
  const out = (await s.agent.post(`/api/domains/${domain}/fix`).set('x-csrf-token', s.csrf).send({ check, planHash: plan.planHash, remove }).expect(200)).body as { changeId: number };
  return out.changeId;
}

test('a refused Verify again (replaced change) should not cost an audit token', async () => {
  const alice = await login(app(NO_LIMITS), 'alice');
  dns.setData(buildWorld(panelDir));
  const first = await applyFix(alice, 'bakery.example', 'spf');
  await applyFix(alice, 'bakery.example', 'spf', ['include:_spf.google.com']);
  const a2 = await login(app({ ...NO_LIMITS, audit: { capacity: 1, perMinute: 0 } }), 'alice');
  const r1 = await a2.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: a2.csrf });
  assert.equal(r1.status, 409);
  const r2 = await a2.agent.post(`/changes/${first}/verify`).type('form').send({ _csrf: a2.csrf });
  assert.equal(r2.status, 409, `second refused verify answered ${r2.status}: the first refusal used up the token`);
  const api = await a2.agent.post(`/api/changes/${first}/verify`).set('x-csrf-token', a2.csrf);
  assert.equal(api.status, 409);
  assert.equal(api.body.status, 'refused');
  assert.equal(api.body.error, api.body.reason);
  // Not applied: the same shape (it was `{ error }` alone).
  const intent = store.recordIntent({ domain: 'bakery.example', check: 'dmarc', planHash: 'sha256:' + '0'.repeat(64), zoneVersion: 'x', changes: [], byUser: 'alice' });
  const notApplied = await a2.agent.post(`/api/changes/${intent}/verify`).set('x-csrf-token', a2.csrf);
  assert.equal(notApplied.status, 409);
  assert.deepEqual([notApplied.body.status, typeof notApplied.body.reason], ['refused', 'string']);
});
