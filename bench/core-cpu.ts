// npx tsx bench/core-cpu.ts [--domains N] [--reps R] [--concurrency C] [--dir DIR] [--golden FILE] [--profile FILE]
//                            [--alloc-profile FILE] [--checks spf,dkim,…] [--unknown-every K] [--json]
// CPU the pure audit (auditMany → auditDomain → checks, classifier, knowledge) spends per domain, with panel reads and
// DNS taken out of the picture: the benchmark's domains (bench/generate.ts) are generated once into DIR (kept, so the
// same keys give the same results run after run), each domain's Zone and MailSettings are read once through the files
// panel into memory, and DNS is answered from an in-memory map built from the same zone files. Like the wire resolver,
// the fake resolver caches per run and hands out the same Promise for a repeated question, so it costs about what the
// wire resolver's cache costs and no more; that share is reported on its own (fakeDnsCpuSeconds: the same questions
// replayed against a fresh fake, no audit around them).
//
// Passes: a cold pass (fresh process caches, results kept → golden dump), R timed streaming passes (as the bench and
// the nightly report run), and a last kept pass whose results must equal the cold pass's (warm caches change nothing).
// --golden FILE writes the audits as JSON lines sorted by domain, auditedAt removed: diff it before/after a change.
// --profile FILE: a V8 CPU profile of the timed passes; --alloc-profile FILE: a sampling heap profile of what they
// allocate, garbage included (open either in Chrome DevTools). --unknown-every K: about one question in K (chosen by a
// hash of the question, so every run picks the same ones) answers `unknown` (timeout), to compare the DNS-trouble paths
// of every check before/after a change as well.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { FilesPanel } from '../src/adapters/panels/files/index.js';
import { parseZoneFile } from '../src/adapters/panels/files/zonefile.js';
import { auditMany } from '../src/core/audit.js';
import type { CheckName, DomainAudit, MailSettings, Zone } from '../src/core/model.js';
import type { Panel } from '../src/core/panel.js';
import type { Answer, RecordData, Resolver, RRType } from '../src/core/resolver.js';
import { generate } from './generate.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v && !v.startsWith('--') ? v : 'true';
}

// ------------------------------------------------------------------------------------------- the generated world

interface World {
  domains: string[];
  /** [origin, file] of every zone the authoritative server would load. */
  zones: [string, string][];
  panelDir: string;
}

/** Generate into `dir` once; later runs reuse it (same RSA keys → same results to diff). */
function world(dir: string, n: number): World {
  const panelDir = join(dir, 'panel');
  if (existsSync(join(panelDir, 'panel.json'))) {
    const cfg = JSON.parse(readFileSync(join(panelDir, 'panel.json'), 'utf8')) as { accounts: { domains?: string[] }[] };
    const all = cfg.accounts.flatMap((a) => a.domains ?? []);
    if (all.length >= n) {
      const zones: [string, string][] = all.map((d) => [d, join(panelDir, 'zones', `${d}.db`)]);
      for (const f of readdirSync(join(dir, 'world'))) zones.push([f.replace(/\.db$/, ''), join(dir, 'world', f)]);
      return { domains: all.slice(0, n), zones, panelDir };
    }
  }
  const g = generate(dir, n);
  return { domains: g.domains, zones: g.zones, panelDir: g.panelDir };
}

// ------------------------------------------------------------------------------------------- in-memory DNS

type Rdata = RecordData[RRType];
interface ZoneData {
  origin: string;
  /** name → type → records, in the shapes the wire resolver returns. */
  names: Map<string, Map<string, Rdata[]>>;
  /** Names that exist only because something lives below them (empty non-terminals → NODATA, not NXDOMAIN). */
  ents: Set<string>;
}

function loadDns(zones: [string, string][]): Map<string, ZoneData> {
  const out = new Map<string, ZoneData>();
  for (const [origin, file] of zones) {
    const parsed = parseZoneFile(readFileSync(file, 'utf8'), origin);
    const z: ZoneData = { origin: parsed.origin, names: new Map(), ents: new Set() };
    for (const r of parsed.records) {
      let rd: Rdata;
      switch (r.type) {
        case 'A':
        case 'AAAA':
          rd = r.rdata[0];
          break;
        case 'NS':
        case 'CNAME':
        case 'PTR':
          rd = r.rdata[0];
          break;
        case 'MX':
          rd = { priority: Number(r.rdata[0]), exchange: r.rdata[1] === '.' ? '' : r.rdata[1] };
          break;
        case 'TXT':
          rd = r.txt ?? [];
          break;
        default:
          rd = r.rdata.join(' ');
      }
      let types = z.names.get(r.name);
      if (!types) z.names.set(r.name, (types = new Map()));
      let list = types.get(r.type);
      if (!list) types.set(r.type, (list = []));
      list.push(rd);
      for (let n = r.name; n !== z.origin && n.includes('.'); ) {
        n = n.slice(n.indexOf('.') + 1);
        z.ents.add(n);
      }
    }
    out.set(z.origin, z);
  }
  return out;
}

