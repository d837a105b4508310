// SPF check: permerror causes deeper in the include tree, and check_host results that rest on a lookup with no answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding } from '../../../src/core/model.js';
import { checkContext, SERVER_IP } from './context.js';

const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}`);

describe('spf check: nested permerror causes', () => {
  const cases: [string, Record<string, { TXT: string[][] }>, RegExp][] = [
    [
      'an included record includes a name that does not exist',
      { 'esp.example': { TXT: [['v=spf1 include:gone.example ~all']] } },
      /include:esp\.example → esp\.example include:gone\.example: include target gone\.example does not exist/,
    ],
    [
      'an include loop below the top level (a → b → a)',
      { 'esp.example': { TXT: [['v=spf1 include:b.example -all']] }, 'b.example': { TXT: [['v=spf1 include:esp.example -all']] } },
      /include loop: n\.example → esp\.example → b\.example → esp\.example/,
    ],
    [
      'a syntax error inside an included record',
      { 'esp.example': { TXT: [['v=spf1 ip4:192.0.2.0/24 foo:bar -all']] } },
      /include:esp\.example → esp\.example: unknown mechanism "foo"/,
    ],
  ];
  for (const [name, extra, re] of cases) {
    test(name, async () => {
      const ctx = checkContext('n.example', { 'n.example': { TXT: [[`v=spf1 ip4:${SERVER_IP} include:esp.example -all`]] }, ...extra });
      const fs = await spfCheck(ctx);
      const f = fs.find((x) => x.severity === 'fail');
      assert.ok(f, rules(fs).join('\n'));
      assert.equal(f.rule, 'spf.syntax');
      assert.equal(f.subject, 'include:esp.example');
      assert.equal(f.fix, 'spf');
      assert.match(f.message, re);
      assert.match(f.message, /permerror/);
      const nested = f.evidence.nestedErrors as string[];
      assert.equal(nested.length, 1);
      assert.match(nested[0], re);
      assert.ok(!fs.some((x) => x.rule === 'spf.ok'), rules(fs).join('\n'));
    });
  }

  test('nested DNS trouble stays unknown, without a fix', async () => {
    const ctx = checkContext('n.example', {
      'n.example': { TXT: [[`v=spf1 ip4:${SERVER_IP} include:esp.example -all`]] },
      'esp.example': { TXT: [['v=spf1 include:slow.example ~all']] },
      'slow.example': { TXT: 'TIMEOUT' },
    });
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.severity === 'fail' || f.severity === 'warn'), rules(fs).join('\n'));
    const u = fs.find((f) => f.severity === 'unknown');
    assert.ok(u, rules(fs).join('\n'));
    assert.equal(u.rule, 'spf.dns-error');
    assert.equal(u.fix, undefined);
  });

  test('a clean nested tree still passes', async () => {
    const ctx = checkContext('n.example', {
      'n.example': { TXT: [[`v=spf1 ip4:${SERVER_IP} include:esp.example -all`]] },
      'esp.example': { TXT: [['v=spf1 include:b.example ~all']] },
      'b.example': { TXT: [['v=spf1 ip4:192.0.2.0/24 ~all']] },
    });
    const fs = await spfCheck(ctx);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), rules(fs).join('\n'));
  });
});

describe('spf check: ptr lookups without an answer', () => {
  test('PTR timeout: check_host says fail, the check says unknown and offers no fix', async () => {
    const ctx = checkContext('ptr.example', { 'ptr.example': { TXT: [['v=spf1 ptr -all']] }, '10.113.0.203.in-addr.arpa': { PTR: 'TIMEOUT' } });
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), rules(fs).join('\n'));
    assert.ok(!fs.some((f) => f.severity === 'fail'), rules(fs).join('\n'));
    const u = fs.find((f) => f.severity === 'unknown' && f.subject === SERVER_IP);
    assert.ok(u, rules(fs).join('\n'));
    assert.equal(u.rule, 'spf.dns-error');
    assert.equal(u.fix, undefined);
    assert.match(u.message, /check_host = fail/);
    assert.match(u.message, /10\.113\.0\.203\.in-addr\.arpa PTR: DNS error \(timeout\)/);
  });

  test('PTR answered but not matching: still server-not-authorized', async () => {
    const ctx = checkContext('ptr.example', {
      'ptr.example': { TXT: [['v=spf1 ptr -all']] },
      '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
      'server1.newhost.example': { A: [SERVER_IP] },
    });
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, rules(fs).join('\n'));
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'spf');
  });
});

describe('spf check: a relay whose SPF lives at a parent name', () => {
  const relay = { provider: 'relayco', host: 'smtp.relayco.example' };
  const world = (spf: string, relaySpf: Record<string, { TXT: string[][] }>) => ({ 'd.example': { TXT: [[spf]] }, ...relaySpf });

  test('the record includes the name that holds the relay SPF: authorised (no failure about the relay host itself)', async () => {
    const ctx = checkContext('d.example', world('v=spf1 include:relayco.example ~all', { 'relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] } }), { relay });
    const fs = await spfCheck(ctx);
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized' || f.rule === 'spf.relay-no-spf'), rules(fs).join(', '));
  });

  test('the record lacks it: not authorised, naming the include the fix adds', async () => {
    const ctx = checkContext('d.example', world('v=spf1 a ~all', { 'relayco.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] } }), { relay });
    const f = (await spfCheck(ctx)).find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f);
    assert.match(f.message, /does not include relayco\.example/);
    assert.equal(f.fix, 'spf');
  });

  test('no name of the relay publishes SPF: a warning that says so, with no fix', async () => {
    const ctx = checkContext('d.example', world('v=spf1 a ~all', {}), { relay });
    const fs = await spfCheck(ctx);
    const f = fs.find((x) => x.rule === 'spf.relay-no-spf');
    assert.ok(f, rules(fs).join(', '));
    assert.equal(f.severity, 'warn');
    assert.equal(f.fix, undefined);
    assert.ok(!fs.some((x) => x.rule === 'spf.server-not-authorized'));
  });
});
