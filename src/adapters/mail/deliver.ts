// Delivery of the nightly report by email (nodemailer): through the server's local MTA (sendmail transport, the
// default) or a configured SMTP server. The admin's recipients get the whole server's report; each reseller with an
// address gets the part about their customers. Each message is retried (bounded, with backoff through an injectable
// sleep); every attempt is logged and recorded with store.recordDelivery. The report itself is already saved.
// Every attempt has a deadline (report.timeoutMs, default 60 s): a local MTA or an SMTP server that takes the message
// and never answers costs the run one deadline, never the report lock. A timed-out attempt is a failed delivery, not
// retried (the message may have been handed over already: a retry could send it twice, and a stuck MTA does not unstick
// in seconds); a permanent SMTP refusal (5xx) is not retried either; 4xx replies and other errors are. The sendmail
// child is ours (spawned here, in its own process group): a timed-out or aborted attempt kills it. An abort (the
// service stopping) ends the waiting at once: the attempt is recorded as aborted and the messages not yet sent as not
// sent. Three messages in a row that time out (HUNG_AFTER_TIMEOUTS) leave the rest not tried that night. A message
// says first which earlier reports did not reach its address (missedReportsReader), so no failed night goes unsaid.
// The sender is checked (senderProblem; a bad report.from gives way to defaultFrom, root at the host name).
// An adapter (the mail transport: a child process, an SMTP connection), used by the nightly report's callers (the
// background service, `mailhealth report --email`): what it delivers comes in as a Deliverable or a FailureNotice,
// shapes the report run's outcome (src/cron/report.ts) already has — nothing here knows the report run.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import nodemailer from 'nodemailer';
import type { Delivery, Run, Store } from '../store/store.js';

/**
 * What delivery uses of the history: the settings it reads, and where it records each attempt; where it can, the
 * earlier report runs and their deliveries too (an address an earlier report did not reach is told so: missedReports).
 */
export type DeliveryStore = Pick<Store, 'getSetting' | 'recordDelivery'> & Partial<Pick<Store, 'listRuns' | 'deliveries'>>;
import { cleanControls, escapeHtml, shortReason, type RenderedReport } from '../../core/report/render.js';
import type { ReportScope } from '../../core/report/diff.js';
import { checkDomain, mailAddressProblem } from '../../core/domain.js';
import { addressKey, splitAddresses, uniqueAddresses } from '../../core/recipients.js';
import { SETTING_KEYS } from '../../core/settings.js';

/** The pause between attempts, unless a caller passes its own (tests). */
const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Settings keys (JSON values in the store's settings table). */
export const DELIVERY_SETTINGS = {
  /** string | string[]: the admin's recipients (whole server); a string may hold several (splitAddresses). */
  recipients: SETTING_KEYS.reportRecipients,
  /** { reseller: "addr" | ["addr", …] } */
  resellers: 'report.resellers',
  from: 'report.from',
  /** 'sendmail' (default) | 'smtp' */
  transport: 'report.transport',
  /** { host, port, secure, auth: { user, pass }, requireTLS, ignoreTLS, rejectUnauthorized } */
  smtp: 'report.smtp',
  sendmailPath: 'report.sendmailPath',
  attempts: 'report.attempts',
  backoffMs: 'report.backoffMs',
  /** Deadline of one delivery attempt, ms. */
  timeoutMs: 'report.timeoutMs',
} as const;

/** Default deadline of one delivery attempt (a sendmail run, an SMTP conversation). */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 60_000;

export interface SmtpSettings {
  host: string;
  port?: number;
  secure?: boolean;
  auth?: { user: string; pass: string };
  requireTLS?: boolean;
  ignoreTLS?: boolean;
  rejectUnauthorized?: boolean;
}

export interface DeliverySettings {
  from: string;
  recipients: string[];
  resellers: Record<string, string[]>;
  transport: 'sendmail' | 'smtp';
  sendmailPath?: string;
  smtp?: SmtpSettings;
  /** Tries per message (≥ 1). Default 3. */
  attempts: number;
  /** First retry waits this long, then doubles. Default 30 s. */
  backoffMs: number;
  /** Deadline of one attempt (ms); a timed-out attempt fails and is not retried. Default 60 s. */
  timeoutMs: number;
}

export class DeliveryConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryConfigError';
  }
}

