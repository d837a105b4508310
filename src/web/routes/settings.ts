// /settings (admin only): MailChannels account id, nightly report schedule/recipients/time zone/link address, DNS
// resolver, blocklists, retention — and how the last nightly report run went.
import { Router } from 'express';
import type { Run, Store } from '../../adapters/store/store.js';
import { panelFailureOf } from '../../core/report/diff.js';
import { shortReason } from '../../core/report/render.js';
import type { AppContext, ReportSchedule } from '../app.js';
import { requireLogin, requireRole } from '../http.js';
import { readSettings, saveSettings, type SettingsForm } from '../settings.js';
import { isBusy } from '../../adapters/store/busy.js';
import { atStage, logWeb, SEE_LOG } from '../services.js';
import { DEFAULT_BLOCKLISTS } from '../../core/settings.js';
import { serverTimeZone, viewHelpers } from '../view-model.js';
import { normalizeCronExpr } from '../../adapters/schedule/expression.js';
import { unreachedRecipients } from '../../adapters/mail/deliver.js';

/**
 * The settings page's "Last nightly report" line: when the latest report run started (null: none yet, or the history
 * could not be read) and how it went. Raw text: the view escapes it (a panel's error is whatever answered in its place).
 */
export interface LastReport {
  startedAt: string | null;
  outcome: string;
}

function domains(n: number): string {
  return `${n} ${n === 1 ? 'domain' : 'domains'}`;
}

/** How a report run went, in the words of the settings page. */
export function lastReportOutcome(run: Run): string {
  const failure = panelFailureOf(run.meta);
  if (failure) return `not complete: the panel could not be read${failure.reason ? ` (${shortReason(failure.reason)})` : ''}`;
  const of = run.total !== null ? ` of ${run.total}` : '';
  switch (run.status) {
    case 'complete':
      // (A run's `total` is its domain list; `done` can only be larger in a store written by hand.)
      return `complete — ${domains(Math.max(run.total ?? 0, run.done))}`;
    case 'running':
      return `running — ${run.done}${of} domains audited so far`;
    default:
      // Stopped (Ctrl-C, a lost lock, a process that died): never reported; the next complete run is compared instead.
      return `not complete: ${run.status} after ${run.done}${of} domains`;
  }
}

/** The latest report run from the store (a busy or broken database does not take the settings page down). */
export function lastReport(store: Pick<Store, 'listRuns'> & { deliveries?: Store['deliveries'] }): LastReport {
  let run: Run | undefined;
  try {
    [run] = store.listRuns({ kind: 'report', limit: 1 });
  } catch (e) {
    // In the server's log; the page never quotes the store (its words name the database file).
    logWeb('the settings page: the last nightly report', e);
    return {
      startedAt: null,
      outcome: isBusy(e)
        ? 'not known: the history database is busy (another mailhealth process is writing to it); reload the page in a moment'
        : `not known: the history database could not be read ${SEE_LOG}`,
    };
  }
  if (!run) return { startedAt: null, outcome: 'none yet' };
  return { startedAt: run.startedAt, outcome: lastReportOutcome(run) + undelivered(store, run.id) };
}

/**
 * ", the mail did not reach …" when some address of the run's report got none of its attempts through (mail QA: the log
 * and the next night's mail were the only places that said so). Empty when every address was reached, nothing was sent,
 * or the delivery log cannot be read (the outcome line stands without it).
 */
export function undelivered(store: { deliveries?: Store['deliveries'] }, runId: number): string {
  if (!store.deliveries) return '';
  let attempts;
  try {
    attempts = store.deliveries(runId);
  } catch (e) {
    logWeb('the settings page: the last report\'s deliveries', e);
    return '';
  }
  const missed = unreachedRecipients(attempts);
  if (missed.length === 0) return '';
  // A row for a setting that would not do names the setting (deliverNightly: `report.resellers`), not an address.
  const named = missed.slice(0, 3).map((r) => (r.includes('@') ? r : `${r}, a setting`)).join('; ') + (missed.length > 3 ? `; and ${missed.length - 3} more` : '');
  // "Has not": the run is complete before its mail goes out, so a retry may still be waiting when the page is shown.
  return `; the mail has not reached ${missed.length === 1 ? 'one address' : `${missed.length} addresses`} (${named}) — the server's log says why, and the next report that reaches ${missed.length === 1 ? 'it' : 'them'} says so`;
}

/**
 * The settings page's "Next run" line: when the scheduler of this process (AppContext.reportSchedule) runs the report
 * next, in the zone it runs in. `differs`: the schedule in force is not the one the form shows (a command-line flag, a
 * bad stored value it fell back from, or a form sent back with errors): the line then names the one in force.
 */
export interface NextReport {
  at: Date;
  /** The time zone it runs in; null: the server's. */
  timezone: string | null;
  cronExpr: string;
  differs: boolean;
}

export function nextReport(schedule: ReportSchedule | null, form: Pick<SettingsForm, 'reportSchedule' | 'reportTimezone'>): NextReport | null {
  if (!schedule) return null;
  let at: Date | undefined;
  try {
    [at] = schedule.nextRuns(1);
  } catch (e) {
    logWeb('the settings page: the next nightly report', e);
    return null;
  }
  if (!at) return null;
  const timezone = schedule.timezone ?? null;
  const differs = normalizeCronExpr(form.reportSchedule) !== schedule.cronExpr || (form.reportTimezone.trim() || null) !== timezone;
  return { at, timezone, cronExpr: schedule.cronExpr, differs };
}

export function settingsRoutes(c: AppContext): Router {
  const r = Router();
  r.use('/settings', requireLogin, requireRole('admin'));
  const page = (form: SettingsForm, errors: Record<string, string>, saved: boolean) => ({
    title: 'Settings',
    form,
    errors,
    saved,
    defaultBlocklists: DEFAULT_BLOCKLISTS,
    scheduleOverrides: c.scheduleOverrides,
    // Where no nightly report is scheduled here (serve --no-report, the demo), the page says so by the schedule.
    noNightlyReport: c.noNightlyReport,
    lastReport: lastReport(c.store),
    // What an empty time zone means (the server's), and when the report runs next (only where this process runs it).
    serverTimeZone: serverTimeZone(),
    nextReport: c.noNightlyReport ? null : nextReport(c.reportSchedule, form),
    now: c.now(),
    h: viewHelpers,
  });

  r.get('/settings', (req, res) => {
    res.render('settings', page(readSettings(c.store), {}, req.query.saved === '1'));
  });

  r.post('/settings', async (req, res) => {
    const result = await atStage('settings', 'POST /settings', () => saveSettings(c.store, req.body as Record<string, unknown>));
    if (!result.ok) return res.status(400).render('settings', page(result.form, result.errors, false));
    afterSave(c);
    res.redirect(303, '/settings?saved=1');
  });

  return r;
}

/** The settings are stored whatever the hook does: a failing hook is logged, and the admin still sees "Saved." (true). */
function afterSave(c: AppContext): void {
  try {
    c.onSettingsSaved();
  } catch (e) {
    process.stderr.write(`mailhealth web: after saving the settings: ${(e as Error)?.stack ?? String(e)}\n`);
  }
}
