// mailhealth demo — the main job on the embedded demo panel, offline: a loopback DNS server plays the internet.
// By default (what `npm start` runs) it audits the demo domains, then serves the web UI on 127.0.0.1 with demo logins
// for a customer (alice), the reseller (rita) and the admin (root); --audit-only prints the audit and exits.
import { join } from 'node:path';
import { FilesPanel } from '../../adapters/panels/files/index.js';
import { createResolver } from '../../adapters/dns/resolver.js';
import { rmSync } from 'node:fs';
import { openStore, type Store } from '../../adapters/store/store.js';
import { startDemo } from '../../demo/world.js';
import { hashPassword, randomPassword } from '../../web/passwords.js';
import { startServer } from '../../web/server.js';
import { UsageError, type GlobalOptions } from '../context.js';
import { printAudits, runAudit } from './audit.js';
import { parsePort } from './serve.js';
import { writeLog } from '../log.js';
import { interruptible } from '../interrupt.js';

export interface DemoOptions extends GlobalOptions {
  auditOnly?: boolean;
  port?: string;
}

/** The demo identities that get a password: a customer, the reseller, the admin. */
export const DEMO_USERS = ['alice', 'rita', 'root'] as const;

export async function demoCommand(o: DemoOptions): Promise<number> {
  // Checked before the demo starts anything (its DNS server, the temp copy of the panel).
  const port = parsePort(o.port, 8080);
  // --json goes with --audit-only: the demo that serves the UI has no machine-readable output to give.
  if (o.json && !o.auditOnly) throw new UsageError('demo: --json goes with --audit-only (mailhealth demo --audit-only --json); the demo that serves the web UI prints text');
  const demo = await startDemo();
  const panel = new FilesPanel(demo.panelDir);
  const resolverOptions = () => ({ servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2 });
  const makeResolver = () => createResolver(resolverOptions());
  const resolver = makeResolver();
  // Opened inside the try: a --db that cannot be used (not a database, locked) is the command's error, and the demo's
  // DNS server and temporary copy still go — opened before it, the error was printed and the process never exited.
  let store: Store | null = null;
  try {
    const opened = (store = openStore(o.db ?? join(demo.panelDir, 'mailhealth.sqlite')));
    // Ctrl-C / SIGTERM during the audit: exit 1 ("interrupted" under --json) and the temporary copy removed — the DNS
    // server goes with the process. (Serving the UI, below, stops on a signal by itself.)
    const cleanup = (): undefined => {
      opened.close();
      rmSync(demo.panelDir, { recursive: true, force: true });
    };
    const audits = await interruptible(Boolean(o.json), cleanup, async () => {
      const domains = await panel.listDomains({ user: 'root', role: 'admin' });
      writeLog(`files panel at ${demo.panelDir}, DNS on ${demo.dns.address} (loopback only)`, 'mailhealth demo');
      return (await runAudit(panel, resolver, opened, domains, { concurrency: 8, byUser: 'root' })).audits;
    });
    resolver.close();
    if (o.auditOnly) {
      printAudits(audits, o);
      return 0;
    }
    const passwords: [string, string][] = [];
    for (const user of DEMO_USERS) {
      const pw = randomPassword();
      opened.setPasswordHash(user, await hashPassword(pw));
      passwords.push([user, pw]);
    }
    // No nightly report, and its own DNS server whatever the resolver setting says: the settings page says both.
    const running = await startServer({ panel, store: opened, makeResolver, resolverOptions, identityFrom: 'session', host: '127.0.0.1', port, noNightlyReport: 'demo' });
    const roles: Record<string, string> = { alice: 'customer', rita: 'reseller', root: 'admin' };
    const worst = (a: (typeof audits)[number]) => a.findings.find((f) => f.severity === a.status)?.rule ?? '';
    process.stdout.write(
      [
        'mailhealth demo: audit of the demo server',
        ...audits.map((a) => `  ${a.domain.padEnd(18)} ${a.status.toUpperCase().padEnd(7)} ${worst(a)}`),
        '',
        `mailhealth demo: web UI on ${running.url}/`,
        '  logins (demo only, new each start):',
        ...passwords.map(([u, p]) => `    ${u.padEnd(6)} ${p}   (${roles[u]})`),
        '  try: log in as alice, open bakery.example (left over from HostGator), fix SPF.',
        '  Ctrl-C stops the demo.',
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => void running.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  } finally {
    resolver.close();
    store?.close();
    await demo.close();
  }
}