/** A saved delivery setting that will not do. `address`: only that address is skipped; else `scope` says what is. */
export interface DeliverySettingProblem {
  setting: string;
  message: string;
  /**
   * 'address': the one bad address is not sent to; 'resellers': no reseller gets mail; 'all': nothing is sent; 'from':
   * the mail goes from the default sender (defaultFrom) instead.
   */
  scope: 'address' | 'resellers' | 'all' | 'from';
  /** The bad value as saved, for scope 'address'. */
  address?: string;
  /** Whose address it is (report.resellers), for scope 'address'. */
  reseller?: string;
}

/**
 * The sender when report.from is not set: root at the server's host name — the mailbox the local MTA itself would put
 * on mail from root. Not root@localhost, as before: receivers and relays refuse a sender domain that is not one
 * (MailChannels answers 550 5.7.1 to a domain without its lockdown record; Gmail asks SPF or DKIM to pass for the
 * From domain, which localhost never does), and the Message-ID is made at the From's domain. A host name that is not a
 * domain name with a dot (a bare "vps123") leaves root@localhost.
 */
export function defaultFrom(host: string = hostname()): string {
  const d = checkDomain(host);
  return `mailhealth <root@${d.ok && d.domain.includes('.') ? d.domain : 'localhost'}>`;
}

/**
 * Why `from` will not do as the report's sender — null when it will: one mailbox, `name@domain` or
 * `Name <name@domain>` (a name with , ; : @ or \ in double quotes), its address as the recipients' are checked
 * (mailAddressProblem), no line break or other control character, at most 320 characters. Anything else was sent as
 * it came: a value without an address went out with no From header at all (RFC 5322 requires one; receivers refuse
 * such mail) and, by SMTP, from the null sender <>, as a bounce would; two addresses made a From of two mailboxes.
 */
