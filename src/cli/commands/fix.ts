// mailhealth fix DOMAIN --check spf|dkim|lockdown|dmarc [--remove-term TERM]... [--apply] [--json]
// mailhealth undo CHANGE_ID [--json]
// mailhealth verify CHANGE_ID [--json]
// mailhealth history [DOMAIN] [--limit N] [--no-recheck] [--json]
// mailhealth prune [--days N] [--vacuum] [--json]
import { compareText, jsonText } from '../../core/text.js';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { FIX_KINDS, type Change, type FixKind } from '../../core/model.js';
import { makePlan, PlanError } from '../../core/plans/index.js';
import { applyPlan, reconcile, undoChange, type ApplyOutcome, type HistoryFault, type Verified } from '../../core/plans/apply.js';
import { undoneAlready } from '../../core/plans/undo-again.js';
import { recheckChange, reverifyDue, REVERIFY_PER_VIEW, unrecordedCheckNote, verifiedMeaning, withReplacements } from '../../core/plans/reverify.js';
import { StoreError, type ChangeRecord, type Store } from '../../adapters/store/store.js';
import { shownStoredChange } from '../../adapters/store/withheld.js';
import type { Panel } from '../../core/panel.js';
import type { Resolver } from '../../core/resolver.js';
import { nothingToChange, PLAN_HASH, planJson, type Plan } from '../../core/plans/plan.js';
import { checkResolver, configFromOptions, configuredPanel, dbPathFromOptions, dbPathNamed, domainsInScope, identityFromOptions, panelFromOptions, printJson, printJsonError, RANGES, resolverFromOptions, storedSettings, storeFromOptions, UsageError, wholeNumber, type GlobalOptions } from '../context.js';
import { withSettings } from '../../adapters/panels/with-settings.js';
import { safe } from '../format.js';
import { interruptible, stoppable } from '../interrupt.js';
import { errorMessage, writeLog } from '../log.js';
import { DEFAULT_RETENTION_DAYS, RETENTION_DAYS, SETTING_KEYS } from '../../core/settings.js';
import { unsettledUndoReason } from '../../core/plans/settling.js';
import { pruneSpaceLine, vacuumDoneLine, vacuumJson, vacuumStartLine } from './prune-space.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** The checks whose fix takes --remove-term: SPF terms, lockdown fields. The others have no term to select. */
const TERM_CHECKS: readonly FixKind[] = ['spf', 'lockdown'];

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  const head = plan.mode === 'publish-elsewhere' ? 'Records to publish at the DNS host that serves the domain' : 'Plan';
  // The whole hash: `--apply --plan-hash` takes what the preview printed, and a cut one could only be refused.
  out.push(`${head} — ${safe(plan.domain)}, ${plan.check} (${plan.planHash})`);
  for (const n of plan.notes) out.push(`  · ${safe(n)}`);
  // A blocked plan shows the block only: "nothing to change" would say the records are right when they may not be.
  if (plan.changes.length === 0 && plan.actions.length === 0 && !plan.blocked) out.push(`  ${nothingToChange(plan.notes)}`);
  for (const a of plan.actions) out.push(`  ! ${safe(a.description)}`);
  for (const c of plan.changes) {
    // JSON.stringify escapes C0 controls (\n, \t, \u001b); safe() the rest (DEL, C1) and the names.
    const show = (r: NonNullable<typeof c.before>) => `${safe(r.name)} ${r.ttl} ${r.type} ${(r.txt ?? [r.value]).map((s) => safe(JSON.stringify(s))).join(' ')}`;
    out.push(`  ${c.action.toUpperCase()} ${safe(c.name)} ${c.type}`);
    if (c.before) out.push(`    - ${show(c.before)}`);
    if (c.after) out.push(`    + ${show(c.after)}`);
  }
  if (plan.blocked) out.push(`  BLOCKED: ${safe(plan.blocked)}`);
  // Core says which terms may be selected for removal (plan.selectable), not how (the web ticks a box): the CLI's way, once.
  if (TERM_CHECKS.includes(plan.check) && plan.selectable?.length) {
    out.push(`  To select a term for removal: mailhealth fix ${safe(plan.domain)} --check ${plan.check} --remove-term TERM (repeatable)`);
  }
  return out.join('\n');
}

