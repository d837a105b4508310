// The history database's busy policy for writes that must not be lost to a short busy spell: another mailhealth
// process (a bulk audit, a fix, the service's settler, an admin's sqlite3) holds the write lock for longer than the
// store's busy timeout. Each try already waits that timeout inside SQLite; between tries the caller waits a little more.
// Only a busy database is tried again — never a named lock another holder has (withLock: `heldLock`), which is an answer.
import { StoreError } from './store.js';

/** A busy database: code 'locked' without `heldLock` (see StoreError). */
export function isBusy(e: unknown): boolean {
  return e instanceof StoreError && e.code === 'locked' && e.heldLock === undefined;
}

export interface BusyRetry {
  /** Tries in all (default 4). */
  attempts?: number;
  /** Wait between tries (default 1000 ms), on top of the store's busy timeout each try spends. */
  waitMs?: number;
  /** Tests: a stand-in for the wait (no wall clock). */
  sleep?: (ms: number) => Promise<void>;
}

export const BUSY_ATTEMPTS = 4;
export const BUSY_WAIT_MS = 1000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` (a store write, synchronous), trying again while the database is busy: with the defaults about 4 × 2 s of
 * busy timeout plus 3 s of waits. Anything else, or still busy after the last try: thrown.
 */
export async function throughBusy<T>(fn: () => T, opts: BusyRetry = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? BUSY_ATTEMPTS);
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || attempt >= attempts) throw e;
      await sleep(opts.waitMs ?? BUSY_WAIT_MS);
    }
  }
}
