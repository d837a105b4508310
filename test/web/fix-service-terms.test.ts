// Review R9, item 1 (web): a blocked SPF preview named "+mx" among the terms to select for removal — with the CLI
// command to do it — while the page offered a box for include:_spf.google.com only; a "+mx" selected in the address
// was applied with no tick shown, and "Update preview" dropped it. Now every mail service's term the planner drops on
// request has a box, the page says to tick it (not to run a shell command), and every term the address selects is
// shown ticked — in any spelling core takes for it, and in a box of its own when no list offers it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld } from '../../src/demo/world.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

/** The terms the preview offers (each box's value) and whether each is ticked. */
function boxes(html: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of html.matchAll(/<input type="checkbox"[^>]*name="remove" value="([^"]*)"([^>]*)>/g)) out.set(m[1].replace(/&#43;/g, '+'), /\bchecked\b/.test(m[2]));
  return out;
}

/** The terms the Apply form sends (what apply removes). */
const applied = (html: string) => [...html.matchAll(/<input type="hidden" name="removeTerms" value="([^"]*)">/g)].map((m) => m[1]);

describe('SPF fix preview: the terms the plan may remove can all be ticked, and the ones selected are shown ticked', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({ seedAudits: true });
    // bakery.example as the review had it: 11 lookups with this server's own a:/mx: terms and Google's two terms.
    const zf = join(w.demo!.panelDir, 'zones', 'bakery.example.db');
    writeFileSync(zf, readFileSync(zf, 'utf8').replace('include:websitewelcome.com', 'include:websitewelcome.com a:florist.example a:mail.florist.example mx:florist.example a:server1.newhost.example a:ns1.newhost.example'));
    // Served now, not when the zone watcher gets to it (no wait on the clock).
    w.demo!.dns.setData(buildWorld(w.demo!.panelDir));
  });
  after(async () => w.close());

  test('blocked: every mail service term the block names has a box, and the page says to tick it', async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/domains/bakery.example/fix?check=spf').expect(200);
    const block = /<p class="alert alert-fail"[^>]*>([\s\S]*?)<\/p>/.exec(page.text)?.[1] ?? '';
    assert.match(block, /would need 11 DNS lookups/, page.text);
    assert.match(block, /select its term for removal and the fix drops it: include:_spf\.google\.com \(3\), \+mx \(1\)/);
    assert.doesNotMatch(block, /mailhealth fix|--remove-term/, 'a web customer is not told to run a shell command');
    assert.match(page.text, /The terms you may select for removal are below: tick one and choose <strong>Update preview<\/strong>/);
    const offered = boxes(page.text);
    for (const t of ['include:_spf.google.com', '+mx']) assert.equal(offered.get(t), false, `${t} offered, unticked: ${[...offered.keys()]}`);
    assert.doesNotMatch(page.text, /id="apply"/, 'a blocked plan offers no Apply');
  });

  test('"+mx" selected in the address: its box is ticked, Apply removes it, and the note does not say Google mail fails', async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/domains/bakery.example/fix?check=spf&remove=%2Bmx').expect(200);
    assert.match(page.text, /id="apply"/, 'no longer blocked');
    assert.deepEqual(applied(page.text), ['+mx']);
    assert.equal(boxes(page.text).get('+mx'), true, 'what apply removes is shown ticked');
    assert.equal(boxes(page.text).get('include:_spf.google.com'), false);
    const note = /<li>(Removes \+mx \(you selected it\)[^<]*)<\/li>/.exec(page.text)?.[1];
    assert.ok(note, page.text);
    assert.doesNotMatch(note!, /fails SPF/, 'include:_spf.google.com still authorises Google Workspace');
  });

  test('"MX" (another spelling of the same term): the +mx box is ticked, not a second box', async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/domains/bakery.example/fix?check=spf&remove=MX').expect(200);
    const offered = boxes(page.text);
    assert.equal(offered.get('+mx'), true);
    assert.equal(offered.has('MX'), false);
    assert.doesNotMatch(page.text, /Other terms you selected/);
  });

  test('a selected term no list offers (this server’s, or one the record lacks) is shown ticked in a box of its own', async () => {
    const { agent } = await login(w.app, 'alice');
    const page = await agent.get('/domains/bakery.example/fix?check=spf&remove=%2Ba&remove=include:nowhere.example').expect(200);
    assert.match(page.text, /Other terms you selected/);
    const offered = boxes(page.text);
    assert.equal(offered.get('+a'), true, [...offered].join(' '));
    assert.equal(offered.get('include:nowhere.example'), true);
    // The address's selection is what the plan (and so Apply, when it is offered) was made with.
    assert.match(page.text, /Keeps \+a although you selected it/);
    assert.match(page.text, /You selected include:nowhere\.example for removal, but the SPF record has no such term/);
  });
});