export function registerFixCommands(program: Command): void {
  program
    .command('fix')
    .description('show (or with --apply, apply) the fix for one check of a domain')
    .argument('<domain>')
    .requiredOption('--check <check>', `one of ${FIX_KINDS.join(', ')}`)
    .option('--remove-term <term>', 'also remove this term (repeatable): an SPF term classified unknown, or the include/redirect of a mail service the domain no longer sends through; with --check lockdown a field such as auth=ID that mailhealth could not place', collect, [])
    .option('--apply', 'apply the plan (without it nothing changes)')
    .option('--plan-hash <hash>', 'apply only if the plan still has this hash (what a preview printed)')
    .option('--json', 'machine-readable output')
    .action(stoppable(async (domainArg: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { check: string; removeTerm: string[]; apply?: boolean; planHash?: string; json?: boolean };
      if (!FIX_KINDS.includes(o.check as FixKind)) throw new UsageError(`--check must be one of ${FIX_KINDS.join(', ')}`);
      const check = o.check as FixKind;
      // Checked before anything is read or written: a term the fix would not use, or a hash no preview printed (a cut
      // one, a typo), is a mistake to name now rather than a plan made without the term or refused as "zone changed".
      if (o.removeTerm.length && !TERM_CHECKS.includes(check)) {
        throw new UsageError(`--remove-term is for --check spf (SPF terms) or lockdown (fields such as auth=ID): the ${check} fix has no terms to remove (got ${o.removeTerm.map((t) => JSON.stringify(t)).join(', ')})`);
      }
      if (o.planHash !== undefined && !PLAN_HASH.test(o.planHash)) {
        throw new UsageError(`--plan-hash takes the whole hash a preview printed: sha256: and 64 hex digits (got ${JSON.stringify(o.planHash)})`);
      }
      const rawPanel = panelFromOptions(o);
      const resolver = resolverFromOptions(o);
      const identity = await identityFromOptions(rawPanel, o);
      const [{ domain }] = await domainsInScope(rawPanel, identity, [domainArg], false);
      const { panel } = configuredPanel(rawPanel, storedSettings(o));
      const options = { removeTerms: o.removeTerm };
      /** The plan as of now; a PlanError is the command's answer (exit 1), null. */
      const planNow = async (): Promise<Plan | null> => {
        try {
          return await makePlan({ domain, check, options }, { panel, resolver });
        } catch (e) {
          if (e instanceof PlanError) {
            // Escaped: the message may carry the panel's error or nameserver text. Under --json the error object keeps it as is.
            writeLog(e.message);
            if (o.json) printJsonError('plan', e.message);
            process.exitCode = 1;
            return null;
          }
          throw e;
        }
      };
      if (!o.apply) {
        const plan = await planNow();
        if (!plan) return;
        if (o.json) printJson(planJson(plan), 2);
        else process.stdout.write(renderPlan(plan) + '\n');
        // A blocked plan (DNS did not answer while planning, an alias, a key DKIM cannot publish, …) is a fix that
        // cannot be made now: exit 1, as --apply would be refused. The plan is still printed, "blocked" saying why.
        process.exitCode = plan.blocked ? 1 : 0;
        return;
      }
      const store = storeFromOptions(o);
      try {
        const deps = { panel, resolver, history: store, byUser: identity.user };
        // Interrupted fixes are settled first, then the plan is made: planned before, a fix without --plan-hash took a
        // half-written zone (a Plesk fix killed between its delete and its add) for its preview, and was refused as
        // "the zone changed since the preview" once reconcile had put the old records back (QA).
        for (const r of await reconcile(deps, 'before this command')) logHistoryFault(`settling change ${r.id}`, r);
        const plan = await planNow();
        if (!plan) return;
        // Stopped meanwhile: what that may leave, said with the interruption (the error object's message under --json).
        const outcome: ApplyOutcome = await interruptible(Boolean(o.json), () => stoppedWrite(`the fix of ${domain}`, domain), () =>
          applyPlan({ domain, check, planHash: o.planHash ?? plan.planHash, options }, deps),
        );
        logHistoryFault(`fix of ${domain}`, outcome);
        if (o.json) {
          const p = outcome.status === 'applied' ? outcome.plan : (outcome.status === 'refused' && outcome.newPlan) || plan;
          // 'already': the change that applied this preview — its records and the preview's hash, not a plan made now.
          const head =
            outcome.status === 'already'
              ? { domain, check, planHash: o.planHash ?? plan.planHash, changes: outcome.changes }
              : planJson(p);
          printJson(
            {
              ...head,
              status: outcome.status,
              ...(outcome.status === 'applied'
                ? { changeId: outcome.changeId, verified: outcome.verified, message: outcome.message }
                : outcome.status === 'already'
                  ? { changeId: outcome.changeId, changeStatus: outcome.changeStatus, verified: outcome.verified, reason: outcome.reason }
                  : outcome.status === 'refused'
                    ? { reason: outcome.reason, ...(outcome.why ? { why: outcome.why } : {}) }
                    : // failed: the change it recorded (pending, or failed — the reason says which), as the web API gives it.
                      { ...(outcome.changeId !== undefined ? { changeId: outcome.changeId } : {}), reason: outcome.reason }),
            },
            2,
          );
        } else if (outcome.status === 'applied') {
          process.stdout.write(renderPlan(outcome.plan) + `\n${safe(outcome.message)} (${appliedNext(domain, outcome.changeId, outcome.verified, outcome.plan.changes)})\n`);
        } else if (outcome.status === 'refused' && outcome.why === 'nothing') {
          process.stdout.write(`${safe(outcome.reason)}\n`);
        } else {
          process.stdout.write(`${outcome.status}: ${safe(outcome.reason)}\n`);
          if (outcome.status === 'refused' && outcome.newPlan) process.stdout.write(renderPlan(outcome.newPlan) + '\n');
        }
        // The same plan applied before (a repeated command): its change is there — success; one still being written: not yet.
        // Nothing to change (the preview was empty too): the records are as the fix would leave them — success, as the
        // preview's exit 0 said; a script applying fixes to every domain does not see a healthy one as a failure.
        const done = outcome.status === 'applied' || (outcome.status === 'already' && outcome.changeStatus === 'applied') || (outcome.status === 'refused' && outcome.why === 'nothing');
        process.exitCode = done ? 0 : 1;
      } finally {
        store.close();
      }
    }));

  program
    .command('undo')
    .description('revert an applied change from history')
    .argument('<changeId>')
    .option('--json', 'machine-readable output')
    .action(stoppable(async (idArg: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean };
      const { id, identity, ch, store, panel, resolver } = await changeInScope(o, idArg);
      try {
        const deps = { panel, resolver, history: store, byUser: identity.user };
        const settled = await reconcile(deps, 'before this command');
        for (const r of settled) logHistoryFault(`settling change ${r.id}`, r);
        // Still open after reconcile: its domain lock is held (a fix running, or a crashed one's lease), its zone could
        // not be read, or what reconcile found could not be recorded. Say that it is being settled — or, when reconcile
        // put the old records back unrecorded, that (nothing is left to undo) — rather than core's "intent, not applied".
        const problem = settled.find((r) => r.id === id && r.outcome.startsWith('error: '))?.outcome.slice('error: '.length);
        const unsettled = unsettledUndoReason(store, id, problem);
        // A retried undo (this user's, already made): answered with that undo, as a retried `fix --apply` is — exit 0.
        const outcome: ApplyOutcome = unsettled
          ? { status: 'refused', reason: unsettled }
          : (undoneAlready(store, id, identity.user) ??
            (await interruptible(Boolean(o.json), () => stoppedWrite(`the undo of change ${id}`, ch.domain), () => undoChange(id, deps))));
        logHistoryFault(`undo of change ${id}`, outcome);
        if (o.json) {
          printJson(
            outcome.status === 'applied'
              ? // `message`: as the web API's — what a script must know of an undo written (its outcome pending, its
                // verification not recorded: the history database failing after the write). `changes`: the undo's
                // plan, the copies apply counted for it left out (core's withoutCopies).
                { status: 'applied', changeId: outcome.changeId, undoOf: id, verified: outcome.verified, changes: outcome.plan.changes, message: outcome.message }
              : outcome.status === 'already'
                ? { status: 'already', changeId: outcome.changeId, changeStatus: outcome.changeStatus, verified: outcome.verified, reason: outcome.reason, changes: outcome.changes, undoOf: id }
                : outcome.status === 'failed' && outcome.changeId !== undefined
                  ? // the undo's own change (pending, or failed), as `fix --apply` and the web API give it
                    { status: outcome.status, changeId: outcome.changeId, reason: outcome.reason, undoOf: id }
                  : { status: outcome.status, reason: outcome.reason, undoOf: id },
            2,
          );
        } else if (outcome.status === 'applied') {
          const again = outcome.verified === 'yes' ? '' : `; check again with: mailhealth verify ${outcome.changeId}`;
          process.stdout.write(renderPlan(outcome.plan) + `\n${safe(outcome.message)} (change ${outcome.changeId}${again})\n`);
        } else process.stdout.write(`${outcome.status}: ${safe(outcome.reason)}\n`);
        process.exitCode = outcome.status === 'applied' || outcome.status === 'already' ? 0 : 1;
      } finally {
        store.close();
      }
    }));

  program
    .command('verify')
    .description("check an applied change again: the panel's zone, then each of the domain's nameservers (as the web's \"Verify again\")")
    .argument('<changeId>')
    .option('--json', 'machine-readable output')
    .action(stoppable(async (idArg: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean };
      const { id, identity, ch, store, panel, resolver } = await changeInScope(o, idArg);
      try {
        // The web's check (core/plans/reverify.ts): the answer is stored with the change, as "Verify again" stores it.
        // A history that fails to store it does not hide the answer (what the check found is known): it is given, with
        // a sentence saying it could not be recorded — the store's own error on stderr only, as for fix and undo.
        const outcome = await recheckChange(ch, { panel, resolver, history: store });
        logHistoryFault(`verify of change ${id}`, outcome);
        if (outcome.status === 'checked') {
          const meaning = verifiedMeaning(outcome.verified, ch.changes);
          const note = outcome.unrecorded !== undefined ? unrecordedCheckNote(outcome.unrecorded, ch.verified) : null;
          if (o.json) {
            // `recorded`: false when the answer is not in the history (the message then says so after its meaning).
            const message = note ? `${meaning} — ${note}` : meaning;
            printJson({ status: 'checked', changeId: id, domain: ch.domain, check: ch.check, verified: outcome.verified, recorded: note === null, message }, 2);
          } else {
            const head = outcome.verified === 'yes' ? 'verified' : outcome.verified === 'propagating' ? 'propagating' : 'not verified';
            const unrecorded = note ? ` ${note[0].toUpperCase()}${note.slice(1)}.` : '';
            const later = outcome.verified === 'propagating' ? ` Check again later: mailhealth verify ${id}` : '';
            process.stdout.write(`Change ${id} (${ch.check}, ${safe(ch.domain)}): ${head} — ${safe(meaning)}.${unrecorded}${later}\n`);
          }
          // The panel does not show the change's records: something to look at (exit 1); propagating is not a failure.
          // An answer the history could not store exits the same: the check was made and its answer given (as a fix
          // whose verification could not be recorded is still applied, exit 0); the JSON's `recorded` tells a script.
          process.exitCode = outcome.verified === 'no' ? 1 : 0;
        } else {
          if (o.json) printJson({ status: 'refused', changeId: id, reason: outcome.reason, ...(outcome.replacedBy !== undefined ? { replacedBy: outcome.replacedBy } : {}) }, 2);
          else process.stdout.write(`refused: ${safe(outcome.reason)}\n`);
          process.exitCode = 1;
        }
      } finally {
        store.close();
      }
    }));

  program
    .command('history')
    .description('audits and changes, newest first (a few changes still propagating are checked again first, as on the web history)')
    .argument('[domain]')
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'how many of each, 1-10000', '20')
    .option('--no-recheck', 'do not check again the changes still propagating (read the history only)')
    .action(stoppable(async (domainArg: string | undefined, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean; limit: string; recheck: boolean };
      const limit = wholeNumber('--limit', o.limit, ...RANGES.limit);
      // The re-check asks DNS: a bad --resolver is a usage error now, whether or not a change turns out to be due.
      if (o.recheck !== false) checkResolver(o);
      const panel = panelFromOptions(o);
      const identity = await identityFromOptions(panel, o);
      const scope = new Set((await panel.listDomains(identity)).map((d) => d.domain));
      const domain = domainArg ? (await domainsInScope(panel, identity, [domainArg], false))[0].domain : undefined;
      // No database yet → no history to show, and none is created. At a path the user named (--db, MAILHEALTH_DB) that
      // is a usage error, as for undo: a typo must not look like an empty history. At the default path it is a fresh
      // install where nothing has run yet: an empty history (exit 0), saying so.
      const dbPath = dbPathFromOptions(o);
      if (!existsSync(dbPath)) {
        if (dbPathNamed(o)) throw new UsageError(`no history database at ${dbPath} (nothing has been recorded there; none was created)`);
        if (o.json) printJson({ audits: [], changes: [] }, 2);
        else process.stdout.write(`No history yet: nothing has been audited or changed on this server (no history database at ${safe(dbPath)}).\n`);
        process.exitCode = 0;
        return;
      }
      const store = storeFromOptions(o);
      try {
        const listed = withReplacements(store.changesForDomains(domain ? [domain] : [...scope], limit), store);
        // As the web history: a few changes still propagating whose last check is over a minute old are checked again
        // (a CLI-only install would otherwise show them propagating forever).
        const checked = o.recheck === false ? listed : await recheckStale(listed, { panel: withSettings(panel, store, { log: writeLog }), makeResolver: () => resolverFromOptions(o), store });
        // As the web's history shows them: an error a previous version recorded naming the history database's file is
        // shown without it (the same text as the web's), and logged as it was stored on stderr, the admin's terminal.
        const changes = checked.map((c) => shownStoredChange(store, c, (stored) => writeLog(`change ${c.id}: ${stored}`)));
        const audits = domain
          ? store.auditsForDomain(domain, limit).map((a) => ({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, runId: a.runId, findings: a.findings.filter((f) => f.severity !== 'pass' && f.severity !== 'info').length }))
          : [...store.latestAudits([...scope]).values()]
              .sort((a, b) => compareText(b.auditedAt, a.auditedAt))
              .slice(0, limit)
              .map((a) => ({ domain: a.domain, status: a.status, auditedAt: a.auditedAt, runId: a.runId, findings: a.findings.filter((f) => f.severity !== 'pass' && f.severity !== 'info').length }));
        if (o.json) {
          printJson({ audits, changes }, 2);
        } else {
          process.stdout.write('Audits\n');
          for (const a of audits) process.stdout.write(`  ${a.auditedAt}  ${safe(a.domain).padEnd(30)} ${a.status.padEnd(7)} ${a.findings} ${a.findings === 1 ? 'problem' : 'problems'}\n`);
          process.stdout.write('Changes\n');
          for (const c of changes) {
            process.stdout.write(
              `  #${String(c.id).padEnd(4)} ${c.createdAt}  ${safe(c.domain).padEnd(24)} ${c.check.padEnd(8)} ${c.status}${c.verified ? ` (${c.verified})` : ''} by ${safe(c.byUser)}${c.undoOf ? ` — undo of #${c.undoOf}` : ''}${c.undoneBy ? ` — undone by #${c.undoneBy}` : ''}${c.replacedBy ? ` — replaced by #${c.replacedBy}` : ''}\n`,
            );
            // What happened, in words (a failure's reason, "written late: …", an undo's conflict note).
            if (c.error) process.stdout.write(`        ${safe(c.error)}\n`);
          }
        }
        process.exitCode = 0;
      } finally {
        store.close();
      }
    }));

  program
    .command('prune')
    .description('delete history older than the retention period (never the last audit of a domain, never a change record)')
    .option('--days <n>', 'keep this many days, 1-3650 (default: the settings page\'s retention, else 90)')
    .option('--vacuum', 'then give the free space in the history database back to the file system (VACUUM: needs free disk about twice what is in use, and holds up other mailhealth processes\' writes while it runs)')
    .option('--json', 'machine-readable output')
    .action(stoppable(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals() as GlobalOptions & { days?: string; json?: boolean; vacuum?: boolean };
      const given = o.days !== undefined ? wholeNumber('--days', o.days, ...RANGES.days) : undefined;
      // The config file is checked as by every other command (prune uses no panel, but a bad --config must not pass).
      configFromOptions(o);
      // No database → nothing to prune, and none is created: at a path the user named (--db, MAILHEALTH_DB) a usage
      // error (a typo must not look like an empty history, as for history and undo); at the default path a fresh
      // install where nothing has been recorded yet (exit 0, the same answer with nothing pruned).
      const dbPath = dbPathFromOptions(o);
      if (!existsSync(dbPath)) {
        if (dbPathNamed(o)) throw new UsageError(`no history database at ${dbPath} (nothing has been recorded there; none was created)`);
        const days = given ?? DEFAULT_RETENTION_DAYS;
        const none = { runs: 0, results: 0, findings: 0, reports: 0, jobs: 0, locks: 0 };
        process.stdout.write(
          o.json
            ? jsonText({ days, ...none, ...(o.vacuum ? { vacuum: null } : {}) }) + '\n'
            : `Nothing to prune: nothing has been recorded on this server yet (no history database at ${safe(dbPath)}).\n`,
        );
        process.exitCode = 0;
        return;
      }
      const store = storeFromOptions(o);
      try {
        const days = given ?? retentionDays(store);
        const before = store.space();
        const r = store.prune({ olderThanDays: days });
        const pruned = `pruned history older than ${days} days: ${JSON.stringify(r)}`;
        if (!o.vacuum) {
          const space = pruneSpaceLine(before, store.space());
          process.stdout.write(o.json ? jsonText({ days, ...r }) + '\n' : `${pruned}\n${space ? `${safe(space)}\n` : ''}`);
          process.exitCode = 0;
          return;
        }
        process.stderr.write(`mailhealth: ${safe(vacuumStartLine(store.path, store.space()))}\n`);
        let v: ReturnType<Store['vacuum']>;
        try {
          v = store.vacuum();
        } catch (e) {
          // The prune is done (its transactions committed): said, with why the file was not compacted.
          if (e instanceof StoreError) throw new StoreError(e.code, `${pruned}; ${e.message}`, { cause: e });
          throw e;
        }
        process.stdout.write(o.json ? jsonText({ days, ...r, vacuum: vacuumJson(v) }) + '\n' : `${pruned}\n${safe(vacuumDoneLine(v))}\n`);
        process.exitCode = 0;
      } finally {
        store.close();
      }
    }));
}

