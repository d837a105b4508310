// What the bulk-audit pool and its workers exchange, and the read-only panel an audit sees in a bulk run.
import type { AuditOptions } from '../../core/checks/context.js';
import type { MailSettings, Zone } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import type { ResolverOptions } from '../dns/resolver.js';
import type { PreparedAudit } from '../store/store.js';
import { isNotFound } from './gone.js';

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

/**
 * The two panel reads of one domain, in the order core's buildContext makes them. `notFound`: either read said the
 * panel does not have the domain (PanelError 'not-found'; see ./gone.ts). `stripKey`: leave the DKIM private key out
 * of the settings (no check reads it; a worker thread never gets it).
 */
export async function readDomain(panel: Panel, i: number, domain: string, stripKey: boolean): Promise<{ job: WorkerJob; notFound: boolean }> {
  const job: WorkerJob = { i, domain };
  let notFound = false;
  try {
    job.zone = await panel.readZone(domain);
  } catch (e) {
    job.zoneError = message(e);
    notFound ||= isNotFound(e);
  }
  try {
    const settings = await panel.readMailSettings(domain);
    job.settings = !stripKey || settings.dkim.privateKeyPem === undefined ? settings : { ...settings, dkim: withoutPrivateKey(settings.dkim) };
  } catch (e) {
    job.settingsError = message(e);
    notFound ||= isNotFound(e);
  }
  return { job, notFound };
}

function withoutPrivateKey(dkim: MailSettings['dkim']): MailSettings['dkim'] {
  const { privateKeyPem: _private, ...rest } = dkim;
  return rest;
}

function message(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

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
