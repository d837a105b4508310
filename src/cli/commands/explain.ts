// mailhealth explain [FILE|-] [--domain D] [--json] — paste the bounce a customer got; see the finding that causes it and its fix.
import { jsonText } from '../../core/text.js';
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { auditDomain } from '../../core/audit.js';
import { dnsHeadline, explainBounce, explanationJson } from '../../core/bounce/explain.js';
import { isParseError, MAX_BOUNCE_BYTES, parseBounce } from '../../core/bounce/parse.js';
import type { DomainAudit, Identity } from '../../core/model.js';
import type { Panel } from '../../core/panel.js';
import { configuredPanel, domainsInScope, identityFromOptions, panelFromOptions, resolverFromOptions, storedSettings, UsageError, type GlobalOptions } from '../context.js';
import { formatFinding, safe } from '../format.js';
import { stoppable } from '../interrupt.js';

/**
 * At most `limit` bytes of a file, read in a loop on its descriptor: never the whole of a large file, and a stream
 * with no end (a FIFO that keeps writing, /dev/zero) stops there instead of growing without bound.
 */
async function readAtMost(file: string, limit: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(limit);
    let size = 0;
    while (size < limit) {
      const { bytesRead } = await fh.read(buf, size, limit - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    return buf.subarray(0, size);
  } finally {
    await fh.close();
  }
}

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') {
    let bytes: Buffer;
    try {
      // One byte past the limit is enough to tell a bounce that is too large (parseBounce says so).
      bytes = await readAtMost(file, MAX_BOUNCE_BYTES + 1);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    // Decoding never makes the text shorter in UTF-8 than the bytes (an invalid or cut sequence becomes U+FFFD, 3
    // bytes): MAX_BOUNCE_BYTES + 1 bytes read stay "too large" for parseBounce.
    return bytes.toString('utf8');
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
    .option('--domain <domain>', 'the sender domain to audit (one you may see on this panel): when the bounce names none, or to audit another one than it names')
    .option('--json', 'machine-readable output')
    .action(stoppable(async (file: string | undefined, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean; domain?: string };
      let panel: Panel | null = null;
      let identity: Identity | null = null;
      let chosen: string | null = null;
      if (o.domain !== undefined) {
        // Checked before the bounce is read: the one domain validator and the one scope check (as `audit DOMAIN`).
        panel = panelFromOptions(o);
        identity = await identityFromOptions(panel, o);
        chosen = (await domainsInScope(panel, identity, [o.domain], false))[0].domain;
      }
      const text = await readInput(file);
      const parsed = parseBounce(text);
      if (isParseError(parsed)) throw new UsageError(parsed.error);
      let audit: DomainAudit | null = null;
      const notes: string[] = [];
      let blocklistsChecked: boolean | undefined;
      let blocklistZones: string[] | undefined;
      const target = chosen ?? parsed.domain;
      if (target) {
        const p = (panel ??= panelFromOptions(o));
        const me = (identity ??= await identityFromOptions(p, o));
        const inScope = chosen !== null || (await p.listDomains(me)).some((d) => d.domain === target);
        if (inScope) {
          const configured = configuredPanel(p, storedSettings(o));
          blocklistsChecked = (configured.options.blocklists?.length ?? 0) > 0;
          if (blocklistsChecked) blocklistZones = configured.options.blocklists;
          audit = await auditDomain(target, { panel: configured.panel, options: configured.options, resolver: resolverFromOptions(o) });
        } else notes.push(`${target} is not a domain ${me.user} may audit on this panel: only the code is explained.`);
      }
      const ex = explainBounce(parsed, audit, undefined, {
        chosenDomain: chosen,
        blocklistsChecked,
        ...(blocklistZones ? { blocklistZones } : {}),
        chooseDomainHint: 'run the command again with --domain DOMAIN (one of your domains)',
        blocklistsHint: 'an admin turns it on in the web UI\'s Settings (the CLI uses them too), under DNS: "Check the sending IPs against blocklists"',
      });
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
          safe(dnsHeadline(ex, audit ? 'audited' : target ? 'out-of-scope' : 'no-domain')),
          ...ex.findings.map((f) => formatFinding(f, { color, evidence: false, domain: ex.domain ?? undefined })),
          ...(ex.outsideDns.length ? ['', 'Check outside DNS:', ...ex.outsideDns.map((s) => `  - ${safe(s)}`)] : []),
          ...[...ex.notes, ...notes].map((n) => `note: ${safe(n)}`),
        ];
        process.stdout.write(out.join('\n') + '\n');
      }
      process.exitCode = ex.explained ? 1 : 0;
    }));
}
