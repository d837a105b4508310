// Shared set-up for the web tests of a change's life after the fix (undo, "Verify again", replaced changes): the demo
// panel (a fresh copy) served by a loopback DNS server that does NOT follow the panel's writes — it serves what the test
// publishes (a slow secondary), so a fix stays "propagating" until the test publishes the new zone — a temp store with
// the demo logins, and apps over them. Unlike demoWorld (helpers.ts), whose nameservers reload on every write.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import { createApp, type AppDeps, type MailhealthApp } from '../../src/web/app.js';
import { NO_LIMITS, setPasswords, USERS, type Session } from './helpers.js';

export interface ChangeWorld {
  /** The panel's working copy (its zone files under zones/). */
  panelDir: string;
  dns: DnsServer;
  store: Store;
  panel: FilesPanel;
  /** The nameservers now answer with the panel's zones as they are. */
  publish(): void;
  /** An app over this world (session logins, no rate limits) with `extra` in place of any of its deps. */
  app(extra?: Partial<AppDeps>): MailhealthApp;
  close(): Promise<void>;
}

export async function changeWorld(): Promise<ChangeWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-change-'));
  const panelDir = join(dir, 'panel');
  cpSync(DEMO_PANEL_DIR, panelDir, { recursive: true });
  const dns = await startDnsServer({ data: buildWorld(panelDir) });
  const store = openStore(join(dir, 'db.sqlite'));
  const panel = new FilesPanel(panelDir);
  await setPasswords(store, USERS);
  return {
    panelDir,
    dns,
    store,
    panel,
    publish: () => dns.setData(buildWorld(panelDir)),
    app: (extra = {}) =>
      createApp({
        panel,
        store,
        makeResolver: () => createResolver({ servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 }),
        identityFrom: 'session',
        rateLimits: NO_LIMITS,
        ...extra,
      }),
    async close() {
      store.close();
      await dns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What POST /api/domains/<domain>/fix answers (the fields these tests read). */
export interface FixAnswer {
  status: string;
  changeId: number;
  verified: string;
}

/** GET /api/domains/<domain>/fix: the plan a fix would apply (`remove`: the terms selected for removal). */
export async function previewFix(s: Session, domain: string, check: string, remove: string[] = []): Promise<{ planHash: string; changes: unknown[] }> {
  const q = remove.map((t) => `&remove=${encodeURIComponent(t)}`).join('');
  return (await s.agent.get(`/api/domains/${domain}/fix?check=${check}${q}`).expect(200)).body as { planHash: string; changes: unknown[] };
}

/** POST /api/domains/<domain>/fix of the previewed plan: the answer. */
export async function postFix(s: Session, domain: string, check: string, planHash: string, remove: string[] = []): Promise<FixAnswer> {
  return (await s.agent.post(`/api/domains/${domain}/fix`).set('x-csrf-token', s.csrf).send({ check, planHash, remove }).expect(200)).body as FixAnswer;
}

/** A fix applied through the API (asserted): its change id. */
export async function applyFix(s: Session, domain: string, check: string, remove: string[] = []): Promise<number> {
  const plan = await previewFix(s, domain, check, remove);
  const out = await postFix(s, domain, check, plan.planHash, remove);
  assert.equal(out.status, 'applied');
  return out.changeId;
}

/** The undo page's outcome paragraph. */
export const outcomeOf = (html: string) => /<p class="alert[^"]*"[^>]*id="outcome"[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';
