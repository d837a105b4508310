// Who holds a lock in the history database, and whether that process is gone: one rule for every lock a process takes
// for itself (a fix's per-domain lock, the nightly report's lock). The owner string names the host and the pid, and —
// on Linux — the process's pid namespace and start time (/proc/<pid>/stat field 22, clock ticks after boot), so a pid
// the kernel has since given to another process is not taken for the holder:
//   <prefix>:<host>:<pid>:<random hex>[:ns<pid namespace>:st<start ticks>]
// It reads this host's process table (/proc, signal 0), so it is an adapter: core's fixes get it through the history
// (Store.lockOwner / Store.lockHolderGone), the nightly report through src/cron/lock-owner.ts (`report:…` owners).
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process's state letter and start time (clock ticks after boot, as text), from /proc; null when unreadable. */
export function procStat(pid: number): { state: string; startTicks: string } | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // no /proc, or hidden (hidepid): not known
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).trim().split(/\s+/);
  const state = f[0]; // field 3
  const start = f[19]; // field 22
  if (!state || !start || !/^[0-9]+$/.test(start)) return null;
  return { state, startTicks: start };
}

/** This process's pid namespace (the inode of /proc/self/ns/pid); null when unknown. */
function pidNamespace(): string | null {
  try {
    return /^pid:\[([0-9]+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The part of an owner string that says which process it is: `ns<pid namespace>:st<start ticks>`; '' when unknown. */
export function processStamp(pid: number): string {
  const ns = pidNamespace();
  const st = procStat(pid);
  return ns && st ? `ns${ns}:st${st.startTicks}` : '';
}

/** This process's own stamp, read once (its namespace and start time never change; a fix takes a lock per domain). */
let ownStamp: string | null = null;

/**
 * `<prefix>:<host>:<pid>:<random>[:ns<pid namespace>:st<start ticks>]` for this process (or `pid`). `randomBytes` bytes
 * of randomness (hex) keep two holders of one process apart.
 */
export function processLockOwner(prefix: string, opts: { pid?: number; randomBytes?: number } = {}): string {
  const pid = opts.pid ?? process.pid;
  const stamp = pid === process.pid ? (ownStamp ??= processStamp(pid)) : processStamp(pid);
  return `${prefix}:${hostname()}:${pid}:${randomBytes(opts.randomBytes ?? 6).toString('hex')}${stamp ? `:${stamp}` : ''}`;
}

export interface ParsedOwner {
  prefix: string;
  host: string;
  pid: number;
  ns: string | null;
  startTicks: string | null;
}

/**
 * An owner string processLockOwner wrote, read from its end (the prefix — a user name — may itself hold colons); null
 * for anything else (an owner written by an older version — `<user>:<pid>:<random>` —, a name such as `settle-later:…`
 * that names no process): such a holder is never judged gone, its lease decides.
 */
export function parseLockOwner(owner: string): ParsedOwner | null {
  const m = /^(.+):([^:]+):([0-9]{1,10}):([0-9a-f]{8,32})(?::ns([0-9]+):st([0-9]+))?$/.exec(owner);
  if (!m) return null;
  const pid = Number(m[3]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { prefix: m[1], host: m[2], pid, ns: m[5] ?? null, startTicks: m[6] ?? null };
}

/** Whether a process with this pid exists (another user's too: EPERM); only ESRCH says it does not. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether a lock's holder is known to be gone: a process of this host (and this pid namespace) that no longer exists,
 * has exited (a zombie not yet reaped), or whose pid now belongs to a process started at another time. `dead: false`
 * covers everything else — a live holder, another host, an owner that records no start time (written by an older
 * version, or on a system without /proc), a process /proc does not show — so the caller waits for the lease when unsure.
 */
export function lockHolderGone(owner: string): { dead: boolean; why: string } {
  const o = parseLockOwner(owner);
  if (!o) return { dead: false, why: 'not a lock owner this version can judge' };
  if (o.host !== hostname()) return { dead: false, why: `held on another host (${o.host})` };
  if (o.ns === null || o.startTicks === null) return { dead: false, why: 'the owner records no process start time' };
  if (o.ns !== pidNamespace()) return { dead: false, why: 'held in another pid namespace (another container)' };
  if (!pidExists(o.pid)) return { dead: true, why: `process ${o.pid} is no longer running` };
  const st = procStat(o.pid);
  if (!st) return { dead: false, why: `process ${o.pid} exists but /proc does not show it` };
  if (st.state === 'Z' || st.state === 'X') return { dead: true, why: `process ${o.pid} has exited` };
  if (st.startTicks !== o.startTicks) return { dead: true, why: `process ${o.pid} is no longer running (the pid now belongs to another process)` };
  return { dead: false, why: `process ${o.pid} is running` };
}