export function senderProblem(from: unknown): string | null {
  if (typeof from !== 'string') return 'not a string';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(from)) return 'it holds a line break or another control character';
  const v = from.trim();
  if (!v) return 'empty';
  if (v.length > 320) return 'longer than 320 characters';
  const m = /^(?:(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>]*)>|([^<>\s"]+))$/.exec(v);
  if (!m) return 'not one address, written as name@domain or "Name <name@domain>"';
  if (m[2] !== undefined && /[,;:@\\]/.test(m[2])) return 'the name before "<" holds , ; : @ or \\ — put it in double quotes';
  const why = mailAddressProblem((m[3] ?? m[4]).trim());
  return why ? `the address: ${why}` : null;
}

/** A stored addresses value read as the settings page reads it (splitAddresses: "a@x, b@y" is two addresses). */
function addrList(v: unknown, what: string, bad: (p: DeliverySettingProblem) => void, reseller?: string): string[] {
  const out: string[] = [];
  for (const x of splitAddresses(v)) {
    if (typeof x !== 'string' || mailAddressProblem(x) !== null) {
      bad({ setting: what, message: `${what}: not an email address: ${JSON.stringify(x)}`, scope: 'address', address: typeof x === 'string' ? x : JSON.stringify(x), ...(reseller !== undefined ? { reseller } : {}) });
    } else out.push(x);
  }
  return out;
}

/**
 * Reads the settings; every value that will not do goes to `bad` (which may throw) and is left out: a bad address is
 * dropped from its list, a bad report.resellers leaves no reseller addresses. A bad transport is kept as read, so
 * callers that do not throw must check the problems with scope 'all' before sending.
 */
function readDeliverySettings(store: DeliveryStore, overrides: Partial<DeliverySettings>, bad: (p: DeliverySettingProblem) => void): DeliverySettings {
  const get = <T>(k: string) => store.getSetting<T>(k);
  const resellersRaw = get<unknown>(DELIVERY_SETTINGS.resellers) ?? {};
  const resellers: Record<string, string[]> = {};
  if (typeof resellersRaw !== 'object' || resellersRaw === null || Array.isArray(resellersRaw)) {
    bad({ setting: DELIVERY_SETTINGS.resellers, message: `${DELIVERY_SETTINGS.resellers} must be an object {reseller: address}`, scope: 'resellers' });
  } else {
    for (const [r, a] of Object.entries(resellersRaw as Record<string, unknown>)) resellers[r] = addrList(a, `${DELIVERY_SETTINGS.resellers}.${r}`, bad, r);
  }
  const transport = (get<string>(DELIVERY_SETTINGS.transport) ?? 'sendmail') as DeliverySettings['transport'];
  if (transport !== 'sendmail' && transport !== 'smtp') bad({ setting: DELIVERY_SETTINGS.transport, message: `${DELIVERY_SETTINGS.transport} must be "sendmail" or "smtp", not ${JSON.stringify(transport)}`, scope: 'all' });
  const smtp = get<SmtpSettings>(DELIVERY_SETTINGS.smtp);
  const attempts = get<number>(DELIVERY_SETTINGS.attempts) ?? 3;
  const backoffMs = get<number>(DELIVERY_SETTINGS.backoffMs) ?? 30_000;
  const timeoutMs = get<number>(DELIVERY_SETTINGS.timeoutMs) ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const savedFrom = get<unknown>(DELIVERY_SETTINGS.from);
  let from = defaultFrom();
  if (savedFrom !== undefined && savedFrom !== null) {
    const why = senderProblem(savedFrom);
    if (why === null) from = (savedFrom as string).trim();
    else bad({ setting: DELIVERY_SETTINGS.from, message: `${DELIVERY_SETTINGS.from}: not a sender address (${why}): ${JSON.stringify(savedFrom)}; the mail goes from ${from}`, scope: 'from' });
  }
  const s: DeliverySettings = {
    from,
    recipients: addrList(get(DELIVERY_SETTINGS.recipients), DELIVERY_SETTINGS.recipients, bad),
    resellers,
    transport,
    ...(get<string>(DELIVERY_SETTINGS.sendmailPath) ? { sendmailPath: get<string>(DELIVERY_SETTINGS.sendmailPath) } : {}),
    ...(smtp ? { smtp } : {}),
    attempts: Number.isInteger(attempts) && attempts >= 1 ? attempts : 3,
    backoffMs: Number.isFinite(backoffMs) && backoffMs >= 0 ? backoffMs : 30_000,
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : DEFAULT_DELIVERY_TIMEOUT_MS,
    ...overrides,
  };
  if (s.transport === 'smtp' && !s.smtp?.host) bad({ setting: DELIVERY_SETTINGS.smtp, message: `${DELIVERY_SETTINGS.transport} is "smtp" but ${DELIVERY_SETTINGS.smtp}.host is not set`, scope: 'all' });
  return s;
}

/** Reads delivery settings from the store; `overrides` win. Throws DeliveryConfigError on malformed values. */
export function deliverySettings(store: DeliveryStore, overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return readDeliverySettings(store, overrides, (p) => {
    throw new DeliveryConfigError(p.message);
  });
}

/**
 * The delivery settings for the background service's nightly run, which must not fail over one bad saved value (the
 * audit, the saved report and the prune do not depend on mail): the values that will not do are left out and listed.
 */
export function lenientDeliverySettings(store: DeliveryStore): { settings: DeliverySettings; problems: DeliverySettingProblem[] } {
  const problems: DeliverySettingProblem[] = [];
  const settings = readDeliverySettings(store, {}, (p) => void problems.push(p));
  return { settings, problems };
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  /**
   * Sends one message. `ctx.signal` aborts when the attempt times out or delivery is aborted: a mailer should stop
   * (createMailer's sendmail kills its child). The caller stops waiting then whether or not the mailer listens.
   */
  sendMail(message: MailMessage, ctx?: { signal: AbortSignal }): Promise<unknown>;
  close?(): void;
}

/** An attempt that got no answer before its deadline. */
export class DeliveryTimeoutError extends Error {
  constructor(readonly timeoutMs: number, transport: string) {
    super(`timed out: no answer from ${transport === 'smtp' ? 'the SMTP server' : 'sendmail'} within ${fmtMs(timeoutMs)}${transport === 'smtp' ? '' : ' (sendmail was stopped)'}`);
    this.name = 'DeliveryTimeoutError';
  }
}

/** Delivery stopped from outside (the service stopping, the run aborted). */
export class DeliveryAbortedError extends Error {
  constructor() {
    super('aborted: the report run was stopped');
    this.name = 'DeliveryAbortedError';
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Kills a child and whatever it started (its own process group): SIGTERM, then SIGKILL if it is still there in 5 s. */
function killGroup(child: ReturnType<typeof spawn>): void {
  const kill = (sig: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), 5000);
  t.unref();
  child.once('exit', () => clearTimeout(t));
}

/**
 * Hands a composed message to the local MTA: `sendmail -i -f FROM RCPT…` (as nodemailer's sendmail transport does),
 * spawned here so the child is ours to kill. Resolves when sendmail exits 0.
 */
function runSendmail(path: string, envelope: { from: string | false; to: string[] }, raw: Buffer, signal?: AbortSignal): Promise<{ response: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const addrs = [...(envelope.from ? [envelope.from] : []), ...envelope.to];
    // An address starting with "-" would be read as an option.
    if (!envelope.to.length || addrs.some((a) => /^"?-/.test(a))) return reject(new Error('can not send mail: invalid envelope addresses'));
    const args = ['-i', ...(envelope.from ? ['-f', envelope.from] : []), ...envelope.to];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(path, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    } catch (e) {
      return reject(e);
    }
    let stderr = '';
    let settled = false;
    const finish = (err: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // Not ours to wait for any more: a grandchild may hold the pipes open.
      child.stdin?.destroy();
      child.stderr?.destroy();
      if (err) reject(err);
      else resolve({ response: 'handed to sendmail' });
    };
    const onAbort = () => {
      killGroup(child);
      finish(signal?.reason ?? new DeliveryAbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 1000) stderr += c.toString('utf8');
    });
    child.on('error', (e) => finish(e));
    child.on('exit', (code, sig) => {
      const why = stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : '';
      if (code === 0) finish(null);
      else if (code !== null) finish(new Error(`sendmail (${path}) exited with code ${code}${why}`));
      else finish(new Error(`sendmail (${path}) was terminated by ${sig}${why}`));
    });
    child.stdin?.on('error', () => {
      /* EPIPE: sendmail closed its input; its exit code says why */
    });
    child.stdin?.end(raw);
  });
}

/** A nodemailer transport for the settings: local MTA via sendmail, or SMTP. */
export function createMailer(s: DeliverySettings): Mailer {
  if (s.transport === 'smtp') {
    const smtp = s.smtp as SmtpSettings;
    const pass = process.env.MAILHEALTH_SMTP_PASS ?? smtp.auth?.pass;
    const transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port ?? (smtp.secure ? 465 : 587),
      secure: Boolean(smtp.secure),
      ...(smtp.auth?.user ? { auth: { user: smtp.auth.user, pass: pass ?? '' } } : {}),
      ...(smtp.requireTLS ? { requireTLS: true } : {}),
      ...(smtp.ignoreTLS ? { ignoreTLS: true } : {}),
      ...(smtp.rejectUnauthorized === false ? { tls: { rejectUnauthorized: false } } : {}),
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
    // Not the transport itself: its sendMail reads a second argument as a callback. A timed-out SMTP attempt is left
    // to the socket timeout above (the caller has stopped waiting for it).
    return { sendMail: (message) => transport.sendMail(message), close: () => transport.close() };
  }
  // nodemailer composes the message; sendmail is spawned here, so a timed-out attempt can kill it (nodemailer's
  // sendmail transport keeps its child to itself, and waits for it forever).
  const path = s.sendmailPath ?? '/usr/sbin/sendmail';
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async sendMail(message, ctx) {
      const info = (await composer.sendMail(message)) as { envelope: { from: string | false; to: string[] }; message: Buffer };
      return runSendmail(path, info.envelope, info.message, ctx?.signal);
    },
    close: () => composer.close(),
  };
}

