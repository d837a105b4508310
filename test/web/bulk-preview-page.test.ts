// The bulk fix preview page (browser QA): a row whose records must be published at another DNS host links to that
// domain's fix page (it said "open the domain" with no link), and a preview with nothing to apply offers no Apply
// button (it led to "No previewed plans were sent: preview first" right after previewing). Demo panel, loopback DNS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoWorld, login, type TestWorld } from './helpers.js';

let w: TestWorld;
before(async () => {
  w = await demoWorld({});
});
after(async () => w.close());

test('publish-elsewhere rows link to the fix page; nothing applicable → no Apply button', async () => {
  const root = await login(w.app, 'root');
  const page = await root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'dmarc', domains: ['lawyer.example', 'clean.example'] });
  assert.equal(page.status, 200);
  assert.match(page.text, /publish elsewhere/);
  assert.match(page.text, /href="\/domains\/lawyer\.example\/fix\?check=dmarc"/);
  assert.doesNotMatch(page.text, /Apply to the ticked domains/);
  assert.match(page.text, /No domain here has a change that can be applied/);
  const some = await root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'spf', domains: ['bakery.example'] });
  assert.match(some.text, /Apply to the ticked domains/);
  const none = await root.agent.post('/bulk/fix/apply').type('form').send({ _csrf: root.csrf, check: 'spf' });
  assert.equal(none.status, 400);
  assert.match(none.text, /No domain was ticked/);
});
