// What a bulk audit hands its caller per domain: the audit made ready for the store (PreparedAudit — serialised once,
// where the audit ran) and the full audit on demand. From a worker thread only the prepared form travels (its findings
// document is transferred, not copied); the full audit is decoded from it only when a caller asks.
import type { DomainAudit, DomainStatus } from '../../core/model.js';
import { prepareAudit, readFindingsDocument, type PreparedAudit } from '../store/store.js';

export interface BulkItem {
  domain: string;
  status: DomainStatus;
  auditedAt: string;
  /** For Store.recordPreparedAudits; `owner` is null until the caller sets it. */
  prepared: PreparedAudit;
  /** The whole audit (the same value the in-process audit gives, as stored and read back). */
  audit(): DomainAudit;
}

const utf8 = new TextDecoder();

/** An audit made in this thread. */
export function itemFromAudit(audit: DomainAudit): BulkItem {
  const prepared = prepareAudit(audit);
  return { domain: audit.domain, status: audit.status, auditedAt: prepared.auditedAt, prepared, audit: () => audit };
}

/** An audit prepared in a worker thread. */
export function itemFromPrepared(prepared: PreparedAudit): BulkItem {
  let audit: DomainAudit | null = null;
  return {
    domain: prepared.domain,
    status: prepared.status,
    auditedAt: prepared.auditedAt,
    prepared,
    audit: () =>
      (audit ??= {
        domain: prepared.domain,
        status: prepared.status,
        auditedAt: prepared.auditedAt,
        findings: readFindingsDocument(utf8.decode(prepared.findings)),
      }),
  };
}
