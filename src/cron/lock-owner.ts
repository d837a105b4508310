// Who holds the report lock, and whether that process is gone. The owner string names the host and the pid, and —
// written by this version on Linux — the process's pid namespace and start time (/proc/<pid>/stat field 22, clock
// ticks after boot), so a pid the kernel has since given to another process is not taken for the holder.
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

/** `report:<host>:<pid>:<random>[:ns<pid namespace>:st<start ticks>]` for the process `pid` (default: this one). */
export function reportLockOwner(pid = process.pid): string {
  const stamp = processStamp(pid);
  return `report:${hostname()}:${pid}:${randomBytes(4).toString('hex')}${stamp ? `:${stamp}` : ''}`;
}

export interface ParsedOwner {
  host: string;
  pid: number;
  ns: string | null;
  startTicks: string | null;
}

export function parseReportLockOwner(owner: string): ParsedOwner | null {
  const m = /^report:(.+):([0-9]{1,10}):([0-9a-f]{8})(?::ns([0-9]+):st([0-9]+))?$/.exec(owner);
  if (!m) return null;
  const pid = Number(m[2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return { host: m[1], pid, ns: m[4] ?? null, startTicks: m[5] ?? null };
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
 * Whether the report lock's holder is known to be gone: a process of this host (and this pid namespace) that no
 * longer exists, has exited (a zombie not yet reaped), or whose pid now belongs to a process started at another time.
 * `dead: false` covers everything else — a live holder, another host, an owner that records no start time (written
 * by an older version, or another tool), a process /proc does not show — so the caller keeps refusing when unsure.
 */
export function reportLockHolderGone(owner: string): { dead: boolean; why: string } {
  const o = parseReportLockOwner(owner);
  if (!o) return { dead: false, why: 'not a report lock owner this version can judge' };
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
