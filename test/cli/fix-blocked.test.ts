// A fix preview whose plan is blocked exits 1 (README "Exit codes": a fix that cannot be planned because DNS did not
// answer — and any blocked plan, which --apply would refuse); the plan is still printed with "blocked" saying why.
// A plan that is not blocked exits 0, publish-elsewhere plans included (the records to publish at the real DNS host).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { scenario, zoneText, type Scenario } from '../helpers/scenario.js';

const STALE_SPF = '"v=spf1 include:spf.slow.test include:websitewelcome.com a mx -all"';

describe('fix preview of a blocked plan', () => {
  let s: Scenario;
  let base: string[];
  before(async () => {
    s = await scenario({
      domains: {
        // The server's own check goes through an include that never answers: "DNS did not answer while planning".
        'slow.test': { zone: zoneText({ spf: STALE_SPF }) },
        // The same through an include whose server fails at once (SERVFAIL): DNS trouble too, without waiting out
        // timeouts (each CLI run on slow.test waits ~16 s of them) — for the tests that need another blocked plan.
        'failing.test': { zone: zoneText({ spf: '"v=spf1 include:spf.failing.test include:websitewelcome.com a mx -all"' }) },
        // _dmarc is an alias of a DMARC service: blocked (a TXT beside a CNAME is an invalid zone).
        'alias.test': { zone: zoneText({ dmarc: null, extra: ['_dmarc\tIN\tCNAME\tdmarc.service.test.'] }) },
        // The live nameservers are the previous host's: publish-elsewhere, not blocked.
        'elsewhere.test': {
          zone: zoneText({ spf: '"v=spf1 include:websitewelcome.com a mx -all"' }),
          live: zoneText({ ns: ['ns1.hostgator.com.', 'ns2.hostgator.com.'], spf: '"v=spf1 include:websitewelcome.com a mx -all"' }),
        },
      },
      world: 'dmarc.service.test. TXT "v=DMARC1; p=reject"\n',
      extra: { 'spf.slow.test': { TIMEOUT: true }, 'spf.failing.test': { SERVFAIL: true } },
    });
    base = ['--panel', 'files', '--panel-root', s.root, '--resolver', s.dns.address, '--authoritative-port', String(s.dns.port)];
  });
  after(() => s.cleanup());

  test('DNS did not answer while planning: exit 1, text and --json', async () => {
    // A timeout for the text (what a dead server gives), SERVFAIL for --json: the same block either way.
    const [text, json] = await Promise.all([runCli([...base, 'fix', 'slow.test', '--check', 'spf']), runCli([...base, 'fix', 'failing.test', '--check', 'spf', '--json'])]);
    assert.equal(text.code, 1, text.stderr + text.stdout);
    assert.match(text.stdout, /BLOCKED: DNS did not answer while planning/);
    assert.equal(json.code, 1, json.stderr);
    const j = JSON.parse(json.stdout) as { blocked?: string; mode: string; changes: unknown[] };
    assert.match(j.blocked ?? '', /DNS did not answer/);
    assert.equal(j.changes.length, 1, 'the plan is still shown');
  });

  test('an alias block: exit 1', async () => {
    const r = await runCli([...base, 'fix', 'alias.test', '--check', 'dmarc', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.match((JSON.parse(r.stdout) as { blocked?: string }).blocked ?? '', /alias/);
  });

  test('a blocked plan shows the block only, never "Nothing to change" beside it (text)', async () => {
    for (const [domain, check] of [['alias.test', 'dmarc'], ['failing.test', 'spf']] as const) {
      const r = await runCli([...base, 'fix', domain, '--check', check]);
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.match(r.stdout, /^ {2}BLOCKED: /m, domain);
      assert.doesNotMatch(r.stdout, /Nothing to change/, domain);
    }
  });

  test('publish-elsewhere, not blocked: exit 0', async () => {
    const r = await runCli([...base, 'fix', 'elsewhere.test', '--check', 'spf', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as { blocked?: string; mode: string; changes: unknown[] };
    assert.equal(j.mode, 'publish-elsewhere');
    assert.equal(j.blocked, undefined);
    assert.equal(j.changes.length, 1);
  });
});
