// Delivery of the nightly report by email (nodemailer): through the server's local MTA (sendmail transport, the
// default) or a configured SMTP server. The admin's recipients get the whole server's report; each reseller with an
// address gets the part about their customers. Each message is retried (bounded, with backoff through an injectable
// sleep); every attempt is logged and recorded with store.recordDelivery. The report itself is already saved.
import nodemailer from 'nodemailer';
import type { Store } from '../adapters/store/store.js';
import type { RenderedReport } from '../core/report/render.js';
import { realSleep } from './ratelimit.js';
import type { ReportOutcome } from './report.js';

/** Settings keys (JSON values in the store's settings table). */
export const DELIVERY_SETTINGS = {
  /** string | string[]: the admin's recipients (whole server). */
  recipients: 'report.recipients',
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
} as const;

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
  /** 'address': the one bad address is not sent to; 'resellers': no reseller gets mail; 'all': nothing is sent. */
  scope: 'address' | 'resellers' | 'all';
  /** The bad value as saved, for scope 'address'. */
  address?: string;
  /** Whose address it is (report.resellers), for scope 'address'. */
  reseller?: string;
}

function addrList(v: unknown, what: string, bad: (p: DeliverySettingProblem) => void, reseller?: string): string[] {
  if (v === undefined || v === null || v === '') return [];
  const list = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const x of list) {
    if (typeof x !== 'string' || !/^[^\s@<>",;]+@[^\s@<>",;]+$/.test(x.trim())) {
      bad({ setting: what, message: `${what}: not an email address: ${JSON.stringify(x)}`, scope: 'address', address: typeof x === 'string' ? x : JSON.stringify(x), ...(reseller !== undefined ? { reseller } : {}) });
    } else out.push(x.trim());
  }
  return out;
}

/**
 * Reads the settings; every value that will not do goes to `bad` (which may throw) and is left out: a bad address is
 * dropped from its list, a bad report.resellers leaves no reseller addresses. A bad transport is kept as read, so
 * callers that do not throw must check the problems with scope 'all' before sending.
 */
function readDeliverySettings(store: Store, overrides: Partial<DeliverySettings>, bad: (p: DeliverySettingProblem) => void): DeliverySettings {
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
  const s: DeliverySettings = {
    from: get<string>(DELIVERY_SETTINGS.from) ?? 'mailhealth <root@localhost>',
    recipients: addrList(get(DELIVERY_SETTINGS.recipients), DELIVERY_SETTINGS.recipients, bad),
    resellers,
    transport,
    ...(get<string>(DELIVERY_SETTINGS.sendmailPath) ? { sendmailPath: get<string>(DELIVERY_SETTINGS.sendmailPath) } : {}),
    ...(smtp ? { smtp } : {}),
    attempts: Number.isInteger(attempts) && attempts >= 1 ? attempts : 3,
    backoffMs: Number.isFinite(backoffMs) && backoffMs >= 0 ? backoffMs : 30_000,
    ...overrides,
  };
  if (s.transport === 'smtp' && !s.smtp?.host) bad({ setting: DELIVERY_SETTINGS.smtp, message: `${DELIVERY_SETTINGS.transport} is "smtp" but ${DELIVERY_SETTINGS.smtp}.host is not set`, scope: 'all' });
  return s;
}

/** Reads delivery settings from the store; `overrides` win. Throws DeliveryConfigError on malformed values. */
export function deliverySettings(store: Store, overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return readDeliverySettings(store, overrides, (p) => {
    throw new DeliveryConfigError(p.message);
  });
}

/**
 * The delivery settings for the background service's nightly run, which must not fail over one bad saved value (the
 * audit, the saved report and the prune do not depend on mail): the values that will not do are left out and listed.
 */
export function lenientDeliverySettings(store: Store): { settings: DeliverySettings; problems: DeliverySettingProblem[] } {
  const problems: DeliverySettingProblem[] = [];
  const settings = readDeliverySettings(store, {}, (p) => void problems.push(p));
  return { settings, problems };
}

export interface Mailer {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html: string;
    headers?: Record<string, string>;
  }): Promise<unknown>;
  close?(): void;
}

