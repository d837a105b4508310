// Review R9 item 5: the words of a check and of a severity are the ones the rest of the web uses.
// - /history's "Problems" column named severities by their ids ("Lockdown (fail)") where the chips say "Fail";
// - the explain page's fix button read "Fix LOCKDOWN" where the domain page says "Fix Lockdown…".
// Demo world with seeded audits (loopback DNS, real SQLite).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SEVERITY_LABELS } from '../../src/web/view-model.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

describe('labels: history severities, explain fix buttons', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
  });
  after(() => w.close());

  test("the history's Problems column says each check's severity as the chips do", async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/history').expect(200);
    const cells = [...page.text.matchAll(/<td class="cnt" data-label="Problems">([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    const named = cells.flatMap((c) => [...c.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]));
    assert.ok(named.length > 0, 'the seeded audits of alice\'s domains have problems');
    const words = new Set([SEVERITY_LABELS.fail, SEVERITY_LABELS.warn, SEVERITY_LABELS.unknown]);
    for (const n of named) assert.ok(words.has(n), `severity shown as ${JSON.stringify(n)}`);
  });

  test('the explain page\'s fix button names the check as the domain page does ("Fix Lockdown…")', async () => {
    const { agent, csrf } = await login(w.app, 'alice');
    const domain = await agent.get('/domains/florist.example').expect(200);
    const domainButtons = new Set([...domain.text.matchAll(/class="btn btn-primary btn-fix" href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]));
    const r = await agent.post('/explain').type('form').send({ _csrf: csrf, text: '550 5.7.1 This sender is not authorized to send from florist.example' }).expect(200);
    const buttons = [...r.text.matchAll(/<li class="fix-link"><a class="btn" href="[^"]*">([^<]*)<\/a><\/li>/g)].map((m) => m[1]);
    assert.ok(buttons.length > 0, 'the explanation offers a fix');
    for (const b of buttons) {
      assert.match(b, /^Fix [A-Z][A-Za-z]*…$/);
      assert.ok(domainButtons.has(b), `${b} is not a button of the domain page (${[...domainButtons].join(', ')})`);
    }
  });
});
