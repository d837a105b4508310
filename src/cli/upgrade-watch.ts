// A long-running process (`serve`, `service`) whose history database a newer mailhealth migrated meanwhile — the CLI of
// an upgrade run before the service was restarted — can neither read nor write it any more (the store's
// SchemaChangedError: its pages answer 503, its nightly report fails every night, with only a log line). Such a process
// stops by itself, gracefully, and exits with UPGRADE_EXIT_CODE: non-zero, so the service manager restarts it on the
// new code (install/mailhealth.service: Restart=on-failure).
import { StoreError, type Store } from '../adapters/store/store.js';

/** EX_TEMPFAIL: not a fault of this run — start it again (systemd's Restart=on-failure does). */
export const UPGRADE_EXIT_CODE = 75;

/** How often the history's schema is looked at (one `PRAGMA data_version`, no page read): MAILHEALTH_UPGRADE_CHECK_MS overrides (tests). */
export function upgradeCheckMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.MAILHEALTH_UPGRADE_CHECK_MS);
  return Number.isInteger(n) && n > 0 ? n : 10_000;
}

export interface UpgradeWatch {
  /** A newer mailhealth migrated the database while this process ran (seen by a check, or by any store call). */
  readonly upgraded: boolean;
  /** Look now (also what the timer does). */
  check(): boolean;
  stop(): void;
}

/**
 * Looks at the store's schema every `everyMs` (an unref'd timer: it keeps no process alive); the first time it finds
 * the database migrated by a newer mailhealth, `onUpgraded` runs once (serve and service: log it, and stop as a
 * SIGTERM stops them).
 */
export function watchForUpgrade(store: Pick<Store, 'schemaVersion'>, onUpgraded: (e: StoreError) => void, everyMs: number = upgradeCheckMs()): UpgradeWatch {
  let upgraded = false;
  const check = (): boolean => {
    if (upgraded) return true;
    try {
      store.schemaVersion();
    } catch (e) {
      // Only the schema moving on stops the process; a busy or closed database is a moment's trouble.
      if (e instanceof StoreError && e.code === 'too-new') {
        upgraded = true;
        clearInterval(timer);
        onUpgraded(e);
      }
    }
    return upgraded;
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return {
    get upgraded() {
      return upgraded;
    },
    check,
    stop: () => clearInterval(timer),
  };
}

/** The log line of a process stopping for an upgrade (serve, service). */
export function upgradeLine(e: StoreError): string {
  return `${e.message} — stopping; exit ${UPGRADE_EXIT_CODE} so the service manager starts the new version`;
}
