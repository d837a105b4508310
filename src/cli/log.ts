// The CLI's log: lines on stderr, "mailhealth: " and a message. A message often carries outside text — a panel's error
// (cPanel's errors[], a fragment of whatever answered in its place, the panel's nameservers), a DNS answer, a record,
// a value saved by hand — so every line is escaped (safe, ./format.ts: control and invisible characters written out)
// before it reaches a terminal or a log file: outside text cannot drive the terminal, nor start a line that passes for
// one of ours. Every log sink of the CLI goes through here: the commands' errors, the nightly report and its mail, the
// background service, the front doors' stderr. JSON output never does (it stays JSON: jsonText), nor does the CGI
// response on stdout (HTTP, escaped by the web app).
import { safe } from './format.js';

export type Log = (message: string) => void;

/** One line of the log: `prefix: message`, the message escaped as one piece (its own line breaks included). */
export function logLine(message: string, prefix = 'mailhealth'): string {
  return `${prefix}: ${safe(message)}\n`;
}

/** Writes one line of the log on stderr. */
export function writeLog(message: string, prefix = 'mailhealth'): void {
  process.stderr.write(logLine(message, prefix));
}

/**
 * A log for the runs that take one (the report, its delivery, the scheduler, the account sweep): each message one
 * escaped line through `write` (stderr unless a caller captures it).
 */
export function lineLog(write: (s: string) => void = (s) => void process.stderr.write(s), prefix = 'mailhealth'): Log {
  return (m) => write(logLine(m, prefix));
}

/** What went wrong, in words: an error's message, else the value as text. */
export function errorMessage(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/**
 * An unexpected error for the log, with its stack: the first line `Name: message` escaped as one piece (a message
 * with a line break in it stays on its line), then the stack's frames, one a line. Frames come from V8 after the
 * message; when the stack does not start with it (a stack rewritten by hand), only the lines that are frames
 * ("    at …") are kept, so no text of the message can stand on a line of its own.
 */
export function errorLines(e: unknown, prefix = 'mailhealth'): string {
  if (!(e instanceof Error)) return logLine(String(e), prefix);
  const head = Error.prototype.toString.call(e);
  const stack = typeof e.stack === 'string' ? e.stack : '';
  const rest = stack.startsWith(head) ? stack.slice(head.length).split('\n') : stack.split('\n').filter((l) => /^\s+at /.test(l));
  return logLine(head, prefix) + rest.filter((l) => l.trim()).map((l) => `${safe(l)}\n`).join('');
}
