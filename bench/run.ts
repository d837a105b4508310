// npm run bench [-- --domains N] [--json] [--concurrency C] [--threads T] [--passes K] [--thread-cpu] [--profile out.cpuprofile (+ out.cpuprofile.worker<i>.cpuprofile)]
// (npm run bench builds first and runs the compiled code in dist/, as the packaged plugin does; `npx tsx bench/run.ts`
// runs it from source.)
// Generates N synthetic domains, serves them from NSD on loopback (rate limiting off), runs the bulk audit through
// the files panel with history written to SQLite, then fires the same DNS queries with a minimal client (the floor).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver } from '../src/adapters/dns/resolver.js';
import { FilesPanel } from '../src/adapters/panels/files/index.js';
import { openStore } from '../src/adapters/store/store.js';
import { BULK_STORE_BATCH, bulkAudit, type BulkItem } from '../src/adapters/workers/bulk.js';
import type { PreparedAudit } from '../src/adapters/store/store.js';
import { startNsd } from './authoritative.js';
import { fireQueries } from './floor.js';
import { generate } from './generate.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v && !v.startsWith('--') ? v : 'true';
}

/** CPU seconds used so far by each live thread of this process, by thread id (Linux /proc; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/**
 * --thread-cpu: samples every thread's CPU every 50 ms during the audit phase (a thread's last sample stands for it
 * once it has ended) and gives the CPU used in the phase by: the main thread; the threads started during the phase
 * (the audit workers); the other threads that were there before (V8's background compilers and GC helpers, libuv's
 * pool). Node gives all its threads one name, so they are told apart by when they started.
 */
