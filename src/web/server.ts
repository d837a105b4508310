// Start the web service: reconcile interrupted fixes, mark interrupted bulk jobs, then listen on loopback (or a Unix
// socket path, for front doors that talk to a root-only socket). While it runs, open intents are settled again (see
// IntentSettler): an intent skipped at start because the crashed process's domain lock had not expired yet is settled
// once it has, instead of staying `intent` for as long as the server runs.
import type { AddressInfo } from 'node:net';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Panel } from '../core/panel.js';
import type { Resolver } from '../core/resolver.js';
import { reconcile, type History, type StoredChange } from '../core/plans/apply.js';
import type { Store } from '../adapters/store/store.js';
import { withSettings } from '../adapters/panels/with-settings.js';
import { createApp, type AppDeps, type MailhealthApp } from './app.js';
import { logSafe } from './services.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkListenHost(host: string): void {
  if (!LOOPBACK.has(host) && !host.startsWith('/')) {
    throw new Error(`--host ${host}: mailhealth serve listens on loopback (127.0.0.1, ::1) or a Unix socket path only; put the panel or a reverse proxy in front`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Settling open intents (a fix interrupted between its intent row and its outcome: core/plans/apply.ts reconcile)

/** A running server looks at open intents again at most this often, on requests (views) and on its timer. */
export const SETTLE_MIN_INTERVAL_MS = 5_000;
/** How often the running server's timer looks for open intents when no request comes (unref'd). */
export const SETTLE_TIMER_MS = 15_000;
/**
 * An intent whose settling failed (its zone could not be read: the panel does not answer, the zone is gone) is tried
 * again by views and the timer only after a delay of its own: this long after the first failure, doubling after each
 * further one up to SETTLE_BACKOFF_MAX_MS. Forgotten once the intent settles.
 */
export const SETTLE_BACKOFF_MIN_MS = 10_000;
export const SETTLE_BACKOFF_MAX_MS = 5 * 60_000;

export interface SettleDeps {
  /** The panel as the surface holds it (the admin's settings are layered on here, as the app does). */
  panel: Panel;
  store: Store;
  makeResolver: () => Resolver;
  /** Who settles (the lock owner's name). */
  byUser: string;
  /**
   * Only intents of these domains are settled (a front door acting for one identity); every open intent when absent
   * (the background service, which acts for the server). Asked only when there are open intents.
   */
  inScope?: () => Promise<ReadonlySet<string>>;
}

export type SettleResult = { id: number; outcome: string }[];

/** The store as History, with pendingIntents narrowed to the intents `keep` takes (everything else passes through). */
function narrowedHistory(store: Store, keep: (c: StoredChange) => boolean): History {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'pendingIntents') return () => target.pendingIntents().filter(keep);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Settle the open intents (in scope) now: nothing at all but one small SQLite read when there are none. Intents whose
 * domain lock is held (a fix running, or a crashed process's lease not expired yet) come back as skipped. Intents in
 * `skip` (ids: backing off after a failure, see IntentSettler) are left for a later run.
 */
export async function settleOpenIntents(d: SettleDeps, when = 'at start', skip: ReadonlySet<number> = new Set()): Promise<SettleResult> {
  const pending = d.store.pendingIntents().filter((c) => !skip.has(c.id));
  if (pending.length === 0) return [];
  let history: History = skip.size ? narrowedHistory(d.store, (c) => !skip.has(c.id)) : d.store;
  if (d.inScope) {
    const scope = await d.inScope();
    if (!pending.some((c) => scope.has(c.domain))) return [];
    history = narrowedHistory(d.store, (c) => !skip.has(c.id) && scope.has(c.domain));
  }
  const resolver = d.makeResolver();
  try {
    return await reconcile({ panel: withSettings(d.panel, d.store), resolver, history, byUser: d.byUser }, when);
  } finally {
    (resolver as { close?: () => void }).close?.();
  }
}

export interface SettlerOptions {
  /** Default SETTLE_MIN_INTERVAL_MS. */
  minIntervalMs?: number;
  /** First delay before an intent whose settling failed is tried again (doubling after each failure). Default SETTLE_BACKOFF_MIN_MS. */
  backoffMinMs?: number;
  /** The longest such delay. Default SETTLE_BACKOFF_MAX_MS. */
  backoffMaxMs?: number;
  /**
   * Clock in ms for the throttle and the back-off (tests). Default a clock that never steps (performance.timeOrigin +
   * performance.now: epoch ms at the process's start, then monotonic). An injected clock may step back: see settle().
   */
  now?: () => number;
  /** Where outcomes and errors are written (default stderr). */
  log?: (line: string) => void;
}

/**
 * Open intents settled again while a process runs: one reconcile at a time in this process (a caller that comes while
 * one runs waits for it), at most once every `minIntervalMs` unless forced, and only when the history holds open
 * intents. An intent whose settling failed (an error, e.g. its zone could not be read) backs off: views and the timer
 * leave it alone for `backoffMinMs`, doubling after each further failure up to `backoffMaxMs`, until it settles; a
 * forced run (a request acting on history) still tries it. Never throws: a failure is logged and the caller goes on.
 */
export class IntentSettler {
  private inFlight: Promise<SettleResult> | null = null;
  private runs = 0;
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  /** Errors already logged (intent id + message): a panel that keeps failing is not logged every few seconds. */
  private readonly logged = new Set<string>();
  private readonly minIntervalMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  /** Per open intent whose last settling failed: the delay it waits now, and when it may be tried again (epoch ms). */
  private readonly backoff = new Map<number, { delayMs: number; nextAt: number }>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /** The outcomes of the last run (empty before the first). */
  last: SettleResult = [];

  constructor(
    private readonly deps: SettleDeps,
    opts: SettlerOptions = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? SETTLE_MIN_INTERVAL_MS;
    this.backoffMinMs = opts.backoffMinMs ?? SETTLE_BACKOFF_MIN_MS;
    this.backoffMaxMs = Math.max(this.backoffMinMs, opts.backoffMaxMs ?? SETTLE_BACKOFF_MAX_MS);
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    // Reconcile's outcomes carry outside text (a panel's error): escaped, one line each.
    this.log = opts.log ?? ((line) => process.stderr.write(`${logSafe(line).replace(/\n/g, '\\n')}\n`));
  }

  /**
   * Settle now when there are open intents not backing off — unless the last run began less than minIntervalMs ago
   * (`force`: even then, and backing-off intents too). Resolves when this run, or the one already running, is done,
   * with what that run found (empty: no run, or it failed as a whole) — an undo answers from it (routes/history.ts).
   */
  settle(opts: { force?: boolean } = {}): Promise<SettleResult> {
    if (this.inFlight) return this.inFlight;
    const now = this.now();
    // A clock stepped back since the last run (its start is "in the future"): the throttle counts from now instead —
    // else, with `now - lastStart` negative for the whole step, nothing but a forced run settled for that long (QA).
    if (now < this.lastStart) this.lastStart = now - this.minIntervalMs;
    if (!opts.force && now - this.lastStart < this.minIntervalMs) return Promise.resolve([]);
    let open: number[];
    try {
      open = this.deps.store.pendingIntents().map((c) => c.id);
    } catch (e) {
      this.log(`mailhealth: could not look for interrupted fixes: ${(e as Error)?.message ?? String(e)}`);
      return Promise.resolve([]);
    }
    // Intents settled meanwhile (by another process, or an apply) need no back-off any more.
    const stillOpen = new Set(open);
    for (const id of this.backoff.keys()) if (!stillOpen.has(id)) this.backoff.delete(id);
    // A back-off that ends further ahead than its own delay: the clock was stepped back since it was set. It waits its
    // delay from now, not the step's length on top.
    for (const b of this.backoff.values()) if (b.nextAt - now > b.delayMs) b.nextAt = now + b.delayMs;
    const waiting = new Set(opts.force ? [] : open.filter((id) => (this.backoff.get(id)?.nextAt ?? Number.NEGATIVE_INFINITY) > now));
    if (open.length === waiting.size) return Promise.resolve([]);
    this.lastStart = now;
    const run = settleOpenIntents(this.deps, this.runs++ === 0 ? 'at start' : 'while running', waiting).then(
      (out) => {
        this.report(out);
        return out;
      },
      (e: unknown): SettleResult => {
        this.log(`mailhealth: settling interrupted fixes failed: ${(e as Error)?.message ?? String(e)}`);
        return [];
      },
    );
    this.inFlight = run.finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private report(out: SettleResult): void {
    this.last = out;
    const now = this.now();
    for (const r of out) {
      // Skipped (its domain lock is held): not tried, so its back-off (if any) stays as it is.
      if (r.outcome.startsWith('skipped')) continue;
      if (!r.outcome.startsWith('error')) {
        this.backoff.delete(r.id); // settled: its back-off is over
        this.log(settledLine(r));
        continue;
      }
      // Failed again: wait twice as long as last time (up to the cap) before views or the timer try it again.
      const prev = this.backoff.get(r.id);
      const delayMs = prev ? Math.min(prev.delayMs * 2, this.backoffMaxMs) : this.backoffMinMs;
      this.backoff.set(r.id, { delayMs, nextAt: now + delayMs });
      const key = `${r.id} ${r.outcome}`;
      if (this.logged.has(key)) continue;
      this.logged.add(key);
      this.log(notSettledLine(r, delayMs));
    }
  }

  /** Look again every `everyMs` on a timer that never keeps the process alive. */
  startTimer(everyMs = SETTLE_TIMER_MS): void {
    this.stopTimer();
    this.timer = setInterval(() => void this.settle(), everyMs);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves when no run is in flight (before the store is closed). */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** The back-off of an open intent whose settling failed (tests, diagnostics); null when it has none. */
  backoffOf(id: number): { delayMs: number; nextAt: number } | null {
    const b = this.backoff.get(id);
    return b ? { ...b } : null;
  }

  /** Whether the timer runs and would keep the process alive (tests: it never should). */
  timerState(): 'off' | 'unref' | 'ref' {
    if (!this.timer) return 'off';
    return this.timer.hasRef() ? 'ref' : 'unref';
  }
}

/**
 * The log line of an open change reconcile closed: settled from the zone ("applied", "not-written", …), or recorded
 * meanwhile by someone else (its fix, still running when the settler looked, or another process's settler).
 */
function settledLine(r: SettleResult[number]): string {
  if (r.outcome === 'settled meanwhile') return `mailhealth: change ${r.id}: its outcome was recorded meanwhile (by its fix, or by another process settling it): nothing to settle`;
  return `mailhealth: interrupted change ${r.id} settled: ${r.outcome}`;
}

/**
 * The log line of an open change that could not be settled this time: it was not settled, and it may not have been
 * interrupted at all (a fix still being written, whose domain lock could not be looked at while the history database
 * was busy) — the reason as reconcile gave it, and when it is tried again.
 */
function notSettledLine(r: SettleResult[number], retryMs: number): string {
  const why = r.outcome.replace(/^error:\s*/, '');
  // The history database's own words (its path, SQLite's message) are for this log only, never for a page (apply.ts).
  const raw = (r as { historyError?: unknown }).historyError;
  const detail = raw === undefined ? '' : ` (${raw instanceof Error ? raw.message : String(raw)})`;
  return `mailhealth: open change ${r.id} (a fix whose outcome is not recorded yet: interrupted, or still being written) not settled this time: ${why}${detail}; tried again in ${retryMs % 1000 === 0 ? `${retryMs / 1000} s` : `${retryMs} ms`}, or at once before a fix or an undo`;
}

/**
 * Requests that act on history (undo, apply a fix, bulk fix) settle open intents first even within the throttle, so
 * the lock of a crashed fix that has just expired never refuses them; views and everything else settle throttled.
 */
const ACTING = /\/(?:changes\/[^/]+\/undo|domains\/[^/]+\/fix|bulk\/fix\/apply)\/?$/;

// ---------------------------------------------------------------------------------------------------------------

export interface RunningServer {
  app: MailhealthApp;
  server: Server;
  url: string;
  /** Settles open intents while the server runs (call `settler.settle({ force: true })` to trigger it directly). */
  settler: IntentSettler;
  close(): Promise<void>;
}

export interface ServerSettleOptions extends SettlerOptions {
  /** Default SETTLE_TIMER_MS; 0: no timer. */
  timerMs?: number;
}

/**
 * `fd`: listen on that already-listening socket instead of host/port (systemd socket activation: serve.ts checks it is
 * on loopback once listening).
 */
export async function startServer(deps: AppDeps & { host: string; port: number; fd?: number; settle?: ServerSettleOptions; maxHeaderSize?: number }): Promise<RunningServer> {
  checkListenHost(deps.host);
  // The server acts for the whole server (its panel is the admin's): every open intent is its to settle, whoever's
  // request happens to trigger it — as at start, where it always settled them all.
  const settler = new IntentSettler({ panel: deps.panel, store: deps.store, makeResolver: deps.makeResolver, byUser: 'mailhealth' }, deps.settle);
  // Writes interrupted by a crash are settled before anyone can start new ones.
  await settler.settle({ force: true });
  deps.store.interruptUnfinishedJobs();
  // What the settling pass run for a request acting on history found, for that request only (AppDeps.settledBefore):
  // an undo of a change that pass could not settle says why (routes/history.ts undoProblem).
  const settled = new WeakMap<object, SettleResult>();
  const app = createApp({ ...deps, settledBefore: (req) => settled.get(req) });
  // Before the app answers anything (a page, the API, an undo), open intents are settled: throttled for views, at once
  // for requests that act on history. Static assets never wait.
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/assets/')) return void app(req, res);
    const force = req.method === 'POST' && ACTING.test(path);
    settler.settle({ force }).then(
      (out) => {
        if (force) settled.set(req, out);
        app(req, res);
      },
      () => app(req, res),
    );
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = http.createServer(deps.maxHeaderSize ? { maxHeaderSize: deps.maxHeaderSize } : {}, handler);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
    if (deps.fd !== undefined) s.listen({ fd: deps.fd });
    else if (deps.host.startsWith('/')) s.listen(deps.host);
    else s.listen(deps.port, deps.host);
  });
  if (deps.settle?.timerMs !== 0) settler.startTimer(deps.settle?.timerMs ?? SETTLE_TIMER_MS);
  const addr = server.address();
  const url = typeof addr === 'string' ? `unix:${addr}` : `http://${deps.host.includes(':') ? `[${deps.host}]` : deps.host}:${(addr as AddressInfo).port}`;
  return {
    app,
    server,
    url,
    settler,
    close: async () => {
      settler.stopTimer();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      // The caller closes the store next: a run the timer started finishes first.
      await settler.idle();
    },
  };
}

export type { Store };
