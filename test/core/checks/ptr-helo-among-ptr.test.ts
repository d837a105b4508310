// PTR check QA: the HELO name is one of the IP's PTR names but does not forward-confirm. A timeout on its A record came
// out as "ptr.mismatch (warn) … reverses to alt…: make them the same name" (a DNS timeout turned into a verdict, and an
// untrue one: the IP reverses to the HELO name too); an A record pointing elsewhere got the same "make them the same
// name"; and with no name confirmed the fail advised asking the IP's owner for a PTR the IP already has.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ptrCheck } from '../../../src/core/checks/ptr.js';
import { reverseName } from '../../../src/core/ip.js';
import type { Finding } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const REV = reverseName(SERVER_IP);
const HELO = 'server1.newhost.example';
const ALT = 'alt.newhost.example';
const ELSEWHERE = '198.51.100.1';
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`);
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join('\n');
const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

describe('the HELO name is a PTR name whose forward lookup gets no answer: unknown, not a verdict', () => {
  for (const trouble of ['TIMEOUT', 'SERVFAIL'] as const) {
    test(`${trouble} on the HELO name's A record, another PTR name confirmed: ptr.dns-error unknown`, async () => {
      const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO, ALT] }, [HELO]: { A: trouble }, [ALT]: { A: [SERVER_IP] } }));
      assert.deepEqual(rules(fs), [`unknown ptr.dns-error [${SERVER_IP}]`], show(fs));
      const m = fs[0].message;
      assert.match(m, re(`${SERVER_IP} reverses to ${HELO}, the server's HELO name`));
      assert.match(m, re(`and to ${ALT}`));
      assert.match(m, re(`the A record of ${HELO} got no answer (DNS ${trouble.toLowerCase()})`));
      assert.match(m, /not known/);
      assert.doesNotMatch(m, /same name/);
      // The evidence shows the lookup that did not answer, not only the PTR.
      assert.ok((fs[0].evidence.live ?? []).some((l) => l.startsWith(`${HELO} A:`) && /DNS error/.test(l)), JSON.stringify(fs[0].evidence));
    });
  }

  test('the PTR name written in another case with a trailing dot is still the HELO name', async () => {
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: ['Server1.NewHost.Example.', ALT] }, [HELO]: { A: 'TIMEOUT' }, [ALT]: { A: [SERVER_IP] } }));
    assert.deepEqual(rules(fs), [`unknown ptr.dns-error [${SERVER_IP}]`], show(fs));
  });

  test('IPv6: a timeout on the HELO name\'s AAAA record is unknown too', async () => {
    const ip = '2001:db8::10';
    const rev = reverseName(ip);
    const fs = await ptrCheck(checkContext('d.example', { [rev]: { PTR: [HELO, ALT] }, [HELO]: { AAAA: 'TIMEOUT' }, [ALT]: { AAAA: [ip] } }, { ips: [ip] }));
    assert.deepEqual(rules(fs), [`unknown ptr.dns-error [${ip}]`], show(fs));
    assert.match(fs[0].message, re(`the AAAA record of ${HELO} got no answer`));
  });

  test('the only PTR name is the HELO name and it times out: the message names it', async () => {
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO] }, [HELO]: { A: 'TIMEOUT' } }));
    assert.deepEqual(rules(fs), [`unknown ptr.dns-error [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, re(`${SERVER_IP} reverses to ${HELO}, the server's HELO name, but the lookup of the A record of ${HELO} got no answer`));
  });

  test('a timeout on a PTR name that is not HELO does not hide a true mismatch', async () => {
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [ALT, 'other.newhost.example'] }, [ALT]: { A: [SERVER_IP] }, 'other.newhost.example': { A: 'TIMEOUT' } }));
    assert.deepEqual(rules(fs), [`warn ptr.mismatch [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, /make them the same name/);
  });
});

describe('the HELO name is a PTR name whose A record points elsewhere', () => {
  test('another PTR name confirmed: warn ptr.mismatch naming the HELO name\'s A record, not "make them the same name"', async () => {
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO, ALT] }, [HELO]: { A: [ELSEWHERE] }, [ALT]: { A: [SERVER_IP] } }));
    assert.deepEqual(rules(fs), [`warn ptr.mismatch [${SERVER_IP}]`], show(fs));
    const m = fs[0].message;
    assert.doesNotMatch(m, /same name/);
    assert.match(m, re(`${SERVER_IP} reverses to that name, but ${HELO} resolves to ${ELSEWHERE}, not ${SERVER_IP}`));
    assert.match(m, re(`give ${HELO} an A record ${SERVER_IP}`));
    assert.match(m, re(`or use ${ALT} as HELO`));
    assert.ok((fs[0].evidence.live ?? []).includes(`${ELSEWHERE}`), JSON.stringify(fs[0].evidence));
  });

  test('the HELO name has no A record (NODATA) or does not exist (NXDOMAIN): said so', async () => {
    const nodata = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO, ALT] }, [HELO]: { AAAA: ['2001:db8::1'] }, [ALT]: { A: [SERVER_IP] } }));
    assert.deepEqual(rules(nodata), [`warn ptr.mismatch [${SERVER_IP}]`], show(nodata));
    assert.match(nodata[0].message, re(`but ${HELO} has no A record`));
    const nx = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO, ALT] }, [ALT]: { A: [SERVER_IP] } }));
    assert.deepEqual(rules(nx), [`warn ptr.mismatch [${SERVER_IP}]`], show(nx));
    assert.match(nx[0].message, re(`but ${HELO} does not exist in DNS (NXDOMAIN)`));
  });

  test('the confirmed name is generic: not offered as HELO, and no request for "a PTR name of your own" (it has one)', async () => {
    const g = 'ip-203-0-113-10.provider.example';
    const fs = await ptrCheck(checkContext('d.example', { [REV]: { PTR: [HELO, g] }, [HELO]: { A: [ELSEWHERE] }, [g]: { A: [SERVER_IP] } }));
    assert.deepEqual(rules(fs), [`warn ptr.mismatch [${SERVER_IP}]`], show(fs));
    assert.match(fs[0].message, re(`give ${HELO} an A record ${SERVER_IP}`));
    assert.doesNotMatch(fs[0].message, / as HELO/);
    assert.doesNotMatch(fs[0].message, /of your own/);
  });
});

describe('no PTR name confirmed, the HELO name among them: only the A record advice', () => {
  const cases: [string, ZoneMap][] = [
    ['the only PTR name', { [REV]: { PTR: [HELO] }, [HELO]: { A: [ELSEWHERE] } }],
    ['one of two', { [REV]: { PTR: ['host10.newhost.example', HELO] }, [HELO]: { A: [ELSEWHERE] }, 'host10.newhost.example': { A: [ELSEWHERE] } }],
  ];
  for (const [label, map] of cases) {
    test(`${label}: fail ptr.mismatch that does not ask for the PTR the IP already has`, async () => {
      const fs = await ptrCheck(checkContext('d.example', map));
      assert.deepEqual(rules(fs), [`fail ptr.mismatch [${SERVER_IP}]`], show(fs));
      const m = fs[0].message;
      assert.match(m, /no forward-confirmed reverse DNS/);
      assert.match(m, re(`${SERVER_IP} already reverses to ${HELO}, the server's HELO name, but ${HELO} resolves to ${ELSEWHERE}, not ${SERVER_IP}`));
      assert.match(m, re(`give ${HELO} an A record ${SERVER_IP}`));
      assert.doesNotMatch(m, /set the PTR/);
      assert.doesNotMatch(m, /IP's owner/);
      assert.doesNotMatch(m, /host10\.newhost\.example an A record/);
    });
  }
});
