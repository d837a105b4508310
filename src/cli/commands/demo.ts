// mailhealth demo — the main job on the embedded demo panel, offline: a loopback DNS server plays the internet.
import { join } from 'node:path';
import { FilesPanel } from '../../adapters/panels/files/index.js';
import { createResolver } from '../../adapters/dns/resolver.js';
import { openStore } from '../../adapters/store/store.js';
import { startDemo } from '../../demo/world.js';
import type { GlobalOptions } from '../context.js';
import { printAudits, runAudit } from './audit.js';

export interface DemoOptions extends GlobalOptions {
  auditOnly?: boolean;
  port?: string;
}

export async function demoCommand(o: DemoOptions): Promise<number> {
  const demo = await startDemo();
  const panel = new FilesPanel(demo.panelDir);
  const resolver = createResolver({ servers: [demo.dns.address], authoritativePort: demo.dns.port, timeoutMs: 1000, tries: 2 });
  const store = openStore(o.db ?? join(demo.panelDir, 'mailhealth.sqlite'));
  try {
    const domains = await panel.listDomains({ user: 'root', role: 'admin' });
    process.stderr.write(`mailhealth demo: files panel at ${demo.panelDir}, DNS on ${demo.dns.address} (loopback only)\n`);
    const { audits } = await runAudit(panel, resolver, store, domains, { concurrency: 8, byUser: 'root' });
    printAudits(audits, o);
    return 0;
  } finally {
    store.close();
    await demo.close();
  }
}
