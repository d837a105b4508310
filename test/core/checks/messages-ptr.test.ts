// Message QA: the ptr findings that fail a hosting customer's mail must say what to do and who does it. A blocklist
// listing said only "203.0.113.10 is listed on bl.example (127.0.0.2)", and a PTR that does not resolve back only
// "no forward-confirmed reverse DNS": a failing finding with no fix and no way forward.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ptrCheck } from '../../../src/core/checks/ptr.js';
import { checkContext, SERVER_IP } from './context.js';

const REV = '10.113.0.203.in-addr.arpa';
const GOOD_PTR = { [REV]: { PTR: ['server1.newhost.example'] }, 'server1.newhost.example': { A: [SERVER_IP] } };

describe('messages: ptr', () => {
  test('ptr.listed says what a listing does, that no DNS record of the domain helps, and who must act', async () => {
    const ctx = checkContext('shop.example', { ...GOOD_PTR, '10.113.0.203.bl.example': { A: ['127.0.0.2'] } });
    ctx.options = { blocklists: ['bl.example'] };
    const f = (await ptrCheck(ctx)).find((x) => x.rule === 'ptr.listed');
    assert.ok(f);
    assert.equal(f.severity, 'fail');
    assert.match(f.message, /203\.0\.113\.10.* listed on the blocklist bl\.example/);
    assert.match(f.message, /reject or junk/);
    assert.match(f.message, /No DNS record of shop\.example changes that/);
    assert.match(f.message, /your hosting provider\) must stop what got 203\.0\.113\.10 listed .* ask bl\.example to remove it/);
  });

  test('ptr.mismatch without forward confirmation names both ways out: an A record for the PTR name, or a PTR to the HELO name', async () => {
    const ctx = checkContext('shop.example', { [REV]: { PTR: ['host10.newhost.example'] }, 'host10.newhost.example': { A: ['198.51.100.1'] } });
    const f = (await ptrCheck(ctx)).find((x) => x.rule === 'ptr.mismatch');
    assert.ok(f);
    assert.equal(f.severity, 'fail');
    assert.match(f.message, /reject or junk mail from such an address \(550 5\.7\.25\)/);
    assert.match(f.message, /Give host10\.newhost\.example an A record 203\.0\.113\.10/);
    assert.match(f.message, /set the PTR of 203\.0\.113\.10 to server1\.newhost\.example, the server's HELO name/);
  });
});
