// The demo panel (a copy: root, rita, alice, bob, carol) behind a standalone app on a fake clock, for the tests of web
// logins whose panel account goes away (login-gone-account, account-sweep, account-sweep-unbound).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import request from 'supertest';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { createApp } from '../../src/web/app.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { csrfFrom, NO_LIMITS } from './helpers.js';

export interface Account {
  user: string;
  role: string;
  owner?: string;
  domains?: string[];
}

export const cookieOf = (res: request.Response, name: string) => ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`))?.split(';')[0];

export async function accountWorld(t: TestContext, opts: { limits?: typeof NO_LIMITS; advanceOnEdit?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-accounts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const panelDir = join(dir, 'panel');
  cpSync(join(REPO_ROOT, 'src/demo/panel'), panelDir, { recursive: true });
  const store = openStore(join(dir, 'h.sqlite'));
  t.after(() => store.close());
  const clock = { t: Date.parse('2026-11-27T12:00:00Z') };
  const panel = new FilesPanel(panelDir);
  const app = createApp({ panel, store, makeResolver: () => { throw new Error('no DNS'); }, identityFrom: 'session', rateLimits: opts.limits ?? NO_LIMITS, now: () => new Date(clock.t) });
  const cfgPath = join(panelDir, 'panel.json');
  /** Edits panel.json's accounts (by default also past the app's 10 s account cache). */
  const edit = (f: (a: Account[]) => Account[]) => {
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { accounts: Account[] };
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, accounts: f(cfg.accounts) }));
    if (opts.advanceOnEdit !== false) clock.t += 11_000;
  };
  let addr = 0;
  /** One login attempt from a fresh address (so only the per-user-name bucket is shared), with a device cookie if given. */
  const attempt = async (user: string, password: string, device?: string) => {
    const page = await request(app).get('/login').set('Cookie', device ?? '');
    return request(app)
      .post('/login')
      .set('X-Forwarded-For', `203.0.113.${++addr}`)
      .set('Cookie', [cookieOf(page, 'mh_session'), device].filter(Boolean).join('; '))
      .type('form')
      .send({ _csrf: csrfFrom(page.text), user, password });
  };
  return { dir, panelDir, panel, store, clock, app, cfgPath, edit, attempt };
}
