// mailhealth cgi --front-door cpanel|whm|plesk [--user U --role R] [--service SOCKET --key FILE] [--base-path P]
//   One request through the web app as a CGI program (env + stdin in, `Status:` + headers + body out), with the
//   identity the panel gave (see src/web/cgi.ts for who each front door trusts and why).
// mailhealth service [--socket PATH | --host 127.0.0.1 --port N] --key FILE
//   [--report-cron EXPR] [--report-tz ZONE] [--no-report]
//   The background service the root-run front doors hand long work to: the web app with identities taken only from
//   headers signed with the root-only front-door key (identity.ts signedHeaderFrontDoor). Listens on a root-only
//   Unix socket (0600) or on loopback. Like `serve`, it schedules the nightly report (../nightly.ts) at the settings
//   page's schedule, and a save handed to it by a front door reschedules it at once.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CpanelPanel } from '../../adapters/panels/cpanel/index.js';
import { createPanel } from '../../adapters/panels/factory.js';
import { openStore, type Store } from '../../adapters/store/store.js';
import { resolveDbPath } from '../../adapters/store/path.js';
import type { Identity } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import { createApp } from '../../web/app.js';
import {
  allowedDomainsFrom,
  cgiRequestFromEnv,
  cpanelIdentity,
  CPANEL_FEATURE,
  dispatchInProcess,
  formatCgi,
  FRONT_DOORS,
  FrontDoorRefused,
  LiveApiTransport,
  pleskIdentity,
  proxyToService,
  rebase,
  refusal,
  requireCpanelFeature,
  narrowByIdentity,
  whmIdentity,
  type CgiRequest,
  type CgiResponse,
  type FrontDoorKind,
} from '../../web/cgi.js';
import { signedHeaderFrontDoor } from '../../web/identity.js';
import { settleOpenIntents, startServer, type RunningServer, type SettleResult } from '../../web/server.js';
import type { Resolver } from '../../core/resolver.js';
import { panelFromOptions, resolverFactory, resolverOptionsFactory, resolverOptionsFrom, storeFromOptions, UsageError, type GlobalOptions } from '../context.js';
import { addReportOptions, describeNightlyReport, startNightlyReport, type NightlyReport, type NightlySeams, type ReportFlags } from '../nightly.js';
import { checkHost, checkReportFlags, onStopSignals, parsePort, stopGraceMs, stopGracefully, timedOutLine, trackResponses } from './serve.js';
import { publishSharedSettings, readSharedSettings } from '../shared-settings.js';
import { errorLines, errorMessage, writeLog } from '../log.js';
import { UPGRADE_EXIT_CODE, upgradeLine, watchForUpgrade } from '../upgrade-watch.js';

/** The front doors' lines in the web server's error log (escaped: writeLog). */
const CGI_LOG = 'mailhealth cgi';

export const FRONTDOOR_KEY_PATH = '/etc/mailhealth/frontdoor.key';
export const SERVICE_SOCKET_PATH = '/run/mailhealth/mailhealth.sock';
/** Header room for a signed identity with a reseller's domain list (~100,000 names). */
export const SERVICE_MAX_HEADER_BYTES = 8 * 1024 * 1024;
const MAX_BODY = 1024 * 1024;
interface CgiOptions extends GlobalOptions {
  frontDoor: string;
  user?: string;
  role?: string;
  service?: string;
  key?: string;
  basePath?: string;
  serverRoot?: string;
}

/**
 * The request's CGI meta-variables (RFC 3875, and what web servers add): every HTTP_* header the browser chose to send,
 * its query string, path and method, REMOTE_USER, the server's own, cpsrvd's session token.
 */
