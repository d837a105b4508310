// Counts in the text output agree with their noun: "1 passing/informational finding", not "1 … findings".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAudit } from '../../src/cli/format.js';
import type { DomainAudit, Severity } from '../../src/core/model.js';

test('audit text: the hidden-findings line says "finding" for one, "findings" for more', () => {
  const f = (rule: string, severity: Severity) => ({ rule, check: 'spf' as const, severity, message: rule, evidence: {} });
  const audit = (findings: DomainAudit['findings']): DomainAudit => ({ domain: 'bakery.example', status: 'warn', auditedAt: '2027-03-01T12:00:00.000Z', findings });
  const opts = { color: false, evidence: false, verbose: false };
  assert.match(formatAudit(audit([f('spf.a', 'warn'), f('spf.ok', 'pass')]), opts), /\(1 passing\/informational finding;/);
  assert.match(formatAudit(audit([f('spf.a', 'warn'), f('spf.ok', 'pass'), f('dmarc.ok', 'info')]), opts), /\(2 passing\/informational findings;/);
});
