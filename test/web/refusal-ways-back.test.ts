// Review R9 items 2 and 4: the web's refusals and an Undo that will be refused.
// - A DKIM fix whose key the panel generated: the fix result page and the history row say that DKIM signing must be
//   turned off in the panel before the undo (the CLI says so at apply time), and describe the Undo button with it
//   (aria-describedby) — the undo is refused while the server signs with that key.
// - A fix preview, a "Verify again" and an explanation refused by the audit rate limit (429) link back to where the
//   user was (the preview again with its terms, the domain; the change in the history); the explain form comes back
//   with the pasted text. An Apply refused by the CSRF check (a preview left open across a new login) says to open the
//   preview again, and links it, instead of "Reload the page" (which sends the expired form again).
// Demo panel copy, loopback DNS that serves what the test publishes, real SQLite.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MailhealthApp } from '../../src/web/app.js';
import { applyFix, changeWorld, type ChangeWorld } from './change-world.js';
import { login, NO_LIMITS } from './helpers.js';

/** The links of an error page's list (views/error.ejs #error-links): [href, text], HTML entities as served. */
function errorLinks(html: string): [string, string][] {
  const list = /<ul class="plain error-links" id="error-links">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]]);
}

/** Spends every audit token `user` has on `app` (a bucket that never refills: NO_LIMITS' perMinute 0). */
function drainAudits(app: MailhealthApp, user: string): void {
  let n = 0;
  while (app.context.limits.audit.take(user)) if (++n > 1_000_000) throw new Error('the audit bucket does not run out');
}

