// The two ways a stop of `serve` or `service` (SIGTERM, as `systemctl stop`/`restart` sends, or Ctrl-C) ends without
// draining, as real child processes over the WHM emulator on loopback whose zone write the test holds open, so a fix
// stays "in flight" for as long as the test wants (serve-stop.test.ts covers the drain itself, in-process):
//   - a second signal while draining exits at once: exit 1, a line saying the domain stays locked, the history
//     database closed all the same (a copy of the file alone holds every record), the fix's lock left to its lease;
//   - the grace period running out (MAILHEALTH_STOP_GRACE_MS here, 30 s by default): exit 0, a line naming the grace
//     period actually used, the database closed, the lock left to its lease (never released under a write in flight).
// Nothing waits on the clock: the test synchronises on the emulator receiving the write and on the child's lines.
import '../helpers/shared-settings.js';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServer, type ServedZoneMap } from '../../src/adapters/dns/server.js';
import { openStore } from '../../src/adapters/store/store.js';
import { signIdentity } from '../../src/web/identity.js';
import { authUser, makeCpState, requestParams, zoneView, type CpState } from '../helpers/emulators/cpanel.js';
import { whmCall, writeCpanelServerFiles } from '../helpers/emulators/whm.js';
import { REPO_ROOT } from '../helpers/corpora.js';
import { CLI_ARGV } from '../helpers/cli-argv.js';

const DOMAIN = 'alice.example';
const ADMIN_TOKEN = 'admin-token-for-the-stop-tests-0123456789';
const KEY = 'front-door-key-for-the-stop-tests-0123456789';

/**
 * Ports: 0 (any free one) unless MAILHEALTH_TEST_PORTS=FIRST-LAST names a range this run may use (a machine where
 * several runs share loopback); each server of the test takes the next port of the range.
 */
let nextPort = 0;
function port(): number {
  const m = /^(\d+)-(\d+)$/.exec(process.env.MAILHEALTH_TEST_PORTS ?? '');
  if (!m) return 0;
  const [first, last] = [Number(m[1]), Number(m[2])];
  return first + (nextPort++ % (last - first + 1));
}

/** Listens on loopback at port(), trying the next one of the range while taken. */
async function listenOn(bind: (p: number) => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await bind(port());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i > 100) throw e;
    }
  }
}

/** What public DNS answers for the emulator's zones (and the names they refer to) as they are now. */
function served(state: CpState): ServedZoneMap {
  const map: ServedZoneMap = {
    [state.hostname]: { A: [state.mailIp] },
    [state.mailIp.split('.').reverse().join('.') + '.in-addr.arpa']: { PTR: [state.hostname] },
    ...Object.fromEntries(state.nameservers.map((n, i) => [n, { A: [`203.0.113.${53 + i}`] }])),
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  };
  const name = (s: string) => s.toLowerCase().replace(/\.$/, '');
  for (const zone of Object.keys(state.zones)) {
    for (const r of zoneView(state, zone)) {
      const e = (map[name(r.name)] ??= {}) as Record<string, unknown[]>;
      if (r.type === 'TXT') (e.TXT ??= []).push([...r.data]);
      else if (r.type === 'MX') (e.MX ??= []).push({ priority: Number(r.data[0]), exchange: name(r.data[1]) });
      else if (['A', 'AAAA', 'NS', 'CNAME'].includes(r.type)) (e[r.type] ??= []).push(name(r.data[0]));
    }
  }
  return map;
}

/**
 * The WHM API 1 emulator on loopback, except that a zone write (mass_edit_dns_zone) is held: `writeArrived` resolves
 * when the first one comes in, and it is answered only at `release()` (or never, when the test ends first).
 */
async function heldWhm(t: TestContext, state: CpState) {
  let arrived!: () => void;
  const writeArrived = new Promise<void>((r) => (arrived = r));
  const held: (() => void)[] = [];
  let open = false;
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/json-api\/([^/?]+)/.exec(req.url ?? '');
    const user = authUser(state, req, 'whm');
    if (!m || !user) return send(404, { metadata: { result: 0, reason: 'Not found' } });
    const func = decodeURIComponent(m[1]);
    const params = (await requestParams(req)).filter(([k]) => k !== 'api.version');
    if (func === 'mass_edit_dns_zone' && !open) {
      arrived();
      await new Promise<void>((r) => held.push(r));
    }
    const out = whmCall(state, user, func, params);
    send(out === 'not-found' ? 404 : 200, out === 'not-found' ? { metadata: { result: 0, reason: 'Unknown app' } } : out);
  });
  await listenOn((p) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }));
  t.after(() => {
    open = true;
    for (const r of held.splice(0)) r();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writeArrived,
    release() {
      open = true;
      for (const r of held.splice(0)) r();
    },
  };
}

