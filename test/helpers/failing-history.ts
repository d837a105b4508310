// A history that fails as a full disk or an I/O error makes it fail (not busy), for the tests of what fix, undo and
// reconcile answer then (test/core/plans/history-*.test.ts, refusal-unrecorded.test.ts).
import assert from 'node:assert/strict';
import { StoreError, type Store } from '../../src/adapters/store/store.js';
import type { History } from '../../src/core/plans/apply.js';
import type { Play } from './fixplay.js';

/** The store's own error for a file that cannot be read or written (what Store.guard throws). */
export const ioError = (p: Play) => new StoreError('io', `cannot read or write the mailhealth database ${p.dbPath} (SQLITE_IOERR: disk I/O error)`);

/** `store` with some methods replaced, the others bound to it. */
export function overriding(store: Store, methods: { [K in keyof Store]?: Store[K] }): History {
  return new Proxy(store, {
    get(target, prop) {
      const own = (methods as Record<string | symbol, unknown>)[prop];
      if (own) return own;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as History;
}

/** No trace of the store's own words in what a customer or a script reads. */
export function assertClean(p: Play, o: unknown): void {
  const text = JSON.stringify(o);
  assert.ok(!text.includes(p.dbPath), text);
  assert.doesNotMatch(text, /SQLITE_|mailhealth database|historyError/);
}