/** A nodemailer transport for the settings: local MTA via sendmail, or SMTP. */
export function createMailer(s: DeliverySettings): Mailer {
  if (s.transport === 'smtp') {
    const smtp = s.smtp as SmtpSettings;
    const pass = process.env.MAILHEALTH_SMTP_PASS ?? smtp.auth?.pass;
    return nodemailer.createTransport({
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
  }
  return nodemailer.createTransport({ sendmail: true, newline: 'unix', path: s.sendmailPath ?? '/usr/sbin/sendmail' });
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
  store: Store;
  settings: DeliverySettings;
  mailer?: Mailer;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string) => void;
}

interface Outgoing {
  to: string;
  audience: 'admin' | 'reseller';
  reseller?: string;
  rendered: RenderedReport;
}

/** The messages a report run sends: admin recipients → whole report; each reseller with an address and domains → their part. */
export function plannedMessages(outcome: Pick<ReportOutcome, 'rendered' | 'resellers' | 'partFor'>, settings: DeliverySettings): Outgoing[] {
  const out: Outgoing[] = [];
  for (const to of settings.recipients) out.push({ to, audience: 'admin', rendered: outcome.rendered });
  for (const reseller of outcome.resellers) {
    const addrs = settings.resellers[reseller] ?? [];
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

/** Sends one message with bounded retries, recording every attempt. */
async function sendWithRetry(runId: number, m: Outgoing, o: DeliverOptions & { mailer: Mailer }): Promise<DeliveryResult> {
  const { store, settings } = o;
  const sleep = o.sleep ?? realSleep;
  const log = o.log ?? (() => {});
  let last = '';
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    try {
      await o.mailer.sendMail({
        from: settings.from,
        to: m.to,
        subject: m.rendered.subject,
        text: m.rendered.text,
        html: m.rendered.html,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Mailhealth-Run': String(runId) },
      });
      store.recordDelivery(runId, m.to, true, attempt > 1 ? `delivered on attempt ${attempt}` : null);
      log(`report run ${runId}: sent to ${m.to}${m.reseller ? ` (reseller ${m.reseller})` : ''}${attempt > 1 ? ` on attempt ${attempt}` : ''}`);
      return { recipient: m.to, audience: m.audience, ...(m.reseller ? { reseller: m.reseller } : {}), ok: true, attempts: attempt, error: null };
    } catch (e) {
      last = errText(e);
      const final = attempt === settings.attempts;
      store.recordDelivery(runId, m.to, false, `attempt ${attempt}/${settings.attempts}: ${last}`);
      log(`report run ${runId}: sending to ${m.to} failed (attempt ${attempt}/${settings.attempts}): ${last}${final ? '' : ' — retrying'}`);
      if (!final) await sleep(settings.backoffMs * 2 ** (attempt - 1));
    }
  }
  return { recipient: m.to, audience: m.audience, ...(m.reseller ? { reseller: m.reseller } : {}), ok: false, attempts: settings.attempts, error: last };
}

/** Sends the report of a run to the admin's recipients and to each reseller's address. Never throws for a failed send. */
export async function deliverReport(outcome: Pick<ReportOutcome, 'runId' | 'rendered' | 'resellers' | 'partFor'>, o: DeliverOptions): Promise<DeliveryResult[]> {
  const messages = plannedMessages(outcome, o.settings);
  if (!messages.length) {
    o.log?.(`report run ${outcome.runId}: no recipients configured (${DELIVERY_SETTINGS.recipients}, ${DELIVERY_SETTINGS.resellers}); nothing sent`);
    return [];
  }
  const mailer = o.mailer ?? createMailer(o.settings);
  const results: DeliveryResult[] = [];
  try {
    for (const m of messages) results.push(await sendWithRetry(outcome.runId, m, { ...o, mailer }));
  } finally {
    if (!o.mailer) mailer.close?.();
  }
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
  outcome: Pick<ReportOutcome, 'runId' | 'rendered' | 'resellers' | 'partFor'>,
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
    }
  }
  const all = problems.find((p) => p.scope === 'all');
  if (all) {
    const addressed: { to: string; audience: DeliveryResult['audience']; reseller?: string }[] = settings.recipients.map((to) => ({ to, audience: 'admin' }));
    for (const reseller of outcome.resellers) for (const to of settings.resellers[reseller] ?? []) addressed.push({ to, audience: 'reseller', reseller });
    for (const m of addressed) notSent(m.to, m.audience, m.reseller, all.message);
    if (!addressed.length) log(`report run ${outcome.runId}: ${all.message}; no mail could be sent (fix the setting)`);
    return results;
  }
  // Every address configured was a bad one: already said; not "no recipients configured" on top.
  if (problems.length && !settings.recipients.length && !Object.values(settings.resellers).some((a) => a.length)) return results;
  return results.concat(await deliverReport(outcome, { ...o, settings }));
}
