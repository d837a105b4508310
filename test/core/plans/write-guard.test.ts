// ApplyDeps.guard (WriteGuard): core tells the guard of each panel read a fix makes (afterRead) and asks it immediately
// before each write — the intent it records, the record write, the DKIM key, the clean-up of a write that failed part
// way, having the panel generate a key or start signing — then tells it the write answered (afterWrite). The web's bulk fix re-checks the user's scope there
// (services.ts ScopeGuard). These tests pin where core calls the guard, in order, and what a guard's throw does.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { Change } from '../../../src/core/model.js';
import { PartialWriteError } from '../../../src/core/panel.js';
import { applyPlan, type WriteGuard, type WriteStep } from '../../../src/core/plans/apply.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

/**
 * A guard that logs each call into `log` (beside the panel's own calls, logged by logPanel); `stopAt`: a step whose
 * beforeWrite throws (as ScopeGuard's OutOfScope does).
 */
function recordingGuard(log: string[], stopAt?: WriteStep): WriteGuard {
  return {
    async afterRead() {
      log.push('guard.afterRead');
    },
    beforeWrite(step) {
      log.push(`guard.beforeWrite(${step})`);
      if (step === stopAt) throw new Error(`stopped by the guard at ${step}`);
    },
    afterWrite(step, changeId) {
      log.push(`guard.afterWrite(${step}, ${typeof changeId === 'number' ? 'id' : String(changeId)})`);
    },
  };
}

/** The play's panel and history with their reads and writes logged into `log` (a write is logged as it is made). */
function logPanel(p: Play, log: string[]): void {
  const panel = p.panel as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of ['readZone', 'readMailSettings', 'applyChanges', 'generateDkim', 'startDkimSigning']) {
    const own = panel[name].bind(p.panel);
    panel[name] = (...a: unknown[]) => {
      log.push(`panel.${name}`);
      return own(...a);
    };
  }
  const store = p.store as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['recordIntent', 'reviseIntent']) {
    const own = store[name].bind(p.store);
    store[name] = (...a: unknown[]) => {
      log.push(`history.${name}`);
      return own(...a);
    };
  }
}

/** A panel read followed by the guard's afterRead (also when it fails). */
const read = (name: 'readZone' | 'readMailSettings') => [`panel.${name}`, 'guard.afterRead'];
/** A write between the guard's beforeWrite and afterWrite. */
const write = (step: WriteStep, call: string) => [`guard.beforeWrite(${step})`, call, `guard.afterWrite(${step}, id)`];

