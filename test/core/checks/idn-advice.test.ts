// The spf.syntax and dmarc.syntax findings of a name written in Unicode say how to write it (its A-label, as the fixes
// write it); a look-alike gets no such advice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'xn--bcher-kva.example';

test('spf.syntax: include:spf.bücher.example → "write it as include:spf.xn--bcher-kva.example"', async () => {
  const record = `v=spf1 ip4:${SERVER_IP} include:spf.bücher.example include:_spf.g\u043Eogle.com -all`;
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
  const ctx = checkContext(D, { ...SPF_QA_WORLD, 'spf.xn--bcher-kva.example': { TXT: [['v=spf1 -all']] }, [D]: { TXT: [[record]] } }, {}, zone);
  const fs = (await spfCheck(ctx)).filter((f) => f.rule === 'spf.syntax');
  const msgs = fs.map((f) => f.message).join('\n');
  assert.match(msgs, /include:spf\.b\\xfccher\.example: non-ASCII character in term "include:spf\.b\\xfccher\.example" \(write it as include:spf\.xn--bcher-kva\.example: the same name as its A-label, which receivers can read\)\./, msgs);
  assert.match(msgs, /has errors: .*\(write it as include:spf\.xn--bcher-kva\.example/, msgs);
  assert.ok(!/write it as include:_spf\.xn--/.test(msgs), msgs);
});

test('dmarc.syntax: rua=mailto:dmarc@bücher.example → "write the domain as its A-label … mailto:dmarc@xn--bcher-kva.example"', async () => {
  const record = 'v=DMARC1; p=reject; rua=mailto:dmarc@bücher.example,mailto:x@g\u043Eogle.com';
  const ctx = checkContext(D, { [`_dmarc.${D}`]: { TXT: [[record]] } }, {}, [{ name: `_dmarc.${D}`, ttl: 3600, type: 'TXT', value: record, txt: [record] }]);
  const f = (await dmarcCheck(ctx)).find((x) => x.rule === 'dmarc.syntax');
  assert.ok(f);
  assert.match(f.message, /"mailto:dmarc@bücher\.example" is not a valid mailto:local@domain address \(write the domain as its A-label, which receivers can read: mailto:dmarc@xn--bcher-kva\.example\)/, f.message);
  assert.match(f.message, /"mailto:x@gоogle\.com" is not a valid mailto:local@domain address[;.]/, f.message);
});
