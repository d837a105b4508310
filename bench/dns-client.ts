// npx tsx bench/dns-client.ts [--domains N] [--concurrency C] [--reps R] [--only resolver,client,floor,floor-each] [--queries FILE] [--save FILE] [--profile FILE] [--json]
// Micro-benchmark of our DNS client against the minimal floor client (bench/floor.ts), on the bench's own query set:
// generates the N bench domains, serves them from NSD on loopback (bench/authoritative.ts), collects the distinct
// questions a bulk audit of them puts on the wire (or loads them from --queries FILE, written earlier by --save FILE),
// then fires that set R times through each client, alternating, C queries in flight:
//   resolver  createResolver({ cache: false }).resolve() (what the audit calls, cache off: every ask is a query)
//   client    DnsClient.query() directly (the transport alone, no resolver layers)
//   floor     fireQueries() of bench/floor.ts (one socket, pre-encoded packets, ids matched, nothing parsed)
//   floor-each  the same, each freed slot refilled inside its answer's callback (as the floor before 2026-11-26 did; it
//             also sent on an unconnected socket and armed a timer per question)
// and reports CPU µs per query of this process (process.cpuUsage: user + system, GC included) and of NSD.
// --profile FILE: a V8 CPU profile of the measured rounds only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver } from '../src/adapters/dns/resolver.js';
import { DnsClient, type QTypeName } from '../src/adapters/dns/wire.js';
import { FilesPanel } from '../src/adapters/panels/files/index.js';
import { auditMany } from '../src/core/audit.js';
import type { RRType } from '../src/core/resolver.js';
import { startNsd } from './authoritative.js';
import { fireQueries } from './floor.js';
import { generate } from './generate.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v && !v.startsWith('--') ? v : 'true';
}

type Question = { name: string; type: RRType };

/** Keep `concurrency` calls of `ask` in flight until every question was asked; the number of failed answers. */
async function pump(questions: Question[], concurrency: number, ask: (q: Question) => Promise<boolean>): Promise<number> {
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < questions.length) {
      const q = questions[next++];
      if (!(await ask(q))) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, questions.length) }, lane));
  return failed;
}

async function main(): Promise<void> {
  const n = Number(arg('domains', '10000'));
  const concurrency = Number(arg('concurrency', '256'));
  const reps = Math.max(1, Number(arg('reps', '3')));
  const json = arg('json') === 'true';
  const log = (s: string) => !json && process.stderr.write(s + '\n');
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-dns-client-'));
  try {
    const g = generate(dir, n);
    const auth = await startNsd(dir, g.zones);
    try {
      const server = `127.0.0.1:${auth.port}`;
      const probe = createResolver({ servers: [server], timeoutMs: 500, tries: 1, cache: false });
      let ready = false;
      for (let i = 0; i < 120 && !ready; i++) {
        ready = (await probe.resolve('benchhost.test', 'NS')).status === 'ok';
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      probe.close();
      if (!ready) throw new Error('NSD did not answer on loopback');

      let questions: Question[];
      const from = arg('queries');
      if (from) questions = JSON.parse(readFileSync(from, 'utf8')) as Question[];
      else {
        log(`auditing ${n} domains once to collect the questions a bulk audit asks …`);
        const collect = createResolver({ servers: [server], timeoutMs: 2000, tries: 3, concurrency, recordAsked: true });
        await auditMany(g.domains, { panel: new FilesPanel(g.panelDir), resolver: collect }, { concurrency, keepResults: false });
        questions = collect.asked();
        collect.close();
      }
      const save = arg('save');
      if (save) writeFileSync(save, JSON.stringify(questions));
      log(`${questions.length} questions, ${reps} rounds, ${concurrency} in flight`);

      const rows: Record<string, { seconds: number[]; cpuMicrosPerQuery: number[]; serverCpuMicrosPerQuery: (number | null)[]; failed: number[] }> = {};
      const only = new Set((arg('only') ?? 'resolver,client,floor').split(','));
      const measure = async (label: string, run: () => Promise<number>) => {
        if (!only.has(label)) return;
        const row = (rows[label] ??= { seconds: [], cpuMicrosPerQuery: [], serverCpuMicrosPerQuery: [], failed: [] });
        const s0 = auth.cpuSeconds();
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const failed = await run();
        row.seconds.push(+(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3));
        const c = process.cpuUsage(c0);
        const s1 = auth.cpuSeconds();
        row.cpuMicrosPerQuery.push(+((c.user + c.system) / questions.length).toFixed(2));
        row.serverCpuMicrosPerQuery.push(s0 !== null && s1 !== null ? +(((s1 - s0) * 1e6) / questions.length).toFixed(2) : null);
        row.failed.push(failed);
      };
      const profileOut = arg('profile');
      const session = profileOut ? new Session() : null;
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      for (let rep = 0; rep < reps; rep++) {
        await measure('resolver', async () => {
          const r = createResolver({ servers: [server], timeoutMs: 2000, tries: 3, concurrency, cache: false });
          const failed = await pump(questions, concurrency, async (q) => (await r.resolve(q.name, q.type)).status !== 'unknown');
          r.close();
          return failed;
        });
        await measure('client', async () => {
          const c = new DnsClient({ timeoutMs: 2000, tries: 3 });
          const addr = [{ host: '127.0.0.1', port: auth.port, family: 4 as const }];
          const failed = await pump(questions, concurrency, async (q) => (await c.query(addr, q.name, q.type as QTypeName)).kind === 'response');
          c.close();
          return failed;
        });
        await measure('floor', async () => {
          const f = await fireQueries(auth.port, questions, concurrency);
          return questions.length - f.answered;
        });
        await measure('floor-each', async () => {
          const f = await fireQueries(auth.port, questions, concurrency, 'each');
          return questions.length - f.answered;
        });
      }
      if (session && profileOut) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(profileOut, JSON.stringify(profile));
        session.disconnect();
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const result = {
        domains: n,
        questions: questions.length,
        concurrency,
        reps,
        ...Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { ...v, medianCpuMicrosPerQuery: median(v.cpuMicrosPerQuery) }])),
      };
      if (json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        for (const [k, v] of Object.entries(rows)) {
          process.stdout.write(
            `${k.padEnd(10)} seconds ${v.seconds.join(' ')}  CPU µs/query median ${median(v.cpuMicrosPerQuery).toFixed(2).padStart(7)}  runs ${v.cpuMicrosPerQuery.join(' ')}  NSD µs/query ${v.serverCpuMicrosPerQuery.join(' ')}  unanswered ${v.failed.join(' ')}\n`,
          );
        }
      }
    } finally {
      await auth.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`dns-client: ${(e as Error).stack}\n`);
  process.exitCode = 2;
});
