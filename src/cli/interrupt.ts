// Ctrl-C (SIGINT) and SIGTERM during a run that writes history (`audit`, `report`): the run is marked interrupted,
// the report lock released and the database closed before the process exits — never left "running" (nor the lock
// held for its whole lease, refusing the next run). Exit 1, as for any interrupted run (README "Exit codes"); under
// --json the error object has kind "interrupted".
import { printJsonError } from './context.js';
import { logLine } from './log.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The cleanups of the interruptible sections running now, outermost first (sections nest: a whole command, its run). */
const cleanups: (() => string | undefined)[] = [];

/**
 * Runs `fn`; a SIGINT/SIGTERM meanwhile runs `cleanup` at once (synchronously: it must only touch SQLite and the
 * like — nothing left to wait for, the process exits right after), reports the interruption and exits 1. `cleanup`
 * returns what to say about the run (e.g. "audit run 7 marked interrupted"). Sections nest: one handler for the
 * outermost (a whole command, from before it reads the panel), which runs every open section's cleanup, innermost
 * first. The handlers are removed when the outermost `fn` settles, so what follows (printing, `serve`) has the
 * default behaviour back.
 */
export async function interruptible<T>(json: boolean, cleanup: () => string | undefined, fn: () => Promise<T>): Promise<T> {
  cleanups.push(cleanup);
  const outermost = cleanups.length === 1;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return; // a second Ctrl-C while cleaning up: the first one is already on its way out
    stopping = true;
    const details: string[] = [];
    for (let i = cleanups.length - 1; i >= 0; i--) {
      try {
        const d = cleanups[i]();
        if (d) details.push(d);
      } catch (e) {
        details.push(`could not record the interruption: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    const message = `stopped by ${signal}${details.length ? `: ${details.join('; ')}` : ''}`;
    // On a terminal, after the progress bar or the ^C the terminal echoed.
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${logLine(message)}`);
    if (json) printJsonError('interrupted', message);
    process.exit(1);
  };
  if (outermost) for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn();
  } finally {
    cleanups.pop();
    if (outermost) for (const s of SIGNALS) process.off(s, onSignal);
  }
}
