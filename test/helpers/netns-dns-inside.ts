// The half of test/helpers/netns-dns.ts that runs inside the private network and mount namespace (`unshare -n -m`):
// points /etc/resolv.conf at 127.0.0.1 (a bind mount only this namespace sees), brings loopback up, serves the zone
// map on 127.0.0.1:53 with mailhealth's loopback DNS server, runs the commands one after the other and writes their
// outputs. Not a test file: started by runWithServedZones as `node --import tsx/loader netns-dns-inside.ts JOB`.
//
// It refuses to do anything unless its network and mount namespaces are not the ones of the process that started it:
// port 53 and the resolv.conf bind mount must never reach the host.
import { execFile, spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { decodeZones, type NetnsJob, type NetnsResult } from './netns-dns.js';

function fail(why: string): never {
  process.stderr.write(`netns-dns-inside: ${why}\n`);
  process.exit(2);
}

/** A system command that must succeed (mount, ip): its failure ends the run with its message. */
function must(file: string, args: string[]): void {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) fail(`${file} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
}

/** One command, run without blocking the event loop (the DNS server answering it lives in this process). */
function run(c: NetnsJob['commands'][number], timeoutMs: number): Promise<NetnsResult> {
  return new Promise((resolve) => {
    const child = execFile(c.file, [...c.args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      resolve({
        status: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout,
        stderr: e && typeof e.code === 'string' ? `${stderr}${e.message}` : stderr,
      });
    });
    if (c.input !== undefined) child.stdin?.end(c.input);
    else child.stdin?.end();
  });
}

const jobPath = process.argv[2];
if (!jobPath) fail('usage: netns-dns-inside.ts JOB.json');
const job = JSON.parse(readFileSync(jobPath, 'utf8')) as NetnsJob;

for (const ns of ['net', 'mnt'] as const) {
  if (readlinkSync(`/proc/self/ns/${ns}`) === job.outside[ns]) fail(`still in the starting ${ns} namespace: refusing to bind port 53 or mount over /etc/resolv.conf`);
}

const resolvConf = join(job.dir, 'resolv.conf');
writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions attempts:2 timeout:2\n');
must('mount', ['--bind', resolvConf, '/etc/resolv.conf']);
must('ip', ['link', 'set', 'lo', 'up']);

let server: DnsServer;
try {
  server = await startDnsServer({ data: decodeZones(job.zones), port: 53 });
} catch (e) {
  fail(`the DNS server could not start on 127.0.0.1:53: ${(e as Error).message}`);
}

// It answers before anything is asked of it: a question to 127.0.0.1:53 through a stub resolver (an NXDOMAIN is an
// answer too). Retries are the stub's, bounded; a server that never answers ends the run with the reason.
const probe = new Resolver({ timeout: 2000, tries: 3 });
probe.setServers(['127.0.0.1']);
try {
  await probe.resolveTxt('netns-probe.invalid');
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'ENOTFOUND' && code !== 'ENODATA') fail(`the DNS server on 127.0.0.1:53 does not answer: ${code ?? (e as Error).message}`);
}

const results: NetnsResult[] = [];
for (const c of job.commands) results.push(await run(c, job.timeoutMs));
await server.close();
writeFileSync(join(job.dir, 'results.json'), JSON.stringify(results));
