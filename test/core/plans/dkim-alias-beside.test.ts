// Review "dkim-beside": the panel's zone holds, at the server's selector, an alias (CNAME) and — beside it — a TXT equal
// to what the alias's target serves (an invalid zone: BIND refuses to load it). selectorView folded that TXT into the
// alias as if it were the resolver's answer read through it, so the plan said "the alias stays" (signing on) or only
// started signing (signing off) — after which the verification saw two records at the selector, said the panel signs an
// unpublished key ("verified: no", "apply the DKIM fix again") and the next plan again changed nothing: a loop. Only a
// live answer carries the target's TXT at the alias's name; in a zone every TXT beside the alias is a record of its own,
// and the fix replaces both with the one record of the key. The audit agrees: where the panel's zone is the live one it
// judges the selector by the fix's own decision over that zone (dkim.multiple, with the fix where the plan writes).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { Change, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim, selectorView, signsUnpublishedKey } from '../../../src/core/plans/dkim.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';
import { cname, D, dkim, mine, NAME, rec, rules, split, TARGET, theirs, txt } from './dkim-alias-world.js';

const shape = (changes: readonly Change[]) => changes.map((c) => `${c.action} ${c.type}`).sort();
// The panel's nameservers (checkContext's) serve the domain: the panel's zone is the live one.
const OURS = { NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
const ELSEWHERE = { NS: ['ns1.oldhost.example'] };

/**
 * The world: the panel's zone holds `zone` at the selector; live, the selector is an alias of TARGET (MapResolver does
 * not follow CNAMEs: the answer at the alias carries the target's records, as a resolver's would), TARGET serving
 * `behind` (TXT values).
 */
function world(behind: string[], zone: ZoneRecord[], settings: Partial<MailSettings> = dkim(), ns = OURS) {
  const served = behind.map(split);
  const map: ZoneMap = {
    [D]: ns,
    [TARGET]: served.length ? { TXT: served } : { A: ['203.0.113.10'] },
    [NAME]: { CNAME: [TARGET], TXT: served },
  };
  return checkContext(D, map, settings, zone);
}

/** The zone after `changes` (records matched by ref, as the panel writes them): asserted to be one TXT of the key. */
function onlyTheKey(zone: readonly ZoneRecord[], changes: readonly Change[]): ZoneRecord[] {
  const out = zone.filter((r) => !changes.some((c) => c.before?.ref === r.ref));
  for (const c of changes) if (c.after) out.push({ ...c.after, ref: `r:new${out.length}` });
  assert.deepEqual(out.map((r) => r.type), ['TXT'], shape(changes).join(', '));
  assert.equal(canonicalKey(parseDkimRecord(out[0].txt ?? [out[0].value]).publicKey!), canonicalKey(mine));
  return out;
}

describe("DKIM fix: a TXT beside the selector's alias in the panel's zone, equal to what the alias serves (review dkim-beside)", () => {
  test('signing on: the plan replaces both with the one record of the key (it said "the alias stays"), and then has nothing to change', async () => {
    const zone = [txt(rec(mine)), cname];
    const plan = await planDkim(world([rec(mine)], zone), zone);
    assert.equal(plan.blocked, undefined, plan.blocked);
    // The TXT is already the record the fix would write: it stays, the alias goes.
    assert.deepEqual(shape(plan.changes), ['remove CNAME'], plan.notes.join(' | '));
    assert.ok(!plan.notes.some((n) => /the alias stays/.test(n)), plan.notes.join(' | '));
    assert.ok(plan.notes.some((n) => /alias \(CNAME\) with other records beside it/.test(n)), plan.notes.join(' | '));
    // The zone the fix leaves: one record of the key; the next plan changes nothing (no loop).
    const next = onlyTheKey(zone, plan.changes);
    const again = await planDkim(world([rec(mine)], next), next);
    assert.deepEqual([again.changes, again.actions ?? [], again.blocked], [[], [], undefined]);
  });

  test('signing off, the panel can turn it on: the plan first publishes the one record (it only started signing, then verified "no"); then starts signing, verified', async () => {
    const off = dkim({ signing: false, startSigning: 'switch' });
    const zone = [txt(rec(mine)), cname];
    const plan = await planDkim(world([rec(mine)], zone, off), zone);
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(shape(plan.changes), ['remove CNAME']);
    assert.deepEqual(plan.actions ?? [], []);
    assert.ok(plan.notes.some((n) => /run the DKIM fix again — it has the panel start signing/.test(n)), plan.notes.join(' | '));
    const next = onlyTheKey(zone, plan.changes);
    const start = await planDkim(world([rec(mine)], next, off), next);
    assert.deepEqual([start.changes, start.actions?.map((a) => a.kind), start.blocked], [[], ['refresh-dkim'], undefined]);
    // The verification after the panel turned signing on judges that zone: the key is published (verified "yes").
    assert.equal(signsUnpublishedKey(dkim(), D, next), false);
    // (It says "no" for the invalid zone itself — which is why the fix must not merely start signing there.)
    assert.equal(signsUnpublishedKey(dkim(), D, zone), true);
  });

  test('the order of the records in the zone does not matter, nor several copies of the key beside the alias', async () => {
    const other = `v=DKIM1; p=${mine}`; // the key, written otherwise: edited into the fix's record
    for (const zone of [[cname, txt(rec(mine))], [txt(rec(mine)), txt(rec(mine), 1), cname], [txt(other), cname]]) {
      const plan = await planDkim(world([rec(mine)], zone), zone);
      assert.equal(plan.blocked, undefined, plan.blocked);
      onlyTheKey(zone, plan.changes);
    }
    assert.deepEqual(shape((await planDkim(world([rec(mine)], [txt(other), cname]), [txt(other), cname])).changes), ['edit TXT', 'remove CNAME']);
  });

  test('the audit: dkim.multiple offers the fix (the live answer alone looks right: dkim.ok) and no finding offers "start signing"', async () => {
    const zone = [txt(rec(mine)), cname];
    const on = await dkimCheck(world([rec(mine)], zone));
    assert.deepEqual(rules(on).sort(), ['dkim.multiple:warn:fix', 'dkim.ok:pass']);
    const multiple = on.find((f) => f.rule === 'dkim.multiple')!;
    assert.match(multiple.message, /The panel's zone holds an alias \(CNAME\) of d-example\._domainkey\.server1\.newhost\.example and, beside it, a TXT record at default\._domainkey\.d\.example/);
    assert.match(multiple.message, /BIND refuses to load such a zone/);
    assert.match(multiple.message, /The DKIM fix leaves one record there: the key this server signs with\./);
    const panel = multiple.evidence.panel ?? [];
    assert.ok(panel.some((l) => l.includes('CNAME')) && panel.some((l) => l.includes(' TXT ')), JSON.stringify(multiple.evidence));
    const off = await dkimCheck(world([rec(mine)], zone, dkim({ signing: false, startSigning: 'switch' })));
    const signingOff = off.find((f) => f.rule === 'dkim.signing-off')!;
    assert.equal(signingOff.fix, undefined);
    assert.match(signingOff.message, /Once the DKIM fix has published its key at default\._domainkey\.d\.example, run the fix again/);
    assert.ok(off.some((f) => f.rule === 'dkim.multiple' && f.fix === 'dkim'), rules(off).join(', '));
  });

  test('a live answer read through the alias is still that answer, not a record beside it: the alias stays (publish-elsewhere plans, live:N records)', async () => {
    // liveZone (plans/index.ts) with a resolver that does not say the answer came through an alias: the TXT answer and
    // the alias, both named live:N.
    const live: ZoneRecord[] = [
      { ...txt(rec(mine)), ref: 'live:0' },
      { ...cname, ref: 'live:1' },
    ];
    const plan = await planDkim(world([rec(mine)], [cname]), live);
    assert.deepEqual([plan.changes, plan.actions ?? [], plan.blocked], [[], [], undefined]);
    assert.ok(plan.notes.some((n) => /the alias stays as it is/.test(n)), plan.notes.join(' | '));
    // The same through makePlanWith, where the domain's DNS is served elsewhere: nothing to publish.
    const ctx = world([rec(mine)], [txt(rec(mine)), cname], dkim(), ELSEWHERE);
    const p = await makePlanWith(ctx, 'dkim');
    assert.equal(p.mode, 'publish-elsewhere');
    assert.deepEqual([p.changes, p.actions, p.blocked], [[], [], undefined]);
    // …and the audit of that world offers no fix for the panel's copy, which the plan does not use.
    assert.deepEqual(rules(await dkimCheck(ctx)), ['dkim.ok:pass']);
  });

  test('selectorView folds only a live answer', () => {
    const alias = { type: 'CNAME', value: TARGET };
    const t = { type: 'TXT', value: rec(mine), txt: split(rec(mine)) };
    const served = [split(rec(mine))];
    assert.deepEqual(selectorView([t, alias], served, true).map((r) => r.type), ['CNAME']);
    assert.deepEqual(selectorView([t, alias], served, false).map((r) => r.type), ['TXT', 'CNAME']);
  });
});

describe("DKIM check and plan agree with records beside the selector's alias in the panel's zone (every world)", () => {
  const beside: [string, string[]][] = [
    ['nothing', []],
    ["the server's key", [rec(mine)]],
    ['another key', [rec(theirs)]],
    ["the server's key, t=y", [rec(mine, 't=y; ')]],
    ['a verification token', ['google-site-verification=abc123']],
  ];
  const behind: [string, string[]][] = [
    ['no key', []],
    ["the server's key", [rec(mine)]],
    ["the server's key, t=y", [rec(mine, 't=y; ')]],
    ['another key', [rec(theirs)]],
  ];
  async function* worlds() {
    for (const [bwhat, bvalues] of beside)
      for (const [what, values] of behind)
        for (const [where, ns] of [['served here', OURS], ['served elsewhere', ELSEWHERE]] as const)
          for (const routing of ['local', 'remote'] as const)
            for (const signing of [true, false])
              for (const publicKey of [mine, undefined])
                for (const startSigning of signing ? [undefined] : ([undefined, 'switch'] as const)) {
                  const d: MailSettings['dkim'] = { selector: 'default', signing, ...(publicKey ? { publicKey } : {}), ...(startSigning ? { startSigning } : {}) };
                  const zone = [...bvalues.map((v, i) => txt(v, i)), cname];
                  const ctx = world(values, zone, { routing, dkim: d }, ns);
                  const w = `beside the alias: ${bwhat}; behind it: ${what}; ${where}; routing ${routing}; signing ${signing ? 'on' : 'off'}; ${publicKey ? 'a' : 'no'} server key; start signing: ${startSigning ?? 'no'}`;
                  yield { world: w, findings: await dkimCheck(ctx), plan: await makePlanWith(ctx, 'dkim') };
                }
  }

  test('a finding offers the fix exactly where the plan is not blocked and does something', async () => {
    let n = 0;
    for await (const { world: w, findings, plan } of worlds()) {
      n++;
      const does = !plan.blocked && plan.changes.length + plan.actions.length > 0;
      const offered = findings.filter((f) => f.fix === 'dkim');
      assert.equal(
        offered.length > 0,
        does,
        `${w}: ${rules(findings).join(', ')}; the plan ${plan.blocked ? `is blocked (${plan.blocked})` : does ? `does ${shape(plan.changes).concat(plan.actions.map((a) => a.kind)).join(', ')}` : 'does nothing'}`,
      );
    }
    assert.equal(n, beside.length * behind.length * 2 * 2 * 3 * 2);
  });

  test('served here, a record beside the alias: the plan never leaves the alias as it is with only "start signing"', async () => {
    for await (const { world: w, plan } of worlds()) {
      if (!w.includes('served here') || w.startsWith('beside the alias: nothing')) continue;
      assert.ok(plan.blocked || plan.changes.some((c) => c.type === 'CNAME' && c.action === 'remove'), `${w}: ${JSON.stringify({ changes: shape(plan.changes), actions: plan.actions.map((a) => a.kind) })}`);
    }
  });
});
