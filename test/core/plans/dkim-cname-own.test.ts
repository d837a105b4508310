// QA case "dk-cnameown": the server's selector is an alias (CNAME) of a name that publishes this server's own key — the
// live answer, through the alias, is exactly the key the server signs with. The audit said dkim.ok, yet the DKIM fix
// planned to replace the alias with a TXT record (publishedRight took only a TXT at the selector). Check and plan now
// judge the selector by one rule (selectorView/publishedRight in src/core/plans/dkim.ts): what the alias serves.
// An alias that serves no key, another key, several records, a key receivers cannot use, or that DNS did not answer
// for is judged as before — and a DNS timeout never leads to a change (design rule 2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dkimCheck } from '../../../src/core/checks/dkim.js';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { MailSettings } from '../../../src/core/model.js';
import { planDkim, signsUnpublishedKey } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';
import { cname, D, dkim, key, mine, NAME, rec, rules, split, TARGET, theirs, txt } from './dkim-alias-world.js';

const mine1024 = key(1024);

/**
 * The check and the plan over one world: the server's selector an alias of TARGET (in the panel's zone and live), TARGET
 * serving `behind` (TXT values; 'TIMEOUT': DNS does not answer for it). `beside`: TXT values the panel's zone also holds
 * at the selector, next to the alias.
 */
async function run(behind: string[] | 'TIMEOUT', settings: Partial<MailSettings> = dkim(), beside: string[] = []) {
  const served = behind === 'TIMEOUT' ? ('TIMEOUT' as const) : behind.map(split);
  // MapResolver does not follow CNAMEs: the answer at the alias carries the target's records, as a resolver's would.
  const map: ZoneMap = {
    [TARGET]: served === 'TIMEOUT' || served.length ? { TXT: served } : { A: ['203.0.113.10'] },
    [NAME]: { CNAME: [TARGET], TXT: served },
  };
  const zone = [...beside.map(txt), cname];
  const ctx = checkContext(D, map, settings, zone);
  const plan = await planDkim(ctx, zone);
  return { findings: await dkimCheck(ctx), plan: { ...plan, actions: plan.actions ?? [] } };
}
const shape = (p: Awaited<ReturnType<typeof run>>['plan']) => p.changes.map((c) => `${c.action} ${c.type}`).sort();

describe("DKIM fix: the server's selector an alias of its own key (dk-cnameown)", () => {
  test('signing on: the audit says dkim.ok and the plan has nothing to change (the alias stays)', async () => {
    const { findings, plan } = await run([rec(mine)]);
    assert.deepEqual(rules(findings), ['dkim.ok:pass']);
    assert.equal(plan.blocked, undefined, plan.blocked);
    assert.deepEqual(plan.changes, [], JSON.stringify(plan.changes));
    assert.deepEqual(plan.actions, []);
    assert.ok(plan.notes.some((n) => n.includes(`alias (CNAME) of ${TARGET}`) && /already publishes the key this server signs with/.test(n)), plan.notes.join(' | '));
  });

  test('the same with mail routed elsewhere, and with the key split over strings differently', async () => {
    for (const value of [rec(mine), `v=DKIM1; p=${mine}`, `v=DKIM1;k=rsa;p=${mine.slice(0, 100)} ${mine.slice(100)}`]) {
      for (const routing of ['local', 'remote'] as const) {
        const { findings, plan } = await run([value], { routing, ...dkim() });
        assert.deepEqual([plan.changes, plan.actions, plan.blocked], [[], [], undefined], `${routing} ${value.slice(0, 30)}`);
        assert.deepEqual(rules(findings), ['dkim.ok:pass'], `${routing} ${value.slice(0, 30)}`);
      }
    }
  });

  test('signing off, the panel can turn it on: the fix only starts signing (no record changes), as dkim.signing-off offers', async () => {
    const { findings, plan } = await run([rec(mine)], dkim({ signing: false, startSigning: 'switch' }));
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.actions.map((a) => a.kind), ['refresh-dkim']);
    const off = findings.find((f) => f.rule === 'dkim.signing-off');
    assert.equal(off?.fix, 'dkim', rules(findings).join(', '));
    assert.match(off!.message, /The DKIM fix has the panel turn signing on \(no record changes\)/);
  });

  test('signing off, the panel cannot turn it on: blocked with where to do it, no fix offered, nothing changed', async () => {
    const { findings, plan } = await run([rec(mine)], dkim({ signing: false }));
    assert.deepEqual(plan.changes, []);
    assert.match(plan.blocked ?? '', /though its key is already published/);
    assert.deepEqual(rules(findings.filter((f) => f.fix)), []);
  });

  test('the verification after starting signing does not take the alias for an unpublished key', () => {
    // The zone holds the alias, not the key (which the plan read through it): nothing there says the panel signs with
    // another key. A key published as a TXT is still compared.
    assert.equal(signsUnpublishedKey(dkim(), D, [cname]), false);
    assert.equal(signsUnpublishedKey(dkim(), D, [txt(rec(theirs))]), true);
    assert.equal(signsUnpublishedKey(dkim(), D, [txt(rec(mine))]), false);
    assert.equal(signsUnpublishedKey(dkim(), D, []), true);
  });
});