export interface DeliveryResult {
  recipient: string;
  audience: 'admin' | 'reseller';
  reseller?: string;
  ok: boolean;
  attempts: number;
  error: string | null;
}

export interface DeliverOptions {
  store: DeliveryStore;
  settings: DeliverySettings;
  mailer?: Mailer;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string) => void;
  /** Aborts delivery: the attempt in progress ends at once (its sendmail killed), nothing more is sent. */
  signal?: AbortSignal;
  /** Deadline of one attempt (ms); wins over settings.timeoutMs. */
  timeoutMs?: number;
}

interface Outgoing {
  to: string;
  audience: 'admin' | 'reseller';
  reseller?: string;
  rendered: MailBody;
}

/** What a message carries: a rendered report, or a notice (FailureNotice). */
export type MailBody = Pick<RenderedReport, 'subject' | 'text' | 'html'>;

/** What is delivered: a report run's outcome (a ReportOutcome, src/cron/report.ts), or a notice with no reseller parts. */
export interface Deliverable {
  runId: number;
  rendered: MailBody;
  resellers: readonly string[];
  partFor(scope: ReportScope, audience?: string): { rendered: MailBody };
}

/**
 * The messages a report run sends: admin recipients → whole report; each reseller with an address and domains → their
 * part. One message per address of each list, however often the address is listed (in any case: uniqueAddresses);
 * an address that is both the admin's and a reseller's gets both messages (two different reports).
 */
export function plannedMessages(outcome: Pick<Deliverable, 'rendered' | 'resellers' | 'partFor'>, settings: DeliverySettings): Outgoing[] {
  const out: Outgoing[] = [];
  for (const to of uniqueAddresses(settings.recipients)) out.push({ to, audience: 'admin', rendered: outcome.rendered });
  for (const reseller of outcome.resellers) {
    const addrs = uniqueAddresses(settings.resellers[reseller] ?? []);
    if (!addrs.length) continue;
    const part = outcome.partFor({ reseller }, reseller);
    for (const to of addrs) out.push({ to, audience: 'reseller', reseller, rendered: part.rendered });
  }
  return out;
}