const CGI_VARIABLE =
  /^(HTTP_.+|REDIRECT_.+|AUTH_TYPE|CONTENT_LENGTH|CONTENT_TYPE|DOCUMENT_ROOT|GATEWAY_INTERFACE|HTTPS|PATH_INFO|PATH_TRANSLATED|QUERY_STRING|REMOTE_ADDR|REMOTE_HOST|REMOTE_IDENT|REMOTE_PORT|REMOTE_USER|REQUEST_METHOD|REQUEST_SCHEME|REQUEST_URI|SCRIPT_FILENAME|SCRIPT_NAME|SCRIPT_URI|SCRIPT_URL|SERVER_ADDR|SERVER_NAME|SERVER_PORT|SERVER_PROTOCOL|SERVER_SOFTWARE|cp_security_token)$/;

/**
 * Takes the request out of a CGI process's environment: returns a copy of `env` to read the request and the identity
 * from (runCgi), and deletes the request's variables from `env` itself — the environment the panel tools this process
 * runs inherit (whmapi1 behind WHM, `plesk bin dns` behind Plesk, both as root). A header the browser sent must not reach
 * them as a variable of their own: `Proxy:` arrives as HTTP_PROXY, which HTTP clients read as their proxy ("httpoxy"),
 * and QUERY_STRING, REQUEST_METHOD or REMOTE_USER are what a CGI-aware tool reads as its own request and user
 * (security QA: they inherited all of it).
 */
export function takeRequestEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const request = { ...env };
  for (const k of Object.keys(env)) if (CGI_VARIABLE.test(k)) delete env[k];
  return request;
}

/** Read exactly CONTENT_LENGTH bytes of the body (CGI: the server may not close stdin). */
async function readBody(env: NodeJS.ProcessEnv, input: NodeJS.ReadableStream): Promise<Buffer> {
  const want = Number(env.CONTENT_LENGTH ?? 0);
  if (!Number.isInteger(want) || want <= 0) return Buffer.alloc(0);
  if (want > MAX_BODY) throw new FrontDoorRefused(413, 'request body too large');
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of input) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    chunks.push(b);
    got += b.length;
    if (got >= want) break;
  }
  return Buffer.concat(chunks).subarray(0, want);
}

/** A key file the front doors and the service trust: owned by root (when we are root), not readable by others. */
export function readFrontDoorKey(path: string): Buffer {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable by this user' : (e as Error).message;
    throw new UsageError(`the front-door key ${path}: ${why} (the installer writes /etc/mailhealth/frontdoor.key, mode 0600, owned by root; --key names another)`);
  }
  if (!st.isFile()) throw new UsageError(`the front-door key ${path} is not a file`);
  if ((st.mode & 0o077) !== 0) throw new UsageError(`${path} is readable by group/others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  if (typeof process.getuid === 'function' && process.getuid() === 0 && st.uid !== 0) throw new UsageError(`${path} must be owned by root`);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  if (key.length < 32) throw new UsageError(`${path}: the front-door key must be at least 32 characters`);
  return key;
}

export interface FrontDoorSetup {
  identity: Identity;
  panel: Panel;
  /** Opens the history database (only when the request is handled in-process). */
  openStore: () => Store;
  close?: () => void;
}

/** Who is asking and through which panel, for one front door. Exported for tests (which inject the OS user). */
export async function frontDoorSetup(
  kind: FrontDoorKind,
  o: CgiOptions,
  env: NodeJS.ProcessEnv,
  os: { user: string; uid: number; home: string } = currentOsUser(),
): Promise<FrontDoorSetup> {
  const isRoot = os.uid === 0;
  switch (kind) {
    case 'cpanel': {
      const identity = cpanelIdentity(env, os);
      let panel: Panel;
      let close: (() => void) | undefined;
      if (o.panel) panel = panelFromOptions(o);
      else if (env.CPANEL_CONNECT_SOCKET || env.CPANEL_PHPCONNECT_SOCKET) {
        const live = new LiveApiTransport((env.CPANEL_CONNECT_SOCKET || env.CPANEL_PHPCONNECT_SOCKET)!);
        panel = new CpanelPanel({ transport: live, user: os.user, root: o.serverRoot ?? '/' });
        close = () => live.close();
      } else panel = createPanel({ panel: 'cpanel', panelUser: os.user, root: o.serverRoot ?? '/' });
      // The account must have the `mailhealth` feature (Feature Manager), asked through the same UAPI the page uses.
      try {
        if (!(panel instanceof CpanelPanel)) {
          throw new FrontDoorRefused(403, `the cPanel page acts through the customer's cPanel UAPI, which tells whether the account has the "${CPANEL_FEATURE}" feature; --panel ${o.panel} cannot`);
        }
        await requireCpanelFeature(panel, identity.user);
      } catch (e) {
        close?.();
        throw e;
      }
      // History in the user's home: backed up, restored and removed with the account; no root service involved.
      const dbPath = resolveDbPath({ flag: o.db, env: null, isRoot: false, home: os.home });
      return { identity, panel, close, openStore: () => openPrivateStore(dbPath) };
    }
    case 'whm': {
      const panel = panelFromOptions({ ...o, panel: o.panel ?? 'whm' });
      // The resellers' ACLs. Unreadable (missing included) → null: only root gets in (whmIdentity fails closed).
      const resellers = readResellers(join(o.serverRoot ?? '/', 'var/cpanel/resellers'));
      const identity = await whmIdentity(env, panel, { isRoot, resellers });
      return { identity, panel, openStore: () => openPrivateStore(resolveDbPath({ flag: o.db, isRoot })) };
    }
    case 'plesk': {
      // Resellers and customers: the scope narrowed to the domains the shim says Plesk lets them access, carried by the
      // identity itself — so the background service, which gets it signed, narrows the same way (narrowByIdentity).
      const plain = pleskIdentity(o.user, o.role, { isRoot });
      const allowed = plain.role !== 'admin' ? pleskAllowedDomains(env) : null;
      const identity: Identity = allowed ? { ...plain, allowed: [...allowed] } : plain;
      const panel = narrowByIdentity(panelFromOptions({ ...o, panel: o.panel ?? 'plesk' }));
      return { identity, panel, openStore: () => openPrivateStore(resolveDbPath({ flag: o.db, isRoot })) };
    }
  }
}