/**
 * The history database's own error behind an answer (core's HistoryFault: its file's path, SQLite's words) — the
 * answer says what the failure left in core's words — as a line of the log on stderr: the admin's terminal, never the
 * answer itself (stdout, the JSON a script or a panel page may pass on).
 */
function logHistoryFault(what: string, r: HistoryFault): void {
  if (r.historyError !== undefined) writeLog(`${what}: the history database failed: ${errorMessage(r.historyError)}`);
}

/**
 * What a fix or an undo stopped by a signal may leave (interruptible's detail): a write under way is not undone by the
 * stop — its change stays pending until it is settled from the zone, as after a crash (README: reconcile).
 */
function stoppedWrite(what: string, domain: string): string {
  return `${what} was stopped: if it had begun writing, its change shows as pending in the history until the next fix or undo on ${domain}, or the service, settles it from the zone`;
}

/** Retention from the settings page ("retention.days", a whole number of days from 1 to 3650), default 90. */
export function retentionDays(store: { getSetting<T>(key: string): T | undefined }): number {
  const v = Number(store.getSetting<string | number>(SETTING_KEYS.retentionDays) ?? DEFAULT_RETENTION_DAYS);
  return Number.isSafeInteger(v) && v >= RETENTION_DAYS[0] && v <= RETENTION_DAYS[1] ? v : DEFAULT_RETENTION_DAYS;
}