function errText(e: unknown): string {
  const err = e as { message?: string; responseCode?: number };
  return `${err?.responseCode ? `${err.responseCode} ` : ''}${err?.message ?? String(e)}`.replace(/\s+/g, ' ').trim();
}

/** A permanent refusal: an SMTP 5xx reply (retrying cannot help). 4xx replies and other errors are worth a retry. */
function isPermanent(e: unknown): boolean {
  const code = (e as { responseCode?: unknown })?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** Rejects with the signal's reason once it aborts. */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Sends one message with bounded retries, recording every attempt. `aborted`: delivery was stopped during it. */
async function sendWithRetry(runId: number, m: Outgoing, o: DeliverOptions & { mailer: Mailer }): Promise<DeliveryResult & { aborted?: true; noReply?: boolean; timedOut?: true }> {
  const { store, settings } = o;
  const sleep = o.sleep ?? realSleep;
  const log = o.log ?? (() => {});
  const timeoutMs = o.timeoutMs ?? settings.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const who = `${m.to}${m.reseller ? ` (reseller ${m.reseller})` : ''}`;
  const result = (ok: boolean, attempts: number, error: string | null) => ({ recipient: m.to, audience: m.audience, ...(m.reseller ? { reseller: m.reseller } : {}), ok, attempts, error });
  let last = '';
  // Whether every failure came without any SMTP reply (the server not reached, the connection lost): the only
  // failure that says the mail server is down rather than something about this message or address.
  let noReply = true;
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(new DeliveryAbortedError());
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    const timer = setTimeout(() => ctl.abort(new DeliveryTimeoutError(timeoutMs, settings.transport)), timeoutMs);
    try {
      // The race: waiting ends at the deadline or abort even if the mailer does not listen to the signal.
      await Promise.race([
        o.mailer.sendMail(
          {
            from: settings.from,
            to: m.to,
            subject: m.rendered.subject,
            text: m.rendered.text,
            html: m.rendered.html,
            headers: { 'Auto-Submitted': 'auto-generated', 'X-Mailhealth-Run': String(runId) },
          },
          { signal: ctl.signal },
        ),
        whenAborted(ctl.signal),
      ]);
      store.recordDelivery(runId, m.to, true, attempt > 1 ? `delivered on attempt ${attempt}` : null);
      log(`report run ${runId}: sent to ${who}${attempt > 1 ? ` on attempt ${attempt}` : ''}`);
      return result(true, attempt, null);
    } catch (e) {
      last = errText(e);
      // Every attempt so far unanswered (one reply, at any attempt, shows the server is there).
      noReply &&= typeof (e as { responseCode?: unknown })?.responseCode !== 'number' && !(e instanceof DeliveryTimeoutError);
      const aborted = e instanceof DeliveryAbortedError;
      const why = aborted ? '' : e instanceof DeliveryTimeoutError ? ' — not retried (it may have been handed over already)' : isPermanent(e) ? ' — not retried (permanent refusal)' : '';
      const final = attempt === settings.attempts || aborted || why !== '';
      store.recordDelivery(runId, m.to, false, `attempt ${attempt}/${settings.attempts}: ${last}`);
      log(`report run ${runId}: sending to ${m.to} failed (attempt ${attempt}/${settings.attempts}): ${last}${why || (final ? '' : ' — retrying')}`);
      if (aborted) return { ...result(false, attempt, last), aborted: true };
      if (final) return { ...result(false, attempt, last), noReply, ...(e instanceof DeliveryTimeoutError ? { timedOut: true as const } : {}) };
      try {
        const pause = new AbortController();
        const stopPause = () => pause.abort(new DeliveryAbortedError());
        o.signal?.addEventListener('abort', stopPause, { once: true });
        try {
          await Promise.race([sleep(settings.backoffMs * 2 ** (attempt - 1)), whenAborted(pause.signal)]);
        } finally {
          o.signal?.removeEventListener('abort', stopPause);
        }
      } catch {
        log(`report run ${runId}: delivery aborted; ${m.to} not retried`);
        return { ...result(false, attempt, last), aborted: true };
      }
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }
  return { ...result(false, settings.attempts, last), noReply };
}

/** An earlier complete report that did not reach an address: every attempt to send it there failed. */
export interface MissedReport {
  runId: number;
  startedAt: string;
  /** The last attempt's error, as recorded. */
  error: string | null;
}

/** Report runs looked back over for reports an address did not get. */
export const MISSED_LOOKBACK = 30;

/** A run's delivery attempts by address (addressKey: the recipients' list's comparison), oldest first. */
export function deliveriesByAddress(attempts: readonly Delivery[]): Map<string, Delivery[]> {
  const m = new Map<string, Delivery[]>();
  for (const d of attempts) {
    const k = addressKey(d.recipient);
    const list = m.get(k);
    if (list) list.push(d);
    else m.set(k, [d]);
  }
  return m;
}

/** The recipients (as first recorded) none of whose attempts in `attempts` went through: a report that has not reached them. */
export function unreachedRecipients(attempts: readonly Delivery[]): string[] {
  return [...deliveriesByAddress(attempts).values()].filter((list) => !list.some((d) => d.ok)).map((list) => list[0].recipient);
}

/**
 * The reports an address did not get, newest first: the complete report runs before `runId` (at most MISSED_LOOKBACK
 * back) whose every recorded delivery to it failed, up to the last one that reached it — that message told of the
 * ones before. A run with no delivery recorded to the address (`mailhealth report` without --email, or the address
 * not a recipient then) is passed over. Addresses compare as the recipients' list does (addressKey). Without the
 * store's run history (a caller's partial store), or when it cannot be read, none: the mail goes out without the note.
 * One reader per delivery: each run's deliveries are read once for all its addresses.
 */
export function missedReportsReader(store: DeliveryStore, runId: number): (address: string) => MissedReport[] {
  const { listRuns, deliveries } = store;
  if (!listRuns || !deliveries) return () => [];
  let runs: Run[] | undefined;
  const byRun = new Map<number, Map<string, Delivery[]>>();
  const of = (run: number): Map<string, Delivery[]> => {
    let m = byRun.get(run);
    if (!m) byRun.set(run, (m = deliveriesByAddress(deliveries.call(store, run))));
    return m;
  };
  return (address) => {
    runs ??= listRuns.call(store, { kind: 'report', limit: MISSED_LOOKBACK + 1 }).filter((r) => r.id < runId && r.status === 'complete').slice(0, MISSED_LOOKBACK);
    const key = addressKey(address);
    const missed: MissedReport[] = [];
    for (const r of runs) {
      const mine = of(r.id).get(key);
      if (!mine) continue;
      if (mine.some((d) => d.ok)) break;
      missed.push({ runId: r.id, startedAt: r.startedAt, error: mine[mine.length - 1].error });
    }
    return missed;
  };
}

/**
 * What a message says first when earlier reports did not reach its address (missedReportsReader): which, and why the
 * last attempt failed. Without it a recipient whose mail failed for a night never learnt of that night's report — its
 * new problems are the next report's "still failing", and nobody reads the service's log. Plain text, one paragraph.
 */
export function missedReportsText(address: string, missed: readonly MissedReport[], audience: 'admin' | 'reseller' = 'admin'): string {
  const [last] = missed;
  const runs =
    missed.length === 1
      ? `mailhealth's report of run ${last.runId} (${last.startedAt})`
      : `mailhealth's last ${missed.length} reports (runs ${missed.map((m) => m.runId).reverse().join(', ')}; the first ${missed[missed.length - 1].startedAt})`;
  const why = last.error ? ` — the last attempt: ${shortReason(last.error)}` : '';
  return (
    `Not delivered before: ${runs} did not reach ${address}${why}. The problems ${missed.length === 1 ? 'it' : 'they'} reported that still fail are ` +
    'listed below under "Still failing", with the nights since they were first seen. ' +
    // (A reseller has no say over the server's mail settings.)
    (audience === 'admin'
      ? 'If this happens again, check the delivery settings (report.from, report.transport, report.smtp) and the mail log.'
      : "If this happens again, tell the server's administrator.")
  );
}

/** The message with the note on earlier reports it did not get first: at the top of the text, and of the HTML's body. */
export function withMissedNote(body: MailBody, address: string, missed: readonly MissedReport[], audience: 'admin' | 'reseller' = 'admin'): MailBody {
  if (!missed.length) return body;
  const note = cleanControls(missedReportsText(address, missed, audience));
  const para = `<p class="missed-reports" style="color:#b9770e;font-weight:bold">${escapeHtml(note)}</p>`;
  const at = /<body[^>]*>/i.exec(body.html);
  const html = at ? `${body.html.slice(0, at.index + at[0].length)}\n${para}${body.html.slice(at.index + at[0].length)}` : `${para}\n${body.html}`;
  return { subject: body.subject, text: `${note}\n\n${body.text}`, html };
}

/**
 * Messages in a row whose attempt got no answer before its deadline, after which the others are not tried that night.
 * A timed-out attempt is not retried, but each message still waited out its own deadline: with a sendmail that hangs
 * (a stuck local MTA) 1,000 reseller addresses held the report lock for 1,000 minutes — into the next night, whose run
 * was then refused. They are recorded as not sent, and the next message that reaches each address says so.
 */
export const HUNG_AFTER_TIMEOUTS = 3;

/**
 * Sends the report of a run to the admin's recipients and to each reseller's address. Never throws for a failed send.
 * After an abort (o.signal) nothing more is sent: the messages left are recorded as not sent.
 */
export async function deliverReport(outcome: Deliverable, o: DeliverOptions): Promise<DeliveryResult[]> {
  const messages = plannedMessages(outcome, o.settings);
  if (!messages.length) {
    o.log?.(`report run ${outcome.runId}: no recipients configured (${DELIVERY_SETTINGS.recipients}, ${DELIVERY_SETTINGS.resellers}); nothing sent`);
    return [];
  }
  const mailer = o.mailer ?? createMailer(o.settings);
  const results: DeliveryResult[] = [];
  const missedOf = missedReportsReader(o.store, outcome.runId);
  let aborted = Boolean(o.signal?.aborted);
  // A message whose every attempt went unanswered (the server down, not a refusal of that address): the messages
  // after it get one attempt each, until one goes through — dozens of reseller addresses would otherwise wait out the
  // whole backoff each (minutes apiece) while the run holds the report lock.
  let down = false;
  // Messages in a row that timed out (HUNG_AFTER_TIMEOUTS): then the transport is taken as hung for tonight.
  let timeouts = 0;
  let hung: string | null = null;
  try {
    for (const m of messages) {
      if (aborted || hung) {
        const error = aborted ? 'not sent: delivery aborted (the report run was stopped)' : `not sent: ${hung}`;
        o.store.recordDelivery(outcome.runId, m.to, false, error);
        results.push({ recipient: m.to, audience: m.audience, ...(m.reseller ? { reseller: m.reseller } : {}), ok: false, attempts: 0, error });
        continue;
      }
      const settings = down ? { ...o.settings, attempts: 1 } : o.settings;
      let missed: MissedReport[] = [];
      try {
        missed = missedOf(m.to);
      } catch (e) {
        // (A history database busy or broken here costs the note, never the mail.)
        o.log?.(`report run ${outcome.runId}: could not read whether earlier reports reached ${m.to}: ${errText(e)}`);
      }
      if (missed.length) o.log?.(`report run ${outcome.runId}: ${m.to} is told that ${missed.length === 1 ? `run ${missed[0].runId}'s report` : `${missed.length} earlier reports (runs ${missed.map((x) => x.runId).reverse().join(', ')})`} did not reach it`);
      const { aborted: stop, noReply, timedOut, ...r } = await sendWithRetry(outcome.runId, missed.length ? { ...m, rendered: withMissedNote(m.rendered, m.to, missed, m.audience) } : m, { ...o, settings, mailer });
      results.push(r);
      if (stop || o.signal?.aborted) aborted = true;
      // Down only when every attempt went unanswered (no SMTP reply at all); any reply — a success, a refusal of this
      // address, a greylisting 4xx — shows the server is there, and the next messages get their retries again.
      if (r.ok || !noReply) down = false;
      else if (!down && o.settings.attempts > 1 && r.attempts === o.settings.attempts) {
        down = true;
        o.log?.(`report run ${outcome.runId}: no attempt to send to ${m.to} went through; the other messages are tried once each until one does`);
      }
      timeouts = timedOut ? timeouts + 1 : 0;
      if (timeouts >= HUNG_AFTER_TIMEOUTS && !aborted) {
        const transport = o.settings.transport === 'smtp' ? 'the SMTP server' : 'sendmail';
        const deadline = fmtMs(o.timeoutMs ?? o.settings.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS);
        hung = `${transport} did not answer the last ${timeouts} messages within their deadline (${deadline} each): it seems hung, and the other messages were not tried tonight — the next report that reaches each address says so`;
        const left = messages.length - results.length;
        if (left) o.log?.(`report run ${outcome.runId}: ${hung} (${left} message(s); the report is saved)`);
      }
    }
  } finally {
    if (!o.mailer) mailer.close?.();
  }
  if (aborted) o.log?.(`report run ${outcome.runId}: delivery aborted; ${results.filter((r) => r.attempts === 0).length} message(s) not sent (the report is saved)`);
  return results;
}

/**
 * Delivery for the background service's nightly run. A saved setting that will not do must not cost the night its
 * audit, saved report or prune, nor the mail the setting has nothing to do with: it only stops the messages it
 * concerns (a bad address: that address; a bad transport: all of them). Each message stopped is logged, naming the
 * setting, and recorded as a failed delivery of the run (store.recordDelivery), where a failed send is. Never throws
 * for a bad setting.
 */
export async function deliverNightly(
  outcome: Deliverable,
  o: Omit<DeliverOptions, 'settings'>,
): Promise<DeliveryResult[]> {
  const { settings, problems } = lenientDeliverySettings(o.store);
  const log = o.log ?? (() => {});
  const results: DeliveryResult[] = [];
  const notSent = (to: string, audience: DeliveryResult['audience'], reseller: string | undefined, why: string) => {
    const error = `not sent: ${why}`;
    o.store.recordDelivery(outcome.runId, to, false, error);
    log(`report run ${outcome.runId}: not sent to ${to}${reseller ? ` (reseller ${reseller})` : ''}: ${why} (fix the setting; the report is saved)`);
    results.push({ recipient: to, audience, ...(reseller ? { reseller } : {}), ok: false, attempts: 0, error });
  };
  // A reseller without domains tonight gets no message, so a bad address of theirs stops nothing: logged only.
  const tonight = new Set(outcome.resellers);
  for (const p of problems) {
    if (p.scope === 'address') {
      if (p.reseller === undefined || tonight.has(p.reseller)) notSent(p.address ?? p.setting, p.reseller === undefined ? 'admin' : 'reseller', p.reseller, p.message);
      else log(`report run ${outcome.runId}: ${p.message} (reseller ${p.reseller} has no domains tonight; fix the setting)`);
    } else if (p.scope === 'resellers') {
      if (tonight.size) notSent(p.setting, 'reseller', undefined, `${p.message}; no reseller gets the report`);
      else log(`report run ${outcome.runId}: ${p.message} (fix the setting)`);
    } else if (p.scope === 'from') log(`report run ${outcome.runId}: ${p.message} (fix the setting)`);
  }
  const all = problems.find((p) => p.scope === 'all');
  if (all) {
    const addressed: { to: string; audience: DeliveryResult['audience']; reseller?: string }[] = uniqueAddresses(settings.recipients).map((to) => ({ to, audience: 'admin' }));
    for (const reseller of outcome.resellers) for (const to of uniqueAddresses(settings.resellers[reseller] ?? [])) addressed.push({ to, audience: 'reseller', reseller });
    for (const m of addressed) notSent(m.to, m.audience, m.reseller, all.message);
    if (!addressed.length) log(`report run ${outcome.runId}: ${all.message}; no mail could be sent (fix the setting)`);
    return results;
  }
  // Every address configured was a bad one: already said; not "no recipients configured" on top.
  if (problems.some((p) => p.scope !== 'from') && !settings.recipients.length && !Object.values(settings.resellers).some((a) => a.length)) return results;
  return results.concat(await deliverReport(outcome, { ...o, settings }));
}

/**
 * A notice to the admin's recipients about a report run that could not run: a PanelFailure (src/cron/report.ts
 * recordPanelFailure) is one. `runId` null: the failed run could not be recorded.
 */
export interface FailureNotice {
  runId: number | null;
  notice: MailBody;
}

/**
 * The notice of a night the panel could not be read (recordPanelFailure), or the history database could not be used,
 * to the admin's recipients only (report.recipients: the admin is the one who can bring the panel back; resellers get
 * no report that night, and no notice either), by the nightly delivery's rules: a bad setting skips the mail it
 * concerns, every attempt is recorded on the failed run, retries, deadlines, abort. When the failed run could not be
 * recorded (runId null: the database held all night — the very case the notice is for), it is sent all the same, its
 * attempts only logged (review: the admin got nothing).
 */
export async function deliverNotice(failure: FailureNotice, o: Omit<DeliverOptions, 'settings'>): Promise<DeliveryResult[]> {
  const log = o.log ?? (() => {});
  const unrecorded = failure.runId === null;
  if (unrecorded) log('the failed night could not be recorded: its notice is sent without a record of its mails (this log has them)');
  const store: DeliveryStore = unrecorded ? { getSetting: (k) => o.store.getSetting(k), recordDelivery: () => {} } : o.store;
  return deliverNightly(
    {
      runId: failure.runId ?? 0,
      rendered: failure.notice,
      resellers: [],
      partFor: () => ({ rendered: failure.notice }),
    },
    { ...o, store },
  );
}
