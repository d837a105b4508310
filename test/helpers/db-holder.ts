// Another process's write transaction on a history database file: a second better-sqlite3 connection that begins an
// IMMEDIATE transaction on demand (hold) and commits it on release — the store's own connection then finds the
// database busy (SQLITE_BUSY after its busy timeout), as when another mailhealth process writes for longer.
import Database from 'better-sqlite3';

export interface DbHolder {
  readonly held: boolean;
  hold(): void;
  release(): void;
  close(): void;
}

export function holder(path: string): DbHolder {
  const db = new Database(path);
  let held = false;
  return {
    get held() {
      return held;
    },
    hold() {
      if (held) return;
      db.exec('BEGIN IMMEDIATE');
      db.prepare(`INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('test.hold', '1', 'x')`).run();
      held = true;
    },
    release() {
      if (!held) return;
      db.exec('COMMIT');
      held = false;
    },
    close() {
      this.release();
      db.close();
    },
  };
}