/** CHANGE_ID of `undo` and `verify`: a positive whole number, else a usage error. */
function changeIdArg(arg: string): number {
  const id = /^[1-9][0-9]*$/.test(arg) ? Number(arg) : NaN;
  if (!Number.isSafeInteger(id)) throw new UsageError(`CHANGE_ID must be a positive whole number (got ${JSON.stringify(arg)})`);
  return id;
}

/**
 * What follows an applied fix's message: its change id and how to undo it — or why `mailhealth undo` alone will not:
 * a fix that changed no record (the panel started signing with the published key) has nothing to undo, and one that
 * published a key the panel generated is refused while the server signs with that key (the undo would take it out of
 * DNS). Not verified yet: how to check again.
 */
export function appliedNext(domain: string, id: number, verified: Verified, changes: readonly Change[]): string {
  const again = verified === 'yes' ? '' : `; check again with: mailhealth verify ${id}`;
  if (changes.length === 0) return `change ${id}${again}; it changed no DNS record, so there is nothing to undo — to stop signing, turn DKIM signing off for ${domain} in the panel`;
  if (changes.some((c) => c.keyGenerated)) {
    return `change ${id}${again}; the panel generated this DKIM key and signs ${domain}'s mail with it — to undo, turn DKIM signing off for ${domain} in the panel first, then: mailhealth undo ${id}`;
  }
  return `change ${id}; undo with: mailhealth undo ${id}${again}`;
}

