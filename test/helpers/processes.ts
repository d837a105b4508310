// Real processes for the lock tests: one that just waits, and a hard kill of it (a holder that is gone).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A real process that just waits; resolved once it is running. `track`: a list to add it to (killed after the tests). */
export async function sleeper(track?: ChildProcess[]): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  track?.push(child);
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

/** SIGKILL, and wait until it has exited (and been reaped: the 'exit' event comes after waitpid). */
export async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