/**
 * The domains the Plesk shim says this reseller or customer may access (it only ever narrows the panel's scope): the
 * file MAILHEALTH_ALLOWED_DOMAINS_FILE names (one name per line; a temporary 0600 file the shim removes after the
 * call — one environment string is limited to 128 KiB, too little for thousands of names), else the older
 * comma-joined MAILHEALTH_ALLOWED_DOMAINS; null when neither is set. A named file that cannot be read (missing, not a
 * regular file, unreadable) fails closed: the request is refused rather than served with the unnarrowed scope.
 */
export function pleskAllowedDomains(env: NodeJS.ProcessEnv): Set<string> | null {
  const file = env.MAILHEALTH_ALLOWED_DOMAINS_FILE;
  if (file === undefined) return allowedDomainsFrom(env.MAILHEALTH_ALLOWED_DOMAINS);
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    text = readFileSync(file, 'utf8');
  } catch (e) {
    writeLog(`MAILHEALTH_ALLOWED_DOMAINS_FILE ${JSON.stringify(file)}: ${errorMessage(e)}`, CGI_LOG);
    throw new FrontDoorRefused(500, 'could not read the list of domains Plesk allows this user; the page stays closed rather than show more than that');
  }
  return allowedDomainsFrom(text);
}

/** /var/cpanel/resellers (§6.3), or null when it cannot be read (absent, unreadable, not a file). */
function readResellers(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function currentOsUser(): { user: string; uid: number; home: string } {
  const u = userInfo();
  return { user: u.username, uid: u.uid, home: u.homedir };
}

/** The store creates a new database 0600 in 0700 directories and makes an existing one of ours owner-only (it holds the
 * session secret): src/adapters/store/private-files.ts. */
function openPrivateStore(path: string): Store {
  return openStore(path);
}

/** One CGI request, end to end. Never throws: refusals and failures become CGI responses. */
export async function runCgi(kind: FrontDoorKind, o: CgiOptions, env: NodeJS.ProcessEnv, input: NodeJS.ReadableStream, os?: { user: string; uid: number; home: string }): Promise<Buffer> {
  let setup: FrontDoorSetup | null = null;
  let store: Store | null = null;
  try {
    const req: CgiRequest = cgiRequestFromEnv(env, await readBody(env, input));
    setup = await frontDoorSetup(kind, o, env, os);
    const base = o.basePath ?? env.SCRIPT_NAME ?? '';
    const secure = env.HTTPS === 'on' || env.HTTPS === '1';
    let res: CgiResponse | null = null;
    // The identity goes signed, with the scope the shim narrowed it to (Plesk's domain list) when there is one: the
    // service narrows it the same way (narrowByIdentity).
    // A domain list too long for the service's header room (beyond ~200,000 names) is handled here, where it applies.
    const fits = !setup.identity.allowed || JSON.stringify(setup.identity.allowed).length * 1.4 < SERVICE_MAX_HEADER_BYTES - 65_536;
    if (o.service && kind !== 'cpanel' && fits && existsSync(o.service)) {
      try {
        res = await proxyToService(o.service, readFrontDoorKey(o.key ?? FRONTDOOR_KEY_PATH), setup.identity, req);
      } catch (e) {
        writeLog(`service at ${o.service} unavailable (${errorMessage(e)}); handling the request here`, CGI_LOG);
      }
    }
    if (!res) {
      store = setup.openStore();
      const identity = setup.identity;
      // The customer's page cannot read root's database: the admin's settings come from the file the service publishes.
      if (kind === 'cpanel') {
        const shared = readSharedSettings();
        if (shared) store.setSettings(shared);
      }
      const makeResolver = resolverFactory(o, store);
      // A fix this page (or another) left half-done — its process killed between the intent and the outcome — is
      // settled before the page shows or acts on the history.
      // What it found is handed to the app: an undo of a change it put back but could not record says so (undoProblem).
      const settled = await settleForRequest(setup, store, makeResolver);
      // One request per process, and the store closes when it is answered: no background jobs here (a bulk audit would
      // die half-way, its job row left "running"). The bulk page says what to do instead.
      const app = createApp({
        panel: setup.panel,
        store,
        makeResolver,
        identityFrom: 'front-door',
        frontDoor: () => identity,
        backgroundJobs: false,
        settledBefore: () => settled,
        // An admin saving the settings through a root front door (the service down): published for the cPanel page too.
        ...(kind !== 'cpanel' && identity.role === 'admin' ? { onSettingsSaved: () => publishSharedSettings(store!) } : {}),
      });
      res = await dispatchInProcess(app, req);
    }
    return formatCgi(rebase(res, base, secure));
  } catch (e) {
    if (e instanceof FrontDoorRefused) return formatCgi(refusal(e.status, e.message));
    process.stderr.write(errorLines(e, CGI_LOG));
    return formatCgi(refusal(500, 'the page could not be served; the error was logged'));
  } finally {
    setup?.close?.();
    store?.close();
  }
}

/**
 * Settle the open intents of this request's identity before the app answers (core/plans/apply.ts reconcile; one small
 * SQLite read when there are none — the usual case). A page handled here lives for one request, so it settles at the
 * start of each: an intent skipped because its domain lock is still held (the killed process's lease, up to 2 minutes)
 * is settled by the first request after that.
 *
 * Only intents of domains in the identity's scope (panel.listDomains, as every route asks), and only for an identity
 * the panel knows with that role (the app checks it again before any route):
 * - cPanel: the history is the customer's own database in their home, and the panel is the customer's own UAPI, which
 *   can read and write only the customer's zones. Every intent in it was written by this customer's page or CLI; one
 *   for a domain the account no longer has (removed, moved to another account) cannot be read through this UAPI
 *   and is left open (shown as `intent`) rather than tried, and failed, on every request.
 * - WHM / Plesk handled here (the service down, or a Plesk page the shim narrowed): the shared root database holds
 *   every user's intents and the panel acts as root, but settling may write (a half-written change is put back), so a
 *   reseller's or customer's page settles only its own domains; the admin's page, the service and the CLI the rest.
 * Never throws: a failure is logged and the page is served as the history stands.
 */
export async function settleForRequest(setup: FrontDoorSetup, store: Store, makeResolver: () => Resolver): Promise<SettleResult> {
  const { identity, panel } = setup;
  try {
    const results = await settleOpenIntents({
      panel,
      store,
      makeResolver,
      byUser: identity.user,
      inScope: async () => {
        const known = (await panel.listAccounts()).some((a) => a.user === identity.user && a.role === identity.role);
        return new Set(known ? (await panel.listDomains(identity)).map((d) => d.domain) : []);
      },
    }, 'before this page');
    // The history database's own words for a change it could not settle (its path, SQLite's message) are for this log
    // only — the page says what it left in core's words (as server.ts's settler logs them).
    for (const r of results) {
      const raw = (r as { historyError?: unknown }).historyError;
      if (raw !== undefined) writeLog(`open change ${r.id} not settled before this page: ${r.outcome.replace(/^error:\s*/, '')} (${errorMessage(raw)})`, CGI_LOG);
    }
    return results;
  } catch (e) {
    writeLog(`settling interrupted fixes failed: ${errorMessage(e)}`, CGI_LOG);
    return [];
  }
}

export interface ServiceOptions extends ReportFlags {
  socket: string;
  host?: string;
  port: string;
  key: string;
  /** false: --no-report */
  report?: boolean;
}

export interface RunningService {
  server: RunningServer;
  report: NightlyReport | null;
  /** How long close() waits for the domains being fixed (stopGraceMs: STOP_GRACE_MS unless MAILHEALTH_STOP_GRACE_MS). */
  graceMs: number;
  /** The history database the service opened (its upgrade watch looks at its schema: upgrade-watch.ts). */
  store: Pick<Store, 'schemaVersion'>;
  /**
   * Stops gracefully as `serve` does (stopGracefully: no new requests, running bulk jobs cancelled, the domains being
   * fixed finish and release their locks, within `graceMs`), then the scheduler and the server, then closes the
   * store. 'timed out': a fix still waits on the panel (its lock runs out with its lease).
   */
  close(): Promise<'drained' | 'timed out'>;
  /**
   * Closes the history database at once, whatever still runs (a second signal: the process exits right after, so a
   * fix still waiting on the panel records nothing more and its lock runs out with its lease).
   */
  closeNow(): void;
}

/**
 * `mailhealth service` up to listening: the web app behind the signed-header front door, and the nightly report with
 * its settings-page hooks (as `serve` wires them). Exported for tests, which pass node-cron's stand-in in `seams`.
 */
export async function startService(o: ServiceOptions, seams: NightlySeams = {}): Promise<RunningService> {
  // Every argument first: bad input exits 2 with nothing started (store, scheduler, server).
  const port = parsePort(o.port, 8081);
  const host = o.host ?? o.socket;
  checkHost(host);
  checkReportFlags(o);
  resolverOptionsFrom(o);
  const graceMs = stopGraceMs();
  const key = readFrontDoorKey(o.key);
  const panel = panelFromOptions(o);
  const store = storeFromOptions(o);
  let report: NightlyReport | null = null;
  let server: RunningServer;
  try {
    if (!o.host) {
      mkdirSync(dirname(o.socket), { recursive: true, mode: 0o700 });
      if (existsSync(o.socket) && lstatSync(o.socket).isSocket()) unlinkSync(o.socket);
    }
    report = o.report === false ? null : startNightlyReport(o, panel, store, seams);
    // The cPanel page (run as each customer, with its own database) applies the admin's settings from this file.
    publishSharedSettings(store);
    server = await startServer({
      // A front door's narrowed identity (Plesk's domain list, signed with it) sees only those domains.
      panel: narrowByIdentity(panel),
      store,
      // The signed identity of a Plesk reseller carries its domain list: thousands of names, more than Node's default
      // 16 KiB of headers. Only front doors holding the key reach this socket.
      maxHeaderSize: SERVICE_MAX_HEADER_BYTES,
      makeResolver: resolverFactory(o, store),
      resolverOptions: resolverOptionsFactory(o, store),
      identityFrom: 'front-door',
      frontDoor: signedHeaderFrontDoor(key),
      host,
      port,
      ...report?.web,
      // `service --no-report` (the report run from system cron instead): the settings page says so (review).
      ...(report ? { reportSchedule: report.scheduler } : { noNightlyReport: 'service-no-report' as const }),
      onSettingsSaved: () => {
        publishSharedSettings(store);
        report?.web.onSettingsSaved();
      },
    });
  } catch (e) {
    // Not listening: stop the report too, or its node-cron task would keep the process from exiting.
    await report?.stop();
    store.close();
    throw e;
  }
  if (!o.host) chmodSync(o.socket, 0o600);
  const inFlight = trackResponses(server.server);
  let closing: Promise<'drained' | 'timed out'> | null = null;
  return {
    server,
    report,
    graceMs,
    store,
    closeNow: () => store.close(),
    close() {
      closing ??= (async () => {
        const how = await stopGracefully(server, inFlight, { graceMs, ...(seams.log ? { log: seams.log } : {}) });
        await Promise.all([server.close(), report?.stop()]);
        store.close();
        return how;
      })();
      return closing;
    },
  };
}

export function registerCgiCommands(program: Command): void {
  program
    .command('cgi')
    .description('serve one web request as a CGI program behind a panel front door (cpanel, whm, plesk)')
    .requiredOption('--front-door <kind>', 'cpanel | whm | plesk')
    .option('--user <login>', 'plesk: the Plesk login (from pm_Session, passed by the extension)')
    .option('--role <role>', 'plesk: admin | reseller | customer')
    .option('--service <socket>', 'whm/plesk: hand the request to `mailhealth service` on this root-only socket when it runs')
    .option('--key <file>', `front-door key for --service (default ${FRONTDOOR_KEY_PATH})`)
    .option('--base-path <path>', 'URL path the app is served under (default: SCRIPT_NAME)')
    .option('--server-root <dir>', 'filesystem root of the panel server (tests)')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as CgiOptions;
      if (!FRONT_DOORS.includes(o.frontDoor as FrontDoorKind)) throw new UsageError(`--front-door must be one of ${FRONT_DOORS.join(', ')}`);
      const out = await runCgi(o.frontDoor as FrontDoorKind, o, takeRequestEnv(process.env), process.stdin);
      await new Promise<void>((resolve) => process.stdout.write(out, () => resolve()));
      process.exitCode = 0;
    });

  addReportOptions(
    program
      .command('service')
      .description('background service for the panel front doors: identities only from headers signed with the front-door key')
      .option('--socket <path>', 'Unix socket to listen on (made 0600)', SERVICE_SOCKET_PATH)
      .option('--host <host>', 'listen on loopback instead of the socket')
      .option('--port <n>', 'port with --host, 0-65535 (0: any free port)', '8081')
      .option('--key <file>', 'front-door key file (0600)', FRONTDOOR_KEY_PATH),
  )
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as ServiceOptions;
      const service = await startService(o);
      // A stop is graceful as serve's is; a second signal exits at once (onStopSignals).
      const stopped = onStopSignals(() => service.close(), () => service.closeNow());
      // A newer mailhealth migrating the database under this service: stop, and exit non-zero so systemd starts the
      // new version (upgrade-watch.ts).
      const upgrade = watchForUpgrade(service.store, (e) => {
        writeLog(upgradeLine(e));
        process.kill(process.pid, 'SIGTERM');
      });
      writeLog(`front-door service on ${service.server.url}`);
      if (service.report) writeLog(describeNightlyReport(service.report.scheduler));
      const how = await stopped;
      upgrade.stop();
      const code = upgrade.upgraded ? UPGRADE_EXIT_CODE : 0;
      process.exitCode = code;
      if (how === 'timed out') {
        writeLog(timedOutLine(service.graceMs));
        process.exit(code);
      }
    });
}