/**
 * The history's re-check, as the web's (src/web/reverify.ts, one check: core/plans/reverify.ts): the listed changes
 * still propagating whose last check is over a minute old, at most REVERIFY_PER_VIEW, checked now and their answers
 * stored. A change that cannot be checked now (the history database busy), or whose answer cannot be stored, is listed
 * as it was read.
 */
async function recheckStale(
  listed: (ChangeRecord & { replacedBy?: number })[],
  deps: { panel: Panel; makeResolver: () => Resolver; store: Store },
): Promise<(ChangeRecord & { replacedBy?: number })[]> {
  const now = Date.now();
  const due = listed.filter((ch) => reverifyDue(ch, now)).slice(0, REVERIFY_PER_VIEW);
  if (!due.length) return listed;
  const resolver = deps.makeResolver();
  const fresh = new Map<number, ChangeRecord>();
  await Promise.all(
    due.map(async (ch) => {
      try {
        const out = await recheckChange(ch, { panel: deps.panel, resolver, history: deps.store });
        // Checked, but the answer could not be stored: listed as the history holds it (the history is what this lists);
        // the log says what the check found, and the store's own error.
        if (out.status === 'checked' && out.unrecorded !== undefined) {
          const why = out.historyError !== undefined ? `the history database failed: ${errorMessage(out.historyError)}` : out.unrecorded;
          writeLog(`checking change ${ch.id} again (found: ${out.verified}; listed as recorded): ${why}`);
          return;
        }
        const again = deps.store.getChange(ch.id);
        if (again) fresh.set(ch.id, again);
      } catch (e) {
        writeLog(`change ${ch.id} could not be checked again now (${errorMessage(e)}); it is listed as recorded`);
      }
    }),
  );
  return listed.map((ch) => fresh.get(ch.id) ?? ch);
}

/**
 * What `undo` and `verify` start with: the change `idArg` names, for the identity the options give — a missing one and
 * one outside that identity's scope answer alike (usage error, exit 2), and without a database yet no change exists
 * (none is created). The caller closes the store.
 */
async function changeInScope(o: GlobalOptions, idArg: string) {
  const id = changeIdArg(idArg);
  const rawPanel = panelFromOptions(o);
  const resolver = resolverFromOptions(o);
  const identity = await identityFromOptions(rawPanel, o);
  if (!existsSync(dbPathFromOptions(o))) throw new UsageError(`no change ${id} that ${identity.user} may see`);
  const store = storeFromOptions(o);
  try {
    // A settings read that fails is said in words of its own; its raw error (the database file's path) goes to stderr.
    const panel = withSettings(rawPanel, store, { log: writeLog });
    const ch = store.getChange(id);
    const scope = new Set((await panel.listDomains(identity)).map((d) => d.domain));
    if (!ch || !scope.has(ch.domain)) throw new UsageError(`no change ${id} that ${identity.user} may see`);
    return { id, identity, ch, store, panel, resolver };
  } catch (e) {
    store.close();
    throw e;
  }
}
