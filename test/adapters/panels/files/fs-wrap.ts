// Replacing node:fs functions the files panel calls, for one test (syncBuiltinESMExports updates the panel's named
// imports): write-safety and mutants-write make "another writer" act at an exact step of a write this way.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export type FsName = 'writeFileSync' | 'chmodSync' | 'chownSync' | 'renameSync' | 'unlinkSync' | 'linkSync';

/** A wrapFs whose replacements `restore` (run after each test, last first) puts back. */
export function fsWrapper(restore: (() => void)[]) {
  /** Replace a node:fs function for this test (the panel's named imports see it); `orig` is the real one. */
  return function wrapFs<K extends FsName>(name: K, wrap: (orig: (typeof fs)[K]) => (typeof fs)[K]): void {
    const orig = fs[name];
    (fs as Record<FsName, unknown>)[name] = wrap(orig);
    syncBuiltinESMExports();
    restore.push(() => {
      (fs as Record<FsName, unknown>)[name] = orig;
      syncBuiltinESMExports();
    });
  };
}

/** A write's temp file next to the zone. */
export const isTemp = (p: unknown): boolean => /\.mailhealth-\d+\.tmp$/.test(String(p));
