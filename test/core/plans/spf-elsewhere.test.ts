// Publishing the SPF fix elsewhere: a kept bare `a`/`mx` names what the DNS host serving the domain says (the previous
// host's server, often a shared address) until the nameservers point here — the plan says so, with both sides.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { servedData, startPlay, type Play } from '../../helpers/fixplay.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const selfNote = (notes: string[], raw: string) => notes.find((n) => n.startsWith(`Keeps ${raw}: receivers look it up in the DNS that serves`));

describe('SPF plan published elsewhere: the domain\'s own a/mx terms', () => {
  test('lawyer.example (HostGator still serves it): +a and +mx say what they name there and what they name here', async () => {
    play = await startPlay();
    const plan = await play.plan('lawyer.example', 'spf');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.equal(plan.changes[0].after?.value, 'v=spf1 +a +mx include:relay.mailchannels.net ~all');
    const a = selfNote(plan.notes, '+a');
    assert.ok(a, plan.notes.join('\n'));
    assert.match(a, /the address 192\.0\.2\.77, not this server's/);
    assert.match(a, /lets 192\.0\.2\.77 send as lawyer\.example/);
    assert.match(a, /names the panel's address 203\.0\.113\.10/);
    const mx = selfNote(plan.notes, '+mx');
    assert.ok(mx, plan.notes.join('\n'));
    assert.match(mx, /its MX is lawyer\.example at 192\.0\.2\.77, not this server/);
    assert.match(mx, /names the panel's MX \(mail\.lawyer\.example\)/);
  });

  test('no such note where the live DNS already points the domain at this server, nor on plans applied through the panel', async () => {
    play = await startPlay();
    const data = servedData(play.dir);
    // The old host's zone already gives the domain this server's address and MX (only the delegation is left).
    data['lawyer.example'] = { ...data['lawyer.example'], A: ['203.0.113.10'], MX: [{ priority: 10, exchange: 'mail.lawyer.example' }] };
    data['mail.lawyer.example'] = { A: ['203.0.113.10'] };
    play.dns.setData(data);
    const plan = await play.plan('lawyer.example', 'spf');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.equal(selfNote(plan.notes, '+a'), undefined, plan.notes.join('\n'));
    assert.equal(selfNote(plan.notes, '+mx'), undefined, plan.notes.join('\n'));
    for (const domain of ['bakery.example', 'plumber.example', 'clean.example']) {
      const p = await play.plan(domain, 'spf');
      assert.equal(p.mode, 'apply', domain);
      assert.ok(!p.notes.some((n) => /receivers look it up in the DNS that serves/.test(n)), `${domain}: ${p.notes.join('\n')}`);
    }
  });

  test('a:%{d} and mx:%{o} name the domain itself too (receivers expand them so): the same notes (review of the static macros)', async () => {
    play = await startPlay();
    const data = servedData(play.dir);
    data['lawyer.example'] = { ...data['lawyer.example'], TXT: [['v=spf1 a:%{d} mx:%{o} include:websitewelcome.com ~all']] };
    play.dns.setData(data);
    const plan = await play.plan('lawyer.example', 'spf');
    assert.equal(plan.mode, 'publish-elsewhere');
    assert.match(selfNote(plan.notes, 'a:%{d}') ?? '', /the address 192\.0\.2\.77, not this server's/, plan.notes.join('\n'));
    assert.match(selfNote(plan.notes, 'mx:%{o}') ?? '', /its MX is lawyer\.example at 192\.0\.2\.77, not this server/, plan.notes.join('\n'));
  });

  test('a prefix length says the network it lets send; several addresses read in the plural (review)', async () => {
    play = await startPlay();
    const data = servedData(play.dir);
    data['lawyer.example'] = { ...data['lawyer.example'], A: ['192.0.2.77', '192.0.2.78'], TXT: [['v=spf1 +a/24 +mx include:websitewelcome.com ~all']] };
    play.dns.setData(data);
    const plan = await play.plan('lawyer.example', 'spf');
    const a = selfNote(plan.notes, '+a/24');
    assert.ok(a, plan.notes.join('\n'));
    assert.match(a, /lets every address in the \/24 around 192\.0\.2\.77 and every address in the \/24 around 192\.0\.2\.78 send/);
    assert.match(a, /if 192\.0\.2\.77 and 192\.0\.2\.78 are the previous host's and send no mail/);
  });
});
