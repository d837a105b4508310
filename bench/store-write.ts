// npx tsx bench/store-write.ts [--domains N] [--repeat R] [--batch B] [--audits FILE] [--page-size P] [--json]
// Micro-benchmark of writing audit history to SQLite: CPU per domain (process.cpuUsage, main thread; SQLite runs
// synchronously on it) of
//   recordAudits            prepare + insert, the way the bench and the nightly report call it today
//   prepareAudit            the pure part (serialisation/validation) that can run in a worker thread
//   recordPreparedAudits    the insert-only part left on the main thread
// over realistic audits: the real audit code run once over the bench's generated domains, served by NSD on loopback
// (as `npm run bench` does). --audits FILE caches those audits (v8 serialisation keeps the shared evidence objects
// shared, as in a live audit) so later runs skip NSD. Each repetition writes into a fresh database file in batches.
// --page-size P makes that file with P-byte pages first (4096: a file created before the store chose its own size).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { createResolver } from '../src/adapters/dns/resolver.js';
import { FilesPanel } from '../src/adapters/panels/files/index.js';
import Database from 'better-sqlite3';
import * as storeModule from '../src/adapters/store/store.js';
import { auditMany } from '../src/core/audit.js';
import type { DomainAudit } from '../src/core/model.js';
import { startNsd } from './authoritative.js';
import { generate } from './generate.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v && !v.startsWith('--') ? v : 'true';
}

async function realAudits(n: number, log: (s: string) => void): Promise<DomainAudit[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-store-bench-'));
  try {
    log(`generating ${n} domains and auditing them against NSD on loopback …`);
    const g = generate(dir, n);
    const auth = await startNsd(dir, g.zones);
    try {
      const probe = createResolver({ servers: [`127.0.0.1:${auth.port}`], timeoutMs: 500, tries: 1, cache: false });
      let ready = false;
      for (let i = 0; i < 120 && !ready; i++) {
        ready = (await probe.resolve('benchhost.test', 'NS')).status === 'ok';
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      probe.close?.();
      if (!ready) throw new Error('NSD did not answer on loopback');
      const resolver = createResolver({ servers: [`127.0.0.1:${auth.port}`], timeoutMs: 2000, tries: 3, concurrency: 256 });
      const audits = await auditMany(g.domains, { panel: new FilesPanel(g.panelDir), resolver }, { concurrency: 256 });
      resolver.close?.();
      return audits;
    } finally {
      await auth.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sample {
  recordAuditsUs: number;
  prepareUs: number | null;
  insertPreparedUs: number | null;
  dbBytes: number;
}

const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const n = Number(arg('domains', '10000'));
  const repeat = Number(arg('repeat', '5'));
  const batchSize = Number(arg('batch', '500'));
  const cache = arg('audits');
  const json = arg('json') === 'true';
  const pageSize = arg('page-size');
  const log = (s: string) => !json && process.stderr.write(s + '\n');

  let audits: DomainAudit[];
  if (cache && existsSync(cache)) {
    audits = deserialize(readFileSync(cache)) as DomainAudit[];
    if (audits.length < n) throw new Error(`${cache} holds ${audits.length} audits, fewer than --domains ${n}`);
    audits = audits.slice(0, n);
  } else {
    audits = await realAudits(n, log);
    if (cache) writeFileSync(cache, serialize(audits));
  }
  const findings = audits.reduce((s, a) => s + a.findings.length, 0);
  const findingsJsonBytes = audits.reduce((s, a) => s + Buffer.byteLength(JSON.stringify(a.findings)), 0);
  log(`${audits.length} audits, ${(findings / audits.length).toFixed(1)} findings and ${(findingsJsonBytes / audits.length / 1024).toFixed(1)} KB of findings JSON per domain`);

  // The split API, when this version of the store has it.
  const mod = storeModule as Record<string, unknown>;
  const prepare = typeof mod.prepareAudit === 'function' ? (mod.prepareAudit as (a: DomainAudit, owner?: string | null) => unknown) : null;

  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-store-write-'));
  const samples: Sample[] = [];
  try {
    for (let r = 0; r < repeat; r++) {
      const path = join(dir, `r${r}.sqlite`);
      if (pageSize) {
        const pre = new Database(path);
        pre.pragma(`page_size = ${Number(pageSize)}`);
        pre.pragma('journal_mode = WAL');
        pre.close();
      }
      const store = storeModule.openStore(path);
      const run = store.startRun('bulk', 'bench', audits.length);
      let t = process.cpuUsage();
      for (let i = 0; i < audits.length; i += batchSize) {
        store.recordAudits(run, audits.slice(i, i + batchSize).map((audit) => ({ audit })));
      }
      const recordAuditsUs = cpuUs(process.cpuUsage(t)) / audits.length;

      let prepareUs: number | null = null;
      let insertPreparedUs: number | null = null;
      const withPrepared = store as unknown as { recordPreparedAudits?: (runId: number, items: unknown[]) => number[] };
      if (prepare && withPrepared.recordPreparedAudits) {
        // Batch by batch, as a worker pool would hand prepared audits over: prepared values live only until inserted.
        const run2 = store.startRun('bulk', 'bench', audits.length);
        let prep = 0;
        let ins = 0;
        for (let i = 0; i < audits.length; i += batchSize) {
          t = process.cpuUsage();
          const prepared = audits.slice(i, i + batchSize).map((a) => prepare(a, null));
          prep += cpuUs(process.cpuUsage(t));
          t = process.cpuUsage();
          withPrepared.recordPreparedAudits(run2, prepared);
          ins += cpuUs(process.cpuUsage(t));
        }
        prepareUs = prep / audits.length;
        insertPreparedUs = ins / audits.length;
      }
      store.close();
      const dbBytes = ['', '-wal'].reduce((s, x) => s + (existsSync(path + x) ? readFileSync(path + x).length : 0), 0);
      samples.push({ recordAuditsUs, prepareUs, insertPreparedUs, dbBytes });
      log(
        `run ${r + 1}: recordAudits ${recordAuditsUs.toFixed(1)} µs/domain` +
          (prepareUs !== null ? `; prepareAudit ${prepareUs.toFixed(1)} + recordPreparedAudits ${insertPreparedUs!.toFixed(1)} µs/domain` : ''),
      );
      rmSync(path, { force: true });
      rmSync(path + '-wal', { force: true });
      rmSync(path + '-shm', { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pick = (k: keyof Sample) => {
    const xs = samples.map((s) => s[k]).filter((x): x is number => x !== null);
    return xs.length ? { median: +median(xs).toFixed(1), min: +Math.min(...xs).toFixed(1) } : null;
  };
  const result = {
    domains: audits.length,
    findingsPerDomain: +(findings / audits.length).toFixed(2),
    findingsJsonKbPerDomain: +(findingsJsonBytes / audits.length / 1024).toFixed(2),
    batch: batchSize,
    pageSize: pageSize ? Number(pageSize) : 'default',
    repeat,
    recordAuditsUsPerDomain: pick('recordAuditsUs'),
    prepareUsPerDomain: pick('prepareUs'),
    recordPreparedUsPerDomain: pick('insertPreparedUs'),
    // The file holds both write passes when the split API exists (2 × domains results).
    dbKbPerDomain: +(median(samples.map((s) => s.dbBytes)) / 1024 / audits.length / (prepare ? 2 : 1)).toFixed(2),
  };
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
  else log(JSON.stringify(result, null, 1));
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
