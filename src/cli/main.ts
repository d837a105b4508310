// mailhealth CLI. Exit codes: 0 nothing failed, 1 something failed (also a held report lock, an interrupted run — one
// stopped by SIGINT/SIGTERM included, see interrupt.ts — and a blocked fix preview),
// 2 usage or configuration error. Under --json a failure is also one JSON object on stdout (printJsonError).
import { logLine } from './log.js';
import { interruptible } from './interrupt.js';
import { Command, CommanderError } from 'commander';
import { jsonText } from '../core/text.js';
import { PanelError } from '../core/panel.js';
import { StoreError } from '../adapters/store/store.js';
import { ReportInterruptedError } from '../cron/report.js';
import { ALL_WITH_DOMAINS, checkConfigPath, checkDbPath, checkGlobalNumbers, checkNamingOptions, printJsonError, UsageError, type CliErrorKind, type GlobalOptions } from './context.js';
import { auditCommand } from './commands/audit.js';
import { demoCommand } from './commands/demo.js';
import { registerFixCommands } from './commands/fix.js';
import { registerServeCommands } from './commands/serve.js';
import { registerReportCommand } from './commands/report.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerCgiCommands } from './commands/cgi.js';

export function buildProgram(): Command {
  const program = new Command('mailhealth')
    .description('Find and fix the mail DNS a previous host left behind.')
    .option('--panel <kind>', 'panel adapter: files | cpanel | whm | plesk')
    .option('--panel-root <dir>', 'files panel: the directory with panel.json, zones/, dkim/')
    .option('--panel-url <url>', 'panel API base URL (HTTPS; http:// only for loopback)')
    .option('--panel-user <user>', 'the panel account the API token belongs to')
    .option('--panel-ca <file>', "PEM file of the panel's CA / self-signed certificate")
    .option('--panel-insecure', "accept any certificate from the panel")
    .option('--config <file>', 'config file (default /etc/mailhealth/config.json); the API token lives here or in MAILHEALTH_PANEL_TOKEN')
    .option('--resolver <ip[:port]>', 'DNS resolver to use, by IP address (default: the system resolver)')
    .option('--authoritative-port <n>', 'port for asking the zone\'s nameservers directly when verifying, 1-65535 (default 53)')
    .option('--concurrency <n>', 'domains audited at once, 1-1024 (default: 16; report: setting report.concurrency, else 8)')
    .option('--db <path>', 'history database (default: MAILHEALTH_DB, else a per-system/per-user path)')
    .option('--as <user>', 'act as this panel account (default: the admin)')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('audit')
    .description('audit domains and print findings, worst first')
    .argument('[domains...]', 'domains to audit')
    .option('--all', 'every domain the identity may see')
    .option('--json', 'machine-readable output')
    .option('--evidence', 'show the raw records behind each finding')
    .option('--verbose', 'also show passing and informational findings')
    .option('--no-history', 'do not record the run in the database')
    .option('--threads <n>', 'worker threads for a bulk audit, besides the main thread, 0-64 (default: one per core beyond the first, from 2,500 domains; 0: none)')
    .action(async (domains: string[], _o, cmd: Command) => {
      // Interruptible from the start (the panel may be slow to answer before the run begins): exit 1, kind "interrupted".
      const o = cmd.optsWithGlobals();
      // Domains named with --all were dropped without a word (invalid ones included): refused before anything starts.
      if (o.all && domains.length) throw new UsageError(ALL_WITH_DOMAINS);
      process.exitCode = await interruptible(Boolean(o.json), () => undefined, () => auditCommand(domains, o));
    });

  program
    .command('demo')
    .description('run the embedded demo panel offline (what `npm start` runs)')
    .option('--json', 'machine-readable output (with --audit-only only)')
    .option('--audit-only', 'print the audit and exit instead of serving the web UI')
    .option('--port <n>', 'web UI port, 0-65535 (0: any free port)', '8080')
    .action(async (_o, cmd: Command) => {
      process.exitCode = await demoCommand(cmd.optsWithGlobals());
    });

  registerFixCommands(program);
  registerServeCommands(program);
  registerReportCommand(program);
  registerExplainCommand(program);
  registerCgiCommands(program);
  return program;
}

/** Whether the command line asks for --json (before `--`): for errors commander raises before any action runs. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Under --json, the help (`--help`, `-h`, `help COMMAND`) is captured rather than printed: the answer is then one JSON
 * object like every other (README "JSON contract"), `{"usage": TEXT}` with the text the help would print. Each command
 * holds its own copy of the output settings (commander copies them when a subcommand is made), so all are set.
 */
function captureHelp(cmd: Command, write: (s: string) => void): void {
  cmd.configureOutput({ writeOut: write });
  for (const sub of cmd.commands) captureHelp(sub, write);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let json = wantsJson(argv);
  let help: string | null = null;
  if (json) {
    captureHelp(program, (s) => {
      help = (help ?? '') + s;
    });
  }
  program.hook('preAction', (_program, action) => {
    json = Boolean(action.opts().json);
    // The global numeric options, whatever the command (one that does not use them still refuses a bad value), a
    // --config file that is not there and an empty --db: usage errors before anything starts.
    checkGlobalNumbers(action.optsWithGlobals());
    checkConfigPath(action.optsWithGlobals());
    checkDbPath(action.optsWithGlobals());
    checkNamingOptions(action.optsWithGlobals());
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) {
        if (help !== null) process.stdout.write(jsonText({ usage: help }, 2) + '\n');
        return 0;
      }
      // commander has written its message (and the help) on stderr.
      if (json) printJsonError('usage', e.message.replace(/^error: /, ''));
      return 2;
    }
    return reportError(e, json);
  }
}

/** Prints a failure (stderr; with `json` also the error object on stdout) and returns its exit code. */
export function reportError(e: unknown, json = false): number {
  const fail = (kind: CliErrorKind, message: string, exit: number, code?: string, human = message): number => {
    // Escaped (logLine): a message may carry outside text (a name from the panel, an argument) that must not drive the terminal.
    process.stderr.write(logLine(human));
    if (json) printJsonError(kind, message, code);
    return exit;
  };
  if (e instanceof UsageError) return fail('usage', e.message, 2);
  // A report run holding the lock is something that failed now, not a configuration error (nor is an interrupted run).
  if (e instanceof StoreError) return fail('store', e.message, e.code === 'locked' ? 1 : 2, e.code);
  if (e instanceof ReportInterruptedError) return fail('interrupted', e.message, 1);
  if (e instanceof PanelError) return fail('panel', e.message, 2, e.code, `panel error (${e.code}): ${e.message}`);
  return fail('internal', (e as Error)?.message ?? String(e), 2);
}

export type { GlobalOptions };

