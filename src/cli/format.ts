// Human-readable output for the CLI. Record text is attacker-controlled: control characters — newlines and tabs
// included — are escaped before they reach a terminal; only our own layout puts line breaks in the output.
import { escapeControls } from '../core/text.js';
import type { DomainAudit, Finding, Severity } from '../core/model.js';

const LABEL: Record<Severity, string> = { fail: 'FAIL', warn: 'WARN', unknown: '????', info: 'info', pass: ' ok ' };
const COLOR: Record<Severity, string> = { fail: '31', warn: '33', unknown: '35', info: '2', pass: '32' };

/**
 * Escape control characters (ESC, CR, LF, TAB, …) so hostile TXT text cannot drive the terminal nor start a line of
 * its own that passes for ours (a forged "FAIL …" or "fix: …" line). Apply it to each piece of outside text, never to
 * a whole block: the block's own line breaks are the layout.
 */
export function safe(s: string): string {
  // Controls as \xNN; then the other invisible formatting characters (bidi overrides, zero-width ones) as \uXXXX.
  return escapeControls(s);
}

export function paint(s: string, code: string, color: boolean): string {
  return color ? `\x1b[${code}m${s}\x1b[0m` : s;
}

export function formatFinding(f: Finding, opts: { color: boolean; evidence: boolean; domain?: string }): string {
  const lines = [`  ${paint(LABEL[f.severity], COLOR[f.severity], opts.color)}  ${f.rule.padEnd(30)} ${safe(f.message)}`];
  if (f.classification && f.severity !== 'pass') lines.push(`        ${''.padEnd(30)} → ${f.classification.class}: ${safe(f.classification.reason)}`);
  if (f.fix) lines.push(`        ${''.padEnd(30)} fix: mailhealth fix ${opts.domain !== undefined ? safe(opts.domain) : 'DOMAIN'} --check ${f.fix}`);
  if (opts.evidence) {
    for (const [k, v] of Object.entries(f.evidence)) {
      const vals = Array.isArray(v) ? v : [v];
      for (const x of vals) lines.push(`        ${k.padEnd(8)} ${safe(typeof x === 'string' ? x : JSON.stringify(x))}`);
    }
  }
  return lines.join('\n');
}

export function formatAudit(a: DomainAudit, opts: { color: boolean; evidence: boolean; verbose: boolean }): string {
  const out = [`${paint(safe(a.domain), '1', opts.color)}  ${paint(a.status.toUpperCase(), COLOR[a.status], opts.color)}`];
  const shown = opts.verbose ? a.findings : a.findings.filter((f) => f.severity !== 'info' && f.severity !== 'pass');
  for (const f of shown) out.push(formatFinding(f, { ...opts, domain: a.domain }));
  if (!opts.verbose) {
    const hidden = a.findings.length - shown.length;
    if (hidden) out.push(`  (${hidden} passing/informational ${hidden === 1 ? 'finding' : 'findings'}; --verbose shows them, --evidence shows the records)`);
  }
  return out.join('\n');
}

export function progressBar(done: number, total: number, failed: number): string {
  const width = 30;
  const n = total ? Math.round((done / total) * width) : width;
  return `\r[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total} domains, ${failed} failing`;
}