/** A WHM server (emulator + server files + public DNS on loopback) and a config file naming it, in a temp dir. */
async function world(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-stop-exits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = makeCpState();
  writeCpanelServerFiles(state, join(dir, 'root'), { mailchannels: true });
  const whm = await heldWhm(t, state);
  let dns!: Awaited<ReturnType<typeof startDnsServer>>;
  await listenOn(async (p) => {
    dns = await startDnsServer({ data: served(state), ...(p ? { port: p } : {}) });
  });
  t.after(() => dns.close());
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ panel: 'whm', panelUrl: whm.url, token: 'tok-root', root: join(dir, 'root') }), { mode: 0o600 });
  const key = join(dir, 'frontdoor.key');
  writeFileSync(key, KEY + '\n', { mode: 0o600 });
  const db = join(dir, 'h.sqlite');
  const global = ['--config', config, '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', db];
  return { dir, state, whm, db, key, global };
}

interface Child {
  /** Resolves with the first match of `re` in stderr (fails if the child exits first). */
  line(re: RegExp): Promise<RegExpExecArray>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(t: TestContext, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MAILHEALTH_DB: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let done = false;
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }[] = [];
  const look = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(stderr);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stderr.on('data', (d) => {
    stderr += String(d);
    look();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      const end = () => {
        for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code ?? signal}) before ${w.re}: ${stderr}`));
        resolve({ code, signal, stderr });
      };
      if (child.stderr.readableEnded) end();
      else child.stderr.once('end', end);
    }),
  );
  t.after(() => {
    if (!done) child.kill('SIGKILL');
  });
  return {
    line: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        look();
        if (done) reject(new Error(`exited before ${re}: ${stderr}`));
      }),
    kill: (s) => void child.kill(s),
    exited,
  };
}

/** A JSON request to the child's web server. */
async function call(base: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** Previews the SPF fix of DOMAIN and sends its apply, which stays in flight (its zone write held at the emulator). */
async function fixInFlight(base: string, auth: () => Promise<Record<string, string>>, whm: { writeArrived: Promise<void> }) {
  const headers = await auth();
  const pv = await call(base, 'GET', `/api/domains/${DOMAIN}/fix?check=spf`, headers);
  assert.equal(pv.status, 200, JSON.stringify(pv.json));
  assert.equal(pv.json.mode, 'apply', JSON.stringify(pv.json));
  assert.ok(!pv.json.blocked, JSON.stringify(pv.json));
  const applying = call(base, 'POST', `/api/domains/${DOMAIN}/fix`, headers, { check: 'spf', planHash: pv.json.planHash }).then(
    (r) => r,
    (e: unknown) => e as Error,
  );
  await whm.writeArrived;
  return { applying };
}

/** serve with the admin token on loopback: its base URL once it says it serves. */
async function startServe(t: TestContext, w: Awaited<ReturnType<typeof world>>, graceMs: number) {
  const child = start(t, [...w.global, 'serve', '--host', '127.0.0.1', '--port', String(port()), '--no-report'], {
    MAILHEALTH_ADMIN_TOKEN: ADMIN_TOKEN,
    MAILHEALTH_STOP_GRACE_MS: String(graceMs),
  });
  const base = (await child.line(/serving on (http:\/\/\S+)\n/))[1];
  const auth = async () => ({ authorization: `Bearer ${ADMIN_TOKEN}` });
  return { child, base, auth };
}

/** service on loopback, asked as root through headers signed with the front-door key (as the WHM page does). */
async function startSvc(t: TestContext, w: Awaited<ReturnType<typeof world>>, graceMs: number) {
  const child = start(t, [...w.global, 'service', '--host', '127.0.0.1', '--port', String(port()), '--key', w.key, '--no-report'], {
    MAILHEALTH_STOP_GRACE_MS: String(graceMs),
  });
  const base = (await child.line(/front-door service on (http:\/\/\S+)\n/))[1];
  const auth = async () => {
    const identity = { 'x-mailhealth-identity': signIdentity(KEY, { user: 'root', role: 'admin' }) };
    // The session cookie carries the CSRF token a POST needs.
    const me = await call(base, 'GET', '/api/me', identity);
    assert.equal(me.status, 200, JSON.stringify(me.json));
    const cookie = (me.headers.get('set-cookie') ?? '').split(';')[0];
    return { ...identity, cookie, 'x-csrf-token': String(me.json.csrf) };
  };
  return { child, base, auth };
}

/** After the child exited: whether it closed the database (SQLite removes the -wal file on the last close). */
function closedCleanly(db: string): boolean {
  return existsSync(db) && !existsSync(`${db}-wal`);
}

function afterExit(db: string) {
  const store = openStore(db);
  try {
    return { lock: store.lockHolder(`domain:${DOMAIN}`), changes: store.changesForDomain(DOMAIN) };
  } finally {
    store.close();
  }
}

// Ctrl-C twice at a terminal (serve), `systemctl kill` after `systemctl stop` (service).
for (const [what, run, again] of [
  ['serve', startServe, 'SIGINT'],
  ['service', startSvc, 'SIGTERM'],
] as const) {
  test(`${what}: ${again} while a stop waits for a fix in flight exits at once (1), closing the database and leaving the fix's lock to its lease`, { timeout: 120_000 }, async (t) => {
    const w = await world(t);
    const { child, base, auth } = await run(t, w, 600_000);
    const { applying } = await fixInFlight(base, auth, w.whm);
    child.kill('SIGTERM');
    await child.line(/stopping: requests in flight are answered/);
    child.kill(again);
    const r = await child.exited;
    assert.equal(r.signal, null, 'the CLI handled the signal itself');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`mailhealth: ${again} again: stopped without waiting; a domain still being fixed stays locked for at most 2 minutes\\n`));
    assert.ok(closedCleanly(w.db), `the history database was left open (its -wal file is still there): ${r.stderr}`);
    assert.match(r.stderr, /stopping: requests in flight are answered \(at most 600 s\)/, 'the grace period MAILHEALTH_STOP_GRACE_MS set');
    assert.doesNotMatch(r.stderr, /stopped after/);
    w.whm.release();
    const after = afterExit(w.db);
    assert.ok(after.lock, 'the fix cut short keeps its lock until the lease runs out');
    assert.equal(after.changes[0]?.status, 'intent', JSON.stringify(after.changes));
    assert.ok((await applying) instanceof Error, 'the request in flight was cut off, not answered');
  });
}

