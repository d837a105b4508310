// What a report schedule must be, in node-cron's (v4) reading: the one check of a schedule and of its time zone, for
// the settings page, `--report-cron` / `--report-tz`, a schedule stored by hand and the scheduler itself
// (src/cron/scheduler.ts). Here and not in core: it asks node-cron's parser, and core takes no scheduling library;
// here and not in the scheduler: the settings page checks a schedule without starting one (surfaces do not import
// each other). No timers: nothing here starts or runs anything. Also the wall-clock arithmetic of a schedule's time
// zone (localTime, instantOfLocal, endOfLocalDay): the scheduler's and `report --since`'s, one reading.
import cron from 'node-cron';
import { jsonText, showInvisible } from '../../core/text.js';

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** What a report schedule must be: the settings page's error, and the reason `--report-cron` and a stored one give. */
export const FIVE_CRON_FIELDS = 'Five cron fields, e.g. "0 3 * * *" (03:00 every day)';

/**
 * A schedule as the scheduler reads it: the white space around it dropped (a value stored by hand often ends in a
 * newline) and the white space between fields made single spaces (node-cron splits at spaces only: a tab would join
 * two fields). Not a string: returned as is, for validateCronExpr to refuse.
 */
export function normalizeCronExpr(expr: string): string {
  return typeof expr === 'string' ? expr.trim().split(/\s+/).join(' ') : expr;
}