describe('DKIM fix: an alias at the selector that does not serve the key as it should — as before', () => {
  test('no key behind the alias (dangling): the alias is replaced by the key, as dkim.missing offers', async () => {
    const { findings, plan } = await run([]);
    assert.deepEqual(shape(plan), ['add TXT', 'remove CNAME']);
    assert.ok(findings.some((f) => f.rule === 'dkim.missing' && f.fix === 'dkim'), rules(findings).join(', '));
  });

  test("another key behind it (the previous host's): replaced, as dkim.key-mismatch offers", async () => {
    const { findings, plan } = await run([rec(theirs)]);
    assert.deepEqual(shape(plan), ['add TXT', 'remove CNAME']);
    const added = plan.changes.find((c) => c.after)!.after!;
    assert.equal(canonicalKey(parseDkimRecord(added.txt ?? [added.value]).publicKey!), canonicalKey(mine));
    assert.ok(findings.some((f) => f.rule === 'dkim.key-mismatch' && f.fix === 'dkim'), rules(findings).join(', '));
  });

  test('two records behind it (the key and another): replaced by the one record, as dkim.multiple offers', async () => {
    const { findings, plan } = await run([rec(mine), rec(theirs)]);
    assert.deepEqual(shape(plan), ['add TXT', 'remove CNAME']);
    assert.ok(findings.some((f) => f.rule === 'dkim.multiple' && f.fix === 'dkim'), rules(findings).join(', '));
  });

  test('the key behind it in testing mode (t=y): republished without it, as dkim.testing offers', async () => {
    const { findings, plan } = await run([rec(mine, 't=y; ')]);
    assert.deepEqual(shape(plan), ['add TXT', 'remove CNAME']);
    assert.equal(parseDkimRecord(plan.changes.find((c) => c.after)!.after!.value).testing, false);
    assert.ok(findings.some((f) => f.rule === 'dkim.testing' && f.fix === 'dkim'), rules(findings).join(', '));
  });

  test('DNS does not answer for the target: no change — the plan is blocked until DNS answers; the audit says dkim.dns-error', async () => {
    for (const settings of [dkim(), dkim({ signing: false, startSigning: 'switch' }), { routing: 'remote' as const, ...dkim() }, { dkim: { selector: 'default', signing: false } }]) {
      const { findings, plan } = await run('TIMEOUT', settings);
      assert.deepEqual([plan.changes, plan.actions], [[], []], JSON.stringify(settings));
      assert.match(plan.blocked ?? '', /could not be read \(DNS timeout\).*(when DNS answers)/, JSON.stringify(settings));
      assert.deepEqual(rules(findings), ['dkim.dns-error:unknown'], JSON.stringify(settings));
    }
  });

  test("a TXT beside the alias in the panel's zone (an invalid zone): both become the one record of the key, as before", async () => {
    const { plan } = await run([rec(mine)], dkim(), [rec(theirs)]);
    assert.deepEqual(shape(plan), ['edit TXT', 'remove CNAME']);
  });
});

describe('DKIM check and plan agree on an aliased selector (every world)', () => {
  const behind: [string, string[]][] = [
    ['no key', []],
    ["the server's key", [rec(mine)]],
    ["the server's key, t=y", [rec(mine, 't=y; ')]],
    ["the server's key, h=sha1", [rec(mine, 'h=sha1; ')]],
    ["the server's 1024-bit key", [rec(mine1024)]],
    ['another key', [rec(theirs)]],
    ["the server's key and another", [rec(mine), rec(theirs)]],
    ["the server's key twice", [rec(mine), rec(mine)]],
  ];
  async function* worlds() {
    for (const [what, values] of behind)
      for (const routing of ['local', 'remote'] as const)
        for (const signing of [true, false])
          for (const publicKey of [mine, mine1024, undefined])
            for (const startSigning of signing ? [undefined] : ([undefined, 'recheck', 'switch'] as const)) {
              const d: MailSettings['dkim'] = { selector: 'default', signing, ...(publicKey ? { publicKey } : {}), ...(startSigning ? { startSigning } : {}) };
              const world = `behind the alias: ${what}; routing ${routing}; signing ${signing ? 'on' : 'off'}; ${publicKey === mine ? '2048-bit' : publicKey ? '1024-bit' : 'no'} server key; start signing: ${startSigning ?? 'no'}`;
              yield { world, ...(await run(values, { routing, dkim: d })) };
            }
  }

  test('a finding offers the fix exactly where the plan is not blocked and does something', async () => {
    let n = 0;
    for await (const { world, findings, plan } of worlds()) {
      n++;
      const does = !plan.blocked && plan.changes.length + plan.actions.length > 0;
      const offered = findings.filter((f) => f.fix === 'dkim');
      assert.equal(offered.length > 0, does, `${world}: ${rules(findings).join(', ')}; the plan ${plan.blocked ? `is blocked (${plan.blocked})` : does ? `does ${shape(plan).concat(plan.actions.map((a) => a.kind)).join(', ')}` : 'does nothing'}`);
    }
    assert.equal(n, behind.length * 2 * 4 * 3);
  });

  test("dkim.ok (signing on) ⇔ the plan has nothing to change", async () => {
    for await (const { world, findings, plan } of worlds()) {
      if (!findings.some((f) => f.rule === 'dkim.ok')) continue;
      if (findings.some((f) => f.severity === 'fail' || f.severity === 'warn')) continue;
      assert.deepEqual([plan.changes, plan.actions, plan.blocked], [[], [], undefined], `${world}: ${rules(findings).join(', ')}`);
    }
  });
});