/** A resolver over the map, with the wire resolver's per-run cache (same Promise for a repeated question). */
/** FNV-1a of a question: picks the questions that time out under --unknown-every, the same ones in every run. */
function questionHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function memoryResolver(dns: Map<string, ZoneData>, unknownEvery = 0): Resolver & { questions: () => number; hits: () => number } {
  const cache = new Map<string, Promise<Answer>>();
  let hits = 0;
  function zoneOf(name: string): ZoneData | null {
    for (let n = name; ; ) {
      const z = dns.get(n);
      if (z) return z;
      const dot = n.indexOf('.');
      if (dot < 0) return null;
      n = n.slice(dot + 1);
    }
  }
  function answer<T extends RRType>(name: string, type: T): Answer<T> {
    const chain: string[] = [];
    let cur = name;
    for (let hop = 0; hop < 8; hop++) {
      const z = zoneOf(cur);
      if (!z) return { name, type, status: 'unknown', records: [], error: 'refused' };
      const types = z.names.get(cur);
      const cnames = chain.length ? { cnames: chain } : {};
      if (!types) return { name, type, status: z.ents.has(cur) || cur === z.origin ? 'nodata' : 'nxdomain', records: [], ...cnames };
      const own = types.get(type);
      if (own) return { name, type, status: 'ok', records: own as RecordData[T][], ...cnames };
      const cn = types.get('CNAME');
      if (cn && type !== 'CNAME') {
        cur = cn[0] as string;
        chain.push(cur);
        continue;
      }
      return { name, type, status: 'nodata', records: [], ...cnames };
    }
    return { name, type, status: 'unknown', records: [], error: 'servfail' };
  }
  return {
    reportsCnames: true,
    resolve<T extends RRType>(raw: string, type: T): Promise<Answer<T>> {
      const lower = raw.toLowerCase();
      const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
      const key = `${type} ${name}`;
      const hit = cache.get(key);
      if (hit) {
        hits++;
        return hit as Promise<Answer<T>>;
      }
      const a: Answer<T> =
        unknownEvery > 0 && questionHash(key) % unknownEvery === 0 ? { name, type, status: 'unknown', records: [], error: 'timeout' } : answer(name, type);
      const p = Promise.resolve(a);
      if (a.status !== 'unknown') cache.set(key, p as Promise<Answer>);
      return p;
    },
    questions: () => cache.size,
    hits: () => hits,
  };
}

// ------------------------------------------------------------------------------------------- pre-read panel

async function memoryPanel(panelDir: string, domains: string[]): Promise<Panel> {
  const files = new FilesPanel(panelDir);
  const zones = new Map<string, Zone>();
  const settings = new Map<string, MailSettings>();
  for (const d of domains) {
    zones.set(d, await files.readZone(d));
    settings.set(d, await files.readMailSettings(d));
  }
  const panel: Panel = Object.create(files) as Panel;
  panel.readZone = async (d: string) => zones.get(d)!;
  panel.readMailSettings = async (d: string) => settings.get(d)!;
  return panel;
}

// ------------------------------------------------------------------------------------------- passes

function dump(audits: DomainAudit[]): string {
  return (
    audits
      .map((a) => {
        const { auditedAt: _drop, ...rest } = a;
        return [a.domain, JSON.stringify(rest)] as const;
      })
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map((x) => x[1])
      .join('\n') + '\n'
  );
}

