// Where the history database lives.
//
// Precedence (first that is set and non-empty wins):
//   1. the --db flag                              (`flag`)
//   2. the MAILHEALTH_DB environment variable     (`env`)
//   3. running as root (the panel plugin, cron):  /var/lib/mailhealth/mailhealth.sqlite   (SYSTEM_DB_PATH)
//   4. anyone else (a developer, a customer CLI): ~/.local/share/mailhealth/mailhealth.sqlite (USER_DB_RELATIVE under $HOME)
// An empty value counts as unset, on purpose for the environment (`MAILHEALTH_DB=` clears an exported one, as the tests
// and cron lines use it). An empty *flag* is not a request for the default: `--db "$UNSET"` would silently read (or
// write) the system database — the CLI refuses it before calling this (checkDbPath in src/cli/context.ts); other
// callers that take a path from a user must do the same.
// Flag and env values are resolved against the current directory. XDG_DATA_HOME is deliberately not consulted,
// so the location is the same whatever shell the plugin happens to be started from.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const SYSTEM_DB_PATH = '/var/lib/mailhealth/mailhealth.sqlite';
/** Relative to the user's home directory. */
export const USER_DB_RELATIVE = '.local/share/mailhealth/mailhealth.sqlite';

export function userDbPath(home: string = homedir()): string {
  return join(home, USER_DB_RELATIVE);
}

export interface ResolveDbPathOptions {
  /** The --db command-line flag; empty counts as unset (callers refuse an empty --db first, see above). */
  flag?: string | null;
  /** Defaults to process.env.MAILHEALTH_DB. Pass `undefined` explicitly to get the default, `null` to ignore the environment. */
  env?: string | null;
  /** Defaults to `process.getuid() === 0` (false where getuid does not exist). */
  isRoot?: boolean;
  /** Defaults to os.homedir(). */
  home?: string;
}

export function resolveDbPath({
  flag,
  env = process.env.MAILHEALTH_DB,
  isRoot = typeof process.getuid === 'function' && process.getuid() === 0,
  home,
}: ResolveDbPathOptions = {}): string {
  if (flag) return resolve(flag);
  if (env) return resolve(env);
  return isRoot ? SYSTEM_DB_PATH : userDbPath(home);
}
