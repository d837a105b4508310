// mailhealth explain [FILE|-] [--json] — paste the bounce a customer got; see the finding that causes it and its fix.
import { jsonText } from '../../core/text.js';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { auditDomain } from '../../core/audit.js';
import { dnsHeadline, explainBounce, explanationJson } from '../../core/bounce/explain.js';
import { isParseError, MAX_BOUNCE_BYTES, parseBounce } from '../../core/bounce/parse.js';
import type { DomainAudit } from '../../core/model.js';
import { configuredPanel, identityFromOptions, panelFromOptions, resolverFromOptions, storedSettings, UsageError, type GlobalOptions } from '../context.js';
import { formatFinding, safe } from '../format.js';

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_BOUNCE_BYTES * 2) break;
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain a bounce (DSN, log line or SMTP reply): the receiver, the code, and the findings that cause it')
    .argument('[file]', 'file with the bounce text, or - for standard input (default)')
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean };
      const text = await readInput(file);
      const parsed = parseBounce(text);
      if (isParseError(parsed)) throw new UsageError(parsed.error);
      let audit: DomainAudit | null = null;
      const notes: string[] = [];
      if (parsed.domain) {
        const panel = panelFromOptions(o);
        const identity = await identityFromOptions(panel, o);
        const scope = await panel.listDomains(identity);
        if (scope.some((d) => d.domain === parsed.domain)) {
          const configured = configuredPanel(panel, storedSettings(o));
          audit = await auditDomain(parsed.domain, { panel: configured.panel, options: configured.options, resolver: resolverFromOptions(o) });
        } else notes.push(`${parsed.domain} is not a domain ${identity.user} may audit on this panel: only the code is explained.`);
      }
      const ex = explainBounce(parsed, audit);
      if (o.json) {
        process.stdout.write(jsonText(explanationJson(ex, notes), 2) + '\n');
      } else {
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const out = [
          `Receiver: ${safe(ex.receiverName)}`,
          `Code:     ${ex.replyCode ?? ''} ${ex.enhancedCode ?? ''}`.trimEnd(),
          `Meaning:  ${safe(ex.meaning)}`,
          `Domain:   ${ex.domain !== null && ex.domain !== undefined ? safe(ex.domain) : '(not found in the bounce)'}${ex.ip ? `   sending IP: ${safe(ex.ip)}` : ''}`,
          '',
          dnsHeadline(ex, audit ? 'audited' : parsed.domain ? 'out-of-scope' : 'no-domain'),
          ...ex.findings.map((f) => formatFinding(f, { color, evidence: false, domain: ex.domain ?? undefined })),
          ...(ex.outsideDns.length ? ['', 'Check outside DNS:', ...ex.outsideDns.map((s) => `  - ${safe(s)}`)] : []),
          ...[...ex.notes, ...notes].map((n) => `note: ${safe(n)}`),
        ];
        process.stdout.write(out.join('\n') + '\n');
      }
      process.exitCode = ex.explained ? 1 : 0;
    });
}