function threadCpuMeter(): { stop(): { main: number; workers: number; background: number } } {
  const start = threadCpu();
  const last = new Map(start);
  const sample = () => {
    for (const [t, v] of threadCpu()) last.set(t, v);
  };
  // unref: a run that fails before stop() must still let the process exit.
  const timer = setInterval(sample, 50).unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const out = { main: 0, workers: 0, background: 0 };
      for (const [t, cpu] of last) {
        const kind = t === String(process.pid) ? 'main' : start.has(t) ? 'background' : 'workers';
        out[kind] += cpu - (start.get(t) ?? 0);
      }
      return { main: +out.main.toFixed(2), workers: +out.workers.toFixed(2), background: +out.background.toFixed(2) };
    },
  };
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<number> {
  const n = Number(arg('domains', '10000'));
  // Domains in flight, and DNS queries in flight (shared among the audit's threads; the floor uses the same number).
  // 64 measured as fast as 128 or 256 on 2 cores, with less memory.
  const concurrency = Number(arg('concurrency', '64'));
  const json = arg('json') === 'true';
  if (!Number.isInteger(n) || n < 1) throw new Error('--domains takes a positive whole number');
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-bench-'));
  const log = (s: string) => !json && process.stderr.write(s + '\n');
  try {
    log(`generating ${n} domains in ${dir} …`);
    const g = generate(dir, n);
    // The generator's 20,000+ files go to disk now, not while the audit runs (their writeback is not the audit's cost).
    spawnSync('sync');
    const auth = await startNsd(dir, g.zones);
    try {
      // Wait until NSD answers (it loads the zones first).
      const probe = createResolver({ servers: [`127.0.0.1:${auth.port}`], timeoutMs: 500, tries: 1, cache: false });
      let ready = false;
      for (let i = 0; i < 120 && !ready; i++) {
        const a = await probe.resolve('benchhost.test', 'NS');
        ready = a.status === 'ok';
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      probe.close?.();
      if (!ready) throw new Error('NSD did not answer on loopback');
      log(`NSD on 127.0.0.1:${auth.port} serves ${g.zones.length} zones`);

      const panel = new FilesPanel(g.panelDir);
      const resolverOptions = { servers: [`127.0.0.1:${auth.port}`], timeoutMs: 2000, tries: 3, concurrency, recordAsked: true };
      // --threads N: audit on N worker threads; 0: on this thread only. Left out: the product's choice (bulkAudit: the
      // default number of workers from AUTO_PARALLEL_DOMAINS domains up, else this thread).
      const threadsArg = arg('threads');
      const threads = threadsArg === undefined ? undefined : Number(threadsArg);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) throw new Error('--threads takes a whole number (0: no worker threads)');
      // One audit phase: the bulk audit of every domain into a fresh history file. --passes K runs it K times in this
      // process (the reported numbers are the first pass's; later passes show the cost once this thread's JIT is warm —
      // worker threads are new each pass).
      const auditPhase = async (pass: number) => {
        const store = openStore(join(dir, `bench-${pass}.sqlite`));
        const runId = store.startRun('bulk', 'bench', n);
        const started = new Map<string, bigint>();
        const latencies: number[] = [];
        let sqliteNs = 0n;
        const batch: PreparedAudit[] = [];
        const flush = () => {
          const t = process.hrtime.bigint();
          store.recordPreparedAudits(runId, batch.splice(0));
          sqliteNs += process.hrtime.bigint() - t;
        };
        // --profile FILE: a CPU profile of the (last) audit phase only (not the generation, NSD start-up or floor); each
        // worker thread writes its own next to it (FILE.worker<i>.cpuprofile).
        const profileOut = pass === passes ? arg('profile') : undefined;
        const session = profileOut ? new Session() : null;
        if (session) {
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.start');
        }
        const meter = arg('thread-cpu') === 'true' ? threadCpuMeter() : null;
        const t0 = process.hrtime.bigint();
        const cpu0 = process.cpuUsage();
        const serverCpu0 = auth.cpuSeconds();
        // Streaming: audits go to SQLite as they finish, in batches as the CLI's `audit --all` writes them
        // (BULK_STORE_BATCH), and are not kept. (Until 2026-11-29 the batches were of 500, more than any of the product's
        // bulk writers holds — CLI 200, web jobs 100, nightly report 50 — and the findings documents waiting in them cost
        // 10–25 MB of peak RSS.)
        const statuses: Record<string, number> = { fail: 0, warn: 0, unknown: 0, pass: 0 };
        let audited = 0;
        const bulk = {
          concurrency,
          keepResults: false,
          onStart: (d: string) => started.set(d, process.hrtime.bigint()),
          onResult: (a: BulkItem) => {
            latencies.push(Number(process.hrtime.bigint() - started.get(a.domain)!) / 1e6);
            started.delete(a.domain);
            statuses[a.status] = (statuses[a.status] ?? 0) + 1;
            audited++;
            batch.push(a.prepared);
            if (batch.length >= BULK_STORE_BATCH) flush();
          },
        };
        // The product's bulk audit (CLI audit --all, web bulk jobs). --local 0: only the workers audit (this thread
        // reads the panel and writes SQLite).
        const wire = createResolver(resolverOptions);
        const lw = arg('local-weight');
        const run = await bulkAudit(
          g.domains,
          { panel, resolver: resolverOptions, inProcess: wire },
          {
            ...bulk,
            ...(threads !== undefined ? { threads } : {}),
            local: arg('local', '1') !== '0',
            ...(lw ? { localWeight: Number(lw) } : {}),
            ...(profileOut ? { profilePrefix: profileOut } : {}),
          },
        );
        // The floor fires exactly the distinct questions the audit put on the wire (the resolvers' run caches).
        const dns = run.dns ?? { stats: wire.stats(), asked: wire.asked() };
        wire.close();
        threadsUsed = run.threads;
        flush();
        store.finishRun(runId, 'complete');
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        const serverCpu1 = auth.cpuSeconds();
        const threadCpuSeconds = meter?.stop();
        if (session && profileOut) {
          const { profile } = await session.post('Profiler.stop');
          writeFileSync(profileOut, JSON.stringify(profile));
          session.disconnect();
        }
        store.close();
        // The process's high-water mark so far: after the first pass, that pass's peak (later passes could only raise it).
        const peakRssMb = process.resourceUsage().maxRSS / 1024;
        return { seconds, cpu, threadCpuSeconds, peakRssMb, serverCpu: serverCpu0 !== null && serverCpu1 !== null ? serverCpu1 - serverCpu0 : null, dns, statuses, audited, latencies, sqliteNs };
      };
      let threadsUsed = 0;
      const passes = Number(arg('passes', '1'));
      if (!Number.isInteger(passes) || passes < 1) throw new Error('--passes takes a positive whole number');
      const first = await auditPhase(1);
      const later: { seconds: number; cpuSeconds: number; audited: number }[] = [];
      for (let p = 2; p <= passes; p++) {
        const r = await auditPhase(p);
        later.push({ seconds: +r.seconds.toFixed(3), cpuSeconds: +((r.cpu.user + r.cpu.system) / 1e6).toFixed(3), audited: r.audited });
      }
      const { seconds, cpu, threadCpuSeconds, peakRssMb, serverCpu, dns, statuses, audited, latencies, sqliteNs } = first;
      const stats = dns.stats;
      const unknown = statuses.unknown;

      const floorCpu0 = process.cpuUsage();
      const floorServer0 = auth.cpuSeconds();
      const floor = await fireQueries(auth.port, dns.asked, concurrency);
      const floorCpu = process.cpuUsage(floorCpu0);
      const floorServer1 = auth.cpuSeconds();
      latencies.sort((a, b) => a - b);
      const result = {
        domains: n,
        audited,
        seconds: +seconds.toFixed(3),
        domainsPerSecond: +(n / seconds).toFixed(1),
        queries: stats.queries,
        queriesPerDomain: +(stats.queries / n).toFixed(2),
        cacheHitRate: +(stats.cacheHits / (stats.cacheHits + stats.queries)).toFixed(3),
        unknownAnswers: stats.unknown,
        domainsUnknown: unknown,
        p50Ms: +pct(latencies, 50).toFixed(2),
        p99Ms: +pct(latencies, 99).toFixed(2),
        peakRssMb: +peakRssMb.toFixed(1),
        sqliteWriteSeconds: +(Number(sqliteNs) / 1e9).toFixed(3),
        // CPU used during the audit phase: this process (all threads) and the DNS server — on 2 cores their sum over 2
        // is a lower bound on the audit's wall time.
        auditCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3),
        serverCpuSeconds: serverCpu !== null ? +serverCpu.toFixed(2) : null,
        ...(threadCpuSeconds ? { threadCpuSeconds } : {}),
        floorSeconds: +floor.seconds.toFixed(3),
        floorQueries: floor.answered,
        floorRetries: floor.retries,
        floorRatio: +(seconds / floor.seconds).toFixed(2),
        floorClientCpuSeconds: +((floorCpu.user + floorCpu.system) / 1e6).toFixed(3),
        floorServerCpuSeconds: floorServer0 !== null && floorServer1 !== null ? +(floorServer1 - floorServer0).toFixed(2) : null,
        concurrency,
        threads: threadsUsed,
        server: auth.kind,
        statuses,
        ...(later.length ? { laterPasses: later } : {}),
      };
      if (json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        const rows: [string, string][] = [
          ['domains', String(result.domains)],
          ['total seconds', String(result.seconds)],
          ['domains/s', String(result.domainsPerSecond)],
          ['DNS queries per domain', String(result.queriesPerDomain)],
          ['cache hit rate', String(result.cacheHitRate)],
          ['p50 / p99 per-domain latency (ms)', `${result.p50Ms} / ${result.p99Ms}`],
          ['peak RSS (MB)', String(result.peakRssMb)],
          ['SQLite write seconds', String(result.sqliteWriteSeconds)],
          ['CPU seconds during audit: mailhealth / DNS server', `${result.auditCpuSeconds} / ${result.serverCpuSeconds ?? 'n/a'}`],
          ['floor seconds (same queries, minimal client)', String(result.floorSeconds)],
          ['audit time / floor time', String(result.floorRatio)],
          ['DNS answers unknown (timeouts etc.)', String(result.unknownAnswers)],
          ['statuses', JSON.stringify(result.statuses)],
          ...(result.threadCpuSeconds
            ? [['CPU s by thread: main / workers / background', `${result.threadCpuSeconds.main} / ${result.threadCpuSeconds.workers} / ${result.threadCpuSeconds.background}`] as [string, string]]
            : []),
          ...later.map((l, i): [string, string] => [`pass ${i + 2}: seconds / CPU seconds`, `${l.seconds} / ${l.cpuSeconds}`]),
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(46)} ${v}\n`);
      }
      return 0;
    } finally {
      await auth.stop();
    }
  } finally {
    if (!process.env.MAILHEALTH_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (c) => (process.exitCode = c),
  (e) => {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
