// Shared set-up for the web tests: the demo panel (a fresh copy) served by the loopback DNS server, a temp store with
// logins, and supertest agents that log in and carry the session's CSRF token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { Page } from 'playwright-core';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { startDemo, type Demo } from '../../src/demo/world.js';
import { auditMany } from '../../src/core/audit.js';
import type { Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { createApp, type AppDeps, type MailhealthApp } from '../../src/web/app.js';
import { hashPassword } from '../../src/web/passwords.js';

export const PASSWORD = 'correct horse battery';
export const USERS = ['alice', 'bob', 'rita', 'root'] as const;
export type User = (typeof USERS)[number];

export const DEMO_SCOPE: Record<User, string[]> = {
  alice: ['bakery.example', 'florist.example'],
  bob: ['dentist.example', 'plumber.example'],
  rita: ['clean.example', 'dentist.example', 'lawyer.example', 'plumber.example'],
  root: ['bakery.example', 'clean.example', 'dentist.example', 'florist.example', 'lawyer.example', 'plumber.example'],
};
export const ALL_DEMO = DEMO_SCOPE.root;

/** Generous limits so the matrix is not rate limited (rate-limit tests pass their own). */
export const NO_LIMITS = { audit: { capacity: 100_000, perMinute: 0 }, bulk: { capacity: 100_000, perMinute: 0 }, login: { capacity: 100_000, perMinute: 0 } };

let hashCache: string | null = null;
export async function setPasswords(store: Store, users: readonly string[]): Promise<void> {
  hashCache ??= await hashPassword(PASSWORD);
  for (const u of users) store.setPasswordHash(u, hashCache);
}

export interface TestWorld {
  app: MailhealthApp;
  store: Store;
  panel: Panel;
  demo: Demo | null;
  dir: string;
  makeResolver: () => Resolver;
  close(): Promise<void>;
}

/** The demo world (loopback DNS) with an app over it. */
export async function demoWorld(opts: { seedAudits?: boolean; app?: Partial<AppDeps>; wrapPanel?: (p: FilesPanel) => AppDeps['panel'] } = {}): Promise<TestWorld> {
  const demo = await startDemo();
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-web-'));
  const store = openStore(join(dir, 'db.sqlite'));
  const panel = new FilesPanel(demo.panelDir);
  const makeResolver = () => createResolver({ servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2 });
  await setPasswords(store, USERS);
  if (opts.seedAudits) {
    const r = makeResolver();
    const refs = await panel.listDomains({ user: 'root', role: 'admin' });
    const audits = await auditMany(refs.map((d) => d.domain), { panel, resolver: r });
    r.close();
    const run = store.startRun('audit', 'root', audits.length);
    store.recordAudits(run, audits.map((a) => ({ audit: a, owner: refs.find((d) => d.domain === a.domain)!.owner })));
    store.finishRun(run, 'complete');
  }
  const app = createApp({ panel: opts.wrapPanel ? opts.wrapPanel(panel) : panel, store, makeResolver, identityFrom: 'session', adminToken: 'test-admin-token', rateLimits: NO_LIMITS, ...opts.app });
  return {
    app,
    store,
    panel,
    demo,
    dir,
    makeResolver,
    async close() {
      store.close();
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(demo.panelDir, { recursive: true, force: true });
    },
  };
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html) ?? /name="csrf-token" content="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in page');
  return m[1];
}

export interface Session {
  agent: TestAgent;
  csrf: string;
}

/** Log in through the form; returns the agent (cookies) and the new session's CSRF token. */
export async function login(app: MailhealthApp, user: string, password = PASSWORD): Promise<Session> {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), user, password, next: '/domains' });
  if (res.status !== 303) throw new Error(`login ${user}: ${res.status}`);
  const me = await agent.get('/api/me').expect(200);
  return { agent, csrf: (me.body as { csrf: string }).csrf };
}

/** The browser tests' login: the form filled in as a person does, then the domain list awaited. */
export async function logInThroughForm(page: Page, baseUrl: string, user: string, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/domains$/);
}
