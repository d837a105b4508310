// Who holds the report lock, and whether that process is gone: the one rule every lock of a process follows
// (src/adapters/store/lock-owner.ts), with owners `report:<host>:<pid>:<random>[:ns<pid namespace>:st<start ticks>]`.
import { lockHolderGone, parseLockOwner, processLockOwner } from '../adapters/store/lock-owner.js';

/** The report lock's owner for the process `pid` (default: this one). */
export function reportLockOwner(pid = process.pid): string {
  return processLockOwner('report', { pid, randomBytes: 4 });
}

/**
 * Whether the report lock's holder is known to be gone (lockHolderGone). An owner that is not a report lock's (written
 * by another tool) is never judged gone: the caller keeps refusing when unsure.
 */
export function reportLockHolderGone(owner: string): { dead: boolean; why: string } {
  if (parseLockOwner(owner)?.prefix !== 'report') return { dead: false, why: 'not a report lock owner this version can judge' };
  return lockHolderGone(owner);
}
