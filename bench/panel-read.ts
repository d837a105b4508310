// npx tsx bench/panel-read.ts [--domains N] [--passes P] [--distinct-pems] [--dump FILE] [--json]
// Micro-benchmark of the files panel's per-domain reads, as the bulk audit does them: readZone(domain) then
// readMailSettings(domain), over the generated bench domains (bench/generate.ts). Reports CPU µs per domain
// (process.cpuUsage: user + system, GC included) for each pass: pass 1 is what a bulk audit pays (every domain read
// once); later passes show what repeated reads of the same domains cost (e.g. a long-running web process).
// --distinct-pems: the generator shares 8 keys across the domains; this makes every key file's text unique (a line
// after the PEM block, which key parsing ignores), as on a server with a key per domain.
// --dump FILE writes every result as a JSON line (sorted by domain), to prove two versions return the same.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../src/adapters/panels/files/index.js';
import { generate } from './generate.js';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v && !v.startsWith('--') ? v : 'true';
}

async function main(): Promise<void> {
  const n = Number(arg('domains', '10000'));
  const passes = Math.max(1, Number(arg('passes', '3')));
  const dump = arg('dump');
  const json = arg('json') === 'true';
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-panel-read-'));
  try {
    const g = generate(dir, n);
    if (arg('distinct-pems') === 'true') for (const d of g.domains) appendFileSync(join(g.panelDir, 'dkim', `${d}.pem`), `${d}\n`);
    const panel = new FilesPanel(g.panelDir);
    // Warm the JIT with one pass of a separate panel instance (its caches do not warm the measured one): pass 1 is
    // then what a steady bulk audit pays per domain, not the cost of V8 compiling the parser.
    const warm = new FilesPanel(g.panelDir);
    for (const d of g.domains) {
      await warm.readZone(d);
      await warm.readMailSettings(d);
    }
    const lines: string[] = [];
    const perPass: number[] = [];
    for (let pass = 1; pass <= passes; pass++) {
      const cpu0 = process.cpuUsage();
      for (const d of g.domains) {
        await panel.readZone(d);
        await panel.readMailSettings(d);
      }
      const cpu = process.cpuUsage(cpu0);
      perPass.push((cpu.user + cpu.system) / n);
    }
    if (dump) {
      // After the measured passes, through the same instance (whatever it caches) and a fresh one: both must match.
      const fresh = new FilesPanel(g.panelDir);
      for (const d of g.domains) {
        const a = JSON.stringify({ domain: d, zone: await panel.readZone(d), settings: await panel.readMailSettings(d) });
        const b = JSON.stringify({ domain: d, zone: await fresh.readZone(d), settings: await fresh.readMailSettings(d) });
        if (a !== b) throw new Error(`${d}: a second read differs from a fresh instance's`);
        lines.push(a);
      }
      writeFileSync(dump, lines.sort().join('\n') + '\n');
    }
    const result = { domains: n, cpuMicrosPerDomain: perPass.map((x) => +x.toFixed(1)) };
    if (json) process.stdout.write(JSON.stringify(result) + '\n');
    else perPass.forEach((x, i) => process.stdout.write(`pass ${i + 1}: ${x.toFixed(1)} CPU µs per domain (readZone + readMailSettings)\n`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`panel-read: ${(e as Error).stack}\n`);
  process.exitCode = 2;
});