describe('refusals give a way back; an undo that needs signing off says so', () => {
  let w: ChangeWorld;
  before(async () => {
    w = await changeWorld();
  });
  after(() => w.close());

  test('a rate-limited fix preview links the same preview again (its removed terms kept) and the domain', async () => {
    const app = w.app({ rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    drainAudits(app, 'alice');
    const r = await alice.agent.get('/domains/bakery.example/fix?check=spf&remove=include%3A_spf.google.com');
    assert.equal(r.status, 429);
    assert.match(r.text, /Too many audits in a short time\./);
    assert.deepEqual(errorLinks(r.text), [
      ['/domains/bakery.example/fix?check=spf&amp;remove=include%3A_spf.google.com', 'Preview again'],
      ['/domains/bakery.example', 'bakery.example'],
    ]);
  });

  test('a rate-limited "Verify again" links the change in its domain\'s history', async () => {
    const app = w.app({ rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    // Applied, not published: the change is still propagating, so Verify again is offered (and not refused as such).
    const id = await applyFix(alice, 'bakery.example', 'spf');
    drainAudits(app, 'alice');
    const r = await alice.agent.post(`/changes/${id}/verify`).type('form').send({ _csrf: alice.csrf });
    assert.equal(r.status, 429);
    assert.deepEqual(errorLinks(r.text), [[`/history?domain=bakery.example&amp;before=${id + 1}#change-${id}`, `Back to the history of bakery.example (change #${id})`]]);
    w.publish();
  });

  test('a rate-limited explanation comes back as the form, the pasted text and the domain chosen kept', async () => {
    const app = w.app({ rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    drainAudits(app, 'alice');
    const text = '550 5.7.1 <info@florist.example>: sender not authorized & "rejected"';
    const r = await alice.agent.post('/explain').type('form').send({ _csrf: alice.csrf, text, domain: 'florist.example' });
    assert.equal(r.status, 429);
    assert.match(r.text, /<form method="post" action="\/explain">/);
    assert.match(r.text, /<textarea id="bounce-text" name="text"[^>]*>550 5\.7\.1 &lt;info@florist\.example&gt;: sender not authorized &amp; &#34;rejected&#34;<\/textarea>/);
    assert.match(r.text, /<option value="florist.example" selected>/);
    assert.match(r.text, /id="explain-error">Too many audits in a short time\.[^<]*Nothing was audited/);
    // The refusal is not about the text: the text box is not marked invalid.
    assert.doesNotMatch(r.text, /aria-invalid="true"/);
  });

  test('an Apply refused by the CSRF check says to open the preview again and links it; elsewhere the message is as it was', async () => {
    const alice = await login(w.app(), 'alice');
    const r = await alice.agent.post('/domains/bakery.example/fix').type('form').send({ _csrf: 'stale-token', check: 'spf', planHash: 'sha256:' + '0'.repeat(64) });
    assert.equal(r.status, 403);
    assert.match(r.text, /id="csrf-fix">[^<]*nothing was applied[^<]*open the preview again/);
    assert.doesNotMatch(r.text, /Reload the page/);
    assert.match(r.text, /<a class="btn btn-primary" id="preview-again" href="\/domains\/bakery.example">Open the preview again<\/a>/);
    const other = await alice.agent.post('/changes/1/undo').type('form').send({ _csrf: 'stale-token' });
    assert.equal(other.status, 403);
    assert.match(other.text, /CSRF check failed\)\. Reload the page and try again\./);
    assert.doesNotMatch(other.text, /preview-again/);
  });

  test('a DKIM fix whose key the panel generated: the result page and the history say to turn signing off first, and describe Undo with it', async () => {
    const app = w.app({ rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    // florist.example with no key on the server and none published: the fix has the panel generate one.
    const zf = join(w.panelDir, 'zones', 'florist.example.db');
    writeFileSync(zf, readFileSync(zf, 'utf8').split('\n').filter((l) => !l.startsWith('default._domainkey')).join('\n'));
    rmSync(join(w.panelDir, 'dkim', 'florist.example.pem'));
    w.publish();
    const preview = await alice.agent.get('/domains/florist.example/fix?check=dkim').expect(200);
    const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)?.[1];
    assert.ok(planHash, 'the preview offers Apply');
    const send = () => alice.agent.post('/domains/florist.example/fix').type('form').send({ _csrf: alice.csrf, check: 'dkim', planHash });
    const NOTE = /<p class="help" id="undo-note">To undo, turn DKIM signing off for florist\.example in the panel first: [^<]*<\/p>/;
    const res = await send();
    assert.equal(res.status, 200, res.text.slice(0, 500));
    const id = Number(/action="\/changes\/(\d+)\/undo"/.exec(res.text)?.[1]);
    assert.ok(id > 0);
    assert.ok(w.store.getChange(id)!.changes.some((c) => c.keyGenerated), 'the panel generated the key (the case under test)');
    assert.match(res.text, NOTE);
    assert.match(res.text, /<button type="submit" class="btn" id="undo" aria-describedby="undo-note">Undo this change<\/button>/);
    // Sent again (F5): "already applied", with the same note.
    const again = await send();
    assert.match(again.text, /data-already="applied"/);
    assert.match(again.text, NOTE);
    assert.match(again.text, /id="undo" aria-describedby="undo-note"/);
    // The history row.
    const hist = await alice.agent.get('/history?domain=florist.example').expect(200);
    const row = new RegExp(`<tr id="change-${id}">([\\s\\S]*?)</tr>`).exec(hist.text)?.[1] ?? '';
    assert.match(row, new RegExp(`aria-label="Undo change ${id}" aria-describedby="undo-note-${id}">Undo</button>`));
    assert.match(row, new RegExp(`id="undo-note-${id}">To undo, turn DKIM signing off for florist\\.example in the panel first`));
  });

  test('an ordinary fix\'s Undo carries no such note', async () => {
    const app = w.app({ rateLimits: NO_LIMITS });
    const alice = await login(app, 'alice');
    // The first fix of alice's domains, other than DKIM, that has something to apply.
    let found: { domain: string; check: string; planHash: string } | null = null;
    for (const domain of ['florist.example', 'bakery.example']) {
      for (const check of ['spf', 'lockdown', 'dmarc']) {
        const preview = await alice.agent.get(`/domains/${domain}/fix?check=${check}`).expect(200);
        const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)?.[1];
        if (planHash && !found) found = { domain, check, planHash };
      }
    }
    assert.ok(found, 'a fix to apply');
    const res = await alice.agent.post(`/domains/${found.domain}/fix`).type('form').send({ _csrf: alice.csrf, check: found.check, planHash: found.planHash });
    assert.equal(res.status, 200);
    const id = Number(/action="\/changes\/(\d+)\/undo"/.exec(res.text)?.[1]);
    assert.ok(id > 0);
    assert.match(res.text, /id="undo">Undo this change<\/button>/);
    assert.doesNotMatch(res.text, /undo-note/);
    const hist = await alice.agent.get(`/history?domain=${found.domain}`).expect(200);
    const row = new RegExp(`<tr id="change-${id}">([\\s\\S]*?)</tr>`).exec(hist.text)?.[1] ?? '';
    assert.match(row, new RegExp(`aria-label="Undo change ${id}">Undo</button>`));
    assert.doesNotMatch(row, /undo-note/);
  });
});
