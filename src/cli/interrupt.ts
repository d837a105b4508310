// Ctrl-C (SIGINT) and SIGTERM during a run that writes history (`audit`, `report`): the run is marked interrupted,
// the report lock released and the database closed before the process exits — never left "running" (nor the lock
// held for its whole lease, refusing the next run). Exit 1, as for any interrupted run (README "Exit codes"); under
// --json the error object has kind "interrupted". The other one-shot commands (fix, undo, verify, history, prune,
// explain, the demo's audit) answer a signal the same way (stoppable), so --json never ends with an empty stdout.
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

/**
 * A commander action made interruptible as a whole (`fix`, `undo`, `verify`, `history`, `prune`, `explain`): a
 * SIGINT/SIGTERM while it runs exits 1 with `{"error": {"kind": "interrupted"}}` under --json, as `audit` and `report`
 * do — killed by the signal's default action, the command left stdout empty (exit 130), not the one JSON value a
 * script parses. The action's own sections nest inside (e.g. a fix's write, which says what an interruption leaves).
 * Not for `serve`, `service` or the demo's web UI: those stop cleanly on a signal by themselves.
 */
export function stoppable<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return (...args: A) => {
    // commander passes the command last; its own options hold --json.
    const cmd = args[args.length - 1] as { opts(): { json?: unknown } };
    return interruptible(Boolean(cmd.opts().json), () => undefined, () => action(...args));
  };
}