describe('core calls the guard at each step, in order', () => {
  test('a plain SPF fix: its reads, then the intent, then the record write, then verification', async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('bakery.example', 'spf');
    const log: string[] = [];
    logPanel(p, log);
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log) }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(log, [
      // The plan (buildContext), the selector for the ownership check, the zone just before the write.
      ...read('readZone'),
      ...read('readMailSettings'),
      ...read('readMailSettings'),
      ...read('readZone'),
      ...write('intent', 'history.recordIntent'),
      ...write('records', 'panel.applyChanges'),
      // Verification reads the panel back.
      ...read('readZone'),
      ...read('readMailSettings'),
    ]);
  });

  test('a DKIM fix that has the panel generate a key: the key intent, the key, re-reads, then the record write over that intent', async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('newkey.example', 'dkim');
    assert.ok(plan.actions.some((a) => a.kind === 'generate-dkim'), 'the plan generates a key');
    const log: string[] = [];
    logPanel(p, log);
    const out = await applyPlan({ domain: 'newkey.example', check: 'dkim', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log) }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(log, [
      ...read('readZone'),
      ...read('readMailSettings'),
      // The key's intent goes first; generateKey reads the zone before and after the key.
      ...write('intent', 'history.recordIntent'),
      ...read('readZone'),
      // (The files panel's generateDkim reads its settings itself: the adapter's own read, not one of the fix's.)
      'guard.beforeWrite(generate-dkim)',
      'panel.generateDkim',
      'panel.readMailSettings',
      'guard.afterWrite(generate-dkim, id)',
      ...read('readZone'),
      ...read('readMailSettings'),
      ...read('readZone'),
      // The record write goes over the key's intent (revised, not a new one): no second 'intent'.
      'history.reviseIntent',
      ...write('records', 'panel.applyChanges'),
      ...read('readZone'),
      ...read('readMailSettings'),
    ]);
  });

  test('a DKIM fix that has the panel start signing with the published key: the intent, then the panel asked', async () => {
    const p = (play = await startPlay());
    const domain = 'clean.example';
    // As cPanel before its check has seen the published key (dkim.test.ts unseenKey): signing off until asked.
    const overrides = join(p.dir, 'domains', `${domain}.json`);
    writeFileSync(overrides, JSON.stringify({ dkim: false }));
    const settings = p.panel.readMailSettings.bind(p.panel);
    p.panel.readMailSettings = async (d) => {
      const s = await settings(d);
      return s.dkim.signing ? s : { ...s, dkim: { ...s.dkim, startSigning: 'recheck' } };
    };
    p.panel.startDkimSigning = async (d: string) => {
      writeFileSync(overrides, JSON.stringify({ dkim: true }));
      return settings(d);
    };
    const plan = await p.plan(domain, 'dkim');
    assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
    const log: string[] = [];
    logPanel(p, log);
    const out = await applyPlan({ domain, check: 'dkim', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log) }));
    assert.equal(out.status, 'applied', JSON.stringify(out));
    assert.deepEqual(log, [
      ...read('readZone'),
      ...read('readMailSettings'),
      ...write('intent', 'history.recordIntent'),
      ...write('start-signing', 'panel.startDkimSigning'),
      // verifySigning (the settings the panel answered with, then the zone), and the zone's version for the history.
      ...read('readZone'),
      ...read('readZone'),
    ]);
  });

  test("a write that failed part way: its clean-up is a write too ('cleanup'), asked and made after the failed write", async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('bakery.example', 'spf');
    const before = p.zoneText('bakery.example');
    const log: string[] = [];
    logPanel(p, log);
    // Plesk-like: the first write takes its steps, then fails and could not undo them (PartialWriteError).
    const logged = p.panel.applyChanges.bind(p.panel);
    let first = true;
    p.panel.applyChanges = async (domain, changes, version) => {
      const out = await logged(domain, changes, version);
      if (!first) return out;
      first = false;
      const steps: Change[] = changes.flatMap((c): Change[] =>
        c.action === 'edit'
          ? [
              { action: 'remove', name: c.name, type: c.type, ttl: c.ttl, before: c.before, after: null },
              { action: 'add', name: c.name, type: c.type, ttl: c.ttl, before: null, after: c.after },
            ]
          : [c],
      );
      throw new PartialWriteError('other', 'connection reset after the second step', steps);
    };
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log) }));
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.deepEqual(log, [
      ...read('readZone'),
      ...read('readMailSettings'),
      ...read('readMailSettings'),
      ...read('readZone'),
      ...write('intent', 'history.recordIntent'),
      // The failed write: asked before, not reported after (it threw).
      'guard.beforeWrite(records)',
      'panel.applyChanges',
      // settleLeftovers reads the zone, then puts back what the write left: asked, made, reported.
      ...read('readZone'),
      ...write('cleanup', 'panel.applyChanges'),
    ]);
    // The records put back (the old SPF record re-added at the end of the file): the same lines, the serial aside.
    const lines = (text: string) => text.split('\n').filter((l) => !/; serial$/.test(l)).sort();
    assert.deepEqual(lines(p.zoneText('bakery.example')), lines(before));
    assert.equal(p.store.getChange((out as { changeId: number }).changeId)!.status, 'restored');
  });
});

describe("a guard's throw is that write's failure (as ScopeGuard relies on)", () => {
  test("at 'intent': nothing is recorded or written, and the throw leaves applyPlan", async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('bakery.example', 'spf');
    const before = p.zoneText('bakery.example');
    const log: string[] = [];
    await assert.rejects(applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log, 'intent') })), /stopped by the guard at intent/);
    assert.deepEqual(p.store.changesForDomain('bakery.example'), []);
    assert.equal(p.zoneText('bakery.example'), before);
    assert.ok(!log.some((l) => l.startsWith('guard.beforeWrite(records)')));
  });

  test("at 'records': nothing is written, the intent is settled from the zone with the guard's words", async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('bakery.example', 'spf');
    const before = p.zoneText('bakery.example');
    const log: string[] = [];
    logPanel(p, log);
    const out = await applyPlan({ domain: 'bakery.example', check: 'spf', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log, 'records') }));
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.ok(!log.includes('panel.applyChanges'), 'the panel was not asked to write');
    assert.equal(p.zoneText('bakery.example'), before);
    const ch = p.store.getChange((out as { changeId: number }).changeId)!;
    assert.equal(ch.status, 'failed');
    assert.match(ch.error ?? '', /stopped by the guard at records\): the write never happened/);
  });

  test("at 'generate-dkim': no key is generated, the key's intent closed as failed", async () => {
    const p = (play = await startPlay());
    const plan = await p.plan('newkey.example', 'dkim');
    const log: string[] = [];
    logPanel(p, log);
    const out = await applyPlan({ domain: 'newkey.example', check: 'dkim', planHash: plan.planHash }, p.deps({ guard: recordingGuard(log, 'generate-dkim') }));
    assert.equal(out.status, 'failed', JSON.stringify(out));
    assert.ok(!log.includes('panel.generateDkim') && !log.includes('panel.applyChanges'), log.join('\n'));
    assert.equal(p.store.getChange((out as { changeId: number }).changeId)!.status, 'failed');
    assert.deepEqual(p.store.pendingIntents(), []);
  });
});