/** Text for a message, one line: control and invisible characters written as escapes (\n, \u0007, \u202E). */
function printable(s: string): string {
  return showInvisible(String(s).replace(/[\t\n\r]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')));
}

/** What a stored value that is not text is, for a message: "a number", "a list". */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
  if (typeof v === 'boolean') return 'true/false';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * The one check of a report schedule (the settings page, `--report-cron`, a schedule stored by hand): exactly five
 * fields, "minute hour day-of-month month day-of-week", then node-cron's own check. node-cron also takes six fields
 * (seconds first), where a stray extra field changes the meaning: "0 3 * * * *" runs every hour at minute 3 and
 * "* * * * * *" every second — a report and its mail each time. White space around the schedule is not part of it
 * (normalizeCronExpr). Throws ScheduleError naming the bad field(s); the schedule is quoted with its control
 * characters escaped (a newline in it must not break the message, nor forge a line of the log).
 */
export function validateCronExpr(expr: string): void {
  // Not text (a value stored by hand as a number, a list): said as such, not as "empty".
  if (expr !== undefined && expr !== null && typeof expr !== 'string') throw new ScheduleError(`the report schedule is not text (${kindOf(expr)} was stored): ${FIVE_CRON_FIELDS}`);
  if (typeof expr !== 'string' || !expr.trim()) throw new ScheduleError(`the report schedule is empty: ${FIVE_CRON_FIELDS}`);
  const norm = normalizeCronExpr(expr);
  const shown = jsonText(expr.trim());
  const fields = norm.split(' ').length;
  if (fields !== 5) {
    // A form older versions took: say its five fields (the settings page's error, --report-cron's).
    const older = olderScheduleForm(expr);
    throw new ScheduleError(
      `invalid cron expression ${shown}: ${fields} field${fields === 1 ? '' : 's'}, not five. ${FIVE_CRON_FIELDS}: minute hour day-of-month month day-of-week` +
        (fields === 6 ? ' (a seconds field is not taken: "0 3 * * * *" would run every hour, "* * * * * *" every second)' : '') +
        (older ? `. In five fields, ${shown} is "${older.cronExpr}"${older.sameTimes ? '' : ' (the same minute, without its seconds)'}` : ''),
    );
  }
  const v = cron.validateDetailed(norm);
  if (!v.valid) {
    const why = v.errors.map((e) => `${e.field}${e.value !== undefined ? ` ${jsonText(String(e.value))}` : ''}: ${printable(e.message)}`).join('; ');
    throw new ScheduleError(`invalid cron expression ${shown}: ${why || 'not understood'} (expected "minute hour day-of-month month day-of-week", e.g. "0 3 * * *")`);
  }
}

/**
 * node-cron's nicknames (it reads them case-insensitively), as five fields. The settings page of versions before the
 * five-field rule took them, so a history database may hold one.
 */
export const CRON_NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A schedule in a form older versions took, as five fields (olderScheduleForm). */
export interface OlderScheduleForm {
  /** The five fields. */
  cronExpr: string;
  /**
   * true: the five fields run at the very times node-cron ran the older form (a nickname; six fields whose seconds
   * field is 0) — safe to run instead of it. false: the same minutes, a few seconds off (seconds 1–59): a suggestion.
   */
  sameTimes: boolean;
  /** What the older form was, for a message: "a nickname", "six fields, seconds first". */
  form: string;
}

/**
 * A schedule this version refuses (validateCronExpr) in a form the settings page of older versions took — saved before
 * the five-field rule (node-cron reads both) — as five fields, when there is an obvious one: a nickname (`@daily` →
 * "0 0 * * *"), or six fields whose seconds field is one number — dropped ("0 30 2 * * *", 02:30:00, is "30 2 * * *";
 * seconds 0 run at the same times, others in the same minute). null for anything else: a valid five-field schedule,
 * a seconds field that repeats ("*", a step, a list: older versions ran those several times a minute, nothing to keep),
 * five fields left that will not do.
 */
export function olderScheduleForm(expr: unknown): OlderScheduleForm | null {
  if (typeof expr !== 'string') return null;
  const norm = normalizeCronExpr(expr);
  const nick = CRON_NICKNAMES[norm.toLowerCase()];
  if (nick) return { cronExpr: nick, sameTimes: true, form: 'a nickname' };
  const fields = norm.split(' ');
  if (fields.length !== 6 || !/^[0-9]{1,2}$/.test(fields[0]) || Number(fields[0]) > 59) return null;
  const five = fields.slice(1).join(' ');
  try {
    validateCronExpr(five);
  } catch {
    return null;
  }
  return { cronExpr: five, sameTimes: Number(fields[0]) === 0, form: 'six fields, seconds first' };
}

/** Whether the runtime knows `tz` as a time zone. */
export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Throws ScheduleError for a time zone the runtime does not know. Undefined = server time. */
export function validateTimezone(tz: string | undefined): void {
  if (tz !== undefined && !isTimezone(tz)) throw new ScheduleError(`unknown time zone ${jsonText(String(tz))} (use an IANA name such as "Europe/Amsterdam" or "UTC")`);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The local (wall-clock) time of instant `t` in `tz` (undefined: the server's), written as the same digits in UTC:
 * comparable, and node-cron's fields.
 */
export function localTime(t: number, tz: string | undefined): number {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(tz ? { timeZone: tz } : {}),
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second, ((t % 1000) + 1000) % 1000);
}

const DAY_MS = 86_400_000;

/**
 * The instant at which the clocks in `tz` show local time `local` (written in UTC digits, as localTime gives). A local
 * time shown twice (the clocks went back) is its first showing; one never shown (the clocks went forward over it) is
 * the first moment after the gap — as the scheduler runs a slot that falls in one.
 */
export function instantOfLocal(local: number, tz: string | undefined): number {
  const offset = (t: number) => localTime(t, tz) - t;
  // The zone's offsets a day either side: at most one change of offset lies between (none: both the same).
  const candidates = [...new Set([local - offset(local - DAY_MS), local - offset(local + DAY_MS)])].sort((a, b) => a - b);
  const exact = candidates.find((c) => localTime(c, tz) === local);
  if (exact !== undefined) return exact;
  // In a gap: the first instant whose local time is later than `local` (the moment the clocks jumped).
  let lo = candidates[0];
  let hi = candidates[candidates.length - 1];
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localTime(mid, tz) >= local) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The last millisecond of a calendar day in `tz` (month 1–12): the millisecond before the next day's first instant. */
export function endOfLocalDay(year: number, month: number, day: number, tz: string | undefined): number {
  return instantOfLocal(Date.UTC(year, month - 1, day + 1), tz) - 1;
}
