// What the bulk-audit pool and its workers exchange, and the read-only panel an audit sees in a bulk run.
import type { AuditOptions } from '../../core/checks/context.js';
import type { MailSettings, Zone } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import type { ResolverOptions } from '../dns/resolver.js';
import type { PreparedAudit } from '../store/store.js';

export interface WorkerInit {
  resolver: ResolverOptions;
  options?: AuditOptions;
  /** Write this thread's CPU profile (V8 .cpuprofile JSON) to this file when the run finishes (diagnostics). */
  profile?: string;
}

/** A domain as the main thread read it from the panel: the value or the error message, for each of the two reads. */
export interface WorkerJob {
  i: number;
  domain: string;
  zone?: Zone;
  zoneError?: string;
  settings?: MailSettings;
  settingsError?: string;
}

export type ToWorker = { type: 'jobs'; jobs: WorkerJob[] } | { type: 'finish' };
export type FromWorker =
  | { type: 'results'; results: { i: number; prepared: PreparedAudit }[] }
  | { type: 'failed'; error: string }
  | { type: 'finished'; stats: { queries: number; cacheHits: number; unknown: number }; asked: { name: string; type: string }[] };

/** The panel as seen by one audit: the two reads the main thread already made. Nothing else is reachable from here. */
export function readPanel(job: WorkerJob): Panel {
  const refuse = async (): Promise<never> => {
    throw new Error('not available to an audit in a bulk run');
  };
  return {
    kind: 'worker',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: refuse,
    listDomains: refuse,
    applyChanges: refuse,
    readZone: async () => {
      if (job.zone) return job.zone;
      throw new Error(job.zoneError ?? 'no zone');
    },
    readMailSettings: async () => {
      if (job.settings) return job.settings;
      throw new Error(job.settingsError ?? 'no mail settings');
    },
  };
}