async function main(): Promise<void> {
  const n = Number(arg('domains', '10000'));
  const reps = Number(arg('reps', '5'));
  const concurrency = Number(arg('concurrency', '256'));
  const dir = arg('dir', join(tmpdir(), 'mailhealth-core-cpu'))!;
  const golden = arg('golden');
  const profileOut = arg('profile');
  const allocOut = arg('alloc-profile');
  // Only these checks (to see what one check costs); default: all of them, as the bench runs.
  const checks = arg('checks')?.split(',') as CheckName[] | undefined;
  const json = arg('json') === 'true';
  const log = (s: string) => !json && process.stderr.write(s + '\n');

  const w = world(dir, n);
  const panel = await memoryPanel(w.panelDir, w.domains);
  const dns = loadDns(w.zones);
  const unknownEvery = Number(arg('unknown-every', '0'));
  log(`${w.domains.length} domains from ${dir}, ${w.zones.length} zones in memory`);

  // The questions of the cold pass, in order, to replay against a fresh fake resolver: what the fake DNS itself costs.
  const asked: [string, RRType][] = [];
  async function pass(
    keep: boolean,
    record = false,
  ): Promise<{ cpu: number; wall: number; gc: number; audits: DomainAudit[]; questions: number; hits: number }> {
    const fake = memoryResolver(dns, unknownEvery);
    const resolver: Resolver = record
      ? {
          reportsCnames: true,
          resolve: <T extends RRType>(name: string, type: T) => {
            asked.push([name, type]);
            return fake.resolve(name, type);
          },
        }
      : fake;
    const gcp = new GCProfiler(); // garbage-collection time of the pass
    gcp.start();
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const audits = await auditMany(w.domains, { panel, resolver, ...(checks ? { checks } : {}) }, { concurrency, keepResults: keep });
    const c = process.cpuUsage(c0);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const gcStats = gcp.stop()?.statistics ?? [];
    const gc = gcStats.reduce((t, g) => t + g.cost, 0) / 1e6;
    return { cpu: (c.user + c.system) / 1e6, wall, gc, audits, questions: fake.questions(), hits: fake.hits() };
  }

  const cold = await pass(true, true);
  const coldDump = dump(cold.audits);
  cold.audits = [];
  log(`cold pass (results kept): ${cold.cpu.toFixed(3)} CPU-s, ${((cold.cpu / n) * 1e6).toFixed(1)} µs/domain; ${(cold.questions / n).toFixed(2)} distinct questions/domain, ${((cold.questions + cold.hits) / n).toFixed(2)} resolve calls/domain`);

  const session = profileOut || allocOut ? new Session() : null;
  session?.connect();
  if (session && profileOut) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (session && allocOut) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as { samplingInterval: number });
  }
  const cpus: number[] = [];
  const gcs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const p = await pass(false);
    cpus.push(p.cpu);
    gcs.push(p.gc);
    log(`rep ${r + 1}: ${p.cpu.toFixed(3)} CPU-s (${((p.cpu / n) * 1e6).toFixed(1)} µs/domain), of which GC ${p.gc.toFixed(3)} s, wall ${p.wall.toFixed(3)} s`);
  }
  if (session && profileOut) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileOut, JSON.stringify(profile));
  }
  if (session && allocOut) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(allocOut, JSON.stringify(profile));
  }
  session?.disconnect();

  const warm = await pass(true);
  // What the fake DNS costs by itself: the same questions in the same order, no audit around them (best of 3).
  let dnsCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const fake = memoryResolver(dns, unknownEvery);
    const c0 = process.cpuUsage();
    for (const [name, type] of asked) void fake.resolve(name, type);
    const c = process.cpuUsage(c0);
    dnsCpu = Math.min(dnsCpu, (c.user + c.system) / 1e6);
  }
  const same = dump(warm.audits) === coldDump;
  if (golden) writeFileSync(golden, coldDump);
  const sorted = [...cpus].sort((a, b) => a - b);
  const result = {
    domains: n,
    reps,
    concurrency,
    coldCpuSeconds: +cold.cpu.toFixed(3),
    cpuSeconds: cpus.map((c) => +c.toFixed(3)),
    gcSeconds: gcs.map((c) => +c.toFixed(3)),
    medianCpuSeconds: +sorted[Math.floor(sorted.length / 2)].toFixed(3),
    minCpuSeconds: +sorted[0].toFixed(3),
    medianMicrosPerDomain: +((sorted[Math.floor(sorted.length / 2)] / n) * 1e6).toFixed(1),
    /** Included in the numbers above: the fake DNS answering the same questions alone (the wire resolver's share). */
    fakeDnsCpuSeconds: +dnsCpu.toFixed(3),
    resolveCallsPerDomain: +(asked.length / n).toFixed(2),
    warmEqualsCold: same,
  };
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    log(`median ${result.medianCpuSeconds} CPU-s (${result.medianMicrosPerDomain} µs/domain), min ${result.minCpuSeconds}`);
    log(`of which the fake DNS alone (same ${result.resolveCallsPerDomain} resolve calls/domain, replayed): ${result.fakeDnsCpuSeconds} CPU-s`);
    log(same ? 'warm pass results = cold pass results' : 'WARM PASS RESULTS DIFFER FROM THE COLD PASS');
    if (golden) log(`golden dump: ${golden}`);
  }
  if (!same) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`core-cpu: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 2;
});
