// A record that names a host in Unicode (QA-IDN-2): SPF and DMARC report URIs are ASCII only, so receivers cannot read
// "include:spf.bücher.example" or "rua=mailto:dmarc@bücher.example" — broken as published. But what the customer meant
// is plain, so the fixes write the name as its A-label (with a note saying so) rather than dropping the term — the
// provider's authorisation with it — or sending the reports to postmaster@. Only a name that converts cleanly through
// the one domain validator, each label in one script: a look-alike ("g\u043Eogle", a Cyrillic о among Latin letters) is
// dropped as before, since its A-label is someone else's domain.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'xn--bcher-kva.example';
const WORLD: ZoneMap = {
  ...SPF_QA_WORLD,
  'spf.xn--bcher-kva.example': { TXT: [['v=spf1 ip4:198.51.100.9 -all']] },
  'mail.xn--bcher-kva.example': { A: ['198.51.100.10'] },
  'xn--ggle-55da.com': { TXT: [['v=spf1 +all']] },
};
const afterText = (p: { changes: { after: ZoneRecord | null }[] }) => {
  const a = p.changes.find((c) => c.after)?.after;
  return a ? (a.txt ?? [a.value]).join('') : null;
};

async function spf(record: string, opts: { removeTerms?: string[] } = {}) {
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: record, txt: [record], ref: 'spf' }];
  const ctx = checkContext(D, { ...WORLD, [D]: { TXT: [[record]] } }, {}, zone);
  const p = await planSpf(ctx, zone, opts);
  return { p, after: afterText(p), show: `after: ${afterText(p)}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

async function dmarc(record: string) {
  const zone: ZoneRecord[] = [{ name: `_dmarc.${D}`, ttl: 3600, type: 'TXT', value: record, txt: [record] }];
  const ctx = checkContext(D, { ...WORLD, [`_dmarc.${D}`]: { TXT: [[record]] } }, {}, zone);
  const p = await planDmarc(ctx, zone);
  return { p, after: afterText(p), show: `after: ${afterText(p)}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

describe('SPF fix: a host named in Unicode is written as its A-label', () => {
  test('include:spf.bücher.example → include:spf.xn--bcher-kva.example, kept where it stood, with a note', async () => {
    const { p, after, show } = await spf(`v=spf1 ip4:${SERVER_IP} include:spf.bücher.example -all`);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:spf.xn--bcher-kva.example -all`, show);
    assert.ok(
      p.notes.some((n) => n.startsWith('Writes include:spf.b\\xfccher.example as include:spf.xn--bcher-kva.example: SPF records are ASCII only')),
      show,
    );
    assert.ok(!p.notes.some((n) => n.startsWith('Drops')), show);
  });

  test('a:, mx: with a CIDR length, redirect=, any case; the same name in both spellings is one term', async () => {
    const { after, show } = await spf(`v=spf1 ip4:${SERVER_IP} a:mail.BÜCHER.example/24 include:spf.bücher.example. include:spf.xn--bcher-kva.example -all`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a:mail.xn--bcher-kva.example/24 include:spf.xn--bcher-kva.example -all`, show);
    const r = await spf(`v=spf1 ip4:${SERVER_IP} redirect=spf.bücher.example`);
    assert.match(r.after ?? '', /redirect=spf\.xn--bcher-kva\.example/, r.show);
  });

  test('selected for removal in its Unicode spelling: removed, not reported as a term the record lacks', async () => {
    const { after, show, p } = await spf(`v=spf1 ip4:${SERVER_IP} include:spf.bücher.example -all`, { removeTerms: ['include:spf.bücher.example'] });
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show);
    assert.ok(!p.notes.some((n) => /no such term/.test(n)), show);
  });

  test('not a plain name — a look-alike, a macro, no domain name — is dropped as before', async () => {
    for (const term of ['include:_spf.g\u043Eogle.com', 'exists:%{i}.bücher.example', 'include:bücher', 'include:xn--a.bücher.example']) {
      const { after, p, show } = await spf(`v=spf1 ip4:${SERVER_IP} ${term} -all`);
      assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show);
      assert.ok(p.notes.some((n) => n.startsWith('Drops ')), show);
      assert.ok(!p.notes.some((n) => n.startsWith('Writes ')), show);
    }
  });
});

describe('DMARC fix: a report address with its domain in Unicode is kept, as its A-label', () => {
  test('rua=mailto:dmarc@bücher.example → mailto:dmarc@xn--bcher-kva.example, not postmaster@', async () => {
    const { after, p, show } = await dmarc('v=DMARC1; p=reject; rua=mailto:dmarc@bücher.example');
    assert.equal(after, 'v=DMARC1; p=reject; rua=mailto:dmarc@xn--bcher-kva.example', show);
    assert.ok(p.notes.some((n) => n.startsWith('Writes rua mailto:dmarc@bücher.example as mailto:dmarc@xn--bcher-kva.example: report addresses in a DMARC record are ASCII only')), show);
    assert.ok(!p.notes.some((n) => /postmaster@/.test(n) || n.startsWith('Drops')), show);
  });

  test('ruf=, upper case, a !size suffix, no mailto: scheme, two spellings of one address', async () => {
    const { after, show } = await dmarc('v=DMARC1; p=none; rua=mailto:dmarc@BÜCHER.example!10m,mailto:dmarc@xn--bcher-kva.example!10m; ruf=forensic@bücher.example');
    assert.equal(after, 'v=DMARC1; p=none; rua=mailto:dmarc@xn--bcher-kva.example!10m; ruf=mailto:forensic@xn--bcher-kva.example', show);
  });

  test('not a plain name (a look-alike, a Unicode local part): dropped as before', async () => {
    for (const rua of ['mailto:dmarc@g\u043Eogle.com', 'mailto:müller@bücher.example']) {
      const { after, show } = await dmarc(`v=DMARC1; p=reject; rua=${rua}`);
      assert.equal(after, `v=DMARC1; p=reject; rua=mailto:postmaster@${D}`, show);
    }
  });
});
