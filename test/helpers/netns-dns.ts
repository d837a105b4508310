// Judges that look records up through the system's DNS (libresolv: /etc/resolv.conf and port 53, no option to point it
// at another server or port), run against a zone map mailhealth's loopback DNS server serves. (A judge resolving with
// libunbound, as Debian's OpenDKIM does, recurses from the root servers itself unless its configuration forwards to
// 127.0.0.1: see test/e2e/dkim-opendkim-testkey.test.ts.)
//
// runWithServedZones starts a private network + mount namespace (`unshare -n -m`, as root), and in it
// (test/helpers/netns-dns-inside.ts): bind-mounts a resolv.conf saying `nameserver 127.0.0.1` over /etc/resolv.conf,
// brings loopback up, serves the map on 127.0.0.1:53 (src/adapters/dns/server.ts), waits until it answers, runs the
// commands one after the other and hands back each one's exit status and output. The namespace holds nothing but
// loopback: the commands reach no network, and nothing outside it sees port 53 or the resolv.conf (the inside script
// refuses to start unless both namespaces are new ones).
//
// netnsSkip() says why that cannot be done here (not root, no unshare/ip/mount, namespaces not permitted — tried once),
// for `describe(…, { skip })`: such tests skip, never fail, where namespaces cannot be made.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServedData, ServedZoneMap } from '../../src/adapters/dns/server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const INSIDE = join(HERE, 'netns-dns-inside.ts');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface NetnsCommand {
  file: string;
  args: readonly string[];
  /** Written to its stdin (else stdin is closed at once). */
  input?: string;
}

export interface NetnsResult {
  /** Exit status; null when it was killed (signal) or could not start (the reason is at the end of stderr). */
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** What the inside script reads (JSON). */
export interface NetnsJob {
  dir: string;
  /** The starting process's namespaces (readlink of /proc/self/ns/*): the inside script refuses to run in them. */
  outside: { net: string; mnt: string };
  zones: EncodedZones;
  commands: NetnsCommand[];
  /** Per command: a guard against a judge that hangs, not a measure of anything. */
  timeoutMs: number;
}

// TXT strings may be Buffers (octets that are not UTF-8): JSON carries them as {hex}.
type Encoded<T> = T extends Buffer ? { hex: string } : T extends (infer U)[] ? Encoded<U>[] : T extends object ? { [K in keyof T]: Encoded<T[K]> } : T;
type EncodedZones = Record<string, Encoded<ServedData>>;

function encodeZones(map: ServedZoneMap): EncodedZones {
  return JSON.parse(JSON.stringify(map, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data) ? { hex: Buffer.from((v as { data: number[] }).data).toString('hex') } : v))) as EncodedZones;
}

/** The zone map as the inside script serves it (the inverse of encodeZones). */
export function decodeZones(zones: EncodedZones): ServedZoneMap {
  const text = JSON.stringify(zones);
  return JSON.parse(text, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { hex?: unknown }).hex === 'string' ? Buffer.from((v as { hex: string }).hex, 'hex') : v)) as ServedZoneMap;
}

const INSTALL = 'apt-get install util-linux iproute2; run the tests as root where unshare -n -m is permitted';
let skipReason: string | undefined | null = null;

/** Why judges cannot be run in a private namespace here (undefined when they can); asked once per process. */
export function netnsSkip(): string | undefined {
  if (skipReason !== null) return skipReason;
  skipReason = findSkip();
  return skipReason;
}

function findSkip(): string | undefined {
  if (process.platform !== 'linux') return 'private network namespaces are Linux only';
  if (process.getuid?.() !== 0) return `not root: a private network and mount namespace (unshare -n -m) needs root (${INSTALL})`;
  for (const [tool, arg] of [
    ['unshare', '--version'],
    ['ip', '-V'],
    ['mount', '--version'],
  ] as const) {
    if (spawnSync(tool, [arg], { stdio: 'ignore' }).status !== 0) return `no ${tool} runs (${INSTALL})`;
  }
  if (!existsSync('/etc/resolv.conf')) return 'no /etc/resolv.conf to bind-mount over inside the namespace';
  if (!existsSync(TSX)) return `no tsx loader at ${TSX} (npm ci)`;
  // Tried once: a container without CAP_SYS_ADMIN, or a kernel that forbids it, refuses here.
  const tried = spawnSync('unshare', ['-n', '-m', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (tried.status !== 0) return `private namespaces are not permitted here (unshare -n -m: ${(tried.stderr || tried.error?.message || `exit ${tried.status}`).trim().split('\n')[0]})`;
  return undefined;
}

/**
 * Runs `commands` one after the other inside a private network + mount namespace whose only DNS server is
 * mailhealth's loopback server serving `zones` on 127.0.0.1:53 (and whose /etc/resolv.conf says so). Resolves with
 * one result per command, in order; rejects when the namespace or the server could not be set up (call netnsSkip()
 * first). `timeoutMs` per command is only a guard against a hang.
 */
export async function runWithServedZones(zones: ServedZoneMap, commands: readonly NetnsCommand[], opts: { timeoutMs?: number } = {}): Promise<NetnsResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mh-netns-'));
  try {
    const job: NetnsJob = {
      dir,
      outside: { net: readlinkSync('/proc/self/ns/net'), mnt: readlinkSync('/proc/self/ns/mnt') },
      zones: encodeZones(zones),
      commands: [...commands],
      timeoutMs: opts.timeoutMs ?? 60_000,
    };
    const jobPath = join(dir, 'job.json');
    writeFileSync(jobPath, JSON.stringify(job));
    // --propagation private (unshare's default for -m, said explicitly): the bind mount never propagates out.
    const child = spawn('unshare', ['-n', '-m', '--propagation', 'private', process.execPath, '--import', TSX, INSIDE, jobPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('close', (c) => res(c));
    });
    const resultsPath = join(dir, 'results.json');
    if (code !== 0 || !existsSync(resultsPath)) throw new Error(`the private-namespace DNS run failed (exit ${code}): ${out.trim()}`);
    return JSON.parse(readFileSync(resultsPath, 'utf8')) as NetnsResult[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
