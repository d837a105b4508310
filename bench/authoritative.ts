// Start a real authoritative server (Debian's NSD) on loopback for the benchmark, with rate limiting off.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Authoritative {
  port: number;
  kind: string;
  stop(): Promise<void>;
  /** CPU seconds (user + system) the server's processes have used so far; null where /proc cannot tell. */
  cpuSeconds(): number | null;
}

/** CPU seconds of a process and its live descendants, from /proc (Linux). */
export function processTreeCpuSeconds(pid: number): number | null {
  const tick = 100; // USER_HZ on Linux
  const seen = new Set<number>();
  let total = 0;
  const visit = (p: number): boolean => {
    if (seen.has(p)) return true;
    seen.add(p);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      return false;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(f[11]) + Number(f[12])) / tick; // utime, stime (fields 14 and 15)
    let kids: string[] = [];
    try {
      kids = readdirSync(`/proc/${p}/task`).flatMap((t) => readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    } catch {
      /* no children list */
    }
    for (const k of kids) visit(Number(k));
    return true;
  };
  return visit(pid) ? total : null;
}

export const NSD_BIN = process.env.MAILHEALTH_NSD ?? '/usr/sbin/nsd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export function nsdMissingMessage(): string {
  return `NSD is not installed (${NSD_BIN} missing). Install it with: apt-get update && apt-get install -y nsd   (or set MAILHEALTH_NSD to its path)`;
}

/** What ensureNsd needs from the machine (tests give their own). */
export interface InstallDeps {
  exists(path: string): boolean;
  /** Runs a command with its output on stderr (stdout stays the benchmark's); gives its exit status. */
  run(cmd: string, args: string[]): number;
  log(line: string): void;
  isRoot: boolean;
  /** false: never install (MAILHEALTH_BENCH_NO_INSTALL=1, or MAILHEALTH_NSD names another binary). */
  mayInstall: boolean;
}

function machineDeps(): InstallDeps {
  return {
    exists: existsSync,
    run: (cmd, args) =>
      spawnSync(cmd, args, { stdio: ['ignore', process.stderr, process.stderr], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status ?? 1,
    log: (line) => process.stderr.write(line + '\n'),
    isRoot: process.getuid?.() === 0,
    mayInstall: process.env.MAILHEALTH_BENCH_NO_INSTALL !== '1' && process.env.MAILHEALTH_NSD === undefined,
  };
}

/**
 * NSD, installed from Debian's packages when it is missing and this runs as root with apt-get (as the benchmark's
 * issue asks); otherwise an error that says how to install it.
 */
export function ensureNsd(deps: InstallDeps = machineDeps()): void {
  if (deps.exists(NSD_BIN)) return;
  if (!deps.mayInstall || !deps.isRoot || !deps.exists('/usr/bin/apt-get')) throw new Error(nsdMissingMessage());
  deps.log(
    'NSD is not installed: installing it (apt-get install -y nsd; MAILHEALTH_BENCH_NO_INSTALL=1 skips this). The benchmark runs its own NSD on a ' +
      'free loopback port; on a machine with systemd the package also starts the system nsd service (systemctl disable --now nsd stops it) …',
  );
  // The package lists may be stale or absent on a fresh machine: update once if the first try fails.
  if (deps.run('apt-get', ['install', '-y', 'nsd']) !== 0 || !deps.exists(NSD_BIN)) {
    deps.run('apt-get', ['update']);
    deps.run('apt-get', ['install', '-y', 'nsd']);
  }
  if (!deps.exists(NSD_BIN)) throw new Error(`installing NSD with apt-get did not work. ${nsdMissingMessage()}`);
}

export async function startNsd(dir: string, zones: [string, string][]): Promise<Authoritative> {
  ensureNsd();
  const port = await freePort();
  const conf = join(dir, 'nsd.conf');
  const lines = [
    'server:',
    `  port: ${port}`,
    '  ip-address: 127.0.0.1',
    '  do-ip6: no',
    '  username: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    '  database: ""',
    '  verbosity: 0',
    '  server-count: 1',
    '  hide-version: yes',
    '  # NSD rate-limits identical answers by default (RRL): off, or repeated includes are dropped and read as timeouts.',
    '  rrl-ratelimit: 0',
    '  rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '  control-enable: no',
  ];
  for (const [origin, file] of zones) lines.push('zone:', `  name: "${origin}"`, `  zonefile: "${file}"`);
  writeFileSync(conf, lines.join('\n') + '\n');
  const check = spawnSync('/usr/sbin/nsd-checkconf', [conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nsd-checkconf rejected the config: ${check.stderr || check.stdout}`);
  const child: ChildProcess = spawn(NSD_BIN, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    kind: 'nsd',
    cpuSeconds: () => (child.pid ? processTreeCpuSeconds(child.pid) : null),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (stderr && process.env.MAILHEALTH_BENCH_DEBUG) process.stderr.write(stderr);
    },
  };
}
