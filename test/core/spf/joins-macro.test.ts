// Two character-strings of an SPF record joined by receivers into one token with macros: `… include:_spf.<d>` and
// `exists:%{i}.ex.chain.example -all` read as include:_spf.<d>exists:%{i}.ex.chain.example — a name with a ":" in it,
// which no sender's expansion makes exist: permerror for every sender that reaches it. The check said nothing
// (differential QA: test/e2e/audit-verdicts-oracles.test.ts, hand-made macro-run-together; pyspf: permerror).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'joined.example';

test('a string ending right before a term with macros: spf.syntax for the run-together token, with the fix', async () => {
  const fs = await spfCheck(
    checkContext(D, {
      [D]: { TXT: [[`v=spf1 ip4:${SERVER_IP} include:_spf.${D}`, 'exists:%{i}.ex.chain.example -all']] },
      [`_spf.${D}`]: { TXT: [['v=spf1 ip4:192.0.2.0/24 ~all']] },
    }),
  );
  const syntax = fs.filter((f) => f.rule === 'spf.syntax');
  assert.equal(syntax.length, 1, fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
  assert.equal(syntax[0].fix, 'spf');
  assert.match(syntax[0].message, /include:_spf\.joined\.example/);
  assert.match(syntax[0].message, /exists:%\{i\}\.ex\.chain\.example/);
  assert.ok(!fs.some((f) => f.rule === 'spf.ok'));
});

test('a term with macros written on its own is not taken apart', async () => {
  const fs = await spfCheck(checkContext(D, { [D]: { TXT: [[`v=spf1 ip4:${SERVER_IP} exists:%{i}.ex.chain.example -all`]] } }));
  assert.ok(!fs.some((f) => f.rule === 'spf.syntax'), fs.map((f) => `${f.rule}: ${f.message}`).join('\n'));
});