for (const [what, run] of [
  ['serve', startServe],
  ['service', startSvc],
] as const) {
  test(`${what}: past the grace period the stop exits (0) saying how long it waited, the database closed and the fix's lock left to its lease`, { timeout: 120_000 }, async (t) => {
    const w = await world(t);
    // Any grace period: the write is held until the child has exited, so the stop can only run out of it.
    const { child, base, auth } = await run(t, w, 250);
    const { applying } = await fixInFlight(base, auth, w.whm);
    child.kill('SIGTERM');
    const r = await child.exited;
    assert.equal(r.signal, null, 'the CLI handled the signal itself');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopping: requests in flight are answered \(at most 250 ms\)/);
    assert.match(r.stderr, /mailhealth: stopped after 250 ms without the panel's answer for every domain being fixed: those stay locked for at most 2 minutes, and their fix is checked again at the next start\n/);
    assert.doesNotMatch(r.stderr, /again: stopped without waiting/);
    assert.ok(closedCleanly(w.db), `the history database was left open (its -wal file is still there): ${r.stderr}`);
    w.whm.release();
    const after = afterExit(w.db);
    assert.ok(after.lock, 'the fix cut short keeps its lock until the lease runs out');
    assert.equal(after.changes[0]?.status, 'intent', JSON.stringify(after.changes));
    assert.ok((await applying) instanceof Error, 'the request in flight was cut off, not answered');
  });
}

test('MAILHEALTH_STOP_GRACE_MS that is not a whole number of milliseconds (0-600000) is a usage error: nothing starts', { timeout: 60_000 }, async (t) => {
  const w = await world(t);
  for (const [cmd, extra] of [
    ['serve', ['--no-report']],
    ['service', ['--host', '127.0.0.1', '--key', w.key, '--no-report']],
  ] as const) {
    for (const bad of ['30s', '-1', '600001', '1e3']) {
      const child = start(t, [...w.global, cmd, '--port', String(port()), ...extra], { MAILHEALTH_STOP_GRACE_MS: bad });
      // Started all the same (the value ignored): stopped at once, and the test fails on its exit code.
      child.line(/serving on|front-door service on/).then(
        () => child.kill('SIGKILL'),
        () => undefined,
      );
      const r = await child.exited;
      assert.equal(r.code, 2, `${cmd} ${bad}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`MAILHEALTH_STOP_GRACE_MS takes a whole number from 0 to 600000 \\(got "${bad}"\\)`));
      assert.ok(!existsSync(w.db), 'no history database created');
    }
  }
});
