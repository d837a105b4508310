// A history store whose chosen methods fail the way a real one does, for the web's store-failure tests. Two failures,
// both made by the real store code on the real SQLite file, so the error text is what production shows (the file's
// path, SQLite's words):
//   'busy'  another connection holds a write transaction on the file for the length of the call (db-holder.ts): a
//           write meets SQLITE_BUSY once the store's busy timeout runs out ("… is locked by another process (database
//           is locked)"); a read goes through, as it does in WAL mode;
//   'io'    the call is made on a closed Store of the same file: "mailhealth database <path>: The database connection is
//           not open" (StoreError 'io'), as a file that cannot be read or written gives.
// No clock: a failure is armed for a number of calls, not for a time.
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { holder } from '../helpers/db-holder.js';

export type Failure = 'busy' | 'io';

export interface FailingStore {
  /** The store to give the app: the real one, except for the armed methods. */
  store: Store;
  /**
   * The next `times` calls of `method` (default 1; those whose arguments `match`, when given) fail with `failure`,
   * after `skip` such calls that go through.
   */
  fail(method: keyof Store, failure: Failure, opts?: { times?: number; skip?: number; match?: (...args: unknown[]) => boolean }): void;
  /** How many armed calls have failed so far. */
  readonly failed: number;
  close(): void;
}

export function failingStore(store: Store): FailingStore {
  const dead = openStore(store.path);
  dead.close();
  const held = holder(store.path);
  const armed = new Map<PropertyKey, { failure: Failure; times: number; skip: number; match?: (...args: unknown[]) => boolean }>();
  let failed = 0;
  const proxy = new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const a = armed.get(prop);
        if (!a || a.times <= 0 || (a.match && !a.match(...args))) return (v as (...x: unknown[]) => unknown).apply(target, args);
        if (a.skip > 0) {
          a.skip--;
          return (v as (...x: unknown[]) => unknown).apply(target, args);
        }
        a.times--;
        failed++;
        if (a.failure === 'io') return (Reflect.get(dead, prop, dead) as (...x: unknown[]) => unknown).apply(dead, args);
        held.hold();
        try {
          return (v as (...x: unknown[]) => unknown).apply(target, args);
        } finally {
          held.release();
        }
      };
    },
  });
  return {
    store: proxy,
    fail(method, failure, opts = {}) {
      armed.set(method, { failure, times: opts.times ?? 1, skip: opts.skip ?? 0, ...(opts.match ? { match: opts.match } : {}) });
    },
    get failed() {
      return failed;
    },
    close() {
      held.close();
    },
  };
}

/** The server's log (stderr) while `fn` runs: what the web wrote there, and fn's result. */
export async function capturingLog<T>(fn: () => Promise<T>): Promise<{ result: T; log: string }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: unknown) => boolean }).write = (s: unknown) => {
    lines.push(String(s));
    return true;
  };
  try {
    return { result: await fn(), log: lines.join('') };
  } finally {
    (process.stderr as unknown as { write: typeof write }).write = write;
  }
}
